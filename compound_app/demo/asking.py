"""The story's consultations and owners' votes, through the services.

新国土小区 asked its residents about the service scope and fee standard (closed: the
outcome is public), and is voting on using the maintenance fund to renew the stairwell
lights (an application of the fund, put to the owners of every stairwell): 周玉梅 has
collected paper ballots in her units, some owners voted online, and
吴振华 has not voted yet.
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import access, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fund import service as fund
from ..registry.models import Building, Compound, Household, Unit
from ..votes import consultations, service
from . import record_tellers, rights_of
from .generate import DEMO_ACCOUNTS


def _ballot_photo(rng: random.Random) -> FileStorage:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for y in range(40, 360, 24):
        draw.line((30, y, 270, y), fill=(200, 200, 200))
    draw.rectangle((200, 300, 240, 330 + rng.randrange(0, 40)), outline=(30, 30, 30), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "ballot.jpg")


def _user(mobile: str) -> User:
    return db.session.execute(select(User).where(User.mobile == mobile)).scalar_one()


def _acting(user: User) -> access.Principal:
    """What the user may do, before the demo accounts have their passwords."""
    return rights_of(user)


def ask_story(seed: int = 2026) -> None:
    rng = random.Random(seed)
    by_role = {a.mobile[-2:]: a for a in DEMO_ACCOUNTS}
    chair = _user(by_role["07"].mobile)
    rep = _user(by_role["08"].mobile)
    xgt = db.session.scalar(select(Compound).where(Compound.name == "新国土小区"))
    if xgt is None or chair is None or rep is None:
        return
    chair_p, rep_p = _acting(chair), _acting(rep)
    today = clock.today()

    # A consultation on the plan, answered and closed.
    asked = consultations.create_consultation(
        service.resolve_scope("compound", xgt.id),
        "服务范围和收费标准征求意见",
        "保洁每日一次、垃圾日产日清、楼道照明维修；每户每月20元，空置房减半。是否同意？",
        ["同意", "不同意", "再商量"],
        today,
        chair,
    )
    homes = db.session.scalars(
        select(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == xgt.id)
        .order_by(Household.id)
    ).all()
    for home in homes:
        if rng.random() < 0.7:
            option = rng.choices(["同意", "不同意", "再商量"], weights=[80, 8, 12])[0]
            comment = rng.choice(["", "", "", "希望晚上也有人值守", "垃圾桶多放两个", "路灯要修"])
            try:
                # Mostly collected door to door, under the resident's own name.
                name = home.occupants[0].name if home.occupants else "住户"
                consultations.answer(
                    asked, home.id, option, comment, chair, chair_p, resident_name=name
                )
            except RuleError:
                continue
    consultations.close_consultation(asked)

    # An application to use the maintenance fund, put to the owners of every stairwell
    # whose lights it renews: announced 16 days ago, the vote opened yesterday, its
    # tellers named, ballots coming in.
    with clock.held_at(clock.now() - timedelta(days=16)):
        application = fund.draft_application(
            xgt,
            chair,
            fund.Draft(
                title="更换楼道照明",
                budget_fen=1_800_000,
                unit_ids=[u.id for b in xgt.buildings for u in b.units],
                kind="other",
            ),
            f"demo-fund-lights-{xgt.id}",
        )
        vote = fund.put_to_vote(
            application,
            chair,
            today + timedelta(days=14),
            opens_on=today - timedelta(days=1),
            title="使用维修资金更换楼道照明",
            text="全小区楼道灯更换为声控LED灯，预计费用1.8万元，从专项维修资金列支。",
        )
    with clock.held_at(clock.now() - timedelta(days=1)):
        service.open_vote(vote, chair)
        record_tellers(vote, chair)
    rep_units = rep_p.rep_units
    own = rep_p.resident_households
    for home in homes:
        if home.unit_id in rep_units and home.id not in own and rng.random() < 0.8:
            choice = rng.choices(["yes", "no", "abstain"], weights=[85, 10, 5])[0]
            try:
                service.enter_paper(vote, home.id, choice, _ballot_photo(rng), rep, rep_p)
            except RuleError:
                continue
    db.session.commit()
