"""Notices: posting, publishing (messages and urgent SMS), withdrawal, comments on a 公示,
and who has been told (opened, told at the door or by phone, acknowledged).

Who may post where, and who sees a notice, is decided in ``access``
(``may_post_notice``, the ``Notice`` rule, ``may_tell``). Nothing here commits.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import access, audit, clock
from ..access import Principal
from ..auth.models import Role, RoleGrant, User
from ..errors import RuleError
from ..extensions import db
from ..messages import service as messages
from ..messages.models import Kind, Message
from ..public import service as public
from ..public.models import LinkKind
from ..registry.models import Building, Compound, Household, ManagementArea, Occupant, Unit
from ..uploads import discard_upload, save_photo, upload_dir
from ..votes.models import ScopeKind
from .models import FileKind, Notice, NoticeComment, NoticeFile, NoticeKind, NoticeRead, TellHow

MAX_FILES = 6
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_BODY_LINES = 200
PUBLISH_HOURS = [f"{h:02d}:00" for h in range(6, 23)]


# --- scopes -----------------------------------------------------------------------------------


@dataclass
class Scope:
    kind: ScopeKind
    obj: Any
    area: ManagementArea
    compound: Compound | None = None
    building: Building | None = None
    unit: Unit | None = None

    @property
    def label(self) -> str:
        parts = [self.compound.name if self.compound else self.area.name]
        if self.building is not None:
            parts.append(self.building.name)
        if self.unit is not None:
            parts.append(self.unit.name)
        return "".join(parts)

    @property
    def value(self) -> str:
        return f"{self.kind.value}:{self.obj.id}"


def scope_of(obj: Any) -> Scope:
    match obj:
        case ManagementArea():
            return Scope(ScopeKind.AREA, obj, obj)
        case Compound():
            return Scope(ScopeKind.COMPOUND, obj, obj.area, obj)
        case Building():
            return Scope(ScopeKind.BUILDING, obj, obj.compound.area, obj.compound, obj)
        case Unit():
            b = obj.building
            return Scope(ScopeKind.UNIT, obj, b.compound.area, b.compound, b, obj)
    raise TypeError(f"a notice cannot be posted to {type(obj).__name__}")


_MODELS: dict[str, type] = {
    ScopeKind.AREA: ManagementArea,
    ScopeKind.COMPOUND: Compound,
    ScopeKind.BUILDING: Building,
    ScopeKind.UNIT: Unit,
}


def resolve_scope(value: str | None) -> Scope | None:
    """The scope picked on the form ("unit:12"), or None when it is not one."""
    kind, _sep, ident = (value or "").partition(":")
    if kind not in _MODELS or not (ident.isascii() and ident.isdigit()) or len(ident) > 10:
        return None
    number = int(ident)
    obj = db.session.get(_MODELS[kind], number) if 0 < number < 2**31 else None
    return scope_of(obj) if obj is not None else None


def post_scopes(compound: Compound, p: Principal) -> list[Scope]:
    """Where the user may post from this compound's page: its area, the compound, its
    buildings and units, each only if ``access.may_post_notice`` allows it."""
    found: list[Scope] = []
    for obj in [compound.area, compound]:
        if access.may_post_notice(obj, p):
            found.append(scope_of(obj))
    rows = db.session.execute(
        select(Building, Unit)
        .join(Unit, Unit.building_id == Building.id)
        .where(Building.compound_id == compound.id)
        .order_by(Building.sort_key, Building.name, Unit.sort_key, Unit.name)
    ).all()
    seen: set[int] = set()
    for building, unit in rows:
        if building.id not in seen:
            seen.add(building.id)
            if access.may_post_notice(building, p):
                found.append(scope_of(building))
        if access.may_post_notice(unit, p):
            found.append(scope_of(unit))
    return found


def scope_where(notice: Notice) -> Any:
    """A WHERE clause on (Household, Unit, Building, Compound) for the homes in scope."""
    if notice.unit_id is not None:
        return Unit.id == notice.unit_id
    if notice.building_id is not None:
        return Building.id == notice.building_id
    if notice.compound_id is not None:
        return Compound.id == notice.compound_id
    return Compound.area_id == notice.area_id


def homes_in(notice: Notice) -> Any:
    """A select of (Household, Unit, Building, Compound) rows the notice reaches."""
    return (
        select(Household, Unit, Building, Compound)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(scope_where(notice))
        .order_by(
            Compound.name,
            Building.sort_key,
            Building.name,
            Unit.sort_key,
            Unit.name,
            Household.sort_key,
            Household.room,
        )
    )


def in_scope(notice: Notice, household_id: int | None) -> Household | None:
    if household_id is None:
        return None
    row = db.session.execute(homes_in(notice).where(Household.id == household_id)).first()
    return row[0] if row else None


def own_homes(notice: Notice, p: Principal) -> list[Household]:
    """The user's own homes that the notice reaches."""
    if not p.resident_households:
        return []
    return [
        row[0]
        for row in db.session.execute(
            homes_in(notice).where(Household.id.in_(p.resident_households))
        )
    ]


