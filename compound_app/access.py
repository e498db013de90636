"""Who may do what on which object. Every view asks here; nothing else decides.

A user's reach comes only from their role grants. Objects outside every grant answer
404 (``require``, ``get_or_404``), so nobody can even learn that another compound's
records exist; objects the user can see but not change answer 403.

Most objects are judged by where they sit (``locate``: subdistrict, community, area,
compound, unit, home) and the user's grants there. A few have a rule of their own, kept
here too: a repair task by who reported it and where (``task_view``), a vote by its
electorate, a consultation by whom it asks, a pilot by the staff over it, a role grant
by who may take it back, a poster's public link by the object it shows. Views load
objects by id only through ``get_or_404`` (or ``find`` for an object picked on a form); a
test fails on any other lookup in a view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, CompoundSelect, and_, false, func, literal, or_, select, union

from . import clock
from .archive.models import ArchiveSettings, Document, DocumentVersion
from .auth.models import Role, RoleGrant, User
from .committees.models import Committee, CommitteeMember, Position
from .extensions import db
from .fees.models import (
    Bill,
    CashHandover,
    Expense,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FinanceBoard,
    Payment,
    ReceiptSeal,
    ThresholdChange,
)
from .fund.models import FundApplication, FundBalance, FundDisbursement, WorkPayment
from .income.models import IncomeContract, IncomeReceipt
from .messages.models import DevSms, Message, Outbox
from .notices.models import Notice, NoticeComment, NoticeFile
from .oversight.models import Milestone
from .problems.models import Grid, GridBuilding, GridCompound, Problem, ProblemPhoto
from .public.models import LinkKind, PublicLink
from .reconcile.models import ReconDecision, StatementImport, StatementLine, TransferClaim
from .rectify.models import (
    Inspection,
    InspectionResult,
    PhotoKind,
    RectifyPhoto,
    RectifyProblem,
    RectifyProject,
)
from .registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    Occupant,
    Pilot,
    Relation,
    Subdistrict,
    Unit,
)
from .repairs.models import (
    Facility,
    Meeting,
    MeetingDecision,
    Place,
    RepairPhoto,
    RepairTask,
    Work,
)
from .treasury.models import MoneyAccount, Movement
from .votes.models import (
    Answer,
    Ballot,
    Consultation,
    ElectorHome,
    ScopeKind,
    Teller,
    Vote,
    VoteCompound,
    VoteStatus,
)

M = TypeVar("M")


class Action(StrEnum):
    VIEW = "view"  # see the object and its public facts
    VIEW_ROSTER = "view_roster"  # the households and the names of the people in it
    VIEW_CONTACTS = "view_contacts"  # their mobile numbers: for those who keep the roster
    EDIT_ROSTER = "edit_roster"  # buildings, units, households, occupants
    ASSIGN_REP = "assign_rep"  # appoint a unit representative
    IMPORT = "import"  # spreadsheet import of the roster
    MANAGE = "manage"  # model, party organisation, areas, committee, pilots
    MANAGE_PEOPLE = "manage_people"  # accounts, role grants, invite codes
    COLLECT = "collect"  # log a household's payment: the committee, the unit's representative
    MANAGE_FEES = "manage_fees"  # schedules, bills, reversals, expenses, finance boards
    REPORT = "report"  # report a repair: for a home (its residents, its representative), or
    # for the compound's common parts (anyone who lives or serves there)
    TRIAGE = "triage"  # repairs: assign, reject, works, facilities, meetings
    CONSULT = "consult"  # put questions and votes to residents, close them, enter ballots
    VIEW_PRIVATE = "view_private"  # a home's own matters (why its fees are reduced): its
    # residents, and those who decide them
    POST_NOTICE = "post_notice"  # on an area, compound, building or unit: post a notice to
    # it; on a notice: withdraw it, read its comments and its whole coverage
    VIEW_ACCOUNTS = "view_accounts"  # on an area or an expense: the itemised expenses, their
    # vouchers and the archive (业主知情权): owners and co-owners, the area's
    # representatives, its committee and staff; tenants only where the area opens them
    KEEP_ARCHIVE = "keep_archive"  # on an area or a document: upload documents and new
    # versions, withdraw them, open the accounts to tenants: the committee and staff
    # Duties asked without an object (``can(Action.OVERSEE)``) or of one (then over it):
    OVERSEE = "oversee"  # staff: communities, people, pilots
    ADMINISTER = "administer"  # a subdistrict's admin: new communities, targets, thresholds
    BROWSE = "browse"  # the list of compounds: staff and committee members
    KEEP_SEAL = "keep_seal"  # on an area: upload the seal its receipts carry (``may_keep_seal``)
    RECONCILE = "reconcile"  # on an area, a money account, a statement line, a decision or a
    # transfer claim: import statements, match and explain lines (``may_reconcile``)
    CLAIM_TRANSFER = "claim_transfer"  # on a home: say "我已转账" (its own residents)
    FILE_PROBLEM = "file_problem"  # on a compound, building, unit, home or community: put a
    # problem on the register there (``may_file_problem``)
    HANDLE_PROBLEM = "handle_problem"  # on a problem: set its level and owner, reply, fix,
    # send it back, link it to a repair (``handles_problem``)
    RECTIFY = "rectify"  # on a community, compound or rectification project: make and run
    # projects (staff over it; a project's owner runs their own)
    INSPECT = "inspect"  # on a compound or an inspection: visit a pilot and record the
    # checklist (staff over it, grid workers whose grid covers it)
    REVIEW_MAKEUP = "review_makeup"  # on an area: read how its committee's make-up departs
    # from the subdistrict's rules (advisory): the committee and staff, not its residents
    TRANSITION = "transition"  # on an area: start its transition to an owners' committee or
    # a property company, record the preparation group, the first assembly and its result
    # (the committee during their term, staff over the area)
    FILE_TRANSITION = "file_transition"  # on an area: record the transition's filing (备案)
    # and confirm its hand-over (staff over the area only)


@dataclass(frozen=True)
class Location:
    """Where an object sits in the organisation tree (None below its own level)."""

    subdistrict_id: int | None = None
    community_id: int | None = None
    area_id: int | None = None
    compound_id: int | None = None
    unit_id: int | None = None
    household_id: int | None = None


@dataclass
class Principal:
    user_id: int | None = None
    admin_subdistricts: set[int] = field(default_factory=set)
    staff_communities: set[int] = field(default_factory=set)
    committee_areas: set[int] = field(default_factory=set)
    rep_units: set[int] = field(default_factory=set)
    resident_households: set[int] = field(default_factory=set)
    # Compounds and areas that contain the rep's units / the resident's households.
    rep_compounds: set[int] = field(default_factory=set)
    resident_compounds: set[int] = field(default_factory=set)
    member_areas: set[int] = field(default_factory=set)
    rep_areas: set[int] = field(default_factory=set)
    # Areas where the user owns or co-owns a home: worked out when first asked.
    owned_areas: set[int] | None = None
    # Grid workers (网格员): their grids, the community of each, the compounds a grid
    # covers whole, the buildings it covers one by one (and their units), and every
    # compound with at least one building in a grid.
    grids: set[int] = field(default_factory=set)
    grid_communities: set[int] = field(default_factory=set)
    grid_compounds: set[int] = field(default_factory=set)
    grid_buildings: set[int] = field(default_factory=set)
    grid_units: set[int] = field(default_factory=set)
    grid_touched: set[int] = field(default_factory=set)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_staff(self) -> bool:
        return bool(self.admin_subdistricts or self.staff_communities)

    def roles(self) -> set[Role]:
        found = set()
        for role, ids in (
            (Role.SUBDISTRICT_ADMIN, self.admin_subdistricts),
            (Role.COMMUNITY_STAFF, self.staff_communities),
            (Role.COMMITTEE_MEMBER, self.committee_areas),
            (Role.UNIT_REP, self.rep_units),
            (Role.RESIDENT, self.resident_households),
            (Role.GRID_WORKER, self.grids),
        ):
            if ids:
                found.add(role)
        return found


def load_principal(user: User | None) -> Principal:
    if user is None or not getattr(user, "is_authenticated", False):
        return Principal()
    p = Principal(user_id=user.id)
    grants = db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    for grant in grants:
        match grant.role:
            case Role.SUBDISTRICT_ADMIN:
                p.admin_subdistricts.add(grant.scope_id)
            case Role.COMMUNITY_STAFF:
                p.staff_communities.add(grant.scope_id)
            case Role.COMMITTEE_MEMBER:
                p.committee_areas.add(grant.scope_id)
            case Role.UNIT_REP:
                p.rep_units.add(grant.scope_id)
            case Role.RESIDENT:
                p.resident_households.add(grant.scope_id)
            case Role.GRID_WORKER:
                p.grids.add(grant.scope_id)
    if p.grids:
        _load_grids(p)
    if p.committee_areas:
        # A seat gives access only during its term.
        from .committees.service import current_areas

        p.committee_areas = current_areas(user.id, p.committee_areas)
    if p.rep_units:
        rows = db.session.execute(
            select(Compound.id, Compound.area_id)
            .join(Building, Building.compound_id == Compound.id)
            .join(Unit, Unit.building_id == Building.id)
            .where(Unit.id.in_(p.rep_units))
        )
        for compound_id, area_id in rows:
            p.rep_compounds.add(compound_id)
            p.member_areas.add(area_id)
            p.rep_areas.add(area_id)
    if p.resident_households:
        rows = db.session.execute(
            select(Compound.id, Compound.area_id)
            .join(Building, Building.compound_id == Compound.id)
            .join(Unit, Unit.building_id == Building.id)
            .join(Household, Household.unit_id == Unit.id)
            .where(Household.id.in_(p.resident_households))
        )
        for compound_id, area_id in rows:
            p.resident_compounds.add(compound_id)
            p.member_areas.add(area_id)
    return p


def _load_grids(p: Principal) -> None:
    """What a grid worker's grids cover: three small queries, whatever the grids' size."""
    p.grid_communities = set(
        db.session.scalars(select(Grid.community_id).where(Grid.id.in_(p.grids)))
    )
    p.grid_compounds = set(
        db.session.scalars(
            select(GridCompound.compound_id).where(GridCompound.grid_id.in_(p.grids))
        )
    )
    rows = db.session.execute(
        select(Building.id, Building.compound_id, Unit.id)
        .join(GridBuilding, GridBuilding.building_id == Building.id)
        .outerjoin(Unit, Unit.building_id == Building.id)
        .where(GridBuilding.grid_id.in_(p.grids))
    )
    for building_id, compound_id, unit_id in rows:
        p.grid_buildings.add(building_id)
        p.grid_touched.add(compound_id)
        if unit_id is not None:
            p.grid_units.add(unit_id)
    p.grid_touched |= p.grid_compounds


def principal() -> Principal:
    """The current user's principal, computed once per request."""
    cached = g.get("_principal")
    if cached is None:
        user = current_user._get_current_object() if current_user else None
        cached = load_principal(user)
        g._principal = cached
    return cached


