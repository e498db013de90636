"""Demo maintenance fund: in each area that charges fees, its first compound has the fund
centre's statements and one use application that went the whole way (drafted, the owners
of one building voted for it on paper, 公示 for seven days, the centre paid it out, the
work done, closed). Written through the fund, vote and works services, back in time."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import clock
from ..errors import RuleError
from ..extensions import db
from ..fees.models import FeeSchedule
from ..fund import service as fund
from ..registry.models import Compound
from ..repairs import works
from ..treasury.service import money_keepers
from ..votes import service as votes
from . import record_tellers, rights_of

WORKS = ["屋面防水维修", "外墙脱落修补", "单元楼道墙面维修", "雨水管更换"]


def _paper(rng: random.Random) -> FileStorage:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for y in range(40, 360, 24):
        draw.line((30, y, 270, y), fill=(200, 200, 200))
    draw.rectangle((200, 300, 240, 330 + rng.randrange(0, 40)), outline=(30, 30, 30), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "paper.jpg")


def _at(days_ago: int) -> datetime:
    day = clock.today() - timedelta(days=days_ago)
    return datetime.combine(day, time(10, 0), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def fund_story(seed: int = 2026) -> None:
    rng = random.Random(seed)
    schedules = db.session.scalars(select(FeeSchedule).order_by(FeeSchedule.area_id)).all()
    areas = sorted({s.area_id for s in schedules})
    for n, area_id in enumerate(areas):
        compound = db.session.scalars(
            select(Compound).where(Compound.area_id == area_id).order_by(Compound.id)
        ).first()
        keepers = money_keepers(area_id)
        if compound is None or not keepers or not compound.buildings:
            continue
        keeper = keepers[0]
        homes = [h for b in compound.buildings for u in b.units for h in u.households]
        building = sorted(compound.buildings, key=lambda b: b.sort_key)[0]
        bearing = [h for u in building.units for h in u.households]
        if not bearing:
            continue
        balance = len(homes) * rng.randrange(2600, 4200) * 100
        budget = (8_000 + 140 * len(bearing)) * 100
        # Announced 15 days before voting opens (the subdistrict's rule), open a fortnight.
        with clock.held_at(_at(95)):
            fund.record_balance(
                compound,
                keeper,
                building=None,
                balance_fen=balance,
                stated_on=clock.today() - timedelta(days=5),
                photo="",
                request_key=f"demo-fund-balance-{compound.id}-1",
            )
            app = fund.draft_application(
                compound,
                keeper,
                fund.Draft(
                    title=f"{building.name}{WORKS[n % len(WORKS)]}",
                    budget_fen=budget,
                    unit_ids=[u.id for u in building.units],
                    kind="other",
                ),
                f"demo-fund-app-{compound.id}",
            )
            opens_on = clock.today() + timedelta(days=15)
            vote = fund.put_to_vote(app, keeper, opens_on + timedelta(days=14), opens_on=opens_on)
        with clock.held_at(_at(80)):
            votes.open_vote(vote, keeper)
            record_tellers(vote, keeper)
            p = rights_of(keeper)
            for share in app.shares:
                if rng.random() < 0.9:
                    choice = rng.choices(["yes", "no", "abstain"], weights=[88, 8, 4])[0]
                    try:
                        votes.enter_paper(vote, share.household_id, choice, _paper(rng), keeper, p)
                    except RuleError:
                        continue
        with clock.held_at(_at(63)):
            votes.close_vote(vote, keeper)
            if fund.settle_vote(app, keeper) != "publicity":
                continue
        with clock.held_at(_at(50)):
            paid = budget * rng.randrange(92, 100) // 100 // 100 * 100
            fund.disburse(
                app,
                keeper,
                amount_fen=paid,
                disbursed_on=clock.today(),
                reference=f"孝维资拨〔{clock.today().year}〕{40 + n}号",
                photo="",
                request_key=f"demo-fund-paid-{compound.id}",
            )
            works.start_work(app.work, clock.today(), app.work.version)
        with clock.held_at(_at(30)):
            works.complete_work(app.work, clock.today(), 0, "", keeper, app.work.version)
            fund.close_application(app, keeper)
        with clock.held_at(_at(20)):
            # The centre's next statement: less what it paid, plus a little interest.
            fund.record_balance(
                compound,
                keeper,
                building=None,
                balance_fen=balance - paid + balance // 400,
                stated_on=clock.today() - timedelta(days=3),
                photo="",
                request_key=f"demo-fund-balance-{compound.id}-2",
            )
    db.session.commit()
