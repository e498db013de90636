"""An area's hand-over bundle (移交清单): its preview and its Excel and PDF downloads.

The bundle is built by ``transition.bundle``; the hand-over itself (who takes over, the
signatures, the frozen bundle) is the transition's. These pages are for those who keep
the area's money: its committee during their term and the staff over it. Anyone else,
the area's own residents included, is told nothing exists (404): the bundle lists every
home's arrears.
"""

from __future__ import annotations

from flask import make_response
from werkzeug.wrappers import Response

from .. import access, clock
from ..access import Action
from ..archive.forms import KIND_LABELS
from ..htmx import render
from ..registry.models import ManagementArea
from ..transition import bundle as handover
from . import bp

# The PDF printed from the preview leaves both parties' names to be written in by hand.
BLANK_SIGNATURES = [("移交方", ""), ("接收方", "")]


def _area(area_id: int) -> ManagementArea:
    area = access.get_or_404(ManagementArea, area_id)
    if not access.can(Action.MANAGE_FEES, area):
        access.deny()
    return area


@bp.get("/areas/<int:area_id>/handover-bundle")
def handover_bundle(area_id: int) -> Response:
    area = _area(area_id)
    return render(
        "fees/handover_bundle.html",
        area=area,
        bundle=handover.build(area, clock.today()),
        open_money=handover.open_money(area),
        doc_kinds=KIND_LABELS,
    )


def _download(body: bytes, mimetype: str, name: str) -> Response:
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


@bp.get("/areas/<int:area_id>/handover-bundle.xlsx")
def handover_bundle_xlsx(area_id: int) -> Response:
    area = _area(area_id)
    today = clock.today()
    return _download(
        handover.to_xlsx(handover.build(area, today)),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"handover-{area.id}-{today:%Y%m%d}.xlsx",
    )


@bp.get("/areas/<int:area_id>/handover-bundle.pdf")
def handover_bundle_pdf(area_id: int) -> Response:
    area = _area(area_id)
    today = clock.today()
    return _download(
        handover.to_pdf(handover.build(area, today), BLANK_SIGNATURES),
        "application/pdf",
        f"handover-{area.id}-{today:%Y%m%d}.pdf",
    )
