"""Small, readable builders for test data, going through the same services as the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count
from typing import Any, TypeVar

from sqlalchemy import select

from compound_app import clock
from compound_app.auth.models import Role, User
from compound_app.auth.service import grant, hash_password
from compound_app.committees import service as committees
from compound_app.committees.models import (
    Background,
    Committee,
    CommitteeMember,
    MemberKind,
    Position,
)
from compound_app.extensions import db
from compound_app.fees import schedules
from compound_app.fees.models import ApprovalHow, Basis, Cycle, FeeSchedule
from compound_app.months import add_months, month_of
from compound_app.registry import roster
from compound_app.registry import service as registry
from compound_app.registry.models import (
    Community,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    Occupancy,
    PartyOrgKind,
    Relation,
    Subdistrict,
    Unit,
)

T = TypeVar("T")
PASSWORD = "correct horse 42"
_mobiles = count(13700000001)


def mobile() -> str:
    return str(next(_mobiles))


def user(name: str = "测试用户", *, password: str | None = PASSWORD, **grants: int) -> User:
    """A user with a password; keyword arguments grant roles, e.g. unit_rep=unit.id."""
    u = User(
        mobile=mobile(), name=name, password_hash=hash_password(password) if password else None
    )
    db.session.add(u)
    db.session.flush()
    for role, scope_id in grants.items():
        grant(u, Role(role), scope_id)
    db.session.commit()
    return u


def compound(
    community: Community,
    name: str,
    *,
    buildings: int = 1,
    units: int = 2,
    households: int = 2,
) -> Compound:
    c = registry.create_compound(community, name, f"{name}路1号")
    db.session.flush()
    for b in range(1, buildings + 1):
        building = roster.add_building(c, f"{b}号楼")
        db.session.flush()
        for u in range(1, units + 1):
            unit = roster.add_unit(building, f"{u}单元")
            db.session.flush()
            for h in range(1, households + 1):
                hh = roster.add_household(unit, f"{h}0{u}", 6850 + h, Occupancy.OWNER_OCCUPIED)
                db.session.flush()
                roster.add_occupant(hh, f"住户{b}{u}{h}", mobile(), Relation.OWNER)
    db.session.commit()
    return c


def days_ago(n: int) -> date:
    """A day ``n`` days before today (after it when negative), on the suite's clock."""
    return clock.today() - timedelta(days=n)


def committee(area: ManagementArea, *members: tuple[User, Position]) -> Committee:
    """A committee formed half a year ago, its members seated for three years from then."""
    formed = days_ago(165)
    c = committees.create_committee(area, f"{area.name}物管会", formed)
    db.session.flush()
    for u, position in members:
        committees.add_member(
            c,
            name=u.name,
            mobile=u.mobile,
            position=position,
            background=Background.PARTY_MEMBER,
            term_start=formed,
            term_end=formed + timedelta(days=3 * 365),
            actor=None,
        )
    db.session.commit()
    return c


def seat(
    c: Committee,
    kind: MemberKind = MemberKind.OWNER,
    position: Position = Position.MEMBER,
    *,
    name: str = "委员",
    start: date | None = None,
    end: date | None = None,
) -> CommitteeMember:
    """A new person on the committee, sitting for ``kind``; seated like ``committee``'s
    members (from half a year ago for three years) unless told otherwise."""
    start = start or days_ago(165)
    member = committees.add_member(
        c,
        name=name,
        mobile=mobile(),
        position=position,
        background=Background.KEEN_RESIDENT,
        term_start=start,
        term_end=end or start + timedelta(days=3 * 365),
        actor=None,
        kind=kind,
    )
    db.session.commit()
    return member


def first_unit(c: Compound) -> Unit:
    return c.buildings[0].units[0]


def first_household(c: Compound) -> Household:
    return first_unit(c).households[0]


@dataclass
class World:
    """Two communities; every management model; a user for every role, and an outsider."""

    subdistrict: Subdistrict
    community: Community
    other_community: Community
    branch: Compound  # party_branch, community A
    trust: Compound  # trusteeship, community A
    contiguous: list[Compound]  # three compounds in one area, community A
    unmanaged: Compound  # community A
    elsewhere: Compound  # community B
    users: dict[str, User] = field(default_factory=dict)

    @property
    def contiguous_area(self) -> ManagementArea:
        return self.contiguous[0].area

    def ids(self) -> dict[str, Any]:
        """The world's rows by id, to find them again in a copy of its database."""
        return {
            "subdistrict": self.subdistrict.id,
            "community": self.community.id,
            "other_community": self.other_community.id,
            "branch": self.branch.id,
            "trust": self.trust.id,
            "contiguous": [c.id for c in self.contiguous],
            "unmanaged": self.unmanaged.id,
            "elsewhere": self.elsewhere.id,
            "users": {key: u.id for key, u in self.users.items()},
        }

    def objects_of(self, c: Compound) -> dict[str, object]:
        unit = first_unit(c)
        household = unit.households[0]
        return {
            "compound": c,
            "building": c.buildings[0],
            "unit": unit,
            "household": household,
            "occupant": household.occupants[0],
            "area": c.area,
        }