def forget() -> None:
    """Drop the cached principal after the current user's own grants changed."""
    g.pop("_principal", None)


def locate(obj: Any) -> Location:
    match obj:
        case Subdistrict():
            return Location(subdistrict_id=obj.id)
        case Community():
            return Location(subdistrict_id=obj.subdistrict_id, community_id=obj.id)
        case ManagementArea():
            return Location(
                subdistrict_id=obj.community.subdistrict_id,
                community_id=obj.community_id,
                area_id=obj.id,
            )
        case Compound():
            return Location(
                subdistrict_id=obj.community.subdistrict_id,
                community_id=obj.community_id,
                area_id=obj.area_id,
                compound_id=obj.id,
            )
        case Building():
            return locate(obj.compound)
        case Unit():
            return _with(locate(obj.building.compound), unit_id=obj.id)
        case Household():
            return _with(locate(obj.unit), household_id=obj.id)
        case Occupant():
            return locate(obj.household)
        case Committee():
            return locate(obj.area)
        case CommitteeMember():
            return locate(obj.committee.area)
        case MoneyAccount() | Movement():
            # Where the area's money is kept: its keepers and those who manage its fees.
            return locate(_area(obj.area_id))
        case FeeSchedule() | CashHandover() | Expense() | ThresholdChange() | FinanceBoard():
            return locate(obj.area if isinstance(obj, FeeSchedule) else _area(obj.area_id))
        case FeeItem():
            return locate(obj.schedule)
        case IncomeContract() | IncomeReceipt():
            # Common-part income is the area's: its committee and staff (fee rights).
            return locate(_area(obj.area_id))
        case Payment():
            return locate(obj.household)
        case ReceiptSeal():
            return locate(_area(obj.area_id))
        case StatementImport() | StatementLine() | ReconDecision():
            return locate(_area(obj.area_id))
        case TransferClaim():
            return locate(db.session.get(Household, obj.household_id))
        case RepairTask():
            # A task inside a home belongs to that home; the rest to the common parts.
            if obj.place == Place.HOME and obj.household is not None:
                return locate(obj.household)
            if obj.unit is not None:
                return locate(obj.unit)
            return locate(obj.compound)
        case Work() | Meeting() | Pilot():
            return locate(obj.compound)
        case FundApplication() | FundBalance() | FundDisbursement():
            # The maintenance fund of a compound.
            return locate(db.session.get(Compound, obj.compound_id))
        case WorkPayment():
            return locate(obj.work)
        case Facility():
            return locate(db.session.get(Compound, obj.compound_id))
        case MeetingDecision():
            return locate(obj.meeting)
        case Milestone():
            return locate(obj.pilot)
        case Bill() | FeeRelief():
            return locate(db.session.get(Household, obj.household_id))
        case Vote() | Consultation():
            return locate(obj.area)
        case Ballot() | Teller():
            return locate(db.session.get(Vote, obj.vote_id))
        case Answer():
            return locate(db.session.get(Consultation, obj.consultation_id))
        case PublicLink():
            target = link_target(obj)
            if target is None:
                raise TypeError(f"public link {obj.id} shows nothing any more")
            return locate(target)
        case Notice():
            return Location(
                subdistrict_id=obj.area.community.subdistrict_id,
                community_id=obj.area.community_id,
                area_id=obj.area_id,
                compound_id=obj.compound_id,
                unit_id=obj.unit_id,
            )
        case NoticeFile() | NoticeComment():
            return locate(obj.notice)
        case Document():
            return locate(obj.area)
        case DocumentVersion():
            return locate(obj.document)
        case Problem():
            if obj.unit_id is not None:
                return locate(obj.unit)
            if obj.compound is not None:
                return locate(obj.compound)
            return locate(obj.community)
        case ProblemPhoto():
            return locate(obj.problem)
        case Grid():
            return locate(obj.community)
        case RectifyProject():
            if obj.compound_id is not None:
                return locate(db.session.get(Compound, obj.compound_id))
            return Location(subdistrict_id=obj.subdistrict_id, community_id=obj.community_id)
        case RectifyPhoto():
            return locate(db.session.get(RectifyProject, obj.project_id))
        case Inspection():
            return locate(obj.compound)
        case InspectionResult():
            return locate(db.session.get(Inspection, obj.inspection_id))
    raise TypeError(f"access has no rule for {type(obj).__name__}")


