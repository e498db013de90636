"""Consulting residents (征求意见): a question to the households of a scope, answered online
or through a unit representative, summed up by building and unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import access, audit, clock
from ..access import Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..messages import triggers
from ..registry.models import Household
from .models import Answer, Consultation
from .service import Scope, households_in, may_enter_paper

MAX_OPTIONS = 6


def create_consultation(
    scope: Scope, title: str, text: str, options: list[str], closes_on: date, actor: User
) -> Consultation:
    options = [o for o in dict.fromkeys(options) if o]
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise RuleError(_("Give from 2 to %(n)d answers to choose from.", n=MAX_OPTIONS), "options")
    if any(len(o) > 40 for o in options):
        raise RuleError(_("An answer can have at most 40 characters."), "options")
    if closes_on < clock.today():
        raise RuleError(_("The closing date cannot be in the past."), "closes_on")
    consultation = Consultation(
        area_id=scope.area.id,
        scope_kind=scope.kind,
        scope_id=scope.obj.id,
        scope_label=scope.label,
        title=title,
        text=text,
        options=options,
        closes_on=closes_on,
        created_by_id=actor.id,
    )
    db.session.add(consultation)
    db.session.flush()
    audit.record("create_consultation", consultation)
    triggers.consultation_opened(consultation)
    return consultation


def in_scope(consultation: Consultation, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    row = db.session.execute(
        households_in(consultation.scope_kind, consultation.scope_id).where(
            Household.id == household_id
        )
    ).first()
    return row[0] if row else None


def is_open(consultation: Consultation) -> bool:
    return not consultation.closed and clock.today() <= consultation.closes_on


def answer(
    consultation: Consultation,
    household_id: int | None,
    option: str,
    comment: str,
    actor: User,
    p: Principal,
    resident_name: str = "",
) -> Answer:
    if not is_open(consultation):
        raise RuleError(_("This consultation is closed."))
    if option not in consultation.options:
        raise RuleError(_("Choose one of the answers."), "option")
    home = in_scope(consultation, household_id)
    if home is None:
        raise RuleError(_("That home is not asked in this consultation."), "household_id")
    own = home.id in p.resident_households
    if not own and not may_enter_paper(home, p):
        raise RuleError(_("You answer for your own home, or for the units you represent."))
    if not own and not resident_name:
        raise RuleError(
            _("Whom are you answering for? Enter the resident's name."), "resident_name"
        )
    found = db.session.scalar(
        select(Answer).where(
            Answer.consultation_id == consultation.id, Answer.household_id == home.id
        )
    )
    before = audit.snapshot(found) if found else None
    if found is None:
        found = Answer(consultation_id=consultation.id, household_id=home.id)
        db.session.add(found)
    found.option, found.comment = option, comment
    found.answered_by_id, found.answered_at = actor.id, clock.now()
    found.resident_name = "" if own else resident_name
    db.session.flush()
    audit.record("answer", found, before=before)
    return found


@dataclass
class Line:
    label: str  # building-unit
    homes: int = 0
    answered: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    lines: list[Line]
    total: Line
    comments: list[tuple[str, str, str, int]]  # room, option, comment, the answer's id


def summary(consultation: Consultation) -> Summary:
    rows = db.session.execute(households_in(consultation.scope_kind, consultation.scope_id)).all()
    answers = {
        a.household_id: a
        for a in db.session.scalars(select(Answer).where(Answer.consultation_id == consultation.id))
    }
    lines: dict[str, Line] = {}
    total = Line(_("All"), counts=dict.fromkeys(consultation.options, 0))
    comments = []
    for home, unit, building, compound in rows:
        key = f"{compound.name}{building.name}{unit.name}"
        line = lines.setdefault(key, Line(key, counts=dict.fromkeys(consultation.options, 0)))
        line.homes += 1
        total.homes += 1
        found = answers.get(home.id)
        if found is not None:
            line.answered += 1
            total.answered += 1
            line.counts[found.option] = line.counts.get(found.option, 0) + 1
            total.counts[found.option] = total.counts.get(found.option, 0) + 1
            if found.comment:
                comments.append((f"{key}-{home.room}", found.option, found.comment, found.id))
    return Summary(list(lines.values()), total, comments)


def answers_for(consultation: Consultation, household_ids: set[int]) -> dict[int, Answer]:
    if not household_ids:
        return {}
    return {
        a.household_id: a
        for a in db.session.scalars(
            select(Answer).where(
                Answer.consultation_id == consultation.id,
                Answer.household_id.in_(household_ids),
            )
        )
    }


def close_consultation(consultation: Consultation) -> None:
    if consultation.closed:
        raise RuleError(_("This consultation is closed already."))
    consultation.closed = True
    db.session.flush()
    audit.record("close_consultation", consultation)


def consultations_of(area_ids: set[int] | list[int]) -> list[Consultation]:
    return list(
        db.session.scalars(
            select(Consultation)
            .where(Consultation.area_id.in_(area_ids))
            .order_by(Consultation.id.desc())
            .limit(100)
        )
    )


def concerning(p: Principal) -> list[Consultation]:
    """Consultations put to one of the user's homes or to a unit they represent."""
    from sqlalchemy import and_, or_

    pairs = access.asked_scopes(p)
    if not pairs:
        return []
    return list(
        db.session.scalars(
            select(Consultation)
            .where(
                or_(
                    *(
                        and_(Consultation.scope_kind == kind, Consultation.scope_id == sid)
                        for kind, sid in pairs
                    )
                )
            )
            .order_by(Consultation.id.desc())
            .limit(50)
        )
    )