def build_world() -> World:
    sub = Subdistrict(name="新义街道", city="孝义市")
    db.session.add(sub)
    db.session.flush()
    a = Community(subdistrict_id=sub.id, name="绿城社区", code="LC")
    b = Community(subdistrict_id=sub.id, name="府东社区", code="FD")
    db.session.add_all([a, b])
    db.session.commit()

    branch = compound(a, "新国土小区", buildings=2, units=2, households=2)
    trust = compound(a, "城建小区")
    contiguous = [compound(a, f"绿城{n}号院") for n in (1, 2, 3)]
    unmanaged = compound(a, "粮食局宿舍")
    elsewhere = compound(b, "供电家属院")

    # The models were taken up long before any test's window of months.
    today = days_ago(400)
    registry.change_model(branch, ManagementModel.PARTY_BRANCH, today, "居民会议")
    registry.set_party_organisation(
        branch, PartyOrgKind.BRANCH, "新国土小区党支部", "孙德明", 12, None
    )
    registry.change_model(trust, ManagementModel.TRUSTEESHIP, today, "社区托管")
    registry.set_party_organisation(trust, PartyOrgKind.GROUP, "城建小区党小组", "赵志刚", 4, None)
    registry.form_contiguous_area(a, contiguous, "绿城一片区", today)
    db.session.commit()

    w = World(sub, a, b, branch, trust, contiguous, unmanaged, elsewhere)
    w.users["admin"] = user("王建华", subdistrict_admin=sub.id)
    w.users["staff"] = user("李秀兰", community_staff=a.id)
    w.users["other_staff"] = user("赵志刚", community_staff=b.id)
    chair = user("孙德明")
    committee(branch.area, (chair, Position.CHAIR))
    w.users["committee"] = chair
    area_chair = user("刘国庆")
    committee(w.contiguous_area, (area_chair, Position.CHAIR))
    w.users["area_committee"] = area_chair
    w.users["rep"] = user("周玉梅", unit_rep=first_unit(branch).id)
    home = first_household(branch)
    resident = user("吴振华", resident=home.id)
    owner = home.occupants[0]
    owner.name, owner.mobile, owner.user_id = resident.name, resident.mobile, resident.id
    w.users["resident"] = resident
    tenant_home = first_household(trust)
    tenant = user("郑晓燕", resident=tenant_home.id)
    roster.add_occupant(tenant_home, "郑晓燕", tenant.mobile, Relation.TENANT).user_id = tenant.id
    w.users["tenant"] = tenant
    w.users["outsider"] = user("路人甲")
    db.session.commit()
    return w


def load_world(ids: dict[str, Any]) -> World:
    """The world that ``build_world`` made, read back from a copy of its database.

    One query per model (most tests ask for the world, so this is part of their set-up).
    """

    def by_id(model: type[T], wanted: list[int]) -> dict[int, T]:
        rows = db.session.scalars(select(model).where(model.id.in_(wanted)))  # type: ignore[attr-defined]
        found = {o.id: o for o in rows}
        missing = set(wanted) - set(found)
        assert not missing, f"{model.__name__} {missing} not in the world's database"
        return found

    compound_keys = ("branch", "trust", "unmanaged", "elsewhere")
    compounds = by_id(Compound, [*ids["contiguous"], *(ids[k] for k in compound_keys)])
    communities = by_id(Community, [ids["community"], ids["other_community"]])
    users = by_id(User, list(ids["users"].values()))
    return World(
        subdistrict=by_id(Subdistrict, [ids["subdistrict"]])[ids["subdistrict"]],
        community=communities[ids["community"]],
        other_community=communities[ids["other_community"]],
        branch=compounds[ids["branch"]],
        trust=compounds[ids["trust"]],
        contiguous=[compounds[i] for i in ids["contiguous"]],
        unmanaged=compounds[ids["unmanaged"]],
        elsewhere=compounds[ids["elsewhere"]],
        users={key: users[i] for key, i in ids["users"].items()},
    )


