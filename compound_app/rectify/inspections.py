"""Inspections (督导检查): the subdistrict's checklist, and staff or grid workers' visits to
the pilot compounds, item by item; finishing a visit files each failed item as a problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import access, audit, clock
from ..access import Action, Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..problems import service as problems
from ..problems.models import DefaultKind, Level, Problem, ProblemKind, Source
from ..registry.models import Compound, Pilot, Subdistrict
from .models import Inspection, InspectionItem, InspectionProblem, InspectionResult
from .service import store_photos

# The checklist a subdistrict starts with, from the pilots' self-governance checklist:
# (code for the kind of problem it raises, words, days to fix a failed item).
DEFAULT_ITEMS: list[tuple[str, Any, int]] = [
    ("organisation", _l("The committee (or branch) meets and keeps minutes"), 30),
    ("accounts", _l("Income and spending are posted for the owners (收支公示)"), 15),
    ("representatives", _l("Every stairwell has a unit representative"), 30),
    ("repairs", _l("Repairs are taken in and handled within their target days"), 15),
    ("sanitation", _l("Yards, stairwells and bins are clean"), 7),
    ("fire", _l("Fire lanes are clear, extinguishers in date (消防安全)"), 7),
]


# The kind of problem each default item raises.
ITEM_KINDS = {
    "organisation": DefaultKind.PROPERTY_SERVICE,
    "accounts": DefaultKind.PROPERTY_SERVICE,
    "representatives": DefaultKind.PROPERTY_SERVICE,
    "repairs": DefaultKind.FACILITIES,
    "sanitation": DefaultKind.SANITATION,
    "fire": DefaultKind.SAFETY,
}


def kind_for(subdistrict_id: int, kind_id: int | None, code: str | None = None) -> ProblemKind:
    """The kind a failed item files its problem under: the item's own, else the default
    kind of ``code``, else the subdistrict's first kind in use (the register's kinds,
    made with the six defaults when the subdistrict has none yet)."""
    kinds = problems.ensure_kinds(subdistrict_id)
    for kind in kinds:
        if kind.id == kind_id and not kind.retired:
            return kind
    for kind in kinds:
        if code is not None and kind.code == code and not kind.retired:
            return kind
    return next((k for k in kinds if not k.retired), kinds[0])


# --- the checklist ----------------------------------------------------------------------------


def items(subdistrict_id: int, with_retired: bool = False) -> list[InspectionItem]:
    """The subdistrict's checklist in order (the defaults made the first time it is read
    by someone who may keep it)."""
    stmt = select(InspectionItem).where(InspectionItem.subdistrict_id == subdistrict_id)
    if not with_retired:
        stmt = stmt.where(InspectionItem.retired.is_(False))
    return list(db.session.scalars(stmt.order_by(InspectionItem.position, InspectionItem.id)))


def ensure_defaults(subdistrict: Subdistrict) -> list[InspectionItem]:
    """Give a subdistrict without a checklist the default items (and their kinds)."""
    if items(subdistrict.id, with_retired=True):
        return items(subdistrict.id)
    made = []
    for position, (code, text, days) in enumerate(DEFAULT_ITEMS):
        kind = kind_for(subdistrict.id, None, ITEM_KINDS.get(code))
        item = InspectionItem(
            subdistrict_id=subdistrict.id,
            text=str(text),
            fix_days=days,
            kind_id=kind.id,
            position=position,
        )
        db.session.add(item)
        made.append(item)
    db.session.flush()
    return made


def _check_item(text: str, fix_days: int | None) -> None:
    if not text:
        raise RuleError(_("This field is required."), "text")
    if fix_days is None or not 1 <= fix_days <= 365:
        raise RuleError(_("Enter a whole number from %(a)d to %(b)d.", a=1, b=365), "fix_days")


def add_item(subdistrict: Subdistrict, text: str, fix_days: int | None) -> InspectionItem:
    ensure_defaults(subdistrict)
    _check_item(text, fix_days)
    if any(i.text == text for i in items(subdistrict.id)):
        raise RuleError(_("The checklist has this item already."), "text")
    last = db.session.scalar(
        select(func.max(InspectionItem.position)).where(
            InspectionItem.subdistrict_id == subdistrict.id
        )
    )
    item = InspectionItem(
        subdistrict_id=subdistrict.id,
        text=text,
        fix_days=fix_days,
        kind_id=kind_for(subdistrict.id, None).id,
        position=(last or 0) + 1,
    )
    db.session.add(item)
    db.session.flush()
    audit.record("inspection_item", item)
    return item


def _own_item(subdistrict: Subdistrict, item_id: int | None) -> InspectionItem:
    item = db.session.get(InspectionItem, item_id) if item_id else None
    if item is None or item.subdistrict_id != subdistrict.id or item.retired:
        raise RuleError(_("Choose from the list."), "item_id")
    return item


def edit_item(
    subdistrict: Subdistrict, item_id: int | None, text: str, fix_days: int | None
) -> InspectionItem:
    item = _own_item(subdistrict, item_id)
    _check_item(text, fix_days)
    before = audit.snapshot(item)
    item.text, item.fix_days = text, fix_days or item.fix_days
    db.session.flush()
    audit.record("inspection_item", item, before=before)
    return item


def retire_item(subdistrict: Subdistrict, item_id: int | None) -> InspectionItem:
    """Take an item off the checklist; visits that recorded it keep its words."""
    item = _own_item(subdistrict, item_id)
    if len(items(subdistrict.id)) <= 1:
        raise RuleError(_("The checklist needs at least one item."), "item_id")
    before = audit.snapshot(item)
    item.retired = True
    db.session.flush()
    audit.record("retire_inspection_item", item, before=before)
    return item


def move_item(subdistrict: Subdistrict, item_id: int | None, up: bool) -> InspectionItem:
    """Swap an item with the one above (or below) it."""
    item = _own_item(subdistrict, item_id)
    current = items(subdistrict.id)
    at = current.index(item)
    other_at = at - 1 if up else at + 1
    if not 0 <= other_at < len(current):
        raise RuleError(_("The item is at the end of the list already."), "item_id")
    for position, each in enumerate(current):
        each.position = position
    other = current[other_at]
    before = audit.snapshot(item)
    item.position, other.position = other.position, item.position
    db.session.flush()
    audit.record("move_inspection_item", item, before=before)
    return item


# --- visits ---------------------------------------------------------------------------------


def may_inspect(compound: Compound, p: Principal) -> bool:
    """Staff over the compound, and grid workers whose grid covers it."""
    return access.can(Action.INSPECT, compound, p)


def pick_compound(compound_id: int | None, p: Principal) -> Compound | None:
    """A compound picked on the visit form, if the user may inspect it."""
    if compound_id is None:
        return None
    found = db.session.scalar(
        select(Compound).where(Compound.id == compound_id, access.inspect_filter(p))
    )
    return found


def pilots_to_visit(p: Principal) -> list[Compound]:
    """The pilot compounds the user may visit."""
    found = db.session.scalars(
        select(Compound)
        .join(Pilot, Pilot.compound_id == Compound.id)
        .where(access.inspect_filter(p))
        .order_by(Compound.name)
    )
    return list(found)


def start(
    compound: Compound | None,
    actor: User,
    visited_on: date | None,
    counterpart: str,
    request_key: str,
    p: Principal | None = None,
) -> Inspection:
    p = p or access.principal()
    sent = db.session.scalar(select(Inspection).where(Inspection.request_key == request_key))
    if sent is not None:
        if sent.inspector_id == actor.id:
            return sent
        raise RuleError(_("This form has expired. Please open it again."))
    if compound is None or not may_inspect(compound, p):
        raise RuleError(_("Choose a pilot compound you oversee."), "compound_id")
    if compound.pilot is None:
        raise RuleError(_("Inspections visit the pilots; this compound is not one."), "compound_id")
    if visited_on is None:
        raise RuleError(_("Please enter a date."), "visited_on")
    if visited_on > clock.today():
        raise RuleError(_("The date cannot be in the future."), "visited_on")
    if visited_on < compound.pilot.selected_on:
        raise RuleError(_("The date cannot be before the pilot began."), "visited_on")
    subdistrict = compound.community.subdistrict
    ensure_defaults(subdistrict)
    inspection = Inspection(
        compound_id=compound.id,
        pilot_id=compound.pilot.id,
        visited_on=visited_on,
        inspector_id=actor.id,
        counterpart=counterpart,
        request_key=request_key,
    )
    db.session.add(inspection)
    db.session.flush()
    audit.record("start_inspection", inspection)
    return inspection


def latest_results(inspection: Inspection) -> dict[int, InspectionResult]:
    """Each item's result on the visit: the latest recorded."""
    found: dict[int, InspectionResult] = {}
    for row in db.session.scalars(
        select(InspectionResult)
        .where(InspectionResult.inspection_id == inspection.id)
        .order_by(InspectionResult.id)
    ):
        found[row.item_id] = row
    return found