def _area(area_id: int) -> ManagementArea | None:
    return db.session.get(ManagementArea, area_id)


def _with(loc: Location, **changes: int) -> Location:
    return Location(**{**loc.__dict__, **changes})


def can(action: Action, obj: Any = None, p: Principal | None = None) -> bool:
    """May the user do ``action`` on ``obj`` (or hold the duty ``action`` at all)?"""
    p = p or principal()
    if p.is_anonymous:
        return False
    if obj is None:
        return _duty(action, p)
    match obj:
        case Pilot() | Milestone():
            # Pilots are the staff's oversight; committees see their compound instead.
            return _staff_over(locate(obj), p)
        case RepairTask() if action is Action.VIEW:
            return task_view(obj, p) is not None
        case RepairPhoto():
            return can(action, obj.task if obj.task is not None else obj.work, p)
        case Vote():
            runs = _by_place(Action.CONSULT, locate(obj), p)
            if action is Action.VIEW:
                if runs:
                    return True
                if obj.status == VoteStatus.DRAFT:
                    # Announced: its 公告 is for the homes of its scope.
                    return obj.announced and in_vote_scope(obj, p)
                return in_electorate(obj, p)
            return runs and action is Action.CONSULT
        case Teller():
            # The tellers are named on the vote; recorded and removed by those who run it.
            return _by_place(Action.CONSULT, locate(obj), p) and action in (
                Action.VIEW,
                Action.CONSULT,
            )
        case Ballot():
            # A ballot's paper and photo are for those who run the vote.
            return _by_place(Action.CONSULT, locate(obj), p) and action in (
                Action.VIEW,
                Action.CONSULT,
            )
        case Answer():
            # One home's answer: for those who run the consultation (and turn it into a
            # problem on the register).
            runs = _by_place(Action.CONSULT, locate(obj), p)
            return runs and action in (Action.VIEW, Action.CONSULT)
        case Consultation():
            runs = _by_place(Action.CONSULT, locate(obj), p)
            if action is Action.VIEW:
                return runs or (str(obj.scope_kind), obj.scope_id) in asked_scopes(p)
            return runs and action is Action.CONSULT
        case RoleGrant():
            return _grant_rule(action, obj, p)
        case PublicLink():
            return _link_rule(action, obj, p)
        case Message():
            # A message is its own person's only, whatever their roles.
            return obj.user_id == p.user_id
        case Outbox() | DevSms():
            # An SMS is staff's to look into (and send again) for the people they serve.
            return action is Action.VIEW and _sms_in_sight(obj.mobile, p)
        case ManagementArea() if action is Action.KEEP_SEAL:
            return may_keep_seal(obj, p)
        case StatementImport() | StatementLine() | ReconDecision():
            # A statement is the keepers' work: out of everyone else's sight.
            return action in (Action.VIEW, Action.RECONCILE) and may_reconcile(
                _area(obj.area_id), p
            )
        case TransferClaim():
            keeps = may_reconcile(_area(obj.area_id), p)
            if action is Action.VIEW:
                return keeps or obj.household_id in p.resident_households
            return action is Action.RECONCILE and keeps
        case ManagementArea() | MoneyAccount() if action is Action.RECONCILE:
            return may_reconcile(obj if isinstance(obj, ManagementArea) else _area(obj.area_id), p)
        case Household() if action is Action.CLAIM_TRANSFER:
            return obj.id in p.resident_households
        case ReceiptSeal() if action is Action.VIEW:
            # Those who see the area's receipts see the seal in use; its earlier seals are
            # on record for those who keep it (a seal's image is not handed round).
            area = _area(obj.area_id)
            return (
                area is not None
                and _by_place(action, locate(obj), p)
                and (_seal_in_use(obj) or may_keep_seal(area, p))
            )
        case ManagementArea() | Compound() | Building() | Unit() if action is Action.POST_NOTICE:
            return may_post_notice(obj, p)
        case Notice():
            return _notice_rule(action, obj, p)
        case NoticeFile():
            # A notice's photos and papers go with the notice.
            return action is Action.VIEW and _notice_rule(action, obj.notice, p)
        case NoticeComment():
            # Comments on a 公示 are for those who run the notice (and its poster).
            return action is Action.VIEW and _notice_rule(Action.POST_NOTICE, obj.notice, p)
        case ManagementArea() | Expense() if action in _ACCOUNTS:
            return _accounts_rule(action, locate(obj), p)
        case FundApplication() | FundBalance() | FundDisbursement() | WorkPayment():
            return _fund_rule(action, locate(obj), p)
        case Compound() if action is Action.VIEW_ACCOUNTS:
            # The compound's maintenance fund page: as the area's accounts.
            return _accounts_rule(action, locate(obj), p)
        case Document():
            return _document_rule(action, obj, p)
        case DocumentVersion():
            # A version's file goes with its document.
            return action is Action.VIEW and _document_rule(action, obj.document, p)
        case Problem():
            return _problem_rule(action, obj, p)
        case ProblemPhoto():
            return action is Action.VIEW and problem_view(obj.problem, p) is not None
        case Grid():
            # A grid is its community staff's to run; its grid workers see it.
            if action is Action.VIEW and obj.id in p.grids:
                return True
            return action in (Action.VIEW, Action.MANAGE, Action.MANAGE_PEOPLE) and _staff_over(
                locate(obj), p
            )
        case Compound() | Building() | Unit() | Household() | Community() if (
            action is Action.FILE_PROBLEM
        ):
            return may_file_problem(obj, p)
        case RectifyProject():
            view = project_view(obj, p)
            if action is Action.VIEW:
                return view is not None
            return action is Action.RECTIFY and view is ProjectView.FULL
        case RectifyPhoto():
            # A dispute's signed agreement names its parties: for those who run it only.
            view = project_view(db.session.get(RectifyProject, obj.project_id), p)
            if obj.kind == PhotoKind.AGREEMENT:
                return action is Action.VIEW and view is ProjectView.FULL
            return action is Action.VIEW and view is not None
        case Inspection():
            return _inspection_rule(action, obj, p)
        case InspectionResult():
            return action is Action.VIEW and _inspection_rule(
                action, db.session.get(Inspection, obj.inspection_id), p
            )
        case Community() | Compound() if action is Action.RECTIFY:
            return _staff_over(locate(obj), p)
        case Compound() if action is Action.INSPECT:
            return _staff_over(locate(obj), p) or obj.id in p.grid_touched
        case ManagementArea() if action in _TRANSITION:
            return _transition_rule(action, obj, p)
    if action in (Action.FILE_PROBLEM, Action.HANDLE_PROBLEM, Action.RECTIFY, Action.INSPECT):
        return False
    if action in _TRANSITION:
        return False
    if action in _ACCOUNTS or action in (Action.RECONCILE, Action.CLAIM_TRANSFER):
        return False
    return _by_place(action, locate(obj), p)


