"""The public pages of the fee posters: a published month of the finance board, and a
stairwell's arrears notice (rooms and amounts, never names), opened by their QR codes.

The arrears notice shows who owes what on the day it is read, so its code works only for
``PUBLIC_ARREARS_DAYS`` from its first print (``public.service.expires_at``; after that
the page answers 404 and the next print makes a new code), and the page says when the
code was printed and until when it opens.
"""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import gettext as _

from .. import clock
from ..extensions import db
from ..public import service as public
from ..public.models import LinkKind, PublicLink
from ..public.pages import printed_at, renders
from ..registry.models import ManagementArea, Unit
from . import ledger, reports
from .models import FinanceBoard


@renders(LinkKind.BOARD)
def board_page(link: PublicLink) -> str | None:
    board = db.session.get(FinanceBoard, link.target_id)
    area = db.session.get(ManagementArea, board.area_id) if board else None
    if board is None or area is None:
        return None
    return render_template(
        "public/board.html",
        area=area,
        month=board.month,
        board=board,
        figures=board.figures,
        decided=ledger.schedule_for_month(area.id, board.month),
        rate=reports.rate,
        label_credit=_("Paid in advance"),
    )


@printed_at(LinkKind.BOARD)
def board_poster(link: PublicLink) -> str:
    board = db.session.get(FinanceBoard, link.target_id)
    if board is None:
        return url_for("home.index")
    return url_for("fees.poster", area_id=board.area_id, month=f"{board.month:%Y-%m}")


@renders(LinkKind.ARREARS)
def arrears_page(link: PublicLink) -> str | None:
    unit = db.session.get(Unit, link.target_id)
    if unit is None:
        return None
    owing = [o for o in reports.unit_arrears(unit) if o.balance > 0]
    compound = unit.building.compound
    return render_template(
        "public/arrears.html",
        unit=unit,
        building=unit.building,
        compound=compound,
        area=compound.area,
        owing=owing,
        total=sum(o.balance for o in owing),
        printed_on=clock.local_date(link.created_at),
        last_day=public.last_day(link),
    )


@printed_at(LinkKind.ARREARS)
def arrears_poster(link: PublicLink) -> str:
    return url_for("fees.notice", unit_id=link.target_id)
