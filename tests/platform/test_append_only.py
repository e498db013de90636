"""Append-only records: every ledger table, the repair timeline, ballots (and their voids)
and the audit trail.

For each, the ORM refuses to flush a change or a deletion and to run an ``update()`` or
``delete()`` statement; the database's triggers refuse raw UPDATE and DELETE.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from compound_app import access, clock
from compound_app.appendonly import guarded
from compound_app.archive.models import ArchiveChangeRefused, DocumentVersion
from compound_app.audit import AuditChangeRefused, AuditLog
from compound_app.extensions import db
from compound_app.fees import cash, expenses, ledger, reports
from compound_app.fees.models import (
    LEDGER,
    Bill,
    BillAdjustment,
    CashHandover,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    FinanceBoard,
    HandoverConfirmation,
    LedgerChangeRefused,
    Payment,
    ReceiptSeal,
    Reversal,
)
from compound_app.fund.models import (
    FundBalance,
    FundChangeRefused,
    FundDisbursement,
    FundShare,
    FundStep,
    WorkPayment,
)
from compound_app.income import service as income
from compound_app.income.models import (
    IncomeContract,
    IncomeContractEnd,
    IncomeInstalment,
    IncomeReceipt,
    IncomeReversal,
)
from compound_app.months import add_months, month_of
from compound_app.problems.models import ProblemChangeRefused, ProblemStep
from compound_app.reconcile.models import (
    ReconChangeRefused,
    ReconDecision,
    StatementImport,
    StatementLine,
    TransferClaim,
)
from compound_app.rectify.models import (
    DisputeParty,
    Inspection,
    InspectionProblem,
    InspectionResult,
    RectifyChangeRefused,
    RectifyPhoto,
    RectifyProblem,
    RectifyStep,
    VolunteerSession,
)
from compound_app.repairs import workflow as repairs
from compound_app.repairs.models import RepairEvent, TimelineChangeRefused
from compound_app.transition.models import (
    TransitionChangeRefused,
    TransitionPerson,
    TransitionStep,
)
from compound_app.treasury.models import (
    ExpensePaidFrom,
    MoneyEntry,
    Movement,
    MovementApproval,
    TreasuryChangeRefused,
)
from compound_app.votes import procedure
from compound_app.votes import service as votes
from compound_app.votes.models import Ballot, BallotChangeRefused, BallotCorrection, BallotVoid
from tests.conftest import PG_URL, Template, _config, _empty_pg, make_app
from tests.factories import (
    World,
    _jpeg,
    archive_objects,
    build_world,
    fee_objects,
    first_unit,
    fund_objects,
    income_objects,
    open_announced,
    problem,
    problem_objects,
    recon_objects,
    rectify_objects,
    transition_objects,
)

# model: (the error its area raises, an attribute to rewrite, a value to rewrite it with)
CASES: dict[type, tuple[type[Exception], str, Any]] = {
    Bill: (LedgerChangeRefused, "amount_fen", 1),
    BillAdjustment: (LedgerChangeRefused, "reason", "改写"),
    Payment: (LedgerChangeRefused, "amount_fen", 1),
    Reversal: (LedgerChangeRefused, "reason", "改写"),
    CashHandover: (LedgerChangeRefused, "amount_fen", 1),
    HandoverConfirmation: (LedgerChangeRefused, "note", "改写"),
    Expense: (LedgerChangeRefused, "payee", "改写"),
    ExpenseApproval: (LedgerChangeRefused, "book_month", date(2000, 1, 1)),
    ExpenseVoid: (LedgerChangeRefused, "reason", "改写"),
    MoneyEntry: (TreasuryChangeRefused, "amount_fen", 1),
    Movement: (TreasuryChangeRefused, "amount_fen", 1),
    MovementApproval: (TreasuryChangeRefused, "approved_by_id", 4242),
    ExpensePaidFrom: (TreasuryChangeRefused, "account_id", 4242),
    FinanceBoard: (LedgerChangeRefused, "figures", {}),
    ReceiptSeal: (LedgerChangeRefused, "file", "other.png"),
    IncomeContract: (LedgerChangeRefused, "total_fen", 1),
    IncomeInstalment: (LedgerChangeRefused, "amount_fen", 1),
    IncomeContractEnd: (LedgerChangeRefused, "reason", "改写"),
    IncomeReceipt: (LedgerChangeRefused, "amount_fen", 1),
    IncomeReversal: (LedgerChangeRefused, "reason", "改写"),
    RepairEvent: (TimelineChangeRefused, "note", "改写"),
    Ballot: (BallotChangeRefused, "choice", "no"),
    BallotVoid: (BallotChangeRefused, "reason", "改写"),
    BallotCorrection: (BallotChangeRefused, "reason", "改写"),
    AuditLog: (AuditChangeRefused, "action", "rewritten"),
    DocumentVersion: (ArchiveChangeRefused, "note", "改写"),
    StatementImport: (ReconChangeRefused, "lines_added", 99),
    StatementLine: (ReconChangeRefused, "amount_fen", 1),
    TransferClaim: (ReconChangeRefused, "amount_fen", 1),
    ReconDecision: (ReconChangeRefused, "reason", "改写"),
    FundBalance: (FundChangeRefused, "balance_fen", 1),
    FundShare: (FundChangeRefused, "share_fen", 1),
    FundStep: (FundChangeRefused, "state", "closed"),
    FundDisbursement: (FundChangeRefused, "amount_fen", 1),
    WorkPayment: (FundChangeRefused, "amount_fen", 1),
    ProblemStep: (ProblemChangeRefused, "note", "改写"),
    RectifyProblem: (RectifyChangeRefused, "problem_id", 4242),
    RectifyStep: (RectifyChangeRefused, "note", "改写"),
    RectifyPhoto: (RectifyChangeRefused, "file", "other.jpg"),
    DisputeParty: (RectifyChangeRefused, "role", "改写"),
    VolunteerSession: (RectifyChangeRefused, "minutes", 1),
    InspectionResult: (RectifyChangeRefused, "note", "改写"),
    InspectionProblem: (RectifyChangeRefused, "problem_id", 4242),
    TransitionStep: (TransitionChangeRefused, "note", "改写"),
    TransitionPerson: (TransitionChangeRefused, "name", "改写"),
}
MODELS = list(CASES)


def test_every_append_only_model_is_tested() -> None:
    assert {m: e for m, (e, _a, _v) in CASES.items()} == guarded()
    assert set(LEDGER) <= set(CASES)


@pytest.fixture(scope="module")
def records_database(database_template: Template, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with at least one row in every append-only table, built once: every test
    here is refused its change, so none of them alters it."""
    if PG_URL:
        _empty_pg(database_template.uri)
        uri = database_template.uri
    else:
        path = tmp_path_factory.mktemp("records") / "records.db"
        shutil.copyfile(database_template.uri, path)
        uri = f"sqlite:///{path}"
    instance = tmp_path_factory.mktemp("records-instance")
    app = make_app(_config(uri, instance))
    app.instance_path = str(instance)
    with app.app_context():
        _records(build_world())
        db.session.remove()
        db.engine.dispose()
    return uri