def passed_area_vote(area: ManagementArea, on: date | None = None, matter: str = "other") -> Any:
    """The area's owners' vote, announced ahead and put by community staff on ``on`` (today
    unless given), every owner voting yes on paper, closed the same day with its tellers:
    passed."""
    from compound_app import access
    from compound_app.votes import service as votes

    runner = user("计票人", community_staff=area.community_id)
    with clock.held_at(clock.start_of_day(on or clock.today()) + timedelta(hours=10)):
        vote = votes.create_vote(
            votes.resolve_scope("area", area.id),
            matter,
            "物业服务收费标准",
            "是否同意公示的收费标准？",
            clock.today(),
            runner,
        )
        open_announced(vote, runner)
        p = access.load_principal(runner)
        for elector in vote.electors:
            votes.enter_paper(vote, elector.homes[0].household_id, "yes", _jpeg(), runner, p)
        close_counted(vote, runner)
    db.session.commit()
    return vote


def fee_schedule(
    area: ManagementArea,
    *,
    start: date | None = None,
    items: tuple[tuple[str, str, int], ...] = (("保洁", "per_household", 1000),),
    cycle: str = "month",
    vacant_percent: int = 50,
    approver: User | None = None,
    exception: str | None = None,
) -> FeeSchedule:
    """An active schedule from ``start`` (its first period billed; five months ago unless
    given), through the services: decided by the area's owners' vote, or, given the
    ``exception``'s reason, by the community."""
    start = start or add_months(month_of(clock.today()), -5)
    draft = schedules.new_draft(area, approver, today=start)
    schedules.update_terms(
        draft,
        cycle=Cycle(cycle),
        start_month=start,
        vacant_percent=vacant_percent,
        publicity_days=7,
        today=start,
    )
    for name, basis, rate in items:
        schedules.add_item(
            draft, name=name, scope=f"{name}服务标准", basis=Basis(basis), rate_fen=rate
        )
    schedules.publish(draft, today=start - timedelta(days=10))
    approver = approver or user("审批人")
    vote = None if exception else passed_area_vote(area, start - timedelta(days=2))
    schedules.approve(
        draft,
        how=ApprovalHow.COMMUNITY if exception else ApprovalHow.OWNERS_VOTE,
        approved_on=start - timedelta(days=1),
        note=exception or "业主表决通过",
        actor=approver,
        staff=exception is not None,
        today=start,
        vote_id=vote.id if vote else None,
    )
    db.session.commit()
    return draft


def fee_objects(c: Compound, collector: User, recorder: User) -> dict[str, int]:
    """A schedule in force with bills, a cash payment, a hand-over and an expense awaiting
    approval in the compound's area: the ids the fee routes take."""
    from compound_app.fees import ledger
    from compound_app.fees.models import (
        CashHandover,
        Expense,
        Method,
        ReceiptSeal,
        ThresholdChange,
    )

    today = clock.today()
    area = c.area
    schedule = fee_schedule(area, start=add_months(month_of(today), -1), approver=recorder)
    schedules.catch_up(area.id)
    payment = ledger.record_payment(
        first_household(c),
        amount_fen=1500,
        method=Method.CASH,
        paid_on=today,
        collector=collector,
        request_key=f"fixture-payment-{area.id:08d}",
    ).payment
    handover = CashHandover(
        area_id=area.id,
        collector_id=collector.id,
        amount_fen=1000,
        handed_on=today,
        request_key=f"fixture-handover-{area.id:08d}",
    )
    expense = Expense(
        area_id=area.id,
        kind="service",
        category="保洁",
        amount_fen=80_000,
        payee="保洁员",
        spent_on=today,
        book_month=month_of(today),
        needs_approval=True,
        recorded_by_id=recorder.id,
        request_key=f"fixture-expense-{area.id:08d}",
    )
    # A new expense-approval threshold proposed, waiting for a second member's confirmation.
    change = ThresholdChange(area_id=area.id, threshold_fen=60_000, proposed_by_id=recorder.id)
    # The seal on the area's receipts (its record; no file is needed to route to it).
    seal = ReceiptSeal(
        area_id=area.id,
        file=f"fixture-seal-{area.id}.png",
        uploaded_by_id=recorder.id,
        request_key=f"fixture-seal-{area.id:08d}",
    )
    db.session.add_all([handover, expense, change, seal])
    db.session.commit()
    # Money accounts: the cash box, a bank account and a deposit awaiting its approval.
    from compound_app.treasury import hooks
    from compound_app.treasury.models import MoneyAccount, Movement

    box = hooks.cash_box(area.id)
    bank = MoneyAccount(
        area_id=area.id,
        kind="bank",
        name="基本户",
        bank="农商银行",
        holder=area.name,
        last4="1234",
        opened_on=today,
        opened_by_id=recorder.id,
    )
    db.session.add(bank)
    db.session.flush()
    movement = Movement(
        area_id=area.id,
        kind="deposit",
        from_account_id=box.id,
        to_account_id=bank.id,
        amount_fen=90_000,
        moved_on=today,
        needs_approval=True,
        recorded_by_id=recorder.id,
        request_key=f"fixture-movement-{area.id:08d}",
    )
    db.session.add(movement)
    db.session.commit()
    return {
        "account_id": bank.id,
        "movement_id": movement.id,
        "change_id": change.id,
        "schedule_id": schedule.id,
        "item_id": schedule.items[0].id,
        "payment_id": payment.id,
        "handover_id": handover.id,
        "expense_id": expense.id,
        "seal_id": seal.id,
    }


