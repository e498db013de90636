"""The fee pages read on a phone: the right words, months as people write them, long sections
folded behind their totals, and every expense awaiting approval in sight."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import gettext

from compound_app import clock
from compound_app.committees import service as committees
from compound_app.committees.models import Position
from compound_app.extensions import db
from compound_app.fees import schedules
from compound_app.fees.models import Expense, ExpenseKind
from compound_app.fees.reports import months_text
from compound_app.months import add_months, month_of, this_month
from tests.factories import World, fee_schedule, first_household, user


@pytest.fixture
def billed(world: World) -> World:
    """Three monthly bills per home (two months ago to this month)."""
    fee_schedule(world.branch.area, start=add_months(this_month(), -2))
    schedules.catch_up(world.branch.area_id)
    db.session.commit()
    return world


def _month(d) -> str:  # type: ignore[no-untyped-def]
    return f"{d.year}年{d.month}月"


def _pay(client, household, amount: str, key: str) -> str:  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "method": "cash",
        "paid_on": clock.today().isoformat(),
        "note": "",
        "key": key,
    }
    response = client.post(f"/fees/households/{household.id}/pay", data=data)
    assert response.status_code == 303
    return str(response.headers["Location"])


def _room(app) -> str:  # type: ignore[no-untyped-def]
    """What the catalogue calls a household's room (房号), never the navigation's 首页."""
    with app.test_request_context():
        label = str(gettext("Room"))
    assert label not in ("", "Room", "首页")
    return label


def _facts(page: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]*)</dt><dd>(.*?)</dd>", page))


# --- words ----------------------------------------------------------------------------------


def test_the_receipt_names_the_room_and_writes_its_months_in_chinese(
    app, billed: World, login_as
) -> None:
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    receipt = rep.get(_pay(rep, home, "30", "phone-pages-key-000001")).get_data(as_text=True)
    facts = _facts(receipt)
    assert "首页" not in facts and facts[_room(app)].endswith(home.room)
    first, last = add_months(this_month(), -2), this_month()
    assert facts["缴费内容"] == f"{_month(first)}–{_month(last)}"
    assert not re.search(r"\d{4}-\d{2}", facts["缴费内容"])
    statement = rep.get(f"/fees/households/{home.id}").get_data(as_text=True)
    assert f"{_month(first)}–{_month(last)}" in statement
    assert not re.search(r"<td[^>]*>\d{4}-\d{2}", statement)


def test_months_text_keeps_what_it_cannot_read(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert months_text("2026-11") == "2026年11月"
        assert months_text("2026-11–2027-01") == "2026年11月–2027年1月"
        assert months_text("") == ""
        assert months_text("预缴") == "预缴"


def test_household_columns_say_room_not_home_page(app, billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    rep = login_as(billed.users["rep"])
    _pay(rep, first_household(billed.branch), "5", "phone-pages-key-000002")
    area_id = billed.branch.area_id
    for url in (f"/fees/areas/{area_id}/arrears", f"/fees/areas/{area_id}"):
        page = chair.get(url).get_data(as_text=True)
        main = page[page.index("<main") :]
        assert f"<th>{_room(app)}</th>" in main, url
        assert "首页" not in main, url
    # The navigation keeps its 首页.
    assert re.search(r"<a href=\"/\"[^>]*>首页</a>", page)


def test_the_bill_to_correct_is_named_by_its_month_in_chinese(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    page = chair.get(f"/fees/households/{first_household(billed.branch).id}").get_data(as_text=True)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
    assert options and all(re.match(r"\d{4}年\d{1,2}月 ", o) for o in options), options


def test_issuing_bills_says_the_month_in_chinese(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    response = chair.post(
        f"/fees/areas/{billed.branch.area_id}/bills",
        data={"month": f"{this_month():%Y-%m}"},
        follow_redirects=True,
    )
    assert f"{_month(this_month())}的账单已经开具过了。" in response.get_data(as_text=True)


def test_publishing_a_month_twice_names_it_in_chinese(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    url = f"/fees/areas/{billed.branch.area_id}/board"
    first = add_months(this_month(), -2)
    assert chair.post(url, data={"month": f"{first:%Y-%m}"}).status_code == 303
    again = chair.post(url, data={"month": f"{first:%Y-%m}"}, follow_redirects=True)
    assert f"{_month(first)}已经公示，请公示之后的月份。" in again.get_data(as_text=True)


# --- folds: the totals first, the rows on a tap ---------------------------------------------------


def test_the_board_folds_its_tables_and_the_poster_shows_them_all(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    _pay(rep, first_household(billed.branch), "5", "phone-pages-key-000003")
    chair = login_as(billed.users["committee"])
    area_id = billed.branch.area_id
    month = f"{this_month():%Y-%m}"
    board = chair.get(f"/fees/areas/{area_id}/board?month={month}").get_data(as_text=True)
    main = board[board.index("<main") :]
    # The totals come before any folded section; each section says its total when closed.
    assert main.index('class="stats money"') < main.index("<details")
    for section in ("income", "spending", "owing"):
        opening = re.search(rf'<details class="card fold" id="{section}"( open)?>', main)
        assert opening is not None and opening.group(1) is None, section
    assert re.search(
        r'id="owing">\s*<summary><h2>欠费房屋</h2><span class="fold-summary">\d+户，合计¥', main
    )
    rooms = re.findall(r"<li>([^<]+) <b>¥", main)
    assert rooms
    # The poster (and so its print and its public page) has every room, and nothing folded.
    poster = chair.get(f"/fees/areas/{area_id}/board/poster?month={month}").get_data(as_text=True)
    assert "<details" not in poster[poster.index("<main") :]
    assert re.findall(r"<li>([^<]+) <b>¥", poster) == rooms


def test_the_area_and_arrears_pages_fold_their_long_tables(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    area_id = billed.branch.area_id
    area = chair.get(f"/fees/areas/{area_id}").get_data(as_text=True)
    for section in ("by-month", "cash-held", "issue-bills", "expense-approval"):
        assert f'id="{section}">' in area, section
    arrears = chair.get(f"/fees/areas/{area_id}/arrears").get_data(as_text=True)
    main = arrears[arrears.index("<main") :]
    assert main.index("欠费合计") < main.index("<details")
    for section in ("by-month", "by-unit", "by-household"):
        assert re.search(rf'<details class="card fold" id="{section}">', main), section
    households = sum(len(u.households) for b in billed.branch.buildings for u in b.units)
    assert f"{households}户，合计¥" in main
    # A home in the list is a button to its page, not a bare link.
    assert re.search(r'<a class="button small" href="/fees/households/\d+">', main)


# --- expenses: every one awaiting approval, the others paged -----------------------------------


def _expense(world: World, n: int, *, needs_approval: bool, days_ago: int) -> Expense:
    expense = Expense(
        area_id=world.branch.area_id,
        kind=ExpenseKind.SERVICE,
        category="保洁",
        amount_fen=10_000 + n,
        payee=f"收款人{n}",
        spent_on=clock.today() - timedelta(days=days_ago),
        book_month=month_of(clock.today() - timedelta(days=days_ago)),
        needs_approval=needs_approval,
        recorded_by_id=world.users["committee"].id,
        request_key=f"phone-pages-expense-{n:06d}",
    )
    db.session.add(expense)
    return expense


def test_every_expense_awaiting_approval_is_listed_however_many_there_are(
    billed: World, login_as
) -> None:
    second = user("钱桂芳")
    committees.add_member(
        committees.committee_for_area(billed.branch.area_id),
        name=second.name,
        mobile=second.mobile,
        position=Position.TREASURER,
        background="party_member",
        term_start=clock.today() - timedelta(days=30),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    oldest = _expense(billed, 0, needs_approval=True, days_ago=100)
    for n in range(1, 121):
        _expense(billed, n, needs_approval=False, days_ago=n % 90)
    db.session.commit()
    page = login_as(second).get(f"/fees/areas/{billed.branch.area_id}/expenses")
    text = page.get_data(as_text=True)
    awaiting = text[text.index('id="awaiting"') : text.index('id="record"')]
    assert "收款人0" in awaiting
    assert f"/fees/expenses/{oldest.id}/approve" in awaiting
    history = text[text.index('id="history"') :]
    assert "共120笔" in history and "第1页，共6页" in history
    assert len(re.findall(r"<tr>\s*<td>\d{4}年", history)) == 20
    last = login_as(second).get(f"/fees/areas/{billed.branch.area_id}/expenses?page=6")
    assert (
        len(re.findall(r"<tr>\s*<td>\d{4}年", last.get_data(as_text=True).split('id="history"')[1]))
        == 20
    )