@pytest.fixture
def database_uri(records_database: str, tmp_path: Path) -> str:
    """Each test starts from the records (replaces the suite's empty database)."""
    if PG_URL:
        return records_database
    target = tmp_path / "test.db"
    shutil.copyfile(records_database.removeprefix("sqlite:///"), target)
    return f"sqlite:///{target}"


def _records(world: World) -> None:
    chair, resident = world.users["committee"], world.users["resident"]
    ids = fee_objects(world.branch, world.users["rep"], chair)
    area = world.branch.area
    payment = db.session.get(Payment, ids["payment_id"])
    bill = db.session.scalars(select(Bill).order_by(Bill.id)).first()
    expense = db.session.get(Expense, ids["expense_id"])
    ledger.adjust_bill(bill, 100, "多算了", chair)
    ledger.reverse_payment(payment, "收错户了", chair)
    handover = db.session.get(CashHandover, ids["handover_id"])
    cash.confirm(handover, chair, received_fen=1000, note="")
    # The branch's committee has one member: a second approval is written as it would be stored.
    db.session.add(
        ExpenseApproval(
            expense_id=expense.id,
            approved_by_id=world.users["admin"].id,
            book_month=month_of(clock.today()),
        )
    )
    db.session.add(ExpensePaidFrom(expense_id=expense.id, account_id=ids["account_id"]))
    db.session.add(
        MovementApproval(movement_id=ids["movement_id"], approved_by_id=world.users["admin"].id)
    )
    db.session.flush()
    expenses.void_expense(expense, "录错了", chair)
    reports.publish_board(area, add_months(month_of(clock.today()), -1), chair)
    # Common-part income: a contract ended early, a receipt reversed.
    ids = income_objects(world.branch, chair)
    contract = db.session.get(IncomeContract, ids["contract_id"])
    income.end_contract(contract, clock.today(), "停车场改建", chair)
    income.reverse_receipt(db.session.get(IncomeReceipt, ids["receipt_id"]), "录错了", chair)
    repairs.report_task(
        world.branch,
        repairs.Report(category="plumbing", description="楼道水管漏水"),
        resident,
        p=access.load_principal(resident),
    )
    vote = votes.create_vote(
        votes.resolve_scope("unit", first_unit(world.branch).id),
        "manager",
        "选聘物业",
        "是否选聘",
        clock.today(),
        chair,
    )
    open_announced(vote, chair)
    votes.cast_online(vote, resident, "yes", access.load_principal(resident))
    # A paper ballot entered for the wrong home, voided by the committee.
    paper = Ballot(
        vote_id=vote.id,
        elector_id=vote.electors[-1].id,
        choice="no",
        channel="paper",
        entered_by_id=world.users["rep"].id,  # the representative entered it; the chair voids it
        photo="wrong-home.jpg",
    )
    db.session.add(paper)
    db.session.flush()
    votes.void_paper(paper, "录错了户", chair, access.load_principal(chair))
    # The home's ballot entered again with the wrong choice, corrected by a second person.
    wrong = Ballot(
        vote_id=vote.id,
        elector_id=vote.electors[-1].id,
        choice="no",
        channel="paper",
        entered_by_id=world.users["rep"].id,
        photo="wrong-choice.jpg",
    )
    db.session.add(wrong)
    db.session.flush()
    procedure.correct_paper(wrong, "yes", "勾错了", _jpeg(), chair, access.load_principal(chair))
    archive_objects(world.branch, chair)  # a document's first version
    recon_objects(world.branch, chair)  # a statement, its lines, a decision, a claim
    fund_objects(world.branch, chair)  # the maintenance fund's records
    problem_objects(world.branch, chair)  # a problem and its timeline
    _rectify_records(world)
    transition_objects(world.trust, world.users["staff"])  # a transition's steps and people
    db.session.commit()
    for model in CASES:
        assert count(model) > 0, model.__name__