def subdistrict_of(inspection: Inspection) -> int:
    return inspection.compound.community.subdistrict_id


def record_result(
    inspection: Inspection,
    actor: User,
    item_id: int | None,
    passed: bool | None,
    note: str,
    photo: Any = None,
) -> InspectionResult:
    if inspection.finished_at is not None:
        raise RuleError(_("This visit is finished: its record is signed."))
    item = db.session.get(InspectionItem, item_id) if item_id else None
    if item is None or item.subdistrict_id != subdistrict_of(inspection) or item.retired:
        raise RuleError(_("Choose from the list."), "item_id")
    if passed is None:
        raise RuleError(_("Passed or failed?"), "passed")
    if not passed and not note:
        raise RuleError(_("Say what is wrong: it becomes the problem's words."), "note")
    names = store_photos([photo] if photo else [], "photo")
    name = names[0] if names else ""
    result = InspectionResult(
        inspection_id=inspection.id,
        item_id=item.id,
        text=item.text,
        fix_days=item.fix_days,
        passed=passed,
        note=note,
        photo=name,
        recorded_by_id=actor.id,
    )
    db.session.add(result)
    db.session.flush()
    audit.record("inspection_result", result)
    return result


@dataclass
class Line:
    item: InspectionItem | None
    result: InspectionResult | None
    problem: Problem | None = None

    @property
    def text(self) -> str:
        if self.result is not None:
            return self.result.text
        return self.item.text if self.item is not None else ""


