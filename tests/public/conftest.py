"""A demo-like world for the public pages: bills and arrears, a published month of the
finance board, a closed vote, repairs on the common parts, a notice to a stairwell; and
neighbours whose names and numbers must never reach a public page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from compound_app import access, clock
from compound_app.extensions import db
from compound_app.fees import ledger, reports, schedules
from compound_app.fees.models import FinanceBoard, Method
from compound_app.months import add_months, month_of
from compound_app.notices import service as notices
from compound_app.notices.models import Notice
from compound_app.public import service
from compound_app.public.models import LinkKind, PublicLink
from compound_app.registry import roster
from compound_app.registry.models import Relation, Unit
from compound_app.repairs import workflow
from compound_app.repairs.models import RepairTask
from compound_app.votes import service as votes
from compound_app.votes.models import Vote
from tests.factories import (
    World,
    close_counted,
    fee_schedule,
    first_household,
    first_unit,
    open_announced,
)

# A neighbour a resident named in a repair report, with her number.
GRANNY, GRANNY_MOBILE = "王奶奶", "13912345678"
# The notice the committee posts to the stairwell: nothing personal in it.
NOTICE_TITLE = "楼道清理通知"


@dataclass
class Posted:
    """The world with something on every notice board of the branch-managed compound."""

    world: World
    board: FinanceBoard  # last month, published
    unit: Unit  # its stairwell's arrears notice
    vote: Vote  # closed
    task: RepairTask  # on the common parts, its description naming the neighbour
    notice: Notice  # to the stairwell, posted by the committee

    def target(self, kind: LinkKind) -> int:
        return {
            LinkKind.BOARD: self.board.id,
            LinkKind.ARREARS: self.unit.id,
            LinkKind.VOTE_RESULT: self.vote.id,
            LinkKind.WORKS_BOARD: self.world.branch.id,
            LinkKind.NOTICE: self.notice.id,
        }[kind]

    def link(self, kind: LinkKind) -> PublicLink:
        """The poster's live link, as its first print makes it."""
        found = service.link_for(kind, self.target(kind), self.world.users["committee"])
        db.session.commit()
        return found


KINDS = [
    LinkKind.BOARD,
    LinkKind.ARREARS,
    LinkKind.VOTE_RESULT,
    LinkKind.WORKS_BOARD,
    LinkKind.NOTICE,
]


@pytest.fixture
def posted(app: Flask, world: World) -> Posted:
    w = world
    chair, rep, resident = w.users["committee"], w.users["rep"], w.users["resident"]
    branch = w.branch
    unit = first_unit(branch)
    this_month = month_of(clock.today())
    with app.test_request_context():
        fee_schedule(
            branch.area,
            start=add_months(this_month, -3),
            items=(("保洁", "per_household", 1000), ("公共照明电费", "per_m2", 5)),
        )
        schedules.catch_up(branch.area_id)
        ledger.record_payment(
            first_household(branch),
            amount_fen=1500,
            method=Method.CASH,
            paid_on=clock.today(),
            collector=rep,
            request_key="public-pages-payment-0001",
        )
        board = reports.publish_board(branch.area, add_months(this_month, -1), chair)
        # A neighbour on the roster, named (with her number) in a report on the stairwell.
        roster.add_occupant(unit.households[1], GRANNY, GRANNY_MOBILE, Relation.OWNER)
        db.session.flush()
        task = workflow.report_task(
            branch,
            workflow.Report(
                category="street_light",
                description=f"{GRANNY}家门口楼道灯不亮，电话{GRANNY_MOBILE}",
                unit_id=unit.id,
                building_id=unit.building_id,
            ),
            resident,
            p=access.load_principal(resident),
        )
        scope = votes.resolve_scope("unit", unit.id)
        vote = votes.create_vote(scope, "manager", "选聘物业", "是否选聘", clock.today(), chair)
        open_announced(vote, chair)
        votes.cast_online(vote, resident, "yes", access.load_principal(resident))
        close_counted(vote, chair)
        notice = notices.create_notice(
            notices.scope_of(unit),
            notices.Draft(
                kind="notice",
                title=NOTICE_TITLE,
                body=["本周六上午清理楼道杂物。", "", "- 请把自行车推到楼外"],
            ),
            [],
            chair,
            access.load_principal(chair),
        )
        db.session.commit()
    return Posted(w, board, unit, vote, task, notice)


def personal_data() -> list[str]:
    """Every name and mobile on the roster and of every account."""
    from sqlalchemy import select

    from compound_app.auth.models import User
    from compound_app.registry.models import Occupant

    found: set[str] = set()
    for name, mobile in db.session.execute(select(Occupant.name, Occupant.mobile)):
        found |= {name, mobile or ""}
    for name, mobile in db.session.execute(select(User.name, User.mobile)):
        found |= {name, mobile}
    return sorted(s for s in found if s)


def anonymous_get(app: Flask, url: str, ip: str = "198.51.100.7", **kwargs: Any) -> Any:
    return app.test_client().get(url, environ_base={"REMOTE_ADDR": ip}, **kwargs)