def repair_objects(c: Compound, reporter: User, recorder: User) -> dict[str, int]:
    """A reported task with a photo, a planned work, a facility line and a residents'
    meeting in the compound: the ids the repair routes take."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from compound_app import access
    from compound_app.repairs import workflow, works
    from compound_app.repairs.models import MeetingKind

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 90, 90)).save(buffer, "JPEG")
    buffer.seek(0)
    p = access.load_principal(reporter)
    home = next(iter(p.resident_households), None)
    task = workflow.report_task(
        c,
        workflow.Report(
            category="plumbing",
            description="楼道水管漏水",
            household_id=home if home and p.resident_compounds == {c.id} else None,
        ),
        reporter,
        [FileStorage(buffer, "leak.jpg")],
        p=p,
    )
    work = works.plan_work(
        c, works.WorkPlan("camera", "安装监控", "", 100_000, "fees", days_ago(14)), recorder
    )
    facility = works.add_facility(
        c, works.FacilityEntry("street_light", 2, "大门", days_ago(165)), recorder
    )
    meeting = works.record_meeting(
        c,
        works.MeetingRecord(
            MeetingKind.RESIDENTS, days_ago(14), "居民代表", 12, "路灯不亮", ["修路灯"]
        ),
        recorder,
    )
    db.session.commit()
    return {
        "task_id": task.id,
        "photo_id": task.photos[0].id,
        "work_id": work.id,
        "facility_id": facility.id,
        "meeting_id": meeting.id,
        "subdistrict_id": c.community.subdistrict_id,
    }


def pilot_vote_objects(c: Compound, runner: User) -> dict[str, int]:
    """The compound as a pilot with a milestone, an open owners' vote with a paper ballot,
    and a consultation: the ids the oversight and vote routes take."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from compound_app import access
    from compound_app.oversight import pilots
    from compound_app.oversight.models import StageChange
    from compound_app.registry.models import Pilot
    from compound_app.votes import consultations
    from compound_app.votes import service as votes

    pilot = c.pilot
    if pilot is None:
        # Chosen before it took its model, as the story's pilots were.
        pilot = Pilot(
            compound_id=c.id,
            selected_on=days_ago(106),
            stage="organised",
            stage_since=days_ago(45),
            model=c.model if c.model != "unmanaged" else "contiguous",
        )
        db.session.add(pilot)
        db.session.flush()
        db.session.add(StageChange(pilot_id=pilot.id, to_stage="organised", on=days_ago(45)))
    milestone = pilots.add_milestone(pilot, "成立物管会", days_ago(-199))
    today = clock.today()
    vote = votes.create_vote(
        votes.resolve_scope("compound", c.id), "manager", "选聘物业", "是否选聘", today, runner
    )
    open_announced(vote, runner)
    teller = record_tellers(vote, runner)[0]
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (250, 250, 250)).save(buffer, "JPEG")
    buffer.seek(0)
    ballot = votes.enter_paper(
        vote,
        first_unit(c).households[-1].id,
        "yes",
        FileStorage(buffer, "ballot.jpg"),
        runner,
        access.load_principal(runner),
    )
    consultation = consultations.create_consultation(
        votes.resolve_scope("compound", c.id), "服务范围", "保洁", ["同意", "不同意"], today, runner
    )
    db.session.commit()
    return {
        "pilot_id": pilot.id,
        "milestone_id": milestone.id,
        "vote_id": vote.id,
        "ballot_id": ballot.id,
        "consultation_id": consultation.id,
        "teller_id": teller.id,
    }


# --- votes: announced long enough ago, their tellers, closed -----------------------------------


def announced_ago(vote: Any, runner: User) -> None:
    """Announce a drafted vote as many days ago as its subdistrict's announcement period:
    it may open today, and ends on its closing day (today at the earliest)."""
    from compound_app.votes import procedure
    from compound_app.votes import service as votes

    days = votes.rules_of(vote).announce_days
    today = clock.today()
    with clock.held_at(clock.now() - timedelta(days=days)):
        procedure.announce(vote, today, max(vote.closes_on, today), runner)