# --- the body: plain text with paragraphs and lists, never HTML -----------------------------


@dataclass
class Block:
    kind: str  # "p" (lines of a paragraph), "ul" or "ol" (list items)
    lines: list[str] = field(default_factory=list)


def _list_item(line: str) -> tuple[str, str] | None:
    if line.startswith(("- ", "• ", "· ")):
        return "ul", line[2:].strip()
    number, dot, rest = line.partition(". ")
    if not dot:
        number, dot, rest = line.partition("、")
    if dot and number.isascii() and number.isdigit() and len(number) <= 3:
        return "ol", rest.strip()
    return None


def blocks(lines: Sequence[str]) -> list[Block]:
    """The body's structure: a blank line ends a paragraph; lines starting "- " make a list,
    lines starting "1. " (or "1、") a numbered one. The text stays text: the template
    escapes every line."""
    found: list[Block] = []
    for line in lines:
        if not line:
            found.append(Block("gap"))
            continue
        item = _list_item(line)
        kind, text = item if item else ("p", line)
        last = found[-1] if found else None
        if last is not None and last.kind == kind:
            last.lines.append(text)
        else:
            found.append(Block(kind, [text]))
    return [b for b in found if b.kind != "gap"]


def clean_body(lines: Iterable[str]) -> list[str]:
    """Lines as kept: no blank lines at either end, one blank line between paragraphs."""
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept


# --- attachments --------------------------------------------------------------------------------


def save_attachment(storage: Any, field_name: str = "files") -> tuple[FileKind, str]:
    """A photo (re-encoded, see ``uploads.save_photo``) or a PDF (checked by its first
    bytes and size, stored under a random name); anything else is refused."""
    head = storage.stream.read(5) if storage else b""
    storage.stream.seek(0) if storage else None
    if head == b"%PDF-":
        data = storage.read(MAX_PDF_BYTES + 1)
        if len(data) > MAX_PDF_BYTES:
            raise RuleError(_("A PDF can be at most 10 MB."), field_name)
        name = f"{secrets.token_urlsafe(18)}.pdf"
        (upload_dir() / name).write_bytes(data)
        return FileKind.PDF, name
    try:
        return FileKind.PHOTO, save_photo(storage, field_name)
    except RuleError:
        raise RuleError(
            _("Attach photos (JPEG, PNG or WebP) or PDF files only."), field_name
        ) from None


def _files_given(files: Sequence[Any]) -> list[Any]:
    return [f for f in files if f is not None and getattr(f, "filename", None)]


# --- timing -------------------------------------------------------------------------------------


def publish_moment(day: date | None, hour: str | None) -> datetime:
    """When a notice is published: now, or the chosen day and hour (Asia/Shanghai)."""
    now = clock.now()
    if day is None:
        return now
    if day < clock.today():
        raise RuleError(_("The publishing date cannot be in the past."), "publish_on")
    if hour not in PUBLISH_HOURS:
        raise RuleError(_("Choose the hour."), "publish_time")
    moment = clock.start_of_day(day) + timedelta(hours=int(hour[:2]))
    return max(moment, now)


def end_of(day: date) -> datetime:
    return clock.start_of_day(day + timedelta(days=1))


def comments_open(notice: Notice) -> bool:
    return (
        notice.kind == NoticeKind.PUBLICITY
        and notice.comments_until is not None
        and notice.published()
        and not notice.withdrawn
        and clock.today() <= notice.comments_until
    )


# --- posting and publishing -----------------------------------------------------------------------


@dataclass
class Draft:
    kind: str
    title: str
    body: list[str]
    publish_on: date | None = None
    publish_time: str | None = None
    expires_on: date | None = None
    comments_until: date | None = None
    pinned: bool = False
    ask_ack: bool = False


