"""The three lists (问题清单、责任清单、整改清单) of the subdistrict and of a community, and
their ledger (台账) as an Excel workbook: staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import make_response, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import access, clock
from ..access import Action
from ..extensions import db
from ..fields import whole_number
from ..htmx import render
from ..registry.models import Community, Compound, Subdistrict
from . import bp, lists
from .lists_export import Scope, ledger_xlsx

PAGE = 50
TABS = ("problems", "responsibility", "rectification")
SORTS = (
    "name",
    "filed",
    "open",
    "overdue",
    "rate",
    "reply_days",
    "fix_days",
    "escalated",
    "projects",
    "satisfaction",
)


@dataclass
class Wanted:
    tab: str = "problems"
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass
class ListRow:
    name: str
    url: str | None
    figures: lists.Figures


def _wanted() -> Wanted:
    args = request.args
    tab, sort = args.get("tab", "problems"), args.get("sort", "name")
    return Wanted(
        tab=tab if tab in TABS else "problems",
        sort=sort if sort in SORTS else "name",
        descending=args.get("dir") == "desc",
        page=whole_number(args.get("page"), 10_000) or 1,
    )


def _key(sort: str) -> Any:
    def value(row: ListRow) -> Any:
        if sort == "name":
            return row.name
        if sort == "projects":
            return row.figures.project_count
        found = getattr(row.figures, sort)
        return -1.0 if found is None else float(found)

    return value


def _page(rows: list[ListRow], wanted: Wanted) -> tuple[list[ListRow], int, int]:
    rows.sort(key=_key(wanted.sort), reverse=wanted.descending)
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(1, wanted.page), pages)
    return rows[(page - 1) * PAGE : page * PAGE], pages, page


def _render(title: str, here: str, rows: list[ListRow], export: str, **context: Any) -> Response:
    wanted = _wanted()
    totals = lists.total(r.figures for r in rows)
    shown, pages, page = _page(rows, wanted)
    return render(
        "oversight/lists.html",
        "oversight/_lists_table.html",
        target="lists-table",
        title=title,
        here=here,
        rows=shown,
        pages=pages,
        page=page,
        wanted=wanted,
        totals=totals,
        export=export,
        tabs=TABS,
        stages=lists.PROJECT_STAGES,
        **context,
    )


@bp.get("/lists/subdistricts/<int:subdistrict_id>")
def lists_subdistrict(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    communities = list(
        db.session.scalars(select(Community).where(Community.subdistrict_id == found.id))
    )
    figures = lists.by_community([c.id for c in communities])
    rows = [
        ListRow(c.name, url_for(".lists_community", community_id=c.id), figures[c.id])
        for c in communities
    ]
    return _render(
        _("The three lists of %(name)s", name=found.name),
        url_for(".lists_subdistrict", subdistrict_id=found.id),
        rows,
        url_for(".lists_subdistrict_ledger", subdistrict_id=found.id),
        subdistrict=found,
        row_heading=_("Community"),
    )


@bp.get("/lists/communities/<int:community_id>")
def lists_community(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    figures = lists.by_compound(found.id)
    names = dict(
        db.session.execute(
            select(Compound.id, Compound.name).where(Compound.community_id == found.id)
        ).all()
    )
    rows = [
        ListRow(
            names.get(key, _("Community-wide")) if key else _("Community-wide"),
            url_for("problems.compound", compound_id=key)
            if key in names
            else url_for("problems.community", community_id=found.id),
            figures.get(key) or lists.Figures(),
        )
        for key in sorted(set(names) | set(figures))
    ]
    return _render(
        _("The three lists of %(name)s", name=found.name),
        url_for(".lists_community", community_id=found.id),
        rows,
        url_for(".lists_community_ledger", community_id=found.id),
        community=found,
        row_heading=_("Compound"),
    )


def _xlsx(content: bytes, name: str) -> Response:
    response = make_response(content)
    response.headers["Content-Type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename={name}-{clock.today():%Y%m%d}.xlsx"
    )
    return response


@bp.get("/lists/subdistricts/<int:subdistrict_id>/ledger.xlsx")
def lists_subdistrict_ledger(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    return _xlsx(ledger_xlsx(Scope(subdistrict_id=found.id)), "three-lists")


@bp.get("/lists/communities/<int:community_id>/ledger.xlsx")
def lists_community_ledger(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    return _xlsx(ledger_xlsx(Scope(community_id=found.id)), "three-lists")