def open_announced(vote: Any, runner: User) -> None:
    """A drafted vote announced long enough ago (``announced_ago``), opened today."""
    from compound_app.votes import service as votes

    announced_ago(vote, runner)
    votes.open_vote(vote, runner)


def record_tellers(vote: Any, runner: User) -> list[Any]:
    """As many scrutineers and counters as the vote's rules ask: the first owners of its
    homes who sit on no committee."""
    from compound_app.errors import RuleError
    from compound_app.votes import procedure
    from compound_app.votes import service as votes

    owners = iter(procedure.teller_choices(vote))
    recorded = []
    for role, n in votes.tellers_missing(vote).items():
        while n:
            occupant_id, _label = next(owners)
            try:
                recorded.append(procedure.record_teller(vote, role, occupant_id, runner))
            except RuleError:
                continue
            n -= 1
    return recorded


def close_counted(vote: Any, actor: User, reason: str = "开票时间到") -> Any:
    """Close a vote now: its tellers recorded first, with the reason it closes early."""
    from compound_app.votes import service as votes

    record_tellers(vote, actor)
    return votes.close_vote(vote, actor, reason)


# --- notices: a 公示 with a photo and who has been told, for the route audits -------------------


def notice_objects(c: Compound, poster: User) -> dict[str, int]:
    """A 公示 to the compound asking for an acknowledgement, with a photo: the ids the
    notice routes take."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from compound_app import access
    from compound_app.notices import service as notices

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, "JPEG")
    buffer.seek(0)
    notice = notices.create_notice(
        notices.scope_of(c),
        notices.Draft(
            kind="publicity",
            title="楼道清理公示",
            body=["周六清理楼道。", "", "- 请搬走杂物"],
            comments_until=clock.today() + timedelta(days=30),
            ask_ack=True,
        ),
        [FileStorage(buffer, "notice.jpg")],
        poster,
        access.load_principal(poster),
    )
    db.session.commit()
    return {"notice_id": notice.id, "file_id": notice.files[0].id}


def income_objects(c: Compound, recorder: User) -> dict[str, int]:
    """A parking contract of two instalments, the first received, in the compound's area:
    the ids the common-part income routes take."""
    from compound_app.fees.models import Method
    from compound_app.income import service as income
    from compound_app.income.models import IncomeKind

    today = clock.today()
    area = c.area
    contract = income.create_contract(
        area,
        recorder,
        kind=IncomeKind.PARKING,
        counterparty="顺安停车公司",
        starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=300),
        total_fen=200_000,
        instalments=[(today - timedelta(days=30), 100_000), (today + timedelta(days=60), 100_000)],
        note="",
        request_key=f"fixture-contract-{area.id:08d}",
    )
    receipt = income.record_receipt(
        area,
        recorder,
        contract=contract,
        kind=None,
        payer="",
        amount_fen=50_000,
        method=Method.BANK,
        received_on=today,
        note="",
        request_key=f"fixture-income-{area.id:08d}",
    ).receipt
    db.session.commit()
    return {"contract_id": contract.id, "receipt_id": receipt.id}


def pdf_file(name: str = "规约.pdf", title: str = "管理规约") -> Any:
    """A small valid PDF as an upload."""
    import io

    from werkzeug.datastructures import FileStorage

    from compound_app.archive.pdf import simple_pdf

    return FileStorage(io.BytesIO(simple_pdf(title, ["第一条"])), name)


def archive_objects(c: Compound, keeper: User) -> dict[str, int]:
    """A document with one PDF version in the compound's area's archive, and an expense
    with a voucher photo: the ids the archive routes take."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from compound_app.archive import service as archive
    from compound_app.archive.models import DocKind
    from compound_app.fees import expenses
    from compound_app.fees.models import ExpenseKind
    from compound_app.uploads import save_photo

    document = archive.create_document(
        c.area,
        keeper,
        kind=DocKind.COVENANT,
        title="管理规约",
        dated=clock.today(),
        counterparty="",
        amount_fen=None,
        storage=pdf_file(),
        request_key=f"fixture-document-{c.area_id:08d}",
    )
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 30)).save(buffer, "JPEG")
    buffer.seek(0)
    expense = expenses.record_expense(
        c.area,
        keeper,
        kind=ExpenseKind.OTHER,
        category="",
        amount_fen=3_000,
        payee="五金店",
        spent_on=clock.today(),
        note="门锁",
        voucher=save_photo(FileStorage(buffer, "发票.jpg")),
        request_key=f"fixture-voucher-{c.area_id:08d}",
    )
    db.session.commit()
    return {
        "document_id": document.id,
        "version_id": document.versions[0].id,
        "voucher_expense_id": expense.id,
    }


