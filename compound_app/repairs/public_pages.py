"""The public page of a compound's works board, opened by the QR code printed on it: the
common parts' tasks with their place and progress; no reporter, no home, no description."""

from __future__ import annotations

from flask import render_template, url_for

from .. import clock
from ..extensions import db
from ..public.models import LinkKind, PublicLink
from ..public.pages import printed_at, renders
from ..registry.models import Compound
from . import levels, queries


@renders(LinkKind.WORKS_BOARD)
def works_board_page(link: PublicLink) -> str | None:
    compound = db.session.get(Compound, link.target_id)
    if compound is None:
        return None
    return render_template(
        "public/works_board.html",
        compound=compound,
        tasks=queries.board(compound.id),
        counts=queries.counts(compound.id),
        levels=queries.service_levels(compound.id, months=3),
        today=clock.today(),
        is_overdue=levels.is_overdue,
        public_page=True,
    )


@printed_at(LinkKind.WORKS_BOARD)
def works_board_poster(link: PublicLink) -> str:
    return url_for("repairs.board", compound_id=link.target_id)
