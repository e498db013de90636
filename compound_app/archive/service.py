"""The archive and the itemised accounts of an area: documents and their versions, the
entries that come from other records (closed votes, notices, meetings), the expenses
behind a finance board's category total, and the tenants setting.

Who sees and who keeps what is decided in ``access`` (``Action.VIEW_ACCOUNTS``,
``Action.KEEP_ARCHIVE``). Nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import access, audit, clock
from ..access import Action, Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees.models import Expense, ExpenseApproval, ExpenseVoid, FeeSchedule
from ..labels import label
from ..months import month_of
from ..notices.models import Notice
from ..notices.service import save_attachment
from ..registry.models import Compound, ManagementArea
from ..repairs.models import Meeting
from ..uploads import discard_upload, upload_dir
from ..votes.models import Vote, VoteStatus
from .models import ArchiveSettings, DocKind, Document, DocumentVersion, FileKind

LINKED_LIMIT = 30  # entries of each kind drawn from other records, newest first


# --- the tenants setting ------------------------------------------------------------------


def set_open_to_tenants(area: ManagementArea, value: bool, actor: User) -> ArchiveSettings:
    """Open (or close) the area's itemised accounts and archive to tenants; audited."""
    settings = db.session.get(ArchiveSettings, area.id)
    if settings is None:
        settings = ArchiveSettings(area_id=area.id, open_to_tenants=False)
        db.session.add(settings)
    before = {"open_to_tenants": bool(settings.open_to_tenants)}
    settings.open_to_tenants = value
    settings.changed_by_id, settings.changed_at = actor.id, clock.now()
    db.session.flush()
    # Recorded on the area, whose setting it is.
    audit.record("archive_tenants", area, before, {"open_to_tenants": value})
    return settings


# --- documents and versions ------------------------------------------------------------------


def _store(storage: Any, field: str) -> tuple[FileKind, str, int]:
    """A PDF (checked by its bytes) or a photo (re-encoded and stripped), as notices take."""
    if storage is None or not getattr(storage, "filename", None):
        raise RuleError(_("Choose the file to upload (PDF or photo)."), field)
    kind, name = save_attachment(storage, field)
    size = (upload_dir() / name).stat().st_size
    return FileKind(kind.value), name, size


