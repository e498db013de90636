"""The seal on an area's receipts: its page, a new upload, the image itself."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, viewkit
from ..access import Action
from ..fields import new_key
from ..forms import form_status, submit
from ..htmx import render
from ..registry.models import ManagementArea
from ..security import accepts_uploads
from ..uploads import send_image
from . import bp, receipts
from .forms import SealForm
from .models import ReceiptSeal


def _seal_page(area: ManagementArea, form: SealForm, status: int = 200) -> Response:
    return render(
        "fees/seal.html",
        area=area,
        issuer=receipts.issuer(area),
        seals=receipts.seal_history(area.id),
        form=form,
        status=status,
    )


@bp.get("/areas/<int:area_id>/seal")
def seal(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.KEEP_SEAL)
    return _seal_page(area, SealForm(formdata=None, key=new_key()))


@bp.post("/areas/<int:area_id>/seal")
@accepts_uploads
def upload_seal(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.KEEP_SEAL)
    form = SealForm()
    done = submit(
        form,
        lambda: receipts.upload_seal(area, form.seal.data, viewkit.user(), form.key.data),
    )
    if done.ok:
        return viewkit.done(
            _("The seal is saved: the payer's copy of every receipt now carries it."),
            url_for(".seal", area_id=area.id),
        )
    return _seal_page(area, form, form_status(form))


@bp.get("/seals/<int:seal_id>")
def seal_image(seal_id: int) -> Response:
    found = access.get_or_404(ReceiptSeal, seal_id)
    return send_image(found.file)
