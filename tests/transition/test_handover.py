"""The hand-over, the last step of the transition: refused while money is open, then the
bundle frozen with both parties' signatories and the SHA-256 of its PDF, unchanged by later
payments; the property committee's members lose their access the day after its rights
end, not before."""

from __future__ import annotations

import hashlib
import io
import itertools
import re
from datetime import datetime, time, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.audit import AuditLog
from compound_app.committees.models import CommitteeMember
from compound_app.extensions import db
from compound_app.fees import cash, ledger, schedules
from compound_app.fees.models import Method
from compound_app.months import add_months, this_month
from compound_app.transition import service
from compound_app.transition.models import Transition, TransitionStep
from tests.factories import World, days_ago, fee_schedule, first_household, transition_objects

_keys = itertools.count(1)


def _key() -> str:
    return f"handover-test-key-{next(_keys):08d}"


def _here(w: World) -> str:
    return f"/transition/areas/{w.branch.area_id}"


def _hand_over(client: Any, w: World, **changes: Any) -> Any:
    data = {
        "handed_to": "新国土小区业主委员会",
        "happened_on": clock.today().isoformat(),
        "rights_end_on": days_ago(-10).isoformat(),
        "signed_old": "孙德明",
        "signed_new": "周建国",
        **changes,
    }
    return client.post(f"{_here(w)}/handover", data=data)


def _pdf_text(data: bytes) -> str:
    return "\n".join(
        bytes.fromhex(h.decode()).decode("utf-16-be") for h in re.findall(rb"<([0-9A-F]+)>", data)
    )


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _filed_with_cash_out(w: World) -> Any:
    """The branch's area filed and ready, but the representative still holds ¥30 in cash."""
    area = w.branch.area
    fee_schedule(area, start=add_months(this_month(), -1))
    schedules.catch_up(area.id)
    ledger.record_payment(
        first_household(w.branch),
        amount_fen=3000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=w.users["rep"],
        request_key=_key(),
    )
    db.session.commit()
    transition_objects(w.branch, w.users["committee"], "filed")
    return area


def _settle_cash(w: World, area: Any) -> None:
    handed = cash.hand_over(
        area, w.users["rep"], amount_fen=3000, handed_on=clock.today(), request_key=_key()
    )
    cash.confirm(handed, w.users["committee"], received_fen=None, note="", as_handed=True)
    db.session.commit()


