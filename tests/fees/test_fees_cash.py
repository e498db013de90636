"""Cash hand-over on the phone: the collector checks the amount before it is recorded, the
treasurer types (or ticks) what she counted, and every hand-over awaiting a count is listed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.auth.models import User
from compound_app.committees.models import Position
from compound_app.extensions import db
from compound_app.fees import proofs, schedules
from compound_app.fees.models import CashHandover, HandoverConfirmation
from compound_app.months import add_months, this_month
from tests.factories import World, fee_schedule, first_household, user


def _key(n: int) -> str:
    return f"cash-test-form-key-{n:08d}"


@pytest.fixture
def billed(world: World) -> World:
    fee_schedule(world.branch.area, start=add_months(this_month(), -2))
    schedules.catch_up(world.branch.area_id)
    db.session.commit()
    return world


def _cash_from_rep(world: World, login_as, amount: str = "50"):  # type: ignore[no-untyped-def]
    """The representative takes ``amount`` in cash from the first home; their client."""
    rep = login_as(world.users["rep"])
    data = {
        "amount": amount,
        "method": "cash",
        "paid_on": clock.today().isoformat(),
        "note": "",
        "key": _key(900),
    }
    assert (
        rep.post(f"/fees/households/{first_household(world.branch).id}/pay", data=data).status_code
        == 303
    )
    return rep


def _handovers() -> int:
    return db.session.scalar(select(func.count()).select_from(CashHandover)) or 0


def _handover(
    world: World, collector: User, amount_fen: int, days_ago: int, n: int
) -> CashHandover:
    handover = CashHandover(
        area_id=world.branch.area_id,
        collector_id=collector.id,
        amount_fen=amount_fen,
        handed_on=clock.today() - timedelta(days=days_ago),
        request_key=_key(n),
    )
    db.session.add(handover)
    db.session.flush()
    return handover


# --- handing over: two steps -------------------------------------------------------------------


def test_a_hand_over_is_recorded_only_after_the_collector_checks_the_amount(
    billed: World, login_as
) -> None:
    rep = _cash_from_rep(billed, login_as)
    url = f"/fees/areas/{billed.branch.area_id}/cash"
    today = clock.today().isoformat()

    first = rep.post(url, data={"amount": "50", "handed_on": today, "key": _key(1)})
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert _handovers() == 0  # nothing yet: the amount is shown to check
    assert "请核对" in page and "¥50.00" in page and "孙德明" in page  # to the chair: no treasurer
    assert 'name="confirmed" value="y"' in page and _key(1) in page

    second = {"amount": "50.00", "handed_on": today, "key": _key(1), "confirmed": "y"}
    assert rep.post(url, data=second).status_code == 303
    assert rep.post(url, data=second).status_code == 303  # a double tap records it once
    assert _handovers() == 1
    assert db.session.scalars(select(CashHandover)).one().amount_fen == 5000
    assert proofs.check_totals() == []


@pytest.mark.parametrize("confirmed", ["", "y"])
def test_more_than_held_is_refused_at_either_step(billed: World, login_as, confirmed: str) -> None:
    rep = _cash_from_rep(billed, login_as)
    data = {"amount": "60", "handed_on": clock.today().isoformat(), "key": _key(2)}
    if confirmed:
        data["confirmed"] = confirmed
    response = rep.post(f"/fees/areas/{billed.branch.area_id}/cash", data=data)
    assert response.status_code == 422
    assert "¥50.00" in response.get_data(as_text=True)  # what they hold
    assert _handovers() == 0


def test_a_missing_amount_is_refused(billed: World, login_as) -> None:
    rep = _cash_from_rep(billed, login_as)
    data = {"amount": "", "handed_on": clock.today().isoformat(), "key": _key(3), "confirmed": "y"}
    assert rep.post(f"/fees/areas/{billed.branch.area_id}/cash", data=data).status_code == 422
    assert _handovers() == 0


def test_nobody_else_hands_over_here(billed: World, login_as) -> None:
    data = {"amount": "5", "handed_on": clock.today().isoformat(), "key": _key(4), "confirmed": "y"}
    url = f"/fees/areas/{billed.branch.area_id}/cash"
    assert login_as(billed.users["resident"]).post(url, data=data).status_code == 403
    assert login_as(billed.users["area_committee"]).post(url, data=data).status_code == 404
    assert _handovers() == 0


# --- counting: typed, or ticked ------------------------------------------------------------------


@pytest.fixture
def handed(billed: World, login_as) -> CashHandover:
    rep = _cash_from_rep(billed, login_as)
    data = {
        "amount": "50",
        "handed_on": clock.today().isoformat(),
        "key": _key(5),
        "confirmed": "y",
    }
    assert rep.post(f"/fees/areas/{billed.branch.area_id}/cash", data=data).status_code == 303
    return db.session.scalars(select(CashHandover)).one()


def _counted(handover: CashHandover) -> HandoverConfirmation | None:
    db.session.expire_all()
    return db.session.get(CashHandover, handover.id).confirmation  # type: ignore[union-attr]


def test_the_count_field_is_empty_until_the_treasurer_types_it(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    page = chair.get(f"/fees/areas/{billed.branch.area_id}/cash").get_data(as_text=True)
    field = re.search(rf'<input id="received-{handed.id}"[^>]*>', page)
    assert field is not None and 'value=""' in field.group(0)
    box = re.search(
        rf'<input type="checkbox" name="as_handed"[^>]*id="as-handed-{handed.id}"[^>]*>', page
    )
    assert box is not None and "checked" not in box.group(0)


def test_a_count_neither_typed_nor_ticked_is_refused(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/handovers/{handed.id}/confirm"
    response = chair.post(url, data={"received": "", "note": ""})
    assert response.status_code == 422
    assert "请填写点收的现金金额，或勾选" in response.get_data(as_text=True)
    assert _counted(handed) is None


def test_ticking_that_it_matches_records_the_amount_handed_over(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/handovers/{handed.id}/confirm"
    assert chair.post(url, data={"as_handed": "y", "received": "", "note": ""}).status_code == 303
    counted = _counted(handed)
    assert counted is not None and counted.received_fen == 5000
    # The same count sent again (a double tap) is kept once, and is not an error.
    again = chair.post(
        url, data={"as_handed": "y", "received": "", "note": ""}, follow_redirects=True
    )
    assert "已确认" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HandoverConfirmation)) == 1


def test_a_tick_that_contradicts_the_typed_count_is_refused(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/handovers/{handed.id}/confirm"
    response = chair.post(url, data={"as_handed": "y", "received": "45", "note": "少了"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请重新点收" in page and 'value="45"' in page  # what she typed stays in the field
    assert _counted(handed) is None


def test_a_typed_count_that_differs_is_kept_as_a_discrepancy(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/handovers/{handed.id}/confirm"
    no_note = chair.post(url, data={"received": "45", "note": ""})
    assert no_note.status_code == 422 and "写明" in no_note.get_data(as_text=True)
    assert _counted(handed) is None
    assert (
        chair.post(url, data={"received": "45", "note": "少了五元，周玉梅补交"}).status_code == 303
    )
    counted = _counted(handed)
    assert counted is not None and counted.received_fen == 4500
    page = chair.get(f"/fees/areas/{billed.branch.area_id}/cash").get_data(as_text=True)
    assert "差额说明：少了五元" in page
    # A second, different count is refused: the first stays.
    assert chair.post(url, data={"received": "50", "note": ""}).status_code == 422
    assert _counted(handed).received_fen == 4500  # type: ignore[union-attr]


def test_a_typed_count_equal_to_the_amount_needs_no_tick(
    billed: World, handed: CashHandover, login_as
) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/handovers/{handed.id}/confirm"
    assert chair.post(url, data={"received": "¥50", "note": ""}).status_code == 303
    assert _counted(handed).received_fen == 5000  # type: ignore[union-attr]


def test_only_the_keeper_counts(billed: World, handed: CashHandover, login_as) -> None:
    url = f"/fees/handovers/{handed.id}/confirm"
    data = {"as_handed": "y", "received": "", "note": ""}
    assert login_as(billed.users["rep"]).post(url, data=data).status_code == 403
    assert login_as(billed.users["area_committee"]).post(url, data=data).status_code == 404
    assert _counted(handed) is None


# --- the list: all waiting first, the counted ones paged ------------------------------------


def test_every_waiting_hand_over_is_listed_however_many_there_are(billed: World, login_as) -> None:
    """63 hand-overs, 3 still to count, the oldest of them made first: the home page's count
    and the cash page's list agree."""
    treasurer = user("张桂英")
    from compound_app.committees import service as committees

    committees.add_member(
        committees.committee_for_area(billed.branch.area_id),
        name=treasurer.name,
        mobile=treasurer.mobile,
        position=Position.TREASURER,
        background="party_member",
        term_start=clock.today() - timedelta(days=30),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    rep, chair = billed.users["rep"], billed.users["committee"]
    waiting = [_handover(billed, rep, 1000 + n, days_ago=90 - n, n=n) for n in range(3)]
    for n in range(3, 63):
        counted = _handover(billed, rep, 2000 + n, days_ago=(n * 37) % 80, n=n)
        db.session.add(
            HandoverConfirmation(
                handover_id=counted.id,
                received_fen=counted.amount_fen,
                note="",
                confirmed_by_id=chair.id,
            )
        )
    db.session.commit()

    client = login_as(treasurer)
    home = client.get("/").get_data(as_text=True)
    assert "有3笔现金交接等您点收" in home
    page = client.get(f"/fees/areas/{billed.branch.area_id}/cash").get_data(as_text=True)
    forms = re.findall(r'action="/fees/handovers/(\d+)/confirm"', page)
    assert forms == [str(h.id) for h in waiting]  # all three, oldest first
    assert "3笔交接待点收" in page

    # The counted ones, newest hand-over date first, twenty a page.
    dates = []
    for n in (1, 2, 3):
        listed = client.get(f"/fees/areas/{billed.branch.area_id}/cash?page={n}").get_data(
            as_text=True
        )
        assert re.findall(r'action="/fees/handovers/(\d+)/confirm"', listed) == forms  # every page
        history = listed.split('id="history"', 1)[1]
        rows = re.findall(r"<td>(\d{4})年(\d{1,2})月(\d{1,2})日</td>", history)
        dates += [(int(y), int(m), int(d)) for y, m, d in rows]
        assert f"第{n}页，共3页" in listed
    assert len(dates) == 60
    assert dates == sorted(dates, reverse=True)


def test_a_collector_sees_only_their_own_hand_overs(billed: World, login_as) -> None:
    rep, chair = billed.users["rep"], billed.users["committee"]
    other = user("钱大妈", unit_rep=billed.branch.buildings[1].units[0].id)
    mine = _handover(billed, rep, 1111, days_ago=3, n=1)
    theirs = _handover(billed, other, 2222, days_ago=2, n=2)
    db.session.commit()
    page = login_as(rep).get(f"/fees/areas/{billed.branch.area_id}/cash").get_data(as_text=True)
    assert "¥11.11" in page and "¥22.22" not in page and "钱大妈" not in page
    assert "/confirm" not in page  # a collector does not count
    page = login_as(chair).get(f"/fees/areas/{billed.branch.area_id}/cash").get_data(as_text=True)
    assert (
        f"/fees/handovers/{mine.id}/confirm" in page
        and f"/fees/handovers/{theirs.id}/confirm" in page
    )


def test_the_cash_page_is_for_collectors_of_the_area(billed: World, login_as) -> None:
    url = f"/fees/areas/{billed.branch.area_id}/cash"
    assert login_as(billed.users["resident"]).get(url).status_code == 403
    assert login_as(billed.users["area_committee"]).get(url).status_code == 404
    assert login_as(billed.users["committee"]).get(url + "?page=abc").status_code == 200
    assert login_as(billed.users["committee"]).get(url + "?page=999999").status_code == 200


def test_the_keeper_has_nobody_to_hand_over_to(world: World, login_as) -> None:
    # The contiguous area's chair (no treasurer) keeps its cash: refused at the first step.
    chair = world.users["area_committee"]
    fee_schedule(world.contiguous_area, start=add_months(this_month(), -1))
    db.session.commit()
    data = {"amount": "5", "handed_on": clock.today().isoformat(), "key": _key(6)}
    response = login_as(chair).post(f"/fees/areas/{world.contiguous_area.id}/cash", data=data)
    assert response.status_code == 422
    assert _handovers() == 0