def lines(inspection: Inspection) -> list[Line]:
    """The visit's record: every item of the checklist (as it stood), its result and the
    problem it raised. A finished visit lists what it recorded; an open one, the items."""
    results = latest_results(inspection)
    raised = {
        row.result_id: row.problem_id
        for row in db.session.scalars(
            select(InspectionProblem).where(InspectionProblem.inspection_id == inspection.id)
        )
    }
    problems = (
        {
            p.id: p
            for p in db.session.scalars(select(Problem).where(Problem.id.in_(raised.values())))
        }
        if raised
        else {}
    )
    by_item = {i.id: i for i in items(subdistrict_of(inspection), with_retired=True)}
    if inspection.finished_at is not None:
        chosen = [by_item.get(item_id) for item_id in results]
        keys = list(results)
    else:
        current = items(subdistrict_of(inspection))
        chosen, keys = list(current), [i.id for i in current]
    found = []
    for item, key in zip(chosen, keys, strict=True):
        result = results.get(key)
        problem = problems.get(raised.get(result.id, 0)) if result is not None else None
        found.append(Line(item, result, problem))
    return found


def finish(
    inspection: Inspection, actor: User, note: str, p: Principal | None = None
) -> list[Problem]:
    """Close the visit's record: every failed item becomes a problem of the compound (filed
    through the register, answered for by the community), due within the item's days of
    the visit."""
    p = p or access.principal()
    if inspection.finished_at is not None:
        raise RuleError(_("This visit is finished already."))
    results = latest_results(inspection)
    missing = [i for i in items(subdistrict_of(inspection)) if i.id not in results]
    if missing:
        raise RuleError(
            _(
                "Record every item first: %(n)d left, e.g. “%(item)s”.",
                n=len(missing),
                item=missing[0].text,
            ),
            "note",
        )
    before = audit.snapshot(inspection)
    now = clock.now()
    inspection.finished_at, inspection.note = now, note
    raised = []
    subdistrict_id = subdistrict_of(inspection)
    compound = inspection.compound
    order = {i.id: (i.position, i.id) for i in items(subdistrict_of(inspection), with_retired=True)}
    for item_id, result in sorted(results.items(), key=lambda pair: order.get(pair[0], (0, 0))):
        if result.passed:
            continue
        item = db.session.get(InspectionItem, item_id)
        kind = kind_for(subdistrict_id, item.kind_id if item else None)
        # Due at the end of the item's last day; a visit written up after that day has
        # passed gets the community's own fix deadline from now instead.
        due = problems.due_from_date(inspection.visited_on + timedelta(days=result.fix_days))
        problem = problems.file_problem(
            compound.community,
            compound,
            problems.Filing(
                kind=str(kind.id),
                title=result.text,
                detail=_(
                    "Inspection of %(date)s: %(note)s",
                    date=inspection.visited_on.isoformat(),
                    note=result.note,
                ),
                source=Source.INSPECTION,
                level=Level.COMMUNITY,
                fix_due_at=due if due is not None and due > now else None,
            ),
            actor,
            p=p,
        )
        db.session.add(
            InspectionProblem(
                inspection_id=inspection.id, result_id=result.id, problem_id=problem.id
            )
        )
        raised.append(problem)
    db.session.flush()
    audit.record("finish_inspection", inspection, before=before)
    return raised


def of_pilot(pilot: Pilot) -> list[Inspection]:
    return list(
        db.session.scalars(
            select(Inspection)
            .where(Inspection.pilot_id == pilot.id)
            .order_by(Inspection.visited_on.desc(), Inspection.id.desc())
        )
    )


def visible(p: Principal, limit: int = 50) -> list[Inspection]:
    """The latest visits the user may see."""
    return list(
        db.session.scalars(
            select(Inspection)
            .join(Compound, Compound.id == Inspection.compound_id)
            .where(access.inspect_filter(p))
            .order_by(Inspection.visited_on.desc(), Inspection.id.desc())
            .limit(limit)
        )
    )
