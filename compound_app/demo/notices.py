"""The story's notices, through the services.

城建小区 (trusteeship): the community's 赵志刚 posted an urgent water cut to 2号楼 last
night; the tenant 郑晓燕 opened it but has still to press 已知悉, and the stairwell's
representative has knocked on some doors and phoned others. 新国土小区 (party branch):
the committee's 公示 of where the charging posts go, with residents' comments, and the
pinned duty hours. 绿城一片区 (contiguous): a Double Ninth tea party for the elderly, and
a power cut notice withdrawn when the works were moved.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from .. import clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..notices import service
from ..notices.models import Notice, TellHow
from ..registry import roster
from ..registry.models import Building, Compound, ManagementArea
from . import rights_of
from .generate import DEMO_ACCOUNTS


def _user(suffix: str) -> User | None:
    mobile = next(a.mobile for a in DEMO_ACCOUNTS if a.mobile.endswith(suffix))
    return db.session.scalar(select(User).where(User.mobile == mobile))


def _at(moment: datetime) -> Any:
    return clock.held_at(moment)


def _post(scope_obj: object, who: User, draft: service.Draft, when: datetime) -> Notice:
    with clock.held_at(when):
        return service.create_notice(service.scope_of(scope_obj), draft, [], who, rights_of(who))


def tell_story(seed: int = 2026) -> None:
    rng = random.Random(seed)
    now = clock.now()
    today = clock.today()
    evening = clock.start_of_day(today) - timedelta(hours=6)  # yesterday, 18:00

    # 城建小区: an urgent water cut for 2号楼, told door to door.
    staff, tenant = _user("03"), _user("10")
    cj = db.session.scalar(select(Compound).where(Compound.name == "城建小区"))
    building = (
        db.session.scalar(
            select(Building).where(Building.compound_id == cj.id, Building.name == "2号楼")
        )
        if cj
        else None
    )
    if staff is not None and building is not None and building.units:
        unit = building.units[0]
        rep_grant = roster.representative(unit)
        rep = rep_grant.user if rep_grant else None
        if rep is None:
            keeper = next(
                (o for h in unit.households for o in h.occupants if o.mobile and not o.user_id),
                None,
            )
            if keeper is not None:
                rep = roster.assign_representative(unit, keeper.mobile or "", keeper.name, staff)
                db.session.flush()
        water = _post(
            building,
            staff,
            service.Draft(
                kind="urgent",
                title="2号楼明日停水",
                body=[
                    "因供水管道抢修，明天8点至14点2号楼停水。",
                    "",
                    "- 请提前储水",
                    "- 关好水龙头，来水时防止跑水",
                    "",
                    "给大家带来不便，敬请谅解。",
                ],
                expires_on=today + timedelta(days=1),
                pinned=True,
                ask_ack=True,
            ),
            evening,
        )
        if tenant is not None:
            tenant_p = rights_of(tenant)
            with _at(evening + timedelta(minutes=40)):
                # She has read it but not yet pressed 已知悉: her home page asks her to.
                service.record_open(water, service.unopened_homes(water, tenant_p), tenant)
        if rep is not None:
            rep_p = rights_of(rep)
            homes = [d.household.id for d in service.doors(water, set(rep_p.rep_units))]
            for n, home_id in enumerate(homes[: len(homes) * 3 // 5]):
                how = TellHow.IN_PERSON if rng.random() < 0.7 else TellHow.PHONE
                with _at(evening + timedelta(minutes=60 + 7 * n)):
                    try:
                        service.tell(water, home_id, how.value, rep, rep_p)
                    except RuleError:
                        continue

    # 新国土小区: the committee's 公示 with comments, and the pinned duty hours.
    chair, rep_x, owner = _user("07"), _user("08"), _user("09")
    xgt = db.session.scalar(select(Compound).where(Compound.name == "新国土小区"))
    if chair is not None and xgt is not None:
        _post(
            xgt,
            chair,
            service.Draft(
                kind="notice",
                title="物管会值班时间",
                body=[
                    "物管会每天8点到18点在小区南门值班室值班。",
                    "报修、交费、反映问题都可以来值班室，也可以找本单元的单元代表。",
                ],
                pinned=True,
            ),
            now - timedelta(days=20),
        )
        charging = _post(
            xgt,
            chair,
            service.Draft(
                kind="publicity",
                title="电动车充电桩安装位置公示",
                body=[
                    "为解决电动车楼道充电的安全隐患，物管会拟在以下位置安装充电桩：",
                    "",
                    "1. 1号楼东侧空地，10个充电口",
                    "2. 3号楼北侧车棚，12个充电口",
                    "",
                    "充电每度电0.6元，由使用者自付。对位置有意见的，请在公示期内提出。",
                ],
                comments_until=today + timedelta(days=5),
            ),
            now - timedelta(days=2),
        )
        for who, text, hours in (
            (owner, "1号楼东侧离窗户太近，晚上充电有噪音，建议往东再挪几米。", 5),
            (rep_x, "车棚那边要装摄像头，防止电瓶被偷。", 20),
        ):
            if who is not None:
                with _at(now - timedelta(days=2) + timedelta(hours=hours)):
                    try:
                        service.comment(charging, text, who, rights_of(who))
                    except RuleError:
                        continue

    # 绿城一片区: an event for the whole area, and a withdrawn power cut.
    area_chair = _user("05")
    area = db.session.scalar(select(ManagementArea).where(ManagementArea.name == "绿城一片区"))
    if area_chair is not None and area is not None:
        _post(
            area,
            area_chair,
            service.Draft(
                kind="event",
                title="重阳节老人茶话会",
                body=[
                    "重阳节上午9点半，在社区活动室举办老人茶话会，有义诊和理发。",
                    "",
                    "- 70岁以上老人请带身份证登记",
                    "- 行动不便的，单元代表可以陪同",
                ],
                expires_on=today + timedelta(days=10),
            ),
            now - timedelta(days=1),
        )
        cut = _post(
            area,
            area_chair,
            service.Draft(
                kind="notice",
                title="周六停电检修",
                body=["供电公司周六检修线路，全片区8点至12点停电。"],
            ),
            now - timedelta(days=3),
        )
        with _at(now - timedelta(days=2)):
            service.withdraw(cut, "供电公司通知检修改期，另行通知", area_chair)
    db.session.commit()


def bench_notices() -> int:
    """Every compound of a benchmark dataset gets the notices a busy compound has: an urgent
    one to its first building, half of whose first stairwell has been told by phone, and a
    通知 and a 公示 for the whole compound. Returns how many were posted; does not commit."""
    from ..auth.models import Role, RoleGrant

    now = clock.now()
    staff = {
        grant.community_id: grant.user
        for grant in db.session.scalars(
            select(RoleGrant).where(RoleGrant.role == Role.COMMUNITY_STAFF).order_by(RoleGrant.id)
        )
    }
    posted = 0
    for compound in db.session.scalars(select(Compound).order_by(Compound.id)):
        who = staff.get(compound.community_id)
        if who is None or not compound.buildings:
            continue
        rights = rights_of(who)
        building = compound.buildings[0]
        urgent = _post(
            building,
            who,
            service.Draft(
                kind="urgent",
                title=f"{building.name}明日停电检修",
                body=["明天9点至11点检修线路，请提前做好准备。", "", "- 电梯暂停", "- 请关好电器"],
                pinned=True,
            ),
            now - timedelta(hours=20),
        )
        for compound_wide in (
            service.Draft(kind="notice", title="物业费收缴公告", body=["请按时缴费。"]),
            service.Draft(
                kind="publicity",
                title="公共收益使用方案公示",
                body=["方案见附件说明。", "", "1. 路灯维修", "2. 绿化补种"],
                comments_until=clock.today() + timedelta(days=7),
            ),
        ):
            _post(compound, who, compound_wide, now - timedelta(days=3))
        for household in building.units[0].households[::2] if building.units else []:
            with clock.held_at(now - timedelta(hours=2)):
                service.tell(urgent, household.id, TellHow.PHONE.value, who, rights)
        posted += 3
    return posted