def create_notice(
    scope: Scope | None, draft: Draft, files: Sequence[Any], actor: User, p: Principal
) -> Notice:
    if scope is None or not access.may_post_notice(scope.obj, p):
        raise RuleError(_("Choose where the notice goes."), "scope")
    if draft.kind not in set(NoticeKind):
        raise RuleError(_("Choose the kind of notice."), "kind")
    body = clean_body(draft.body)
    if not body:
        raise RuleError(_("Write what residents need to know."), "body")
    if len(body) > MAX_BODY_LINES:
        raise RuleError(_("At most %(n)d lines.", n=MAX_BODY_LINES), "body")
    publish_at = publish_moment(draft.publish_on, draft.publish_time)
    first_day = clock.local_date(publish_at)
    expires_at = None
    if draft.expires_on is not None:
        if draft.expires_on < first_day:
            raise RuleError(_("It cannot expire before it is published."), "expires_on")
        expires_at = end_of(draft.expires_on)
    comments_until = None
    if draft.kind == NoticeKind.PUBLICITY:
        if draft.comments_until is None:
            raise RuleError(_("A 公示 needs the last day residents may comment."), "comments_until")
        if draft.comments_until < first_day:
            raise RuleError(
                _("Comments cannot close before the notice is published."), "comments_until"
            )
        comments_until = draft.comments_until
    given = _files_given(files)
    if len(given) > MAX_FILES:
        raise RuleError(_("At most %(n)d files.", n=MAX_FILES), "files")
    notice = _new_notice(scope, draft.kind, draft.title, body, publish_at, actor)
    notice.expires_at, notice.comments_until = expires_at, comments_until
    notice.pinned, notice.ask_ack = draft.pinned, draft.ask_ack
    saved: list[str] = []
    try:
        for storage in given:
            kind, name = save_attachment(storage)
            saved.append(name)
            notice.files.append(NoticeFile(kind=kind.value, name=name))
        db.session.flush()
    except Exception:
        for name in saved:
            discard_upload(name)
        raise
    audit.record("create_notice", notice)
    for attached in notice.files:
        audit.record("attach", attached)
    public.link_for(LinkKind.NOTICE, notice.id, actor)
    announce(notice)
    return notice


def _new_notice(
    scope: Scope,
    kind: str,
    title: str,
    body: list[str],
    publish_at: datetime,
    actor: User | None,
) -> Notice:
    notice = Notice(
        area_id=scope.area.id,
        compound_id=scope.compound.id if scope.compound else None,
        building_id=scope.building.id if scope.building else None,
        unit_id=scope.unit.id if scope.unit else None,
        scope_kind=scope.kind.value,
        scope_label=scope.label[:100],
        kind=kind,
        title=title[:100],
        body=body,
        publish_at=publish_at,
        posted_by_id=actor.id if actor else None,
        pinned=False,
        ask_ack=False,
        link="",
        withdraw_reason="",
    )
    notice.area = scope.area
    db.session.add(notice)
    return notice


