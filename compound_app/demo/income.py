"""Demo common-part income: each area that charges fees lets its parking spaces or its
charging piles under a contract paid quarterly (the first quarter paid, the second
overdue) and has had one government subsidy. Written through the income services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from .. import clock
from ..auth.models import User
from ..committees.models import Committee, CommitteeMember, Position
from ..extensions import db
from ..fees.models import FeeSchedule, Method
from ..income import service
from ..income.models import IncomeKind

PAYERS = {
    IncomeKind.PARKING: ("顺安停车管理有限公司", 360_000),
    IncomeKind.CHARGING: ("绿能充电科技有限公司", 150_000),
}


def income_story() -> None:
    """Before the boards are published, so each month's board shows its income."""
    today = clock.today()
    schedules = db.session.scalars(select(FeeSchedule).order_by(FeeSchedule.area_id)).all()
    firsts = list({s.area_id: s for s in reversed(schedules)}.values())
    for n, schedule in enumerate(sorted(firsts, key=lambda s: s.area_id)):
        area = schedule.area
        treasurer_id = db.session.scalar(
            select(CommitteeMember.user_id)
            .join(Committee, Committee.id == CommitteeMember.committee_id)
            .where(Committee.area_id == area.id, CommitteeMember.position == Position.TREASURER)
            .limit(1)
        )
        actor = db.session.get(User, treasurer_id) if treasurer_id else schedule.approved_by
        assert actor is not None, "every demo schedule was approved by someone"
        kind = IncomeKind.PARKING if n % 2 == 0 else IncomeKind.CHARGING
        payer, quarter = PAYERS[kind]
        dues = [today + timedelta(days=d) for d in (-150, -60, 30, 120)]
        contract = service.create_contract(
            area,
            actor,
            kind=kind,
            counterparty=payer,
            starts_on=today - timedelta(days=180),
            ends_on=today + timedelta(days=184),
            total_fen=quarter * len(dues),
            instalments=[(due, quarter) for due in dues],
            note="经业主大会同意，期限一年，按季度付款",
            request_key=f"demo-income-contract-{area.id:08d}",
        )
        service.record_receipt(
            area,
            actor,
            contract=contract,
            kind=None,
            payer="",
            amount_fen=quarter,
            method=Method.BANK,
            received_on=dues[0],
            note="第一季度",
            request_key=f"demo-income-receipt-{area.id:08d}",
        )
        service.record_receipt(
            area,
            actor,
            contract=None,
            kind=IncomeKind.SUBSIDY,
            payer="街道办事处",
            amount_fen=500_000,
            method=Method.BANK,
            received_on=today - timedelta(days=40),
            note="老旧小区自治试点补助",
            request_key=f"demo-income-subsidy-{area.id:08d}",
        )
    db.session.commit()