def create_document(
    area: ManagementArea,
    actor: User,
    *,
    kind: DocKind,
    title: str,
    dated: date,
    counterparty: str,
    amount_fen: int | None,
    storage: Any,
    request_key: str,
) -> Document:
    """A new document with its file as version 1; the same form sent twice makes one."""
    earlier = db.session.scalar(select(Document).where(Document.request_key == request_key))
    if earlier is not None:
        if earlier.area_id != area.id:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier
    if dated > clock.today():
        raise RuleError(_("The date cannot be in the future."), "dated")
    contract = kind is DocKind.CONTRACT
    document = Document(
        area_id=area.id,
        kind=kind,
        title=title,
        dated=dated,
        counterparty=counterparty if contract else "",
        amount_fen=amount_fen if contract else None,
        created_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(document)
    db.session.flush()
    audit.record("create", document)
    _add_file(document, actor, storage, "", request_key, "file")
    return document


def add_version(
    document: Document, actor: User, storage: Any, note: str, request_key: str
) -> DocumentVersion:
    """A new version of a document; the earlier ones stay, with their dates and uploaders."""
    earlier = db.session.scalar(
        select(DocumentVersion).where(DocumentVersion.request_key == request_key)
    )
    if earlier is not None:
        if earlier.document_id != document.id:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier
    if document.withdrawn:
        raise RuleError(_("This document has been withdrawn."), "file")
    return _add_file(document, actor, storage, note, request_key, "file")


def _add_file(
    document: Document, actor: User, storage: Any, note: str, request_key: str, field: str
) -> DocumentVersion:
    file_kind, name, size = _store(storage, field)
    try:
        number = (
            db.session.scalar(
                select(func.max(DocumentVersion.number)).where(
                    DocumentVersion.document_id == document.id
                )
            )
            or 0
        ) + 1
        version = DocumentVersion(
            document_id=document.id,
            number=number,
            file_kind=file_kind,
            file_name=name,
            size_bytes=size,
            note=note,
            uploaded_by_id=actor.id,
            request_key=request_key,
        )
        db.session.add(version)
        db.session.flush()
        audit.record("upload_version", version)
    except Exception:
        discard_upload(name)
        raise
    db.session.expire(document, ["versions"])
    return version


def withdraw(document: Document, reason: str, actor: User) -> Document:
    """Take a document out of the owners' archive; it stays on record with the reason."""
    if not reason.strip():
        raise RuleError(_("Please give the reason."), "reason")
    if document.withdrawn:
        raise RuleError(_("This document has already been withdrawn."), "reason")
    before = audit.snapshot(document)
    document.withdrawn_at, document.withdrawn_by_id = clock.now(), actor.id
    document.withdraw_reason = reason
    audit.record("withdraw_document", document, before)
    return document


# --- the archive page ----------------------------------------------------------------------


@dataclass
class Entry:
    kind: DocKind
    title: str
    dated: date
    url: str
    document: Document | None = None  # uploaded; None for an entry from another record
    source: str = ""  # what other record it comes from: "vote", "notice", "meeting"


@dataclass
class Group:
    kind: DocKind
    entries: list[Entry]


def archive_of(area: ManagementArea, p: Principal, *, keeps: bool) -> list[Group]:
    """The area's archive grouped by kind (in ``DocKind`` order), newest first in each;
    withdrawn documents only for those who keep it."""
    entries: dict[DocKind, list[Entry]] = defaultdict(list)
    query = (
        select(Document)
        .where(Document.area_id == area.id)
        .options(selectinload(Document.versions))
        .order_by(Document.dated.desc(), Document.id.desc())
    )
    if not keeps:
        query = query.where(Document.withdrawn_at.is_(None))
    for document in db.session.scalars(query):
        entries[DocKind(document.kind)].append(
            Entry(
                DocKind(document.kind),
                document.title,
                document.dated,
                url_for("archive.document", document_id=document.id),
                document=document,
            )
        )
    for entry in linked_entries(area, p):
        entries[entry.kind].append(entry)
    groups = []
    for kind in DocKind:
        found = sorted(entries.get(kind, []), key=lambda e: e.dated, reverse=True)
        if found:
            groups.append(Group(kind, found))
    return groups


def linked_entries(area: ManagementArea, p: Principal) -> list[Entry]:
    """Records that are documents in substance, listed from their own pages: results of
    closed votes, the area's notices, and minutes of meetings; each only if the user may
    open it."""
    found: list[Entry] = []
    votes = db.session.scalars(
        select(Vote)
        .where(Vote.area_id == area.id, Vote.status == VoteStatus.CLOSED)
        .order_by(Vote.closed_at.desc(), Vote.id.desc())
        .limit(LINKED_LIMIT)
    )
    for vote in votes:
        if access.can(Action.VIEW, vote, p):
            day = clock.local_date(vote.closed_at) if vote.closed_at else vote.closes_on
            found.append(
                Entry(
                    DocKind.VOTE_RESULT,
                    vote.title,
                    day,
                    url_for("votes.vote", vote_id=vote.id),
                    source="vote",
                )
            )
    now = clock.now()
    notices = db.session.scalars(
        select(Notice)
        .where(
            Notice.area_id == area.id,
            access.notice_filter(p),
            Notice.publish_at <= now,
            Notice.withdrawn_at.is_(None),
        )
        .order_by(Notice.publish_at.desc(), Notice.id.desc())
        .limit(LINKED_LIMIT)
    )
    for notice in notices:
        found.append(
            Entry(
                DocKind.NOTICE,
                notice.title,
                clock.local_date(notice.publish_at),
                url_for("notices.show", notice_id=notice.id),
                source="notice",
            )
        )
    meetings = db.session.scalars(
        select(Meeting)
        .join(Compound, Compound.id == Meeting.compound_id)
        .where(Compound.area_id == area.id)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(LINKED_LIMIT)
    )
    for meeting in meetings:
        if access.can(Action.VIEW, meeting, p):
            found.append(
                Entry(
                    DocKind.MINUTES,
                    f"{meeting.compound.name} · {label('meeting', meeting.kind)}",
                    meeting.held_on,
                    url_for("repairs.meeting", meeting_id=meeting.id),
                    source="meeting",
                )
            )
    return found


# --- itemised expenses ---------------------------------------------------------------------


@dataclass
class Line:
    expense: Expense
    amount: int  # what it adds to the month's spending (negative: a void giving it back)
    void: bool  # the expense is void (作废)
    returned: bool = False  # a void booked this month of an expense counted before


@dataclass
class Itemised:
    lines: list[Line]
    total: int


def itemised(area_id: int, month: date, kind: str | None, category: str | None) -> Itemised:
    """The expenses behind a month's spending (all of it, or one category of the board):
    those that counted this month, and voids booked this month that give an earlier
    expense back; the total equals the board's figure."""
    month = month_of(month)
    where: list[Any] = [Expense.area_id == area_id]
    if kind is not None:
        where.append(Expense.kind == kind)
        where.append(Expense.category == (category or ""))
    approved_here = select(ExpenseApproval.expense_id).where(ExpenseApproval.book_month == month)
    counted = db.session.scalars(
        select(Expense)
        .options(selectinload(Expense.void))
        .where(
            *where,
            or_(
                and_(Expense.needs_approval.is_(False), Expense.book_month == month),
                Expense.id.in_(approved_here),
            ),
        )
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
    ).all()
    lines = [Line(e, e.amount_fen, e.void is not None) for e in counted]
    returned = db.session.scalars(
        select(Expense)
        .join(ExpenseVoid, ExpenseVoid.expense_id == Expense.id)
        .options(selectinload(Expense.void))
        .where(*where, ExpenseVoid.book_month == month, ExpenseVoid.counted.is_(True))
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
    ).all()
    lines += [Line(e, -e.amount_fen, True, returned=True) for e in returned]
    return Itemised(lines, sum(line.amount for line in lines))


# --- the fee schedule's 公示 ------------------------------------------------------------------


def schedule_notice(schedule: FeeSchedule, p: Principal | None = None) -> Notice | None:
    """The 公示 notice a published fee schedule posted (where residents comment), if the
    user may open it."""
    if schedule.published_on is None:
        return None
    notice = db.session.scalar(
        select(Notice).where(Notice.source == f"fee_schedule:{schedule.id}:{schedule.published_on}")
    )
    if notice is None or not access.can(Action.VIEW, notice, p):
        return None
    return notice