# A public link follows the poster it prints: the object it shows (by kind), and the
# right to manage that object, which withdrawing the link needs.
LINK_TARGETS: dict[LinkKind, tuple[type[Any], Action]] = {
    LinkKind.BOARD: (FinanceBoard, Action.MANAGE_FEES),
    LinkKind.ARREARS: (Unit, Action.MANAGE_FEES),
    LinkKind.VOTE_RESULT: (Vote, Action.CONSULT),
    LinkKind.WORKS_BOARD: (Compound, Action.TRIAGE),
    LinkKind.NOTICE: (Notice, Action.POST_NOTICE),
}


def link_target(link: PublicLink) -> Any | None:
    """The object a public link shows; None when it is gone (or its kind has no rule)."""
    rule = LINK_TARGETS.get(LinkKind(link.kind))
    return db.session.get(rule[0], link.target_id) if rule else None


def _link_rule(action: Action, link: PublicLink, p: Principal) -> bool:
    """Seen by whoever sees its object; managed (withdrawn) by whoever manages that."""
    target = link_target(link)
    if target is None:
        return False
    if action is Action.VIEW:
        return can(Action.VIEW, target, p)
    return action is Action.MANAGE and can(LINK_TARGETS[LinkKind(link.kind)][1], target, p)


def _duty(action: Action, p: Principal) -> bool:
    match action:
        case Action.OVERSEE:
            return p.is_staff
        case Action.ADMINISTER:
            return bool(p.admin_subdistricts)
        case Action.BROWSE:
            return p.is_staff or bool(p.committee_areas)
    raise TypeError(f"{action} is asked of an object")


def _staff_over(loc: Location, p: Principal) -> bool:
    return loc.subdistrict_id in p.admin_subdistricts or loc.community_id in p.staff_communities


def _by_place(action: Action, loc: Location, p: Principal) -> bool:
    if action is Action.ADMINISTER:
        return loc.subdistrict_id in p.admin_subdistricts
    if action is Action.OVERSEE:
        return _staff_over(loc, p)
    if action is Action.BROWSE:
        return False
    if _staff_over(loc, p):
        return True
    if loc.area_id is None:
        # Subdistricts and communities belong to staff alone.
        return False
    committee = loc.area_id in p.committee_areas
    if loc.compound_id is None:  # a management area
        if action is Action.VIEW:
            return committee or loc.area_id in p.member_areas
        return committee and action in (
            Action.VIEW_ROSTER,
            Action.VIEW_CONTACTS,
            Action.COLLECT,
            Action.MANAGE_FEES,
            Action.CONSULT,
            Action.REVIEW_MAKEUP,
        )
    if committee:
        return action is not Action.MANAGE and action is not Action.MANAGE_PEOPLE
    if loc.unit_id is not None and loc.unit_id in p.rep_units:
        return action in (
            Action.VIEW,
            Action.VIEW_ROSTER,
            Action.VIEW_CONTACTS,
            Action.EDIT_ROSTER,
            Action.COLLECT,
            Action.REPORT,
        )
    if loc.household_id is not None and loc.household_id in p.resident_households:
        # Residents see who lives in their home, but never other residents' numbers.
        return action in (Action.VIEW, Action.VIEW_ROSTER, Action.REPORT, Action.VIEW_PRIVATE)
    if p.grids and _in_grid(loc, p):
        # A grid worker: the roster and its contacts of the homes in their grid only.
        return action in (Action.VIEW, Action.VIEW_ROSTER, Action.VIEW_CONTACTS)
    # Buildings and units are common knowledge within a compound; homes are not.
    if (
        action in (Action.VIEW, Action.REPORT)
        and loc.household_id is None
        and (loc.compound_id in p.rep_compounds or loc.compound_id in p.resident_compounds)
    ):
        return True
    # A compound where the grid covers some buildings: the compound itself.
    return action is Action.VIEW and loc.unit_id is None and loc.compound_id in p.grid_touched


def _in_grid(loc: Location, p: Principal) -> bool:
    """Whether a place lies in one of the user's grids (a whole compound, or a unit of a
    building the grid covers)."""
    return loc.compound_id in p.grid_compounds or (
        loc.unit_id is not None and loc.unit_id in p.grid_units
    )


class TaskView(StrEnum):
    FULL = "full"  # the committee, staff, the assignee, the unit's representative
    REPORTER = "reporter"  # who reported it, and the residents of the home it was for
    PUBLIC = "public"  # a neighbour: common parts only, no reporter's name or details


def is_reporter(task: RepairTask, p: Principal | None = None) -> bool:
    p = p or principal()
    return task.reported_by_id == p.user_id or (
        task.household_id is not None and task.household_id in p.resident_households
    )


def task_view(task: RepairTask | None, p: Principal | None = None) -> TaskView | None:
    """How much of a repair task the user sees; None when it is out of their sight."""
    p = p or principal()
    if task is None or p.is_anonymous:
        return None
    if can(Action.TRIAGE, task.compound, p) or task.assignee_id == p.user_id:
        return TaskView.FULL
    if task.unit_id is not None and task.unit_id in p.rep_units:
        return TaskView.FULL
    if is_reporter(task, p):
        return TaskView.REPORTER
    if task.place == Place.PUBLIC and (
        task.compound_id in p.rep_compounds or task.compound_id in p.resident_compounds
    ):
        return TaskView.PUBLIC
    return None


def in_electorate(vote: Vote, p: Principal | None = None) -> bool:
    """Whether one of the user's homes, or a home in a unit they represent, is in the
    vote's electorate (fixed when the vote opened)."""
    p = p or principal()
    homes = elector_homes(p)
    if homes is None:
        return False
    found = db.session.scalar(
        select(ElectorHome.id)
        .join(Household, Household.id == ElectorHome.household_id)
        .where(ElectorHome.vote_id == vote.id, homes)
        .limit(1)
    )
    return found is not None


def in_vote_scope(vote: Vote, p: Principal | None = None) -> bool:
    """Whether one of the user's homes, or a unit they represent, lies in the place an
    announced vote is put to (before its electorate is fixed)."""
    scopes = asked_scopes(p)
    if vote.scope_kind != ScopeKind.COMPOUNDS:
        return (str(vote.scope_kind), vote.scope_id) in scopes
    compounds = [ident for kind, ident in scopes if kind == "compound"]
    return bool(compounds) and (
        db.session.scalar(
            select(VoteCompound.compound_id)
            .where(VoteCompound.vote_id == vote.id, VoteCompound.compound_id.in_(compounds))
            .limit(1)
        )
        is not None
    )