def test_the_hand_over_waits_for_open_money_then_freezes_the_bundle(world, login_as):
    w = world
    area = _filed_with_cash_out(w)
    staff, chair = login_as(w.users["staff"]), login_as(w.users["committee"])
    page = staff.get(_here(w)).get_data(as_text=True)
    assert "周玉梅" in page and "¥30.00" in page  # the open money, named on the form
    before = (_count(TransitionStep), _count(AuditLog))
    seats = [(m.id, m.term_end) for m in db.session.scalars(select(CommitteeMember))]
    refused = _hand_over(staff, w)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "资金未结清" in text and "¥30.00" in text
    db.session.expire_all()
    assert (_count(TransitionStep), _count(AuditLog)) == before
    assert [(m.id, m.term_end) for m in db.session.scalars(select(CommitteeMember))] == seats

    # The committee confirms nothing here: the hand-over is the staff's.
    _settle_cash(w, area)
    assert _hand_over(chair, w).status_code == 403
    assert _hand_over(staff, w).status_code == 303
    transition = db.session.scalars(select(Transition)).one()
    step = service.latest(transition, "handed_over")
    assert transition.stage == "handed_over" and step is not None
    assert transition.rights_end_on == step.rights_end_on == days_ago(-10)
    assert step.bundle is not None and step.bundle["area_id"] == area.id
    assert step.bundle["on"] == clock.today().isoformat()

    # The downloads are the frozen bundle: the PDF is the one whose SHA-256 was kept.
    pdf = chair.get(f"{_here(w)}/handover.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.data).hexdigest() == step.pdf_sha256
    printed = _pdf_text(pdf.data)
    assert "孙德明" in printed and "周建国" in printed and "新国土小区业主委员会" in printed
    sheet = staff.get(f"{_here(w)}/handover.xlsx")
    assert sheet.status_code == 200
    assert "汇总" in load_workbook(io.BytesIO(sheet.data)).sheetnames
    frozen = dict(step.bundle)

    # A payment after the hand-over changes the books, not the frozen bundle.
    ledger.record_payment(
        w.branch.buildings[1].units[0].households[0],
        amount_fen=5000,
        method=Method.BANK,
        paid_on=clock.today(),
        collector=w.users["committee"],
        request_key=_key(),
    )
    db.session.commit()
    db.session.expire_all()
    step = service.latest(db.session.get(Transition, transition.id), "handed_over")
    assert step is not None and step.bundle == frozen
    again = chair.get(f"{_here(w)}/handover.pdf")
    assert hashlib.sha256(again.data).hexdigest() == step.pdf_sha256
    assert again.data == pdf.data
    book = load_workbook(io.BytesIO(staff.get(f"{_here(w)}/handover.xlsx").data))
    first = load_workbook(io.BytesIO(sheet.data))
    assert [list(s.values) for s in book] == [list(s.values) for s in first]
    fresh = service.bundles.as_record(service.bundles.build(area, clock.today()))
    assert fresh["totals"] != frozen["totals"]

    # The path is done for everyone; the files are for the committee and staff.
    resident = login_as(w.users["resident"])
    shown = resident.get(_here(w)).get_data(as_text=True)
    assert "新国土小区业主委员会" in shown and "handover.pdf" not in shown and "孙德明" not in shown
    for role in ("resident", "rep"):
        client = login_as(w.users[role])
        assert client.get(f"{_here(w)}/handover.pdf").status_code == 404, role
    assert staff.get(f"{_here(w)}/handover.docx").status_code == 404
    assert _hand_over(staff, w).status_code == 422  # once


def test_the_committee_keeps_its_access_to_the_end_of_its_last_day(world, login_as, held_clock):
    w = world
    area = _filed_with_cash_out(w)
    _settle_cash(w, area)
    last_day = days_ago(-10)
    assert _hand_over(login_as(w.users["staff"]), w).status_code == 303
    seat = db.session.scalars(
        select(CommitteeMember).where(CommitteeMember.user_id == w.users["committee"].id)
    ).one()
    assert seat.term_end == last_day
    assert db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "end_term")
    )

    def committee_access() -> bool:
        return area.id in access.load_principal(w.users["committee"]).committee_areas

    for moment, kept in (
        (datetime.combine(last_day, time(9, 0), tzinfo=clock.LOCAL_TZ), True),
        (datetime.combine(last_day, time(23, 59), tzinfo=clock.LOCAL_TZ), True),
        (datetime.combine(last_day + timedelta(days=1), time(0, 1), tzinfo=clock.LOCAL_TZ), False),
    ):
        held_clock.now = moment
        assert committee_access() is kept, moment
        chair = login_as(w.users["committee"])
        assert chair.get(_here(w)).status_code == (200 if kept else 404), moment
        assert chair.get(f"{_here(w)}/handover.pdf").status_code == (200 if kept else 404)
    # Staff keep theirs.
    assert login_as(w.users["staff"]).get(f"{_here(w)}/handover.pdf").status_code == 200


def test_the_rights_end_on_the_hand_over_day_or_later(world, login_as):
    w = world
    area = _filed_with_cash_out(w)
    _settle_cash(w, area)
    staff = login_as(w.users["staff"])
    early = _hand_over(staff, w, rights_end_on=days_ago(1).isoformat())
    assert early.status_code == 422 and _count(TransitionStep) == 4
    assert _hand_over(staff, w, signed_new="").status_code == 422
    assert _hand_over(staff, w, happened_on=days_ago(-1).isoformat()).status_code == 422
    # A seat that would begin after the rights end is named: end or remove it first.
    from compound_app.committees import service as committees

    committee = committees.committee_for_area(area.id)
    assert committee is not None
    committees.add_member(
        committee,
        name="马后来",
        mobile="13911112222",
        position="member",
        background="keen_resident",
        term_start=days_ago(-20),
        term_end=days_ago(-400),
        actor=None,
    )
    db.session.commit()
    late = _hand_over(staff, w)
    assert late.status_code == 422 and "马后来" in late.get_data(as_text=True)
    assert _count(TransitionStep) == 4
    # Removed (it has not begun), the rights may end on the hand-over day itself.
    assert _hand_over(staff, w, rights_end_on=clock.today().isoformat()).status_code == 422
    committees.remove_member(
        db.session.scalars(
            select(CommitteeMember).where(CommitteeMember.term_start > clock.today())
        ).one()
    )
    db.session.commit()
    assert _hand_over(staff, w, rights_end_on=clock.today().isoformat()).status_code == 303


def test_the_hand_over_comes_after_the_filing(world, login_as):
    w = world
    transition_objects(w.branch, w.users["committee"], "elected")
    staff = login_as(w.users["staff"])
    refused = _hand_over(staff, w)
    assert refused.status_code == 422 and "顺序不对" in refused.get_data(as_text=True)
    assert _count(TransitionStep) == 3