def audience(notice: Notice) -> list[User]:
    """The accounts told when the notice is published: those of the households in scope
    (their residents' grants and linked roster records) and the scope's representatives."""
    homes = select(Household.id).select_from(Household)
    homes = (
        homes.join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(scope_where(notice))
    )
    units = (
        select(Unit.id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(scope_where(notice))
    )
    ids = (
        select(RoleGrant.user_id)
        .where(
            or_(
                and_(RoleGrant.role == Role.RESIDENT, RoleGrant.household_id.in_(homes)),
                and_(RoleGrant.role == Role.UNIT_REP, RoleGrant.unit_id.in_(units)),
            )
        )
        .union(
            select(Occupant.user_id).where(
                Occupant.household_id.in_(homes), Occupant.user_id.is_not(None)
            )
        )
    )
    return list(
        db.session.scalars(
            select(User).where(User.id.in_(ids), User.is_enabled.is_(True)).order_by(User.id)
        )
    )


def sms_without_account(notice: Notice) -> list[Occupant]:
    """The roster people in scope an urgent notice reaches by SMS: one occupant per distinct
    mobile, each allowed by ``messages.may_sms_occupant`` (no account, consent recorded, a
    valid mobile). A mobile that belongs to an account is left out even on a record no
    account is linked to: that person hears through their inbox and their own SMS choices."""
    homes = (
        select(Household.id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(scope_where(notice))
    )
    rows = db.session.scalars(
        select(Occupant)
        .where(
            Occupant.household_id.in_(homes),
            Occupant.user_id.is_(None),
            Occupant.consent_at.is_not(None),
            Occupant.mobile.is_not(None),
            Occupant.mobile != "",
            ~select(User.id).where(User.mobile == Occupant.mobile).exists(),
        )
        .order_by(Occupant.id)
    )
    chosen: dict[str, Occupant] = {}
    for occupant in rows:
        if messages.may_sms_occupant(occupant) and occupant.mobile not in chosen:
            chosen[occupant.mobile or ""] = occupant
    return list(chosen.values())


def notice_path(notice: Notice) -> str:
    return f"/notices/{notice.id}"


def announce(notice: Notice) -> bool:
    """Tell the scope that the notice is out: inbox messages for its accounts and, for an
    urgent one, SMS to consenting occupants without an account. Once per notice; nothing
    before its publishing time or after a withdrawal."""
    if notice.announced_at is not None or notice.withdrawn or not notice.published():
        return False
    db.session.flush()
    kind = Kind.URGENT if notice.urgent else Kind.NOTICE
    told = told_already(notice)
    messages.notify(
        [u for u in audience(notice) if u.id not in told],
        kind,
        notice.title,
        notice_path(notice),
        dedupe_key=f"notice:{notice.id}",
    )
    if notice.urgent:
        # The same template, and words, as an urgent notice to an account (Kind.URGENT).
        for occupant in sms_without_account(notice):
            messages.enqueue_sms(
                occupant.mobile or "",
                Kind.URGENT.value,
                {"title": notice.title[:60]},
                urgent=True,
            )
    before = audit.snapshot(notice)
    notice.announced_at = clock.now()
    audit.record("announce_notice", notice, before)
    return True


def told_already(notice: Notice) -> set[int]:
    """Accounts the occasion of an automatic notice has told already: the electors an
    opened vote messaged (``triggers.vote_opened``) do not hear of it a second time."""
    kind, _sep, rest = (notice.source or "").partition(":")
    if kind != "vote":
        return set()
    db.session.flush()
    vote_id = rest.partition(":")[0]
    return set(
        db.session.scalars(
            select(Message.user_id).where(Message.dedupe_key == f"vote-open:{vote_id}")
        )
    )


def publish_due() -> int:
    """Announce every notice whose time has come (``flask notices publish``); running it
    again announces nothing twice, nor does a second run overlapping the first: on
    PostgreSQL the due rows are locked (``FOR UPDATE SKIP LOCKED``, a row another run holds
    is its to announce) and read afresh once locked, so ``announced_at`` is checked after
    the lock; on SQLite the job's write transaction (``BEGIN IMMEDIATE``) runs alone."""
    due = select(Notice).where(
        Notice.announced_at.is_(None),
        Notice.withdrawn_at.is_(None),
        Notice.publish_at <= clock.now(),
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=Notice)
    notices = db.session.scalars(
        due.order_by(Notice.publish_at, Notice.id).execution_options(populate_existing=True)
    ).all()
    return sum(1 for notice in notices if announce(notice))


def withdraw(notice: Notice, reason: str, actor: User) -> None:
    """Take a notice down; it stays on record, marked withdrawn, with the reason."""
    if notice.withdrawn:
        raise RuleError(_("This notice was withdrawn already."))
    reason = reason.strip()
    if not reason:
        raise RuleError(_("Say why the notice is withdrawn."), "reason")
    before = audit.snapshot(notice)
    notice.withdrawn_at, notice.withdrawn_by_id = clock.now(), actor.id
    notice.withdraw_reason = reason[:200]
    audit.record("withdraw_notice", notice, before)


# --- who has been told -----------------------------------------------------------------------


def _read_of(notice: Notice, household_id: int) -> NoticeRead | None:
    return db.session.scalar(
        select(NoticeRead).where(
            NoticeRead.notice_id == notice.id, NoticeRead.household_id == household_id
        )
    )


def unopened_homes(notice: Notice, p: Principal) -> list[int]:
    """The user's homes in scope not yet counted as told (a read-only question, so a page
    writes only when there is something to record)."""
    if not p.resident_households or not notice.published():
        return []
    homes = {h.id for h in own_homes(notice, p)}
    if not homes:
        return []
    told = set(
        db.session.scalars(
            select(NoticeRead.household_id).where(
                NoticeRead.notice_id == notice.id, NoticeRead.household_id.in_(homes)
            )
        )
    )
    return sorted(homes - told)


def record_open(notice: Notice, household_ids: Iterable[int], user: User) -> int:
    """A resident opened the notice: each of their homes in scope counts as told."""
    count = 0
    for household_id in household_ids:
        if _read_of(notice, household_id) is None:
            db.session.add(
                NoticeRead(
                    notice_id=notice.id,
                    household_id=household_id,
                    how=TellHow.OPENED.value,
                    by_id=user.id,
                    at=clock.now(),
                )
            )
            count += 1
    return count


def tell(
    notice: Notice, household_id: int | None, how: str, actor: User, p: Principal
) -> NoticeRead:
    """The representative (or committee or staff) told a household in person or by phone."""
    if how not in (TellHow.IN_PERSON, TellHow.PHONE):
        raise RuleError(_("Choose how they were told."), "how")
    if notice.withdrawn or not notice.published():
        raise RuleError(_("Only a published notice can be marked as told."))
    home = in_scope(notice, household_id)
    if home is None or not access.may_tell(notice, home, p):
        raise RuleError(_("Choose a home in your units that this notice is for."), "household_id")
    found = _read_of(notice, home.id)
    if found is not None:
        raise RuleError(_("This home has been told already."), "household_id")
    read = NoticeRead(
        notice_id=notice.id, household_id=home.id, how=how, by_id=actor.id, at=clock.now()
    )
    db.session.add(read)
    db.session.flush()
    audit.record("tell", read)
    return read


def acknowledge(notice: Notice, actor: User, p: Principal) -> int:
    """已知悉: the resident confirms for their homes in scope; returns how many."""
    if not notice.ask_ack:
        raise RuleError(_("This notice does not ask for an acknowledgement."))
    if notice.withdrawn or not notice.published():
        raise RuleError(_("This notice is not on the board."))
    homes = own_homes(notice, p)
    if not homes:
        raise RuleError(_("Only residents this notice is for can acknowledge it."))
    count = 0
    for home in homes:
        read = _read_of(notice, home.id)
        if read is None:
            read = NoticeRead(
                notice_id=notice.id,
                household_id=home.id,
                how=TellHow.OPENED.value,
                by_id=actor.id,
                at=clock.now(),
            )
            db.session.add(read)
        elif read.acked_at is not None:
            continue
        before = audit.snapshot(read) if read.id else None
        read.acked_at, read.acked_by_id = clock.now(), actor.id
        db.session.flush()
        audit.record("acknowledge", read, before)
        count += 1
    if not count:
        raise RuleError(_("You have acknowledged this notice already."))
    return count


def acknowledged(notice: Notice, p: Principal) -> bool:
    homes = [h.id for h in own_homes(notice, p)]
    if not homes:
        return False
    return db.session.scalar(
        select(func.count())
        .select_from(NoticeRead)
        .where(
            NoticeRead.notice_id == notice.id,
            NoticeRead.household_id.in_(homes),
            NoticeRead.acked_at.is_(None),
        )
    ) == 0 and db.session.scalar(
        select(func.count())
        .select_from(NoticeRead)
        .where(NoticeRead.notice_id == notice.id, NoticeRead.household_id.in_(homes))
    ) == len(homes)


def awaiting_ack(p: Principal, limit: int = 5) -> list[Notice]:
    """Current notices asking for 已知悉 that reach one of this person's homes where nobody
    has acknowledged yet: the home page puts them first (one query)."""
    if not p.resident_households:
        return []
    reaches = or_(
        and_(Notice.scope_kind == "unit", Notice.unit_id == Unit.id),
        and_(Notice.scope_kind == "building", Notice.building_id == Building.id),
        and_(Notice.scope_kind == "compound", Notice.compound_id == Compound.id),
        and_(Notice.scope_kind == "area", Notice.area_id == Compound.area_id),
    )
    acked = (
        select(NoticeRead.id)
        .where(
            NoticeRead.notice_id == Notice.id,
            NoticeRead.household_id == Household.id,
            NoticeRead.acked_at.is_not(None),
        )
        .exists()
    )
    ids = (
        select(Notice.id)
        .select_from(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .join(Notice, reaches)
        .where(
            Household.id.in_(p.resident_households),
            Notice.ask_ack.is_(True),
            state_where("current"),
            ~acked,
        )
    )
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.id.in_(ids))
            .order_by((Notice.kind == NoticeKind.URGENT.value).desc(), Notice.publish_at.desc())
            .limit(limit)
        )
    )