def elector_homes(p: Principal | None = None) -> ColumnElement[bool] | None:
    """A WHERE clause on Household for the homes whose votes the user follows: their own,
    and those of the units they represent; None when there are none."""
    p = p or principal()
    conditions: list[ColumnElement[bool]] = []
    if p.resident_households:
        conditions.append(Household.id.in_(p.resident_households))
    if p.rep_units:
        conditions.append(Household.unit_id.in_(p.rep_units))
    return or_(*conditions) if conditions else None


def asked_scopes(p: Principal | None = None) -> set[tuple[str, int]]:
    """The (kind, id) scopes a consultation may be put to that reach the user: their
    homes' and represented units' unit, building, compound and area."""
    p = p or principal()
    units = set(p.rep_units)
    if p.resident_households:
        units |= set(
            db.session.scalars(
                select(Household.unit_id).where(Household.id.in_(p.resident_households))
            )
        )
    if not units:
        return set()
    rows = db.session.execute(
        select(Unit.id, Building.id, Compound.id, Compound.area_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(Unit.id.in_(units))
    ).all()
    scopes: set[tuple[str, int]] = set()
    for unit_id, building_id, compound_id, area_id in rows:
        scopes |= {("unit", unit_id), ("building", building_id), ("compound", compound_id)}
        scopes.add(("area", area_id))
    return scopes


# --- rectification projects and inspections ------------------------------------------------


class ProjectView(StrEnum):
    FULL = "full"  # staff over it, its owner: everything, the parties' names included
    SEEN = "seen"  # the compound's committee, a grid worker of its grid: the public facts
    REPORTER = "reporter"  # who reported one of its problems: the public facts, verify, rate


def reported_projects(p: Principal) -> Any:
    """A select of the ids of projects taking on a problem the user reported."""
    from .problems.models import Problem

    mine = [Problem.reporter_id == p.user_id]
    if p.resident_households:
        mine.append(Problem.household_id.in_(p.resident_households))
    return (
        select(RectifyProblem.project_id)
        .join(Problem, Problem.id == RectifyProblem.problem_id)
        .where(or_(*mine))
    )


def project_view(project: RectifyProject | None, p: Principal | None = None) -> ProjectView | None:
    """How much of a rectification project the user sees; None when out of their sight."""
    p = p or principal()
    if project is None or p.is_anonymous:
        return None
    if _staff_over(locate(project), p) or project.owner_id == p.user_id:
        return ProjectView.FULL
    if project.compound_id is not None:
        compound = db.session.get(Compound, project.compound_id)
        if compound is not None and (
            compound.area_id in p.committee_areas or compound.id in p.grid_touched
        ):
            return ProjectView.SEEN
    reported = db.session.scalar(
        select(literal(1))
        .where(RectifyProject.id == project.id)
        .where(RectifyProject.id.in_(reported_projects(p)))
    )
    return ProjectView.REPORTER if reported else None


def project_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on RectifyProject for the projects of a list the user may see there:
    staff's in their scope, the committee's and grid workers' compounds', the owner's own,
    and those taking on a problem the user reported."""
    p = p or principal()
    if p.is_anonymous:
        return false()
    clauses: list[ColumnElement[bool]] = [
        RectifyProject.owner_id == p.user_id,
        RectifyProject.id.in_(reported_projects(p)),
    ]
    if p.admin_subdistricts:
        clauses.append(RectifyProject.subdistrict_id.in_(p.admin_subdistricts))
    if p.staff_communities:
        clauses.append(RectifyProject.community_id.in_(p.staff_communities))
    if p.committee_areas:
        clauses.append(
            RectifyProject.compound_id.in_(
                select(Compound.id).where(Compound.area_id.in_(p.committee_areas))
            )
        )
    if p.grid_touched:
        clauses.append(RectifyProject.compound_id.in_(p.grid_touched))
    return or_(*clauses)


def may_rectify_in(community_id: int, subdistrict_id: int, p: Principal | None = None) -> bool:
    """Staff over the community: they make projects of its problems."""
    p = p or principal()
    return subdistrict_id in p.admin_subdistricts or community_id in p.staff_communities


def _staff_compounds(p: Principal) -> list[ColumnElement[bool]]:
    """WHERE clauses on Compound for the compounds the principal's staff roles cover."""
    clauses: list[ColumnElement[bool]] = []
    if p.admin_subdistricts:
        clauses.append(
            Compound.community_id.in_(
                select(Community.id).where(Community.subdistrict_id.in_(p.admin_subdistricts))
            )
        )
    if p.staff_communities:
        clauses.append(Compound.community_id.in_(p.staff_communities))
    return clauses


def staff_compound_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Compound for the compounds the user oversees as staff."""
    return or_(false(), *_staff_compounds(p or principal()))


def inspect_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Compound for the compounds the user may inspect (staff's and grid
    workers')."""
    p = p or principal()
    clauses = _staff_compounds(p)
    if p.grid_touched:
        clauses.append(Compound.id.in_(p.grid_touched))
    return or_(false(), *clauses)


def _inspection_rule(action: Action, inspection: Inspection | None, p: Principal) -> bool:
    """A visit is seen by whoever may inspect the compound, its inspector and the
    compound's committee (who sign it); recorded by the first two."""
    if inspection is None:
        return False
    compound = inspection.compound
    inspects = inspection.inspector_id == p.user_id or can(Action.INSPECT, compound, p)
    if action is Action.VIEW:
        return inspects or compound.area_id in p.committee_areas
    return action is Action.INSPECT and inspects


# --- the owners' right to see: itemised accounts and the archive ------------------------------

_TRANSITION = (Action.TRANSITION, Action.FILE_TRANSITION)


def _transition_rule(action: Action, area: ManagementArea, p: Principal) -> bool:
    """An area's transition (物管会 → 业委会 or a property company): its committee runs the
    owners' side during their term (the preparation group, the assembly, its result); the
    staff over the area do that too, and alone record the filing and the hand-over. Those
    who see the area (its residents) see the path."""
    if _staff_over(locate(area), p):
        return True
    return action is Action.TRANSITION and area.id in p.committee_areas


_ACCOUNTS = (Action.VIEW_ACCOUNTS, Action.KEEP_ARCHIVE)


def owned_areas(p: Principal | None = None) -> set[int]:
    """The areas where one of the user's homes is recorded with them as its owner or
    co-owner (their roster record linked to their account)."""
    p = p or principal()
    if p.owned_areas is None:
        p.owned_areas = set()
        if p.resident_households:
            p.owned_areas = set(
                db.session.scalars(
                    select(Compound.area_id)
                    .join(Building, Building.compound_id == Compound.id)
                    .join(Unit, Unit.building_id == Building.id)
                    .join(Household, Household.unit_id == Unit.id)
                    .join(Occupant, Occupant.household_id == Household.id)
                    .where(
                        Occupant.user_id == p.user_id,
                        Occupant.relation.in_((Relation.OWNER, Relation.CO_OWNER)),
                        Household.id.in_(p.resident_households),
                    )
                )
            )
    return p.owned_areas


def open_to_tenants(area_id: int) -> bool:
    """Whether the area has opened its accounts and archive to tenants (off by default)."""
    settings = db.session.get(ArchiveSettings, area_id)
    return settings is not None and settings.open_to_tenants


def _accounts_rule(action: Action, loc: Location, p: Principal) -> bool:
    """Who sees an area's itemised expenses, vouchers and archive, and who keeps it."""
    if loc.area_id is None or p.is_anonymous:
        return False
    keeps = _staff_over(loc, p) or loc.area_id in p.committee_areas
    if action is Action.KEEP_ARCHIVE or keeps:
        return keeps
    if loc.area_id in p.rep_areas or loc.area_id in owned_areas(p):
        return True
    # Tenants and family members: their own home's matters only, unless the area opens it.
    return loc.area_id in p.member_areas and open_to_tenants(loc.area_id)


def _fund_rule(action: Action, loc: Location, p: Principal) -> bool:
    """The maintenance fund: seen by whoever sees the area's accounts (owners, the
    representatives, tenants where the area opens them); kept by those with fee rights
    (the committee during its term, the community staff over it)."""
    if action is Action.VIEW:
        return _accounts_rule(Action.VIEW_ACCOUNTS, loc, p)
    if action is Action.MANAGE_FEES:
        return _by_place(Action.MANAGE_FEES, loc, p)
    return False


def _document_rule(action: Action, document: Document, p: Principal) -> bool:
    """A document is seen by whoever sees the area's archive; once withdrawn, only by
    those who keep it (it stays on record for them)."""
    loc = locate(document)
    if action is Action.KEEP_ARCHIVE:
        return _accounts_rule(Action.KEEP_ARCHIVE, loc, p)
    if action is not Action.VIEW:
        return False
    if _accounts_rule(Action.KEEP_ARCHIVE, loc, p):
        return True
    return not document.withdrawn and _accounts_rule(Action.VIEW_ACCOUNTS, loc, p)


# --- notices ---------------------------------------------------------------------------------


def may_post_notice(scope: Any, p: Principal | None = None) -> bool:
    """Who posts a notice to an area, compound, building or unit: staff over it, the
    area's committee (members during their term), and a representative to their own units
    only."""
    p = p or principal()
    if p.is_anonymous:
        return False
    loc = locate(scope)
    if _staff_over(loc, p) or (loc.area_id is not None and loc.area_id in p.committee_areas):
        return True
    return isinstance(scope, Unit) and scope.id in p.rep_units


def runs_notice(notice: Notice, p: Principal | None = None) -> bool:
    """Staff over the notice's area and its committee: they see it in every state."""
    p = p or principal()
    loc = locate(notice)
    return _staff_over(loc, p) or notice.area_id in p.committee_areas


def notice_scope(notice: Notice) -> Any:
    """The area, compound, building or unit a notice was posted to."""
    if notice.unit_id is not None:
        return db.session.get(Unit, notice.unit_id)
    if notice.building_id is not None:
        return db.session.get(Building, notice.building_id)
    if notice.compound_id is not None:
        return db.session.get(Compound, notice.compound_id)
    return notice.area


def posted_and_may_post(notice: Notice, p: Principal) -> bool:
    """Whoever posted the notice keeps managing it only while they may still post there:
    a replaced representative, or a member whose term ended, no longer does."""
    return (
        notice.posted_by_id is not None
        and notice.posted_by_id == p.user_id
        and may_post_notice(notice_scope(notice), p)
    )


def _notice_rule(action: Action, notice: Notice, p: Principal) -> bool:
    manages = runs_notice(notice, p) or posted_and_may_post(notice, p)
    if action is Action.VIEW:
        # Residents and representatives: once published, if it reaches one of their
        # homes or one of the units they represent (withdrawn ones stay on record).
        return manages or (
            notice.published() and (notice.scope_kind, notice_scope_id(notice)) in asked_scopes(p)
        )
    return manages and action is Action.POST_NOTICE


def notice_scope_id(notice: Notice) -> int:
    return notice.unit_id or notice.building_id or notice.compound_id or notice.area_id


def may_tell(notice: Notice, household: Household, p: Principal | None = None) -> bool:
    """Who marks a household told in person or by phone: its unit's representative, and
    the committee and staff who run the notice."""
    p = p or principal()
    return household.unit_id in p.rep_units or runs_notice(notice, p)


def notice_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Notice for the notices the user may see (the rule above as SQL)."""
    p = p or principal()
    if p.is_anonymous:
        return false()
    clauses: list[ColumnElement[bool]] = []
    if p.admin_subdistricts:
        clauses.append(
            Notice.area_id.in_(
                select(ManagementArea.id)
                .join(Community, Community.id == ManagementArea.community_id)
                .where(Community.subdistrict_id.in_(p.admin_subdistricts))
            )
        )
    if p.staff_communities:
        clauses.append(
            Notice.area_id.in_(
                select(ManagementArea.id).where(
                    ManagementArea.community_id.in_(p.staff_communities)
                )
            )
        )
    if p.committee_areas:
        clauses.append(Notice.area_id.in_(p.committee_areas))
    # Its poster, while they may still post there (``posted_and_may_post``): staff and the
    # committee are in the clauses above; a representative, in the units they represent.
    if p.rep_units:
        clauses.append(
            and_(
                Notice.posted_by_id == p.user_id,
                Notice.scope_kind == "unit",
                Notice.unit_id.in_(p.rep_units),
            )
        )
    columns = {
        "area": Notice.area_id,
        "compound": Notice.compound_id,
        "building": Notice.building_id,
        "unit": Notice.unit_id,
    }
    reach = [
        and_(Notice.scope_kind == kind, columns[kind] == ident)
        for kind, ident in sorted(asked_scopes(p))
    ]
    if reach:
        clauses.append(and_(Notice.publish_at <= clock.now(), or_(*reach)))
    return or_(false(), *clauses)  # no grant left at all: nothing


def collects_in(area: ManagementArea, p: Principal | None = None) -> bool:
    """Whether the user takes payments somewhere in the area (and so may hand over cash)."""
    p = p or principal()
    return can(Action.COLLECT, area, p) or area.id in p.rep_areas


def _seal_in_use(seal: ReceiptSeal) -> bool:
    """The area's latest seal: the one its receipts carry now."""
    latest = db.session.scalar(
        select(func.max(ReceiptSeal.id)).where(ReceiptSeal.area_id == seal.area_id)
    )
    return latest == seal.id


def may_keep_seal(area: ManagementArea, p: Principal | None = None) -> bool:
    """Who uploads the seal on an area's receipts: staff over the area, and the chair or
    the treasurer of its committee during their term (not every member with fee rights)."""
    p = p or principal()
    if p.is_anonymous:
        return False
    if _staff_over(locate(area), p):
        return True
    if area.id not in p.committee_areas:
        return False
    today = clock.today()
    seat = db.session.scalar(
        select(CommitteeMember.id)
        .join(Committee, Committee.id == CommitteeMember.committee_id)
        .where(
            Committee.area_id == area.id,
            CommitteeMember.user_id == p.user_id,
            CommitteeMember.position.in_((Position.CHAIR, Position.TREASURER)),
            CommitteeMember.term_start <= today,
            CommitteeMember.term_end >= today,
        )
        .limit(1)
    )
    return seat is not None


def may_reconcile(area: ManagementArea | None, p: Principal | None = None) -> bool:
    """Who checks an area's accounts against their statements (对账): whoever keeps its
    money (the committee's chair or treasurer during their term) and the staff over the
    area (who keep the money of an area without a committee), the subdistrict included."""
    return area is not None and may_keep_seal(area, p)


def require(action: Action, obj: Any) -> Any:
    """Return ``obj`` if allowed; 404 when it is out of the user's sight, else 403."""
    if obj is None or not can(Action.VIEW, obj):
        abort(404)
    if action is not Action.VIEW and not can(action, obj):
        abort(403)
    return obj


def deny() -> NoReturn:
    abort(404)


def get_or_404(model: type[M], ident: Any, action: Action = Action.VIEW) -> M:
    """The object with this id, if the user may ``action`` it; else 404 (or 403, as above)."""
    obj = db.session.get(model, ident) if _valid_id(ident) else None
    found: M = require(action, obj)
    return found


def find(model: type[M], ident: Any, action: Action = Action.VIEW) -> M | None:
    """An object picked on a form (a compound from a list, a bill of this home): None when
    it does not exist or is not the user's to ``action``, for the form to say so."""
    obj = db.session.get(model, ident) if _valid_id(ident) else None
    if obj is None or not can(Action.VIEW, obj) or not can(action, obj):
        return None
    return obj


def require_staff() -> Principal:
    """Pages for community staff and the subdistrict: out of everyone else's sight (404)."""
    p = principal()
    if not can(Action.OVERSEE, p=p):
        abort(404)
    return p


def require_admin() -> Principal:
    """Pages for a subdistrict's admin: 404 to non-staff, 403 to community staff."""
    p = require_staff()
    if not can(Action.ADMINISTER, p=p):
        abort(403)
    return p


def require_signed_in() -> Principal:
    p = principal()
    if p.is_anonymous:
        abort(404)
    return p


def administered(p: Principal | None = None) -> list[Subdistrict]:
    """The subdistricts the user administers (their targets and settings pages)."""
    p = p or principal()
    if not p.admin_subdistricts:
        return []
    return list(
        db.session.scalars(
            select(Subdistrict)
            .where(Subdistrict.id.in_(p.admin_subdistricts))
            .order_by(Subdistrict.id)
        )
    )


def _valid_id(ident: Any) -> bool:
    return isinstance(ident, int) and 0 < ident < 2**31  # ids are 32-bit on PostgreSQL


# --- list filters: the same rules, as SQL, for lists and searches -----------------------


def compound_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause selecting the compounds the principal may see."""
    p = p or principal()
    clauses = _staff_compounds(p)
    if p.committee_areas:
        clauses.append(Compound.area_id.in_(p.committee_areas))
    seen = p.rep_compounds | p.resident_compounds
    if seen:
        clauses.append(Compound.id.in_(seen))
    return or_(*clauses) if clauses else false()


def community_filter(p: Principal | None = None) -> ColumnElement[bool]:
    p = p or principal()
    clauses: list[ColumnElement[bool]] = []
    if p.admin_subdistricts:
        clauses.append(Community.subdistrict_id.in_(p.admin_subdistricts))
    if p.staff_communities:
        clauses.append(Community.id.in_(p.staff_communities))
    return or_(*clauses) if clauses else false()


# --- SMS: the outbox's failures and the dev SMS box --------------------------------------------


def sms_filter(mobile: Any, p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on an SMS's ``mobile`` column: the subdistrict's admin sees every
    SMS; community staff those to the people they serve (an account they manage, or a
    mobile on their communities' roster); nobody else any."""
    p = p or principal()
    if p.admin_subdistricts:
        return mobile.is_not(None)
    if not p.staff_communities:
        return false()
    compounds = select(Compound.id).where(Compound.community_id.in_(p.staff_communities))
    units = select(Unit.id).join(Building).where(Building.compound_id.in_(compounds))
    households = select(Household.id).where(Household.unit_id.in_(units))
    mobiles: CompoundSelect[Any] = union(
        select(User.mobile).where(people_filter(p)),
        select(Occupant.mobile).where(
            Occupant.household_id.in_(households), Occupant.mobile.is_not(None)
        ),
    )
    return mobile.in_(mobiles)


def _sms_in_sight(mobile: str, p: Principal) -> bool:
    if p.admin_subdistricts:
        return True
    if not p.staff_communities:
        return False
    return db.session.scalar(select(literal(1)).where(sms_filter(literal(mobile), p))) is not None


# --- people ---------------------------------------------------------------------------------


def people_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """Users a staff member may manage: anyone holding a role or a home in their communities."""
    p = p or principal()
    if p.admin_subdistricts:
        return User.id.is_not(None)
    if not p.staff_communities:
        return false()
    communities = p.staff_communities
    compounds = select(Compound.id).where(Compound.community_id.in_(communities))
    areas = select(ManagementArea.id).where(ManagementArea.community_id.in_(communities))
    units = select(Unit.id).join(Building).where(Building.compound_id.in_(compounds))
    households = select(Household.id).where(Household.unit_id.in_(units))
    # One simple, indexable select per way of belonging, united once.
    members: CompoundSelect[Any] = union(
        select(RoleGrant.user_id).where(RoleGrant.community_id.in_(communities)),
        select(RoleGrant.user_id).where(RoleGrant.area_id.in_(areas)),
        select(RoleGrant.user_id).where(RoleGrant.unit_id.in_(units)),
        select(RoleGrant.user_id).where(RoleGrant.household_id.in_(households)),
        select(RoleGrant.user_id).where(
            RoleGrant.grid_id.in_(select(Grid.id).where(Grid.community_id.in_(communities)))
        ),
        select(Occupant.user_id).where(
            Occupant.household_id.in_(households), Occupant.user_id.is_not(None)
        ),
    )
    return User.id.in_(members)


def require_person(user_id: int) -> User:
    """A user the current staff member may manage, else 404."""
    p = principal()
    if not p.is_staff or not _valid_id(user_id):
        abort(404)
    user = db.session.scalar(select(User).where(User.id == user_id, people_filter(p)))
    if user is None:
        abort(404)
    return user


def can_grant(role: Role, scope_id: int, p: Principal | None = None) -> bool:
    """Staff roles are granted on the people pages; the others where their object lives."""
    p = p or principal()
    if role is Role.SUBDISTRICT_ADMIN:
        return scope_id in p.admin_subdistricts
    if role is Role.COMMUNITY_STAFF:
        community = db.session.get(Community, scope_id) if _valid_id(scope_id) else None
        return community is not None and can(Action.MANAGE_PEOPLE, community, p)
    return False


SCOPE_MODELS: dict[Role, type] = {
    Role.SUBDISTRICT_ADMIN: Subdistrict,
    Role.COMMUNITY_STAFF: Community,
    Role.COMMITTEE_MEMBER: ManagementArea,
    Role.UNIT_REP: Unit,
    Role.RESIDENT: Household,
    Role.GRID_WORKER: Grid,
}


def can_revoke(grant: RoleGrant, p: Principal | None = None) -> bool:
    p = p or principal()
    role = Role(grant.role)
    if role is Role.SUBDISTRICT_ADMIN:
        return grant.scope_id in p.admin_subdistricts and grant.user_id != p.user_id
    if role is Role.COMMITTEE_MEMBER:
        return False  # a seat ends on the committee page, where its term is kept
    obj = db.session.get(SCOPE_MODELS[role], grant.scope_id)
    return obj is not None and can(Action.MANAGE_PEOPLE, obj, p)


def _grant_rule(action: Action, grant: RoleGrant, p: Principal) -> bool:
    """A role grant is in sight of the staff who may take it back (``can_revoke``) from a
    person they manage; to everyone else it does not exist."""
    if action not in (Action.VIEW, Action.MANAGE_PEOPLE) or not p.is_staff:
        return False
    holder = db.session.scalar(select(User.id).where(User.id == grant.user_id, people_filter(p)))
    return holder is not None and can_revoke(grant, p)


def can_manage_account(user: User, p: Principal | None = None) -> bool:
    """May the acting staff member reset this account's password or disable it?

    Both act on every role the account holds, so each of them must lie within the actor's
    own reach. Otherwise community staff could print an activation code for, say, the
    subdistrict admin who happens to live in one of their compounds, and sign in as them.
    """
    for held in user.grants:
        model = SCOPE_MODELS[Role(held.role)]
        obj = db.session.get(model, held.scope_id)
        if obj is None or not can(Action.MANAGE_PEOPLE, obj, p):
            return False
    return True


# --- problems (问题清单) -------------------------------------------------------------------------


class ProblemView(StrEnum):
    STAFF = "staff"  # community and subdistrict staff: everything, an anonymous reporter too
    HANDLER = "handler"  # the committee, the owner, a grid worker: never an anonymous reporter
    REPORTER = "reporter"  # who reported it (their home), or entered it for a neighbour


def is_problem_reporter(problem: Problem, p: Principal | None = None) -> bool:
    p = p or principal()
    if p.is_anonymous:
        return False
    return problem.reporter_id == p.user_id or (
        problem.household_id is not None and problem.household_id in p.resident_households
    )


def _problem_in_grid(problem: Problem, p: Principal) -> bool:
    if not p.grids or problem.compound_id is None:
        return False
    return problem.compound_id in p.grid_compounds or (
        problem.building_id is not None and problem.building_id in p.grid_buildings
    )


def problem_view(problem: Problem | None, p: Principal | None = None) -> ProblemView | None:
    """How much of a problem the user sees; None when it is out of their sight."""
    p = p or principal()
    if problem is None or p.is_anonymous:
        return None
    loc = locate(problem)
    if _staff_over(loc, p):
        return ProblemView.STAFF
    if loc.area_id is not None and loc.area_id in p.committee_areas:
        return ProblemView.HANDLER
    if problem.owner_id is not None and problem.owner_id == p.user_id:
        return ProblemView.HANDLER
    if _problem_in_grid(problem, p):
        return ProblemView.HANDLER
    if is_problem_reporter(problem, p) or problem.entered_by_id == p.user_id:
        return ProblemView.REPORTER
    return None


def shows_reporter(problem: Problem, p: Principal | None = None) -> bool:
    """Whether the user may see who reported the problem: never the committee (or any
    non-staff handler) for an anonymous one, never a neighbour."""
    view = problem_view(problem, p)
    if view is ProblemView.STAFF:
        return True
    if view is ProblemView.HANDLER:
        return not problem.anonymous
    return view is ProblemView.REPORTER and is_problem_reporter(problem, p)


def handles_problem(problem: Problem, p: Principal | None = None) -> bool:
    """Who works a problem: the staff over it, its owner, and the committee of its area
    while it is the committee's (a grid worker files and follows, never handles)."""
    p = p or principal()
    if p.is_anonymous:
        return False
    loc = locate(problem)
    if _staff_over(loc, p):
        return True
    if problem.owner_id is not None and problem.owner_id == p.user_id:
        return True
    return (
        problem.level == "committee"
        and loc.area_id is not None
        and loc.area_id in p.committee_areas
    )


def _problem_rule(action: Action, problem: Problem, p: Principal) -> bool:
    view = problem_view(problem, p)
    if view is None:
        return False
    if action is Action.VIEW:
        return True
    if action is Action.HANDLE_PROBLEM:
        return handles_problem(problem, p)
    if action is Action.VIEW_CONTACTS:
        # Who asked (an assisted entry, a hotline caller): staff, and a grid worker in
        # their grid; the committee too unless the reporter asked not to be named.
        return view is ProblemView.STAFF or (
            view is ProblemView.HANDLER
            and not problem.anonymous
            and (_problem_in_grid(problem, p) or can(Action.VIEW_CONTACTS, problem.compound, p))
        )
    return False


def may_file_problem(place: Any, p: Principal | None = None) -> bool:
    """Who puts a problem on the register where: staff in their scope (a community-wide
    one too), the committee in its area, a representative in their units' homes and
    compound, a resident for their own home, a grid worker in their grid."""
    p = p or principal()
    if p.is_anonymous:
        return False
    loc = locate(place)
    if _staff_over(loc, p):
        return True
    if isinstance(place, Community):
        return False
    if loc.area_id in p.committee_areas:
        return True
    if p.grids and (
        _in_grid(loc, p)
        or (isinstance(place, Building) and place.id in p.grid_buildings)
        or (isinstance(place, Compound) and place.id in p.grid_touched)
    ):
        return True
    if isinstance(place, Household):
        return place.id in p.resident_households or place.unit_id in p.rep_units
    # The common parts of the compound where they live or represent a stairwell.
    return loc.compound_id in p.resident_compounds or loc.compound_id in p.rep_compounds


def problem_filter(p: Principal | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Problem for the problems the user sees (the rule above as SQL)."""
    p = p or principal()
    if p.is_anonymous:
        return false()
    clauses: list[ColumnElement[bool]] = []
    if p.admin_subdistricts:
        clauses.append(Problem.subdistrict_id.in_(p.admin_subdistricts))
    if p.staff_communities:
        clauses.append(Problem.community_id.in_(p.staff_communities))
    if p.committee_areas:
        clauses.append(
            Problem.compound_id.in_(
                select(Compound.id).where(Compound.area_id.in_(p.committee_areas))
            )
        )
    clauses.append(Problem.owner_id == p.user_id)
    clauses.append(Problem.reporter_id == p.user_id)
    clauses.append(Problem.entered_by_id == p.user_id)
    if p.resident_households:
        clauses.append(Problem.household_id.in_(p.resident_households))
    if p.grid_compounds:
        clauses.append(Problem.compound_id.in_(p.grid_compounds))
    if p.grid_buildings:
        clauses.append(Problem.building_id.in_(p.grid_buildings))
    return or_(*clauses)
