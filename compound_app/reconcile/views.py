"""Reconciliation pages: an area's accounts against their statements (对账), importing a
statement (upload → preview → confirm), deciding lines, and a resident's 我已转账."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key
from ..forms import form_status, refuse, submit
from ..htmx import redirect_after_post, render
from ..registry.importer import ImportFileError
from ..registry.models import Household, ManagementArea
from ..security import accepts_uploads
from ..treasury.labels import account_name
from ..treasury.models import MoneyAccount
from ..uploads import discard_upload, save_photo, send_upload
from . import bp, service, statements
from .forms import (
    ClaimForm,
    ConfirmImportForm,
    ExplainForm,
    MappingForm,
    MatchForm,
    ReasonForm,
    UploadForm,
)
from .models import Explanation, ReconDecision, StatementLine, TransferClaim

# A preview is confirmed within the hour, or the file is uploaded again.
PREVIEW_VALID_SECONDS = 3600
TOKEN_BYTES = 8 * 1024 * 1024  # the signed lines of the largest statement


def _signer(what: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"statement-{what}")


# --- the area's page -----------------------------------------------------------------------------


def _area_page(area: ManagementArea, status: int = 200) -> Response:
    summary = service.area_state(area.id)
    return render(
        "reconcile/area.html",
        area=area,
        summary=summary,
        account_name=account_name,
        shown=service.SHOWN,
        late_days=service.LATE_DAYS,
        explain_form=ExplainForm(formdata=None),
        status=status,
    )


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    return _area_page(access.get_or_404(ManagementArea, area_id, Action.RECONCILE))


def _refused_here(area_id: int, message: str) -> Response:
    """A decision refused: say why on the area's page (422), nothing saved."""
    db.session.rollback()
    flash(message, "error")
    area = access.get_or_404(ManagementArea, area_id, Action.RECONCILE)
    return _area_page(area, status=422)


def _form_problem(form: Any) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(form.form_errors[0]) if form.form_errors else _("Please try again.")


# --- importing -----------------------------------------------------------------------------------


def _import_page(
    account: MoneyAccount, form: Any = None, status: int = 200, **context: Any
) -> Response:
    return render(
        "reconcile/import.html",
        account=account,
        name=account_name(account),
        form=form or UploadForm(formdata=None),
        mapping=service.mapping_of(account.id),
        status=status,
        **context,
    )


def _reconciled_account(account_id: int) -> MoneyAccount:
    account = access.get_or_404(MoneyAccount, account_id, Action.RECONCILE)
    if account.kind not in service.RECONCILED_KINDS:
        access.deny()
    return account


@bp.route("/accounts/<int:account_id>/import", methods=["GET", "POST"])
@accepts_uploads
def import_statement(account_id: int) -> Response:
    account = _reconciled_account(account_id)
    form = UploadForm()
    if request.method == "GET":
        return _import_page(account)
    upload = request.files.get("file")
    if not form.validate_on_submit():
        return _import_page(account, form, 422)
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a file to upload.")]
        return _import_page(account, form, 422)
    data = upload.read(statements.MAX_BYTES + 1)
    mapping = service.mapping_of(account.id)
    try:
        parsed = statements.read_file(upload.filename, data, mapping.columns if mapping else None)
    except statements.UnknownLayout as unknown:
        headers = _signer("mapping").dumps({"a": account.id, "h": unknown.headers})
        mapping_form = MappingForm(formdata=None, columns=unknown.headers, headers=headers)
        form.file.errors = [
            _("The columns of this file are not known. Say once which column holds what.")
        ]
        return _import_page(account, form, 422, mapping_form=mapping_form)
    except ImportFileError as err:
        form.file.errors = [str(err)]
        return _import_page(account, form, 422)
    preview = service.preview(account, parsed)
    token = None
    if preview.new:
        token = _signer("import").dumps(
            {
                "a": account.id,
                "u": viewkit.user().id,
                "f": upload.filename[:100],
                "s": statements.sha256(data),
                "l": parsed.layout,
                "d": len(parsed.doubled),
                "k": new_key(),
                "lines": statements.to_payload(parsed.lines),
            }
        )
    db.session.rollback()  # the preview reads only
    return _import_page(
        account,
        form,
        preview=preview,
        file_name=upload.filename,
        confirm_form=ConfirmImportForm(formdata=None, token=token),
        token=token,
    )