def recon_objects(c: Compound, keeper: User) -> dict[str, int]:
    """Reconciliation in the compound's area: a bank payment, a statement imported into the
    area's bank account with a line for it, a bank fee explained, and a resident's claim
    waiting: the ids the reconciliation routes take. Call after ``fee_objects``."""
    from compound_app.fees import ledger
    from compound_app.fees.models import Method
    from compound_app.reconcile import service as reconcile
    from compound_app.reconcile import statements
    from compound_app.reconcile.models import Explanation, StatementLine
    from compound_app.treasury.models import MoneyAccount

    area = c.area
    bank = db.session.scalars(
        select(MoneyAccount).where(
            MoneyAccount.area_id == area.id,
            MoneyAccount.kind == "bank",
            MoneyAccount.closed_on.is_(None),
        )
    ).first()
    assert bank is not None, "call fee_objects first"
    home = first_household(c)
    paid = days_ago(2)
    payment = ledger.record_payment(
        home,
        amount_fen=12_000,
        method=Method.BANK,
        paid_on=paid,
        collector=keeper,
        request_key=f"fixture-bank-payment-{area.id:08d}",
    ).payment
    room = f"{home.unit.building.name}{home.unit.name}{home.room}"
    lines = [
        statements.Line(2, paid, "", 12_000, "吴振华", f"{room}物业费", f"FX{area.id}-1"),
        statements.Line(3, paid, "", -200, "", "手续费", f"FX{area.id}-2"),
        statements.Line(4, paid, "", 4_500, "某某", "", f"FX{area.id}-3"),
    ]
    statements.identify(lines)
    record = reconcile.import_statement(
        bank,
        keeper,
        file_name="对账单.csv",
        sha256="0" * 64,
        layout="bank",
        lines=lines,
        doubled=0,
        request_key=f"fixture-statement-{area.id:08d}",
    )
    db.session.flush()
    line, fee, _other = db.session.scalars(
        select(StatementLine)
        .where(StatementLine.import_id == record.id)
        .order_by(StatementLine.line_no)
    ).all()
    decision = reconcile.explain(fee, keeper, Explanation.BANK_FEE, "")
    claim = reconcile.create_claim(
        home,
        keeper,
        amount_fen=4_500,
        paid_on=paid,
        method=Method.BANK,
        note="转账",
        photo=None,
        request_key=f"fixture-claim-{area.id:08d}",
    )
    db.session.commit()
    return {
        "line_id": line.id,
        "decision_id": decision.id,
        "claim_id": claim.id,
        "bank_payment_id": payment.id,
    }


# --- the maintenance fund: a balance, an application paid out, a work paid by others -------


