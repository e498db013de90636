"""The story's messages: something waiting in every demo persona's inbox, and the dev SMS
box holding the SMS the worker delivered.

Most messages come from the story itself (its repairs, bills, hand-overs and votes went
through the services, whose hooks wrote them); this adds a few a real subdistrict would
have sent, chooses SMS for some people, and runs the delivery once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from .. import clock
from ..auth.models import User
from ..extensions import db
from ..messages import delivery, service
from ..messages.models import Kind, Message, Outbox
from ..messages.providers import DevBackend
from .generate import DEMO_ACCOUNTS

# Per demo mobile: (kind, title, url) beyond what the story's services wrote.
EXTRA = {
    "13900000001": [(Kind.DUTY, "本月各社区试点进度已汇总，请查看监督页", "/oversight/")],
    "13900000002": [(Kind.DUTY, "绿城二片区有新的维修上报待处理", "/registry/compounds")],
    "13900000003": [(Kind.DUTY, "城建小区托管事项：本周请核对住户名册", "/registry/compounds")],
    "13900000004": [(Kind.DUTY, "新国土小区业主表决进行中，请关注投票进度", "/votes/")],
    "13900000005": [(Kind.DUTY, "下周二召开物管会例会，请准备收支情况", "/")],
    "13900000006": [(Kind.DUTY, "请核对本月现金交接并公示收支", "/")],
    "13900000007": [(Kind.DUTY, "1号楼楼道灯表决即将截止，请提醒未投票业主", "/votes/")],
    "13900000008": [(Kind.DUTY, "1单元还有住户未交本期物业费，请上门提醒", "/")],
    "13900000009": [
        (Kind.URGENT, "明天8:00—12:00小区停水检修，请提前储水", "/"),
        (Kind.BILL, "本期物业费账单已出，请向单元代表或物管会缴纳", "/"),
    ],
    "13900000010": [(Kind.URGENT, "明天8:00—12:00小区停水检修，请提前储水", "/")],
}
# Who chose SMS for more than urgent notices: the owner for his repairs and bills.
SMS_CHOICES = {"13900000009": ["repair", "bill", "vote", "urgent"]}


def messages_story() -> int:
    """Write the extra messages and deliver the outbox once; returns the SMS delivered."""
    mobiles = [a.mobile for a in DEMO_ACCOUNTS]
    users = {u.mobile: u for u in db.session.scalars(select(User).where(User.mobile.in_(mobiles)))}
    for mobile, kinds in SMS_CHOICES.items():
        if mobile in users:
            service.set_sms_kinds(users[mobile], kinds)
    for mobile, lines in EXTRA.items():
        user = users.get(mobile)
        if user is None:
            continue
        for kind, title, url in lines:
            service.notify([user], kind, title, url, dedupe_key=f"demo:{mobile}:{title[:40]}")
    _as_if_chosen_earlier(users)
    # What is older than a week has been read; the rest waits.
    db.session.execute(
        update(Message)
        .where(Message.created_at < clock.now() - timedelta(days=7))
        .values(read_at=clock.now())
    )
    db.session.commit()
    return deliver_all()


def _as_if_chosen_earlier(users: dict[str, User]) -> None:
    """The SMS the latest messages brought to those who chose SMS for their kinds."""
    for mobile, kinds in SMS_CHOICES.items():
        user = users.get(mobile)
        if user is None:
            continue
        latest = db.session.scalars(
            select(Message)
            .where(Message.user_id == user.id, Message.kind.in_(kinds))
            .order_by(Message.id.desc())
            .limit(4)
        )
        for message in latest:
            if not db.session.scalar(select(Outbox.id).where(Outbox.message_id == message.id)):
                service.enqueue_sms(
                    user.mobile, message.kind, {"title": message.title[:60]}, message=message
                )


def deliver_all() -> int:
    """Run the dev backend until the outbox is empty, quiet hours or not (the demo's SMS
    all happened in the past)."""
    from flask import current_app

    config = current_app.config
    quiet = config["SMS_QUIET_START"], config["SMS_QUIET_END"]
    config["SMS_QUIET_START"] = config["SMS_QUIET_END"] = 0
    sent = 0
    try:
        while True:
            report = delivery.run_batch("demo", DevBackend())
            sent += report.sent
            if not report.claimed:
                break
    finally:
        config["SMS_QUIET_START"], config["SMS_QUIET_END"] = quiet
    return sent