@bp.post("/accounts/<int:account_id>/import/confirm")
@accepts_uploads(field_bytes=TOKEN_BYTES)
def import_confirm(account_id: int) -> Response:
    account = _reconciled_account(account_id)
    form = ConfirmImportForm()
    again = url_for(".import_statement", account_id=account.id)
    if not form.validate_on_submit():
        flash(_("This form has expired. Please upload the file again."), "error")
        return redirect_after_post(again)
    try:
        data = _signer("import").loads(form.token.data or "", max_age=PREVIEW_VALID_SECONDS)
        if data.get("a") != account.id or data.get("u") != viewkit.user().id:
            raise BadSignature("not for this account or user")
        lines = statements.from_payload(data["lines"])
        details = (str(data["f"]), str(data["s"]), str(data["l"]), int(data["d"]), str(data["k"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        flash(_("The preview could not be confirmed. Please upload the file again."), "error")
        return redirect_after_post(again)
    file_name, sha, layout, doubled, key = details
    return viewkit.act(
        lambda: service.import_statement(
            account,
            viewkit.user(),
            file_name=file_name,
            sha256=sha[:64],
            layout=layout[:10],
            lines=lines,
            doubled=doubled,
            request_key=key[:64],
        ),
        url_for(".area", area_id=account.area_id),
        _("The statement is imported; lines imported before were not added again."),
    )


@bp.post("/accounts/<int:account_id>/mapping")
def save_mapping(account_id: int) -> Response:
    account = _reconciled_account(account_id)
    again = url_for(".import_statement", account_id=account.id)
    try:
        data = _signer("mapping").loads(request.form.get("headers", ""), max_age=86400)
        if data.get("a") != account.id:
            raise BadSignature("not for this account")
        columns = [str(h)[:100] for h in data["h"]][:30]
    except (BadSignature, KeyError, TypeError, ValueError):
        flash(_("Please upload the file again."), "error")
        return redirect_after_post(again)
    form = MappingForm(columns=columns)
    done = submit(
        form,
        lambda: service.save_mapping(
            account,
            viewkit.user(),
            {
                "date": form.date.data,
                "amount": form.amount.data,
                "in": form.money_in.data,
                "out": form.money_out.data,
                "counterparty": form.counterparty.data,
                "note": form.note.data,
                "reference": form.reference.data,
                "currency": form.currency.data,
            },
        ),
    )
    if done.ok:
        return viewkit.done(
            _("The columns are saved for this account. Upload the file again to see it."), again
        )
    upload_form = UploadForm(formdata=None)
    return _import_page(account, upload_form, form_status(form) or 422, mapping_form=form)


# --- decisions on a line -------------------------------------------------------------------------


def _decide(line_id: int, change: Any, message: str) -> Response:
    line = access.get_or_404(StatementLine, line_id, Action.RECONCILE)
    form = MatchForm(targets=service.targets_for(line))
    if not form.validate_on_submit():
        return _refused_here(line.area_id, _form_problem(form))
    target = service.find_target(line.area_id, form.target.data)
    if target is None:
        return _refused_here(line.area_id, _("Choose from the list."))
    try:
        change(line, target, viewkit.user())
        db.session.commit()
    except RuleError as err:
        return _refused_here(line.area_id, err.message)
    return viewkit.done(message, url_for(".area", area_id=line.area_id))


@bp.post("/lines/<int:line_id>/confirm")
def confirm(line_id: int) -> Response:
    return _decide(line_id, service.confirm, _("Confirmed: the line and the payment match."))


@bp.post("/lines/<int:line_id>/reject")
def reject(line_id: int) -> Response:
    return _decide(line_id, service.reject, _("Noted: that one will not be proposed again."))


@bp.post("/lines/<int:line_id>/explain")
def explain(line_id: int) -> Response:
    line = access.get_or_404(StatementLine, line_id, Action.RECONCILE)
    form = ExplainForm()
    if not form.validate_on_submit():
        return _refused_here(line.area_id, _form_problem(form))
    try:
        service.explain(line, viewkit.user(), Explanation(form.explanation.data), form.reason.data)
        db.session.commit()
    except RuleError as err:
        return _refused_here(line.area_id, err.message)
    return viewkit.done(_("The line is explained."), url_for(".area", area_id=line.area_id))


@bp.post("/decisions/<int:decision_id>/undo")
def undo(decision_id: int) -> Response:
    decision = access.get_or_404(ReconDecision, decision_id, Action.RECONCILE)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _refused_here(decision.area_id, _form_problem(form))
    try:
        service.undo(decision, viewkit.user(), form.reason.data)
        db.session.commit()
    except RuleError as err:
        return _refused_here(decision.area_id, err.message)
    return viewkit.done(
        _("Undone; the line waits again and the decision stays on record with the reason."),
        url_for(".area", area_id=decision.area_id),
    )


# --- transfer claims -----------------------------------------------------------------------------


def _claim_page(household: Household, form: ClaimForm, status: int = 200) -> Response:
    return render(
        "reconcile/claim.html",
        household=household,
        form=form,
        claims=service.claims_of(household.id),
        status=status,
    )


@bp.route("/households/<int:household_id>/claim", methods=["GET", "POST"])
@accepts_uploads
def claim(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.CLAIM_TRANSFER)
    form = ClaimForm()
    if not form.is_submitted():
        form = ClaimForm(formdata=None, paid_on=clock.today(), key=new_key())
        return _claim_page(household, form)
    if not form.validate_on_submit():
        return _claim_page(household, form, 422)
    photo = None
    try:
        photo = save_photo(form.photo.data, "photo") if form.photo.data else None
        made = service.create_claim(
            household,
            viewkit.user(),
            amount_fen=form.amount.data,
            paid_on=form.paid_on.data,
            method=form.method.data,
            note=form.note.data,
            photo=photo,
            request_key=form.key.data,
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        discard_upload(photo)
        return _claim_page(household, form, 422)
    if made.photo != photo:
        discard_upload(photo)  # the same form again: the first screenshot stays
    return viewkit.done(
        _("Thank you. Your transfer is recorded and awaits checking."),
        # The top of the page, where the thanks show; the claim is listed further down.
        url_for("fees.household", household_id=household.id),
    )


@bp.post("/claims/<int:claim_id>/reject")
def reject_claim(claim_id: int) -> Response:
    found = access.get_or_404(TransferClaim, claim_id, Action.RECONCILE)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _refused_here(found.area_id, _form_problem(form))
    try:
        service.reject_claim(found, viewkit.user(), form.reason.data)
        db.session.commit()
    except RuleError as err:
        return _refused_here(found.area_id, err.message)
    return viewkit.done(
        _("The claim is turned down; the resident is told why."),
        url_for(".area", area_id=found.area_id, _anchor="claims"),
    )


@bp.get("/claims/<int:claim_id>/photo")
def claim_photo(claim_id: int) -> Response:
    found = access.get_or_404(TransferClaim, claim_id)
    if not found.photo:
        access.deny()
    return send_upload(found.photo, f"transfer-{found.id}.jpg")
