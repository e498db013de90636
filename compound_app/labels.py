"""The words people see for stored codes (management models, roles, relations…)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from .auth.models import Role
from .committees.models import Background, ChairAppointment, MemberKind, Position
from .fees.models import ApprovalHow, Basis, Cycle, ExpenseKind, Method, ScheduleStatus
from .fund.models import AppState, Payer, Split
from .income.models import CONTRACT_KINDS, IncomeKind
from .problems import models as problems
from .reconcile.models import ClaimStatus, Explanation
from .rectify.models import ProjectKind, ProjectLevel, Stage, StepKind
from .registry.models import (
    Consent,
    ManagementModel,
    Occupancy,
    PartyOrgKind,
    PilotStage,
    Relation,
)
from .repairs.models import (
    AssigneeKind,
    Category,
    Channel,
    FacilityKind,
    Funding,
    MeetingKind,
    PhotoStage,
    Place,
    Priority,
    Status,
    WorkKind,
    WorkStatus,
)
from .transition.models import ElectedPosition, PrepRole, Target
from .transition.models import Stage as TransitionStage
from .treasury.models import AccountKind, MovementKind
from .votes.models import BallotChannel, Choice, Matter, TellerRole, VoteStatus

LABELS: dict[str, dict[str, Any]] = {
    "model": {
        ManagementModel.UNMANAGED: _l("Unmanaged"),
        ManagementModel.CONTIGUOUS: _l("Contiguous management"),
        ManagementModel.PARTY_BRANCH: _l("Party-branch managed"),
        ManagementModel.TRUSTEESHIP: _l("Community trusteeship"),
    },
    "occupancy": {
        Occupancy.OWNER_OCCUPIED: _l("Owner-occupied"),
        Occupancy.RENTED: _l("Rented"),
        Occupancy.VACANT: _l("Vacant"),
    },
    "relation": {
        Relation.OWNER: _l("Owner"),
        Relation.CO_OWNER: _l("Co-owner"),
        Relation.TENANT: _l("Tenant"),
        Relation.FAMILY: _l("Family member"),
    },
    "consent": {
        Consent.PAPER: _l("signed paper form"),
        Consent.IN_PERSON: _l("said in person"),
        Consent.ONLINE: _l("given online by the resident"),
    },
    "party_org": {
        PartyOrgKind.BRANCH: _l("Compound party branch"),
        PartyOrgKind.GROUP: _l("Compound party group"),
    },
    "stage": {
        PilotStage.SELECTED: _l("Selected"),
        PilotStage.CONSULTING: _l("Consulting residents"),
        PilotStage.ORGANISED: _l("Organisation formed"),
        PilotStage.FEES_STARTED: _l("Fees started"),
        PilotStage.SELF_GOVERNING: _l("Self-governing"),
        PilotStage.PAUSED: _l("Paused"),
    },
    "position": {
        Position.CHAIR: _l("Chair"),
        Position.VICE_CHAIR: _l("Vice-chair"),
        Position.TREASURER: _l("Treasurer"),
        Position.MEMBER: _l("Member"),
    },
    "background": {
        Background.PARTY_MEMBER: _l("Party member"),
        Background.RETIRED_CADRE: _l("Retired cadre"),
        Background.GRID_WORKER: _l("Grid worker"),
        Background.KEEN_RESIDENT: _l("Keen resident"),
    },
    "member_kind": {
        MemberKind.SUBDISTRICT: _l("Subdistrict office"),
        MemberKind.RESIDENTS_COMMITTEE: _l("Residents' committee"),
        MemberKind.POLICE: _l("Police station"),
        MemberKind.HOUSING: _l("Housing office"),
        MemberKind.OWNER: _l("Owner representative"),
    },
    "chair_appointment": {
        ChairAppointment.NAMED: _l("named by the subdistrict"),
        ChairAppointment.ELECTED: _l("elected by the members"),
    },
    "basis": {
        Basis.PER_HOUSEHOLD: _l("per household per month"),
        Basis.PER_M2: _l("per m² per month"),
        Basis.FIXED: _l("fixed, per household per billing period"),
    },
    "cycle": {
        Cycle.MONTH: _l("Monthly"),
        Cycle.QUARTER: _l("Quarterly"),
        Cycle.HALF_YEAR: _l("Half-yearly"),
        Cycle.YEAR: _l("Yearly"),
    },
    "schedule_status": {
        ScheduleStatus.DRAFT: _l("Draft"),
        ScheduleStatus.PUBLISHED: _l("On the notice board"),
        ScheduleStatus.ACTIVE: _l("In force"),
        ScheduleStatus.SUPERSEDED: _l("Superseded"),
    },
    "approval": {
        ApprovalHow.RESIDENTS_MEETING: _l("Residents' meeting"),
        ApprovalHow.OWNERS_VOTE: _l("Owners' vote"),
        ApprovalHow.COMMITTEE_MEETING: _l("Committee meeting"),
        ApprovalHow.COMMUNITY: _l("Community decision (trusteeship)"),
    },
    "method": {
        Method.CASH: _l("Cash"),
        Method.WECHAT: _l("WeChat Pay"),
        Method.ALIPAY: _l("Alipay"),
        Method.BANK: _l("Bank transfer"),
    },
    "income_kind": {
        IncomeKind.PARKING: _l("Parking"),
        IncomeKind.ADVERTISING: _l("Advertising"),
        IncomeKind.CHARGING: _l("Charging piles"),
        IncomeKind.VENUE: _l("Venue rental"),
        IncomeKind.RECYCLING: _l("Recyclables"),
        IncomeKind.OTHER: _l("Other"),
        IncomeKind.DONATION: _l("Donation"),
        IncomeKind.SUBSIDY: _l("Government subsidy"),
        IncomeKind.COMMUNITY: _l("Community support"),
    },
    "account_kind": {
        AccountKind.CASH_BOX: _l("Cash box"),
        AccountKind.BANK: _l("Bank account"),
        AccountKind.WECHAT: _l("WeChat collection code"),
        AccountKind.ALIPAY: _l("Alipay collection code"),
        AccountKind.COMMUNITY: _l("Account held by the community"),
    },
    "explanation": {
        Explanation.BANK_FEE: _l("Bank fee"),
        Explanation.INTEREST: _l("Interest"),
        Explanation.CASH_DEPOSIT: _l("Cash paid in from the cash box"),
        Explanation.OTHER: _l("Other"),
    },
    "claim_status": {
        ClaimStatus.WAITING: _l("Claimed, awaiting check"),
        ClaimStatus.CONFIRMED: _l("Checked; receipt issued"),
        ClaimStatus.REJECTED: _l("Not found on the statement"),
    },
    "movement_kind": {
        MovementKind.DEPOSIT: _l("Deposit"),
        MovementKind.WITHDRAW: _l("Withdrawal"),
        MovementKind.TRANSFER: _l("Transfer"),
        MovementKind.REVERSAL: _l("Reversal"),
    },
    "expense_kind": {
        ExpenseKind.SERVICE: _l("Service item"),
        ExpenseKind.REPAIR: _l("Repairs"),
        ExpenseKind.OTHER: _l("Other"),
    },
    "role": {
        Role.SUBDISTRICT_ADMIN: _l("Subdistrict administrator"),
        Role.COMMUNITY_STAFF: _l("Community staff"),
        Role.COMMITTEE_MEMBER: _l("Committee member"),
        Role.UNIT_REP: _l("Unit representative"),
        Role.RESIDENT: _l("Resident"),
        Role.GRID_WORKER: _l("Grid worker"),
    },
    "repair_category": {
        Category.CLEANING: _l("Cleaning"),
        Category.SEPTIC: _l("Septic tank"),
        Category.STREET_LIGHT: _l("Street light"),
        Category.SEWER: _l("Sewer pipe"),
        Category.ROAD: _l("Road surface"),
        Category.BUILDING_DOOR: _l("Building door"),
        Category.PARKING: _l("Parking marking"),
        Category.CAMERA: _l("Surveillance camera"),
        Category.PLUMBING: _l("Water and heating"),
        Category.ELECTRICAL: _l("Wiring"),
        Category.OTHER: _l("Other"),
    },
    "repair_status": {
        Status.REPORTED: _l("Waiting to be taken on"),
        Status.ASSIGNED: _l("Assigned"),
        Status.IN_PROGRESS: _l("In progress"),
        Status.DONE: _l("Done, awaiting check"),
        Status.CLOSED: _l("Completed"),
        Status.REJECTED: _l("Returned"),
    },
    "repair_place": {
        Place.PUBLIC: _l("Common area (stairwell, road, yard)"),
        Place.HOME: _l("Inside a home"),
    },
    "priority": {
        Priority.NORMAL: _l("Normal"),
        Priority.URGENT: _l("Urgent"),
    },
    "channel": {
        Channel.RESIDENT: _l("Reported by the resident"),
        Channel.ASSISTED: _l("Reported by the unit representative for a resident"),
        Channel.COMMITTEE: _l("Reported by the committee"),
        Channel.MEETING: _l("Decided at a meeting"),
    },
    "assignee": {
        AssigneeKind.MEMBER: _l("A committee member"),
        AssigneeKind.CONTRACTOR: _l("A contractor"),
        AssigneeKind.STAFF: _l("Community staff"),
    },
    "work_kind": {
        WorkKind.ROAD: _l("Road hardening"),
        WorkKind.BUILDING_DOOR: _l("Building doors"),
        WorkKind.PARKING: _l("Parking space marking"),
        WorkKind.CAMERA: _l("Camera installation"),
        WorkKind.STREET_LIGHT: _l("Street lights"),
        WorkKind.CHARGING: _l("Charging piles"),
        WorkKind.SEWER: _l("Sewer renewal"),
        WorkKind.OTHER: _l("Other"),
    },
    "funding": {
        Funding.FEES: _l("The area's fee balance"),
        Funding.MAINTENANCE_FUND: _l("Special maintenance fund"),
        Funding.COMMUNITY: _l("Community funds"),
        Funding.GOVERNMENT: _l("Government renovation funds"),
    },
    "fund_state": {
        AppState.DRAFT: _l("Draft"),
        AppState.VOTING: _l("Owners voting"),
        AppState.PUBLICITY: _l("Open for comment"),
        AppState.DISBURSED: _l("Paid out"),
        AppState.CLOSED: _l("Closed"),
        AppState.REJECTED: _l("Not passed"),
    },
    "split": {
        Split.AREA: _l("By floor area"),
        Split.EQUAL: _l("Equally per home"),
    },
    "payer": {
        Payer.GOVERNMENT: _l("Government renovation funds"),
        Payer.COMMUNITY: _l("Community funds"),
        Payer.COMMON_INCOME: _l("Common-part income"),
    },
    "cost_source": {
        "fees": _l("Fee ledger"),
        "fund": _l("Maintenance fund"),
        Payer.GOVERNMENT: _l("Government renovation funds"),
        Payer.COMMUNITY: _l("Community funds"),
        Payer.COMMON_INCOME: _l("Common-part income"),
    },
    "work_status": {
        WorkStatus.PLANNED: _l("Planned"),
        WorkStatus.UNDERWAY: _l("Under way"),
        WorkStatus.COMPLETED: _l("Completed"),
    },
    "facility": {
        FacilityKind.CAMERA: _l("Surveillance cameras"),
        FacilityKind.CHARGING_PILE: _l("Charging piles"),
        FacilityKind.STREET_LIGHT: _l("Street lights"),
        FacilityKind.BUILDING_DOOR: _l("Building doors"),
        FacilityKind.PARKING_SPACE: _l("Parking spaces"),
        FacilityKind.OTHER: _l("Other"),
    },
    "meeting": {
        MeetingKind.REVIEW: _l("Review meeting"),
        MeetingKind.RESIDENTS: _l("Residents' meeting"),
    },
    "repair_event": {
        "reported": _l("Reported"),
        "assigned": _l("Assigned"),
        "started": _l("Work started"),
        "done": _l("Work done, awaiting check"),
        "confirmed": _l("Checked and completed"),
        "closed": _l("Closed by the committee"),
        "sent_back": _l("Sent back: not fixed"),
        "rejected": _l("Returned"),
        "reopened": _l("Reopened"),
        "rated": _l("Rated"),
    },
    "organisation": {
        "committee": _l("Property committee"),
        "branch": _l("Compound party branch"),
        "group": _l("Compound party group"),
    },
    "check": {
        "organisation": _l("Organisation"),
        "representatives": _l("Unit representatives"),
        "schedule": _l("Fee schedule"),
        "collection": _l("Collection rate"),
        "boards": _l("Finance boards"),
        "repairs": _l("Repairs on time"),
    },
    "matter": {
        Matter.RULES: _l("Rules of procedure or the management statute"),
        Matter.COMMITTEE: _l("Electing or changing the committee"),
        Matter.MANAGER: _l("Hiring or dismissing the property manager"),
        Matter.USE_FUND: _l("Using the maintenance fund"),
        Matter.OTHER: _l("Another major matter of common property"),
        Matter.RAISE_FUND: _l("Raising the maintenance fund (three quarters)"),
        Matter.REBUILD: _l("Rebuilding or reconstruction (three quarters)"),
        Matter.CHANGE_USE: _l(
            "Changing the use of common parts, or business on them (three quarters)"
        ),
    },
    "choice": {
        Choice.YES: _l("Yes"),
        Choice.NO: _l("No"),
        Choice.ABSTAIN: _l("Abstain"),
    },
    "vote_status": {
        # A vote's own words, not the repairs' "Open" (未完成).
        VoteStatus.DRAFT: _l("Draft vote, not open yet"),
        VoteStatus.OPEN: _l("Voting now"),
        VoteStatus.CLOSED: _l("Voting closed"),
    },
    "teller_role": {
        TellerRole.SCRUTINEER: _l("Scrutineer (监票人)"),
        TellerRole.COUNTER: _l("Counter (计票人)"),
    },
    "ballot_channel": {
        BallotChannel.ONLINE: _l("online"),
        BallotChannel.PAPER: _l("paper ballot"),
    },
    "photo_stage": {
        PhotoStage.BEFORE: _l("Before"),
        PhotoStage.AFTER: _l("After"),
    },
    # --- problems (问题清单) ---
    "problem_kind": {
        problems.DefaultKind.SANITATION: _l("Environment and sanitation"),
        problems.DefaultKind.FACILITIES: _l("Facilities and equipment"),
        problems.DefaultKind.SAFETY: _l("Safety hazard"),
        problems.DefaultKind.PROPERTY_SERVICE: _l("Property service"),
        problems.DefaultKind.NEIGHBOURS: _l("Neighbour dispute"),
        problems.DefaultKind.CONVENIENCE: _l("Everyday services"),
    },
    "problem_severity": {
        problems.Severity.NORMAL: _l("Ordinary"),
        problems.Severity.SERIOUS: _l("Serious"),
        problems.Severity.URGENT: _l("Urgent"),
    },
    "problem_source": {
        problems.Source.COMPLAINT: _l("Complaint"),
        problems.Source.SUGGESTION: _l("Suggestion"),
        problems.Source.ASSISTED: _l("Entered for a resident"),
        problems.Source.CONSULTATION: _l("Consultation answer"),
        problems.Source.INSPECTION: _l("Inspection"),
        problems.Source.GRID: _l("Grid worker"),
        problems.Source.MEETING: _l("Meeting"),
        problems.Source.HOTLINE: _l("12345 hotline"),
        problems.Source.SURVEY: _l("Door-to-door survey"),
    },
    "problem_level": {
        problems.Level.COMMITTEE: _l("Property committee"),
        problems.Level.COMMUNITY: _l("Community"),
        problems.Level.CADRE: _l("Department or cadre"),
        problems.Level.SUBDISTRICT: _l("Subdistrict Party working committee"),
    },
    "problem_status": {
        problems.Status.OPEN: _l("Awaiting reply"),
        problems.Status.REPLIED: _l("Replied, being fixed"),
        problems.Status.FIXED: _l("Fixed, awaiting check"),
        problems.Status.CLOSED: _l("Closed"),
    },
    "problem_step": {
        problems.StepKind.FILED: _l("Filed"),
        problems.StepKind.LEVEL: _l("Level set"),
        problems.StepKind.OWNER: _l("Owner set"),
        problems.StepKind.REPLIED: _l("Replied"),
        problems.StepKind.DECLINED: _l("Sent back"),
        problems.StepKind.ESCALATED: _l("Escalated (overdue)"),
        problems.StepKind.FIXED: _l("Fixed"),
        problems.StepKind.VERIFIED: _l("Checked and closed"),
        problems.StepKind.REOPENED: _l("Reopened"),
        problems.StepKind.RATED: _l("Rated"),
        problems.StepKind.LINKED: _l("Linked"),
    },
    # --- rectification (整改清单) and inspections ---
    "rectify_kind": {
        ProjectKind.CONVENIENCE: _l("Convenience for residents (惠民便民)"),
        ProjectKind.LIVELIHOOD: _l("Livelihood (民生)"),
        ProjectKind.DISPUTE: _l("Resolving a dispute (化解矛盾纠纷)"),
        ProjectKind.CONTACT: _l("Keeping in touch with residents (联系群众)"),
        ProjectKind.VOLUNTEER: _l("Volunteer service (志愿服务)"),
    },
    "rectify_level": {
        ProjectLevel.COMPOUND: _l("Compound"),
        ProjectLevel.COMMUNITY: _l("Community"),
        ProjectLevel.SUBDISTRICT: _l("Subdistrict (Party working committee)"),
    },
    "rectify_stage": {
        Stage.APPROVED: _l("Approved"),
        Stage.IN_PROGRESS: _l("Being fixed"),
        Stage.COMPLETED: _l("Completed, to verify"),
        Stage.VERIFIED: _l("Verified"),
    },
    "rectify_step": {
        StepKind.CREATED: _l("Project approved"),
        StepKind.NOTE: _l("Progress"),
        StepKind.COMPLETED: _l("Completed"),
        StepKind.VERIFIED: _l("Verified"),
        StepKind.SENT_BACK: _l("Sent back: not fixed yet"),
        StepKind.AGREEMENT: _l("Agreement reached"),
    },
    "rectify_verdict": {
        "accept": _l("Fixed: I accept it"),
        "reject": _l("Not fixed: send it back"),
    },
    # A problem's status as a project's page shows it.
    "rectify_problem_status": {
        "open": _l("Waiting for a reply"),
        "replied": _l("Being handled"),
        "fixed": _l("Fixed, to verify"),
        "closed": _l("Closed"),
    },
    "inspection_result": {
        "passed": _l("Passed"),
        "failed": _l("Failed"),
    },
    "transition_target": {
        Target.OWNERS_COMMITTEE: _l("An elected owners' committee (业主委员会)"),
        Target.PROPERTY_COMPANY: _l("A property company chosen by the owners"),
    },
    # Where the path stands: the last step taken.
    "transition_stage": {
        TransitionStage.STARTED: _l("Started"),
        TransitionStage.PREPARED: _l("Preparation group formed"),
        TransitionStage.ASSEMBLY: _l("First owners' assembly called"),
        TransitionStage.ELECTED: _l("Chosen by the owners"),
        TransitionStage.FILED: _l("Filed with the subdistrict"),
        TransitionStage.HANDED_OVER: _l("Handed over"),
    },
    "prep_role": {
        PrepRole.SUBDISTRICT: _l("Subdistrict office (街道)"),
        PrepRole.RESIDENTS_COMMITTEE: _l("Residents' committee (居委会)"),
        PrepRole.POLICE: _l("Police station (派出所)"),
        PrepRole.HOUSING: _l("Housing office (房管)"),
        PrepRole.OWNER: _l("Owner representative (业主代表)"),
    },
    "elected_position": {
        ElectedPosition.CHAIR: _l("Chair (主任)"),
        ElectedPosition.VICE_CHAIR: _l("Vice-chair (副主任)"),
        ElectedPosition.MEMBER: _l("Member (委员)"),
    },
}


# Translated tables by locale. The catalogues are fixed while a process runs, so the tables
# are pure functions of the locale: safe to keep per process.
_BY_LOCALE: dict[str, dict[str, dict[str, str]]] = {}


def _translated() -> dict[str, dict[str, str]]:
    """All labels in the current language, translated once per process and locale."""
    from flask_babel import get_locale

    locale = str(get_locale() or "")
    cached = _BY_LOCALE.get(locale)
    if cached is None:
        cached = {
            kind: {code: str(text) for code, text in table.items()}
            for kind, table in LABELS.items()
        }
        _BY_LOCALE[locale] = cached
    return cached


def label(kind: str, code: str | None) -> str:
    if code is None:
        return ""
    return _translated()[kind].get(code, code)


def choices(kind: str) -> list[tuple[str, str]]:
    return [(str(code), str(text)) for code, text in LABELS[kind].items()]


# The kinds a contract may have: the first six of the income kinds.
LABELS["contract_kind"] = {kind: LABELS["income_kind"][kind] for kind in CONTRACT_KINDS}