def _rectify_records(world: World) -> None:
    """A project with a photo, a dispute's party, a volunteer's hours, and a finished visit
    that filed a problem."""
    from compound_app.rectify import inspections
    from compound_app.rectify import service as rectify

    staff = world.users["staff"]
    ids = rectify_objects(world.branch, staff)
    p = access.load_principal(staff)
    spare = rectify.pick_problems([ids["rectify_problem_id"]])
    dispute = rectify.create_project(
        spare,
        rectify.Draft("dispute", "compound", "漏水纠纷", clock.today()),
        staff,
        "append-only-dispute-01",
        p,
    )
    rectify.add_party(dispute, staff, "楼上住户")
    other = problem(world.trust, "独居老人", entered_by=staff)
    helping = rectify.create_project(
        [other],
        rectify.Draft("volunteer", "compound", "关爱老人", clock.today()),
        staff,
        "append-only-volunteer-1",
        p,
    )
    volunteer = rectify.add_volunteer(helping, staff, "张桂兰")
    rectify.log_hours(helping, staff, volunteer, clock.today(), 90, "append-only-hours-00001")
    visit = db.session.get(Inspection, ids["inspection_id"])
    inspections.finish(visit, staff, "", p=p)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def refused(error: type[Exception], action: Any) -> None:
    with pytest.raises(error, match="never"):
        action()
    db.session.rollback()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_orm_refuses_to_change_or_delete(app: Flask, model: type) -> None:
    error, attribute, value = CASES[model]
    before = count(model)
    row = db.session.scalars(select(model)).first()
    setattr(row, attribute, value)
    refused(error, db.session.flush)
    db.session.delete(db.session.scalars(select(model)).first())
    refused(error, db.session.flush)
    refused(error, lambda: db.session.execute(update(model).values({attribute: value})))
    refused(error, lambda: db.session.execute(delete(model)))
    table = model.__table__  # type: ignore[attr-defined]
    refused(error, lambda: db.session.execute(table.update().values({attribute: value})))
    refused(error, lambda: db.session.execute(table.delete()))
    assert count(model) == before


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
def test_the_database_refuses_raw_sql(app: Flask, model: type, statement: str) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    before = count(model)
    sql = statement.format(t=table.name, c=table.c[CASES[model][1]].name)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(sql))
    db.session.rollback()
    assert count(model) == before


def test_migration_0008_adds_the_audit_triggers_and_its_downgrade_drops_them(app: Flask) -> None:
    from flask_migrate import downgrade, upgrade

    rewrite = text("UPDATE audit_log SET action = action")
    db.session.remove()  # no open transaction holds the table while its triggers change
    try:
        downgrade(revision="0007")
        assert db.session.execute(rewrite).rowcount == count(AuditLog)
        db.session.rollback()
    finally:
        db.session.remove()
        upgrade()
    with pytest.raises(DatabaseError, match="audit rows are append-only"):
        db.session.execute(rewrite)
    db.session.rollback()
