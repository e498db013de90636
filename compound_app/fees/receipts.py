"""Receipts as a treasurer signs them: who issues them, and the seal they carry.

A receipt (收据) is issued by the area's committee, by the name recorded for it; an area
that community staff run without a committee (社区托管) issues them in the community's
name. The payer's copy carries the area's seal when one has been uploaded: the latest
``ReceiptSeal`` row; earlier ones stay on record (append-only), so replacing a seal is
uploading a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit
from ..auth.models import User
from ..committees.service import committee_for_area
from ..errors import RuleError
from ..extensions import db
from ..registry.models import ManagementArea
from ..uploads import discard_upload, save_seal
from .models import ReceiptSeal


@dataclass(frozen=True)
class Issuer:
    """Who a receipt is issued by: a committee, or the community running the area."""

    name: str
    committee: bool  # False: community staff run the area (社区托管)


def issuer(area: ManagementArea) -> Issuer:
    committee = committee_for_area(area.id)
    if committee is not None:
        return Issuer(committee.name, committee=True)
    return Issuer(area.community.name, committee=False)


def current_seal(area_id: int) -> ReceiptSeal | None:
    """The seal in use: the area's latest upload, or None."""
    return db.session.scalar(
        select(ReceiptSeal)
        .where(ReceiptSeal.area_id == area_id)
        .order_by(ReceiptSeal.id.desc())
        .limit(1)
    )


def seal_history(area_id: int) -> list[ReceiptSeal]:
    """Every seal uploaded for the area, latest first."""
    return list(
        db.session.scalars(
            select(ReceiptSeal)
            .where(ReceiptSeal.area_id == area_id)
            .order_by(ReceiptSeal.id.desc())
        )
    )


def upload_seal(area: ManagementArea, storage: Any, actor: User, request_key: str) -> ReceiptSeal:
    """Check and store a new seal for the area's receipts (``uploads.save_seal``).

    The same form sent twice keeps the first upload. The caller asks ``access`` first
    (``Action.KEEP_SEAL``) and commits.
    """
    earlier = db.session.scalar(select(ReceiptSeal).where(ReceiptSeal.request_key == request_key))
    if earlier is not None:
        if earlier.area_id != area.id:
            raise RuleError(_("This form was already used for another area. Open it again."))
        return earlier
    name = save_seal(storage, "seal")
    try:
        seal = ReceiptSeal(
            area_id=area.id, file=name, uploaded_by_id=actor.id, request_key=request_key
        )
        db.session.add(seal)
        audit.record("upload_seal", seal)
    except Exception:
        discard_upload(name)
        raise
    return seal