def _jpeg() -> Any:
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (250, 250, 250)).save(buffer, "JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "photo.jpg")


def open_announced_fund_vote(app: Any, keeper: User) -> Any:
    """Put a drafted fund application to the vote as long ago as the announcement period,
    opening today; the vote, open."""
    from compound_app.fund import service as fund
    from compound_app.votes import service as votes

    today = clock.today()
    with clock.held_at(clock.now() - timedelta(days=15)):
        vote = fund.put_to_vote(app, keeper, today, opens_on=today)
    votes.open_vote(vote, keeper)
    return vote


def passed_fund_application(
    c: Compound, keeper: User, *, budget_fen: int = 300_000, key: str = ""
) -> Any:
    """An application of the whole compound put to the vote ten days ago, every owner
    voting yes on paper, its 公示 of one day over: waiting for the money."""
    from compound_app import access
    from compound_app.fund import service as fund
    from compound_app.votes import service as votes

    units = [u.id for b in c.buildings for u in b.units]
    voting = clock.now() - timedelta(days=10)
    with clock.held_at(voting - timedelta(days=15)):
        app = fund.draft_application(
            c,
            keeper,
            fund.Draft(title="屋面防水", budget_fen=budget_fen, unit_ids=units, comment_days=1),
            key or f"fixture-fund-app-{c.id:08d}-{budget_fen}",
        )
        day = clock.local_date(voting)
        vote = fund.put_to_vote(app, keeper, day, opens_on=day)
    with clock.held_at(voting):
        votes.open_vote(vote, keeper)
        p = access.load_principal(keeper)
        for share in app.shares:
            votes.enter_paper(vote, share.household_id, "yes", _jpeg(), keeper, p)
        record_tellers(vote, keeper)
        votes.close_vote(vote, keeper)
        fund.settle_vote(app, keeper)
    db.session.commit()
    return app


def fund_objects(c: Compound, keeper: User) -> dict[str, int]:
    """The compound's fund statement (photographed), an application paid out in part, and
    a government-funded work with its payment: the ids the fund routes take."""
    from compound_app.fund import service as fund
    from compound_app.repairs import works
    from compound_app.uploads import save_photo

    balance = fund.record_balance(
        c,
        keeper,
        building=None,
        balance_fen=5_000_000,
        stated_on=days_ago(30),
        photo=save_photo(_jpeg()),
        request_key=f"fixture-fund-balance-{c.id:08d}",
    )
    app = passed_fund_application(c, keeper)
    paid = fund.disburse(
        app,
        keeper,
        amount_fen=100_000,
        disbursed_on=clock.today(),
        reference="维资拨字第001号",
        photo=save_photo(_jpeg()),
        request_key=f"fixture-fund-paid-{c.id:08d}",
    )
    road = works.plan_work(
        c, works.WorkPlan("road", "道路硬化", "", 800_000, "government", days_ago(60)), keeper
    )
    payment = fund.record_work_payment(
        road,
        keeper,
        payer="government",
        amount_fen=780_000,
        paid_on=days_ago(5),
        reference="孝改办〔2026〕12号",
        photo=save_photo(_jpeg()),
        request_key=f"fixture-work-payment-{c.id:08d}",
    )
    db.session.commit()
    return {
        "balance_id": balance.id,
        "application_id": app.id,
        "disbursement_id": paid.id,
        "payment_id": payment.id,
    }


# --- problems: a complaint with a photo, a grid, an answer turned into nothing yet ----------


def problem_objects(c: Compound, filer: User) -> dict[str, int]:
    """A problem in the compound with a photo (filed as a survey finding by ``filer``, who
    must be the committee or staff there), a grid over the compound, the subdistrict's
    first kind, and a consultation answer of one of its homes: the ids the problem routes
    take."""
    import io

    from PIL import Image
    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from compound_app import access
    from compound_app.problems import service as problems
    from compound_app.problems.models import Grid
    from compound_app.votes import consultations
    from compound_app.votes import service as votes
    from compound_app.votes.models import Answer

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 90, 90)).save(buffer, "JPEG")
    buffer.seek(0)
    p = access.load_principal(filer)
    problem = problems.file_problem(
        c.community,
        c,
        problems.Filing(
            kind="default:sanitation",
            title="楼道堆放杂物",
            detail="一单元楼道堆满纸箱",
            source="survey",
            unit_id=first_unit(c).id,
            photos=[FileStorage(buffer, "hall.jpg")],
        ),
        filer,
        p=p,
    )
    grid = db.session.scalar(select(Grid).where(Grid.community_id == c.community_id))
    if grid is None:
        grid = Grid(community_id=c.community_id, name=f"{c.community.name}第一网格")
        db.session.add(grid)
        db.session.flush()
    consultation = consultations.create_consultation(
        votes.resolve_scope("compound", c.id),
        "环境整治",
        "楼道",
        ["同意", "不同意"],
        clock.today(),
        filer,
    )
    home = first_unit(c).households[0]
    answer = Answer(
        consultation_id=consultation.id,
        household_id=home.id,
        option="同意",
        comment="楼道杂物太多",
        answered_by_id=filer.id,
    )
    db.session.add(answer)
    db.session.commit()
    return {
        "problem_id": problem.id,
        "problem_photo_id": problem.photos[0].id,
        "kind_id": problem.kind_id,
        "grid_id": grid.id,
        "answer_id": answer.id,
    }


# --- rectification and inspections ------------------------------------------------------------


def problem(
    c: Compound,
    title: str = "楼道灯不亮",
    *,
    reporter: User | None = None,
    household: Household | None = None,
    entered_by: User | None = None,
    anonymous: bool = False,
) -> Any:
    """An open problem of the compound, as a resident's complaint (or staff's entry)."""
    from compound_app.problems.models import Level, Problem, ProblemStep, Source, Status
    from compound_app.problems.service import ensure_kinds

    kind = ensure_kinds(c.community.subdistrict_id)[0]
    found = Problem(
        subdistrict_id=c.community.subdistrict_id,
        community_id=c.community_id,
        compound_id=c.id,
        household_id=household.id if household else None,
        kind_id=kind.id,
        title=title,
        detail=title,
        source=Source.COMPLAINT if reporter else Source.GRID,
        reporter_id=reporter.id if reporter else None,
        entered_by_id=(entered_by or reporter).id,  # type: ignore[union-attr]
        anonymous=anonymous,
        level=Level.COMMUNITY,
        status=Status.OPEN,
        created_at=clock.now(),
    )
    db.session.add(found)
    db.session.flush()
    db.session.add(
        ProblemStep(
            problem_id=found.id, kind="filed", to_status=Status.OPEN, by_id=found.entered_by_id
        )
    )
    db.session.commit()
    return found