@dataclass
class CoverageLine:
    unit_id: int
    label: str  # 1号楼2单元 (with the compound's name for a wider scope)
    homes: int = 0
    told: int = 0
    opened: int = 0
    assisted: int = 0
    acked: int = 0


def coverage(notice: Notice, units: set[int] | None = None) -> list[CoverageLine]:
    """Per unit of the scope (or of ``units`` only): homes, told, how, acknowledged."""
    query = (
        select(
            Unit.id,
            Compound.name,
            Building.name,
            Unit.name,
            func.count(Household.id),
            func.count(NoticeRead.id),
            func.count(NoticeRead.id).filter(NoticeRead.how == TellHow.OPENED.value),
            func.count(NoticeRead.acked_at),
        )
        .select_from(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .outerjoin(
            NoticeRead,
            and_(NoticeRead.household_id == Household.id, NoticeRead.notice_id == notice.id),
        )
        .where(scope_where(notice))
        .group_by(
            Unit.id,
            Compound.name,
            Building.name,
            Unit.name,
            Building.sort_key,
            Unit.sort_key,
        )
        .order_by(Compound.name, Building.sort_key, Building.name, Unit.sort_key, Unit.name)
    )
    if units is not None:
        if not units:
            return []
        query = query.where(Unit.id.in_(units))
    wide = notice.compound_id is None
    lines = []
    for unit_id, compound, building, unit, homes, told, opened, acked in db.session.execute(query):
        label = f"{compound if wide else ''}{building}{unit}"
        lines.append(CoverageLine(unit_id, label, homes, told, opened, told - opened, acked))
    return lines


def total(lines: Sequence[CoverageLine]) -> CoverageLine:
    found = CoverageLine(0, _("All"))
    for line in lines:
        found.homes += line.homes
        found.told += line.told
        found.opened += line.opened
        found.assisted += line.assisted
        found.acked += line.acked
    return found


@dataclass
class Door:
    household: Household
    unit_label: str
    names: list[str]
    read: NoticeRead | None = None


def doors(notice: Notice, units: set[int] | None, *, untold_only: bool = True) -> list[Door]:
    """The homes of the scope (of ``units`` only, when given) still to be told, with the
    names on the roster (for those who keep it)."""
    query = homes_in(notice).options(selectinload(Household.occupants))
    if units is not None:
        if not units:
            return []
        query = query.where(Unit.id.in_(units))
    rows = db.session.execute(query).all()
    reads = (
        {
            r.household_id: r
            for r in db.session.scalars(
                select(NoticeRead).where(
                    NoticeRead.notice_id == notice.id,
                    NoticeRead.household_id.in_([row[0].id for row in rows]),
                )
            )
        }
        if rows
        else {}
    )
    wide = notice.compound_id is None
    found = []
    for home, unit, building, compound in rows:
        read = reads.get(home.id)
        if untold_only and read is not None:
            continue
        label = f"{compound.name if wide else ''}{building.name}{unit.name}"
        found.append(Door(home, label, [o.name for o in home.occupants], read))
    return found


def door(notice: Notice, household_id: int) -> Door | None:
    home = in_scope(notice, household_id)
    if home is None:
        return None
    unit = home.unit
    building = unit.building
    wide = notice.compound_id is None
    label = f"{building.compound.name if wide else ''}{building.name}{unit.name}"
    return Door(home, label, [o.name for o in home.occupants], _read_of(notice, home.id))


def tellable_units(notice: Notice, p: Principal) -> set[int] | None:
    """Whose doors the user knocks on: every unit (None) for those who run the notice, the
    units they represent for a representative."""
    if access.runs_notice(notice, p):
        return None
    return set(p.rep_units)


# --- comments on a 公示 -------------------------------------------------------------------------


def comment(notice: Notice, text: str, actor: User, p: Principal) -> NoticeComment:
    if notice.kind != NoticeKind.PUBLICITY:
        raise RuleError(_("Only a 公示 takes comments."))
    if not comments_open(notice):
        raise RuleError(_("The comment period has closed."), "text")
    homes = own_homes(notice, p)
    if not homes:
        raise RuleError(_("Only residents this notice is for can comment."), "text")
    text = text.strip()
    if not text:
        raise RuleError(_("Write your comment."), "text")
    found = NoticeComment(
        notice_id=notice.id, household_id=homes[0].id, user_id=actor.id, text=text[:500]
    )
    db.session.add(found)
    db.session.flush()
    audit.record("comment", found)
    return found


def comments(notice: Notice) -> list[tuple[NoticeComment, str]]:
    """Each comment with the room it came from (for the committee and the poster)."""
    rows = db.session.execute(
        select(NoticeComment, Household.room, Unit.name, Building.name)
        .join(Household, Household.id == NoticeComment.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(NoticeComment.notice_id == notice.id)
        .options(selectinload(NoticeComment.user))
        .order_by(NoticeComment.id)
    ).all()
    return [(c, f"{building}{unit}{room}") for c, room, unit, building in rows]


def my_comments(notice: Notice, user: User) -> list[NoticeComment]:
    return list(
        db.session.scalars(
            select(NoticeComment)
            .where(NoticeComment.notice_id == notice.id, NoticeComment.user_id == user.id)
            .order_by(NoticeComment.id)
        )
    )


# --- lists ------------------------------------------------------------------------------------

STATES = ("current", "scheduled", "expired", "withdrawn", "all")


def in_compound(compound: Compound) -> Any:
    """Notices of the compound's area that reach into the compound."""
    return and_(
        Notice.area_id == compound.area_id,
        or_(Notice.compound_id.is_(None), Notice.compound_id == compound.id),
    )


def state_where(state: str) -> Any:
    now = clock.now()
    live = and_(Notice.withdrawn_at.is_(None), Notice.publish_at <= now)
    unexpired = or_(Notice.expires_at.is_(None), Notice.expires_at > now)
    match state:
        case "scheduled":
            return and_(Notice.withdrawn_at.is_(None), Notice.publish_at > now)
        case "expired":
            return and_(live, Notice.expires_at <= now)
        case "withdrawn":
            return Notice.withdrawn_at.is_not(None)
        case "all":
            return Notice.id.is_not(None)
    return and_(live, unexpired)


def compound_notices(
    compound: Compound, p: Principal, state: str = "current", kind: str | None = None
) -> list[Notice]:
    """The compound's notices the user may see, pinned first, then the newest."""
    query = select(Notice).where(in_compound(compound), access.notice_filter(p), state_where(state))
    if kind in set(NoticeKind):
        query = query.where(Notice.kind == kind)
    return list(
        db.session.scalars(
            query.options(selectinload(Notice.files))
            .order_by(
                Notice.pinned.desc(),
                (Notice.kind == NoticeKind.URGENT.value).desc(),
                Notice.publish_at.desc(),
                Notice.id.desc(),
            )
            .limit(100)
        )
    )


@dataclass
class Round:
    """One notice on the representative's phone page, with the doors still to knock on."""

    notice: Notice
    doors: list[Door]
    lines: list[CoverageLine]


def rounds(p: Principal) -> list[Round]:
    """For a representative: current notices reaching their units, with untold homes."""
    if not p.rep_units:
        return []
    scopes = access.asked_scopes(Principal(user_id=p.user_id, rep_units=set(p.rep_units)))
    columns = {
        "area": Notice.area_id,
        "compound": Notice.compound_id,
        "building": Notice.building_id,
        "unit": Notice.unit_id,
    }
    reach = [
        and_(Notice.scope_kind == kind, columns[kind] == ident) for kind, ident in sorted(scopes)
    ]
    if not reach:
        return []
    notices = db.session.scalars(
        select(Notice)
        .where(or_(*reach), state_where("current"))
        .order_by(
            (Notice.kind == NoticeKind.URGENT.value).desc(),
            Notice.pinned.desc(),
            Notice.publish_at.desc(),
        )
        .limit(30)
    ).all()
    found = []
    for notice in notices:
        lines = coverage(notice, set(p.rep_units))
        found.append(Round(notice, doors(notice, set(p.rep_units)), lines))
    return found


# --- automatic notices: a fee schedule's 公示, a vote opening, a finance board --------------------


def post_automatic(obj: Any, actor: User | None = None) -> Notice | None:
    """Post the notice that goes with a published fee schedule, an opened vote, a
    published finance board or a maintenance fund application's 公示, in the same
    transaction; once per occasion."""
    from ..fees.models import FeeSchedule, FinanceBoard
    from ..fund.models import FundApplication
    from ..votes.models import Vote

    match obj:
        case FundApplication():
            return _post_fund(obj, actor)
        case FeeSchedule():
            return _post_schedule(obj, actor)
        case Vote():
            return _post_vote(obj, actor)
        case FinanceBoard():
            return _post_board(obj, actor)
    raise TypeError(f"no automatic notice for {type(obj).__name__}")


def _post_once(
    source: str,
    scope: Scope,
    kind: NoticeKind,
    title: str,
    body: list[str],
    link: str,
    actor: User | None,
    comments_until: date | None = None,
    last_day: date | None = None,
) -> Notice | None:
    db.session.flush()
    if db.session.scalar(select(Notice.id).where(Notice.source == source)) is not None:
        return None
    notice = _new_notice(scope, kind.value, title, body, clock.now(), actor)
    notice.source, notice.link = source, link
    notice.comments_until = comments_until
    # Off the board after its occasion: the comment period, the vote, a month.
    day = last_day or comments_until
    if day is not None and end_of(day) > notice.publish_at:
        notice.expires_at = end_of(day)
    db.session.flush()
    audit.record("create_notice", notice)
    public.link_for(LinkKind.NOTICE, notice.id, actor)
    announce(notice)
    return notice


def _post_schedule(schedule: Any, actor: User | None) -> Notice | None:
    from ..fees.schedules import publicity_ends
    from ..labels import label
    from ..money import format_fen

    area = schedule.area
    ends = max(publicity_ends(schedule) or clock.today(), clock.today())
    body = [
        _(
            "The committee proposes these fees for %(area)s. Please read them and comment "
            "by %(date)s.",
            area=area.name,
            date=f"{ends:%Y-%m-%d}",
        ),
        "",
    ]
    body += [
        f"- {item.name}: {format_fen(item.rate_fen)} {label('basis', item.basis)}"
        for item in schedule.items
    ]
    return _post_once(
        f"fee_schedule:{schedule.id}:{schedule.published_on}",
        scope_of(area),
        NoticeKind.PUBLICITY,
        _("Proposed fees for %(area)s, open for comment", area=area.name),
        body,
        f"/fees/schedules/{schedule.id}",
        actor,
        comments_until=ends,
    )


def _vote_scopes(vote: Any) -> list[tuple[str, Scope]]:
    """Where a vote's notices go, with the source suffix of each: its place, or each of
    its chosen compounds."""
    if vote.scope_kind == ScopeKind.COMPOUNDS:
        from ..votes.service import compounds_of

        return [(f":{c.id}", scope_of(c)) for c in compounds_of(vote)]
    scope = resolve_scope(f"{vote.scope_kind}:{vote.scope_id}")
    return [("", scope)] if scope is not None else []


def _announcement_body(vote: Any) -> list[str]:
    """The 公告: what is decided, how it is counted, when, and who scrutinises and counts."""
    from ..labels import label
    from ..votes.service import tellers_of
    from ..votes.tally import NON_VOTERS

    body = [line.strip() for line in str(vote.text).splitlines()]
    body += [
        "",
        _("Matter: %(matter)s.", matter=label("matter", vote.matter)),
        _(
            "It passes with at least three quarters of the area and of the owners taking "
            "part voting yes (Civil Code art. 278, special matters)."
        )
        if vote.special
        else _(
            "It passes with more than half of the area and of the owners taking part "
            "voting yes (Civil Code art. 278)."
        ),
        _(
            "Owners holding at least two thirds of the area, and at least two thirds of the "
            "owners, must take part."
        ),
        _(
            "By the area's assembly rules, owners told of this vote who do not vote are "
            "counted with the majority of those who voted."
        )
        if (vote.rules or {}).get(NON_VOTERS)
        else _("Owners who do not vote are not counted."),
        "",
        _(
            "Voting opens on %(opens)s and ends on %(ends)s: online, or on a paper ballot.",
            opens=f"{vote.opens_on:%Y-%m-%d}",
            ends=f"{vote.closes_on:%Y-%m-%d}",
        ),
    ]
    tellers = tellers_of(vote)
    if tellers:
        body.append(
            _(
                "Tellers: %(names)s.",
                names="、".join(f"{t.name}（{label('teller_role', t.role)}）" for t in tellers),
            )
        )
    return body


def _post_vote(vote: Any, actor: User | None) -> Notice | None:
    """An announced vote's 公告, or an opened vote's notice; the first one posted."""
    from ..votes.models import VoteStatus

    opening = vote.status == VoteStatus.OPEN
    if opening:
        body = [line.strip() for line in str(vote.text).splitlines()]
        body += [
            "",
            _(
                "Owners vote online or on a paper ballot until %(date)s.",
                date=f"{vote.closes_on:%Y-%m-%d}",
            ),
        ]
        title = _("Owners' vote open: %(title)s", title=vote.title)
    else:
        body = _announcement_body(vote)
        title = _("Announcement of an owners' vote: %(title)s", title=vote.title)
    posted = [
        _post_once(
            f"{'vote' if opening else 'vote-announce'}:{vote.id}{suffix}",
            scope,
            NoticeKind.NOTICE,
            title,
            clean_body(body),
            f"/votes/{vote.id}",
            actor,
            last_day=vote.closes_on,
        )
        for suffix, scope in _vote_scopes(vote)
    ]
    return next((notice for notice in posted if notice is not None), None)


def _post_board(board: Any, actor: User | None) -> Notice | None:
    area = db.session.get(ManagementArea, board.area_id)
    if area is None:
        return None
    month = f"{board.month:%Y-%m}"
    return _post_once(
        f"board:{board.id}",
        scope_of(area),
        NoticeKind.NOTICE,
        _("Income and spending of %(area)s for %(month)s", area=area.name, month=month),
        [
            _(
                "The finance board of %(area)s for %(month)s is published: what was collected "
                "and what was spent. Every resident may read it.",
                area=area.name,
                month=month,
            )
        ],
        f"/fees/areas/{area.id}/board?month={month}",
        actor,
        last_day=clock.today() + timedelta(days=31),
    )


def _post_fund(application: Any, actor: User | None) -> Notice | None:
    from ..fund.service import bearing_buildings
    from ..money import format_fen

    buildings = bearing_buildings(application)
    scope = scope_of(
        db.session.get(Building, buildings[0]) if len(buildings) == 1 else application.compound
    )
    ends = clock.today() + timedelta(days=application.comment_days)
    body = [
        _(
            "The owners have voted to use the maintenance fund for %(title)s. Budget: "
            "%(budget)s, borne by %(n)d homes.",
            title=application.title,
            budget=format_fen(application.budget_fen),
            n=len(application.shares),
        ),
        "",
        _("Please read it and comment by %(date)s.", date=f"{ends:%Y-%m-%d}"),
    ]
    return _post_once(
        f"fund:{application.id}",
        scope,
        NoticeKind.PUBLICITY,
        _("Use of the maintenance fund, open for comment: %(title)s", title=application.title),
        body,
        f"/fund/applications/{application.id}",
        actor,
        comments_until=ends,
    )
