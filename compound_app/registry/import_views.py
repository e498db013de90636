"""Upload → preview with row-level errors → confirm. Nothing is written before confirming."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..htmx import redirect_after_post, render
from ..security import accepts_uploads
from . import bp, importer
from .forms import ImportForm
from .models import Compound

# A preview is confirmed within the hour or uploaded again: an old preview replayed later
# would bring back residents removed since.
PREVIEW_VALID_SECONDS = 3600


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="roster-import")


@bp.route("/compounds/<int:compound_id>/import", methods=["GET", "POST"])
@accepts_uploads
def import_roster(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.IMPORT)
    form = ImportForm()
    plan = None
    token = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        if not form.validate_on_submit():
            status = 422
        elif upload is None or not upload.filename:
            form.file.errors = [_("Choose a file to upload.")]
            status = 422
        else:
            try:
                rows = importer.parse_rows(
                    importer.read_table(upload.filename, upload.read(importer.MAX_BYTES + 1))
                )
            except importer.ImportFileError as err:
                form.file.errors = [str(err)]
                status = 422
            else:
                plan = importer.plan(compound, rows)
                if plan.errors:
                    status = 422
                elif plan.change_count:
                    token = _signer().dumps(
                        {
                            "c": compound.id,
                            "u": current_user.id,
                            "rows": importer.rows_to_payload(rows),
                        }
                    )
                db.session.rollback()  # planning reads only; make sure nothing lingers
    return render(
        "registry/import.html",
        compound=compound,
        form=form,
        plan=plan,
        token=token,
        help_text=importer.HELP,
        consent_help=importer.CONSENT_HELP,
        status=status,
    )


@bp.post("/compounds/<int:compound_id>/import/confirm")
# The preview sends back its token: the rows of the file, signed.
@accepts_uploads(field_bytes=importer.MAX_BYTES)
def import_confirm(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.IMPORT)
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("This form has expired. Please upload the file again."), "error")
        return redirect_after_post(url_for(".import_roster", compound_id=compound.id))
    try:
        data = _signer().loads(request.form.get("token", ""), max_age=PREVIEW_VALID_SECONDS)
        if data.get("c") != compound.id or data.get("u") != current_user.id:
            raise BadSignature("not for this compound or user")
        rows = importer.rows_from_payload(data["rows"])
    except (BadSignature, KeyError, TypeError, ValueError):
        flash(_("The preview could not be confirmed. Please upload the file again."), "error")
        return redirect_after_post(url_for(".import_roster", compound_id=compound.id))
    try:
        result = importer.apply(compound, rows)
        db.session.commit()
    except (RuleError, ValueError):
        db.session.rollback()
        flash(_("The records changed since the preview. Please upload the file again."), "error")
        return redirect_after_post(url_for(".import_roster", compound_id=compound.id))
    if result.change_count:
        flash(
            _(
                "Imported: %(h)d new households, %(o)d new residents, %(c)d updates.",
                h=len(result.new_households),
                o=len(result.new_occupants),
                c=len(result.changed_households) + len(result.changed_occupants),
            ),
            "success",
        )
    else:
        flash(_("Nothing to change: the roster already matches the file."), "info")
    return redirect_after_post(url_for(".compound", compound_id=compound.id))


@bp.get("/import-template.<ext>")
def import_template(ext: str) -> Response:
    if access.principal().is_anonymous:
        access.deny()
    if ext == "xlsx":
        body = importer.template_xlsx()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif ext == "csv":
        body = importer.template_csv()
        mimetype = "text/csv"
    else:
        access.deny()
    response = make_response(body)
    response.mimetype = mimetype
    # An ASCII name for old clients, the Chinese one (RFC 6266) for the rest.
    chinese = quote(f"住户名册模板.{ext}")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=roster-template.{ext}; filename*=UTF-8''{chinese}"
    )
    return response