def rectify_objects(c: Compound, runner: User) -> dict[str, int]:
    """A rectification project of one of the compound's problems with a progress photo, an
    open problem no project has taken on yet, and a visit to the compound (made a pilot if
    it is none) with every item recorded, the first failed with a photo: the ids the
    rectification and inspection routes take."""
    from compound_app import access
    from compound_app.oversight.models import StageChange
    from compound_app.rectify import inspections
    from compound_app.rectify import service as rectify
    from compound_app.registry.models import Pilot

    p = access.load_principal(runner)
    found = problem(c, "垃圾清运不及时", entered_by=runner)
    project = rectify.create_project(
        [found],
        rectify.Draft("livelihood", "compound", "垃圾清运整改", days_ago(-30), plan="每日清运"),
        runner,
        f"fixture-rectify-project-{c.id:08d}",
        p,
    )
    note = rectify.add_note(
        project, runner, "已联系环卫", [_jpeg()], f"fixture-rectify-note-{c.id:08d}"
    )
    photo = rectify.photos_of(project)[note.id][0]
    pilot = c.pilot
    if pilot is None:
        pilot = Pilot(
            compound_id=c.id,
            selected_on=days_ago(106),
            stage="organised",
            stage_since=days_ago(45),
            model=c.model if c.model != "unmanaged" else "contiguous",
        )
        db.session.add(pilot)
        db.session.flush()
        db.session.add(StageChange(pilot_id=pilot.id, to_stage="organised", on=days_ago(45)))
        c.pilot = pilot
    visit = inspections.start(c, runner, days_ago(1), "物管会主任", f"fixture-visit-{c.id:08d}", p)
    items = inspections.items(c.community.subdistrict_id)
    result = None
    for index, item in enumerate(items):
        row = inspections.record_result(
            visit,
            runner,
            item.id,
            index != 0,
            "" if index else "消防通道堵塞",
            None if index else _jpeg(),
        )
        result = result or row
    spare = problem(c, "单元门禁失灵", entered_by=runner)  # open, for a new project
    db.session.commit()
    assert result is not None
    return {
        "rectify_problem_id": spare.id,
        "project_id": project.id,
        "rectify_photo_id": photo.id,
        "inspection_id": visit.id,
        "result_id": result.id,
    }


# --- the transition from the property committee to an owners' committee -----------------------

# A valid 统一社会信用代码 (its check character fits the first 17).
CREDIT_CODE = "91350100M000100Y43"


def passed_vote(
    area: ManagementArea, matter: str, runner: User, title: str = "选举业主委员会"
) -> Any:
    """An owners' vote of the whole area, announced ahead, every owner's paper ballot yes,
    closed with its tellers: passed."""
    from compound_app import access
    from compound_app.votes import service as votes

    vote = votes.create_vote(
        votes.resolve_scope("area", area.id), matter, title, "首次业主大会", clock.today(), runner
    )
    open_announced(vote, runner)
    p = access.load_principal(runner)
    for elector in vote.electors:
        votes.enter_paper(vote, elector.homes[0].household_id, "yes", _jpeg(), runner, p)
    close_counted(vote, runner)
    db.session.flush()
    return vote


PREPARATION = [
    ("王主任", "subdistrict"),
    ("李委员", "residents_committee"),
    ("张业主", "owner"),
    ("赵业主", "owner"),
    ("钱业主", "owner"),
]
ELECTED = [
    ("周建国", "chair"),
    ("吴秀英", "vice_chair"),
    ("郑小明", "member"),
    ("冯丽", "member"),
    ("陈大海", "member"),
]


def transition_objects(c: Compound, runner: User, stage: str = "assembly") -> dict[str, int]:
    """The compound's area on its way to an owners' committee, up to ``stage``: started 60
    days ago, the preparation group formed 50 days ago, the first assembly a passed vote,
    then the elected members and the filing. Returns the transition's and the vote's ids."""
    from compound_app.transition import service as transition

    area = c.area
    found = transition.start(area, "owners_committee", days_ago(60), runner)
    vote = None
    for kind in ("prepared", "assembly", "elected", "filed"):
        if kind == "prepared":
            transition.form_preparation(found, days_ago(50), PREPARATION, runner)
        elif kind == "assembly":
            vote = passed_vote(area, "committee", runner)
            transition.hold_assembly(found, vote, days_ago(1), runner)
        elif kind == "elected":
            transition.record_elected(found, clock.today(), ELECTED, runner)
        else:
            transition.record_filing(found, clock.today(), "备字〔2026〕第1号", runner)
        if kind == stage:
            break
    db.session.commit()
    return {"transition_id": found.id, "assembly_vote_id": vote.id if vote else 0}
