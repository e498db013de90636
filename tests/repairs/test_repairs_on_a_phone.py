"""What the walk-through with the demo personas found on the repair pages: the step to take
is the big button and the rare ones wait folded below it, every label names its own
field, the filtered list is swapped in once, the breadcrumb leads back to the list the
user came from, a representative reports for a neighbour's home (not their own), and
what people write keeps its Chinese punctuation."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Form

from compound_app.auth.models import Role
from compound_app.auth.service import grant
from compound_app.extensions import db
from compound_app.fields import (
    LabelField,
    LinesField,
    MobileField,
    MoneyField,
    TextField,
    clean_prose,
)
from compound_app.registry import roster
from compound_app.registry.models import Relation
from compound_app.repairs.models import Channel, RepairTask, Status
from tests.factories import World, first_household, first_unit
from tests.repairs.test_repairs_pages import _fresh, _move, _post_report, _text
from tests.repairs.test_repairs_service import Cast, bring, footprint, make_cast, resident_report

PROSE = "楼宇门关不上，（老人）推不动！门锁：坏了。"


@pytest.fixture
def cast(world: World) -> Cast:
    return make_cast(world)


def _ids(html: str) -> Counter[str]:
    return Counter(re.findall(r'\sid="([^"]+)"', html))


def assert_ids_name_their_fields(html: str, where: Any = "") -> None:
    """No id twice on the page, and every label's ``for`` names an element that exists."""
    ids = _ids(html)
    repeated = sorted(i for i, n in ids.items() if n > 1)
    assert not repeated, (where, repeated)
    dangling = sorted(set(re.findall(r'<label for="([^"]+)"', html)) - set(ids))
    assert not dangling, (where, dangling)


def _live(html: str) -> str:
    """The task page's status card: where the steps are offered."""
    return html[html.index('<section id="live"') :]


def _folded(html: str) -> str:
    """The task page's folded-away steps (empty when none are offered)."""
    start = html.find('<details class="no-print other-steps"')
    return "" if start < 0 else html[start : html.index("</details>", start)]


def _summary(folded: str) -> str:
    found = re.search(r"<summary>([^<]+)</summary>", folded)
    assert found is not None, folded
    return found[1]


def _primary_buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit"(?: name="move" value="(\w+)")? class="primary"', html)


# --- the step to take is the big button; rare ones are folded away --------------------------


def test_a_new_report_offers_assigning_first_and_rejecting_folded_with_its_own_reason(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = resident_report(world)
    chair = login_as(cast["committee"])
    page = _text(chair.get(f"/repairs/{task.id}"))
    assert_ids_name_their_fields(page, "new report")
    live = _live(page)
    # 派单 is the one primary button; 退回 waits below it, folded, never primary-on-red.
    assert live.index(f'action="/repairs/{task.id}/assign"') < live.index("other-steps")
    assert _primary_buttons(live) == [""]  # the assign form's submit
    folded = _folded(live)
    # Folded under the step's own name, the one on its button.
    assert (
        f'<button type="submit" name="move" value="reject" class="danger">{_summary(folded)}<'
        in folded
    )
    # Each note has its own label: 派单's 备注 and 退回's 原因.
    assert '<label for="assign-note">备注</label>' in live and 'id="assign-note"' in live
    assert '<label for="other-note">原因</label>' in folded and 'id="other-note"' in folded

    # Rejecting without a reason: refused next to the reason, the fold open.
    before = footprint(task.id)
    refused = chair.post(
        f"/repairs/{task.id}/move", data={"move": "reject", "note": "", "version": "1"}
    )
    assert refused.status_code == 422 and footprint(task.id) == before
    folded = _folded(_text(refused))
    assert folded.startswith('<details class="no-print other-steps" open')
    assert 'id="other-note-error"' in folded and "请填写原因。" in folded
    assert_ids_name_their_fields(_text(refused), "refused reject")

    # Somebody who does not triage is refused the step, whatever the page showed.
    assert _move(login_as(cast["resident"]), task, "reject", "不修").status_code == 422
    assert _move(chair, task, "reject", "属于户内维修，请联系物业公司").status_code == 303
    assert _fresh(task).reject_reason == "属于户内维修，请联系物业公司"


def test_the_reporter_confirms_with_the_big_button_and_reopening_stays_folded_away(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = bring(resident_report(world), Status.DONE, cast)
    resident = login_as(cast["resident"])
    live = _live(_text(resident.get(f"/repairs/{task.id}")))
    assert _primary_buttons(live) == ["confirm"]
    assert 'value="send_back"' in _folded(live) and 'value="send_back"' not in live.replace(
        _folded(live), ""
    )
    assert 'name="note"' not in live.replace(_folded(live), "")  # no note box to confirm
    # The committee may not confirm for the reporter.
    assert _move(login_as(cast["committee"]), task, "confirm").status_code == 422
    assert _move(resident, task, "confirm").status_code == 303

    page = _text(resident.get(f"/repairs/{task.id}"))
    assert_ids_name_their_fields(page, "closed, to rate")
    live = _live(page)
    # Rating is now the thing to do; reopening is still there, folded and plain.
    assert _primary_buttons(live) == [""]
    assert live.index(f'action="/repairs/{task.id}/rate"') < live.index("other-steps")
    folded = _folded(live)
    assert f'<button type="submit" name="move" value="reopen">{_summary(folded)}<' in folded
    assert _move(resident, task, "reopen", "又漏了，还在滴水").status_code == 303
    assert _fresh(task).status == Status.REPORTED


STATUSES = [Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.DONE, Status.CLOSED]


@pytest.mark.parametrize("status", [*STATUSES, Status.REJECTED])
def test_every_task_page_names_each_field_once(
    world: World, cast: Cast, login_as: Any, status: Status, app: Any
) -> None:
    task = resident_report(world)
    if status == Status.REJECTED:
        _move(login_as(cast["committee"]), task, "reject", "重复报修")
    else:
        bring(task, status, cast)
    roles = ("committee", "resident", "rep", "neighbour", "fixer")
    clients = {role: login_as(cast[role]) for role in roles}
    app.config["WTF_CSRF_ENABLED"] = True  # as in production; GETs only from here
    for role in roles:
        response = clients[role].get(f"/repairs/{task.id}")
        if response.status_code == 404:
            continue
        assert response.status_code == 200, (status, role)
        html = _text(response)
        if f'action="/repairs/{task.id}/' in html:  # a form of the task's, with its token
            assert re.search(r'id="[a-z]+-csrf_token"', html), (status, role)
        assert_ids_name_their_fields(html, (status, role))
        # Never more than one big button in the status card.
        assert len(_primary_buttons(_live(_text(response)))) <= 1, (status, role)


def test_the_other_repair_pages_name_each_field_once(
    world: World, cast: Cast, login_as: Any, app: Any
) -> None:
    resident_report(world)
    compound = world.branch.id
    chair, resident, rep = (login_as(cast[r]) for r in ("committee", "resident", "rep"))
    planned = chair.post(
        f"/repairs/compounds/{compound}/works",
        data={
            "kind": "camera",
            "title": "安装监控",
            "budget": "12000",
            "funding": "government",
            "planned_on": "2026-06-20",
        },
    )
    assert planned.status_code == 303
    app.config["WTF_CSRF_ENABLED"] = True  # as in production; GETs only from here
    for client, url in (
        (chair, planned.headers["Location"]),  # a work's step, cost and photo forms
        (chair, f"/repairs/compounds/{compound}/works"),
        (chair, f"/repairs/compounds/{compound}/facilities"),
        (chair, f"/repairs/compounds/{compound}"),
        (chair, f"/repairs/compounds/{compound}/new"),
        (chair, f"/repairs/compounds/{compound}/board"),
        (resident, f"/repairs/compounds/{compound}/new"),
        (resident, "/repairs/mine"),
        (rep, f"/repairs/compounds/{compound}/new?neighbour=1"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = _text(response)
        assert 'name="csrf_token"' in html, url
        assert_ids_name_their_fields(html, url)


# --- the filtered list is swapped in once ---------------------------------------------------------


def test_filtering_the_task_list_replaces_the_table_instead_of_nesting_a_copy(
    world: World, cast: Cast, login_as: Any
) -> None:
    resident_report(world)
    chair = login_as(cast["committee"])
    url = f"/repairs/compounds/{world.branch.id}"
    page = _text(chair.get(url))
    form = re.search(r'<form class="filters[^>]*>', page)
    assert form is not None
    assert 'hx-target="#task-table"' in form[0] and 'hx-swap="outerHTML"' in form[0]
    fragment = _text(
        chair.get(f"{url}?status=open", headers={"HX-Request": "true", "HX-Target": "task-table"})
    )
    # The answer is the element itself, so the swap replaces it: one table, never two.
    assert fragment.lstrip().startswith('<section id="task-table"')
    assert fragment.count('id="task-table"') == 1 and "楼道水管漏水" in fragment
    # The list stays the committee's.
    refused = login_as(cast["resident"]).get(
        f"{url}?status=open", headers={"HX-Request": "true", "HX-Target": "task-table"}
    )
    assert refused.status_code == 403


# --- breadcrumbs lead back to the list the user came from -----------------------------------------


def _breadcrumb(html: str) -> str:
    found = re.search(r'<nav class="breadcrumbs"><a href="([^"]+)">', html)
    assert found is not None
    return found[1]


def test_breadcrumbs_lead_back_to_the_task_list_or_my_reports(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = resident_report(world)
    compound = world.branch.id
    for role, back in (
        ("committee", f"/repairs/compounds/{compound}"),
        ("staff", f"/repairs/compounds/{compound}"),
        ("resident", "/repairs/mine"),
        ("neighbour", f"/repairs/compounds/{compound}/board"),
    ):
        client = login_as(cast[role])
        assert _breadcrumb(_text(client.get(f"/repairs/{task.id}"))) == back, role
    for role, back in (
        ("committee", f"/repairs/compounds/{compound}"),
        ("resident", "/repairs/mine"),
        ("rep", "/repairs/mine"),
    ):
        page = _text(login_as(cast[role]).get(f"/repairs/compounds/{compound}/new"))
        assert _breadcrumb(page) == back, role
    assert login_as(cast["tenant"]).get(f"/repairs/{task.id}").status_code == 404


# --- a representative reports for a neighbour --------------------------------------------------


def _rep_at_home(world: World, cast: Cast) -> Any:
    """The representative owns 1号楼-1单元-301, a home of the unit she represents."""
    rep = cast["rep"]
    own = roster.add_household(first_unit(world.branch), "301", 7000, "owner_occupied")
    db.session.flush()
    roster.add_occupant(own, rep.name, rep.mobile, Relation.OWNER).user_id = rep.id
    grant(rep, Role.RESIDENT, own.id)
    db.session.commit()
    return own


def test_reporting_for_a_neighbour_starts_from_their_home_not_the_representatives_own(
    world: World, cast: Cast, login_as: Any
) -> None:
    own = _rep_at_home(world, cast)
    granny = first_household(world.branch)  # 1号楼-1单元-101
    unit = first_unit(world.branch)
    rep = login_as(cast["rep"])
    new = f"/repairs/compounds/{world.branch.id}/new"

    # The home page's 代居民报修 opens the choice of the neighbour's home for that unit.
    home = _text(rep.get("/"))
    assert f"{new}?neighbour=1&amp;unit={unit.id}" in home
    pick = _text(rep.get(f"{new}?neighbour=1&unit={unit.id}"))
    assert 'name="description"' not in pick  # first whose home, then what is wrong
    choices = re.search(r'<select id="household" name="household"[^>]*>(.*?)</select>', pick, re.S)
    assert choices is not None
    assert f'value="{granny.id}"' in choices[1] and f'value="{own.id}"' not in choices[1]
    assert "（我家）" not in pick

    # Her own home, or another unit's, is not a neighbour's: she is asked again.
    other_units = world.branch.buildings[0].units[1].households[0]
    for household in (own.id, other_units.id, 999999):
        again = _text(rep.get(f"{new}?neighbour=1&household={household}"))
        assert 'name="description"' not in again, household

    form = _text(rep.get(f"{new}?neighbour=1&household={granny.id}"))
    assert "代居民报修 · 1号楼-1单元-101" in form
    assert f'<input type="hidden" name="household_id" value="{granny.id}">' in form
    assert f'<option value="{unit.id}" selected>' in form  # placed in her stairwell
    assert form.count('name="household_id"') == 1 and "（我家）" not in form
    assert 'name="neighbour" type="hidden" value="1"' in form

    key = "assisted-form-key-000001-abc"
    sent = _post_report(
        rep,
        world,
        category="building_door",
        household_id=str(granny.id),
        unit_id=str(unit.id),
        resident_name="王奶奶",
        neighbour="1",
        description=PROSE,
        key=key,
    )
    assert sent.status_code == 303
    task = db.session.scalars(select(RepairTask)).one()
    assert (task.channel, task.household_id, task.unit_id) == (
        Channel.ASSISTED,
        granny.id,
        unit.id,
    )
    assert task.description == PROSE  # full-width punctuation as typed
    page = _text(rep.get(sent.headers["Location"]))
    assert "<h1>楼宇门 · 1号楼-1单元" in page and "小区公共区域" not in page
    assert "代王奶奶" in page and "1号楼-1单元-101" in page

    # Without ?neighbour=1, 我要报修 still starts from her own home.
    mine = _text(rep.get(new))
    assert f'<option value="{own.id}" selected>' in mine


def test_a_report_for_a_neighbour_needs_a_neighbours_home_of_the_representatives_units(
    world: World, cast: Cast, login_as: Any
) -> None:
    own = _rep_at_home(world, cast)
    rep = login_as(cast["rep"])
    other_units = world.branch.buildings[0].units[1].households[0]
    for household, message in (
        ("", "请选择您代为报修的住户。"),
        (str(own.id), "请选择您代为报修的住户。"),
        (str(other_units.id), "您不能为该住户报修"),
    ):
        response = _post_report(
            rep, world, household_id=household, resident_name="李大爷", neighbour="1"
        )
        assert response.status_code == 422, household
        assert message in _text(response), household
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0
    # Somebody who represents no unit is never offered the choice: the usual form.
    resident = login_as(cast["resident"])
    page = _text(resident.get(f"/repairs/compounds/{world.branch.id}/new?neighbour=1"))
    assert 'name="description"' in page and "（我家）" in page


# --- what people write keeps its punctuation ----------------------------------------------------


def test_notes_comments_and_reasons_keep_their_full_width_punctuation(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = resident_report(world)
    chair, resident = login_as(cast["committee"]), login_as(cast["resident"])
    assigned = chair.post(
        f"/repairs/{task.id}/assign",
        data={
            "kind": "contractor",
            "contractor": "宏达（管道）疏通",
            "category": "plumbing",
            "priority": "normal",
            "note": "明早八点：先关总阀！",
            "version": "1",
        },
    )
    assert assigned.status_code == 303
    assert _move(chair, task, "start").status_code == 303
    assert _move(chair, task, "done", "已换管段，试水正常。").status_code == 303
    assert _move(resident, task, "confirm").status_code == 303
    rated = resident.post(
        f"/repairs/{task.id}/rate", data={"rating": "5", "comment": "师傅很细心，谢谢！"}
    )
    assert rated.status_code == 303
    task = _fresh(task)
    assert task.assignee_name == "宏达（管道）疏通"
    assert [e.note for e in task.events][1:4] == [
        "明早八点：先关总阀！",
        "",
        "已换管段，试水正常。",
    ]
    assert task.rating_comment == "师傅很细心，谢谢！"
    assert "师傅很细心，谢谢！" in _text(resident.get(f"/repairs/{task.id}"))


def test_prose_is_kept_as_typed_while_numbers_and_identifiers_are_folded(app: Any) -> None:
    class Typed(Form):
        note = TextField()
        decisions = LinesField()
        room = LabelField()
        mobile = MobileField()
        amount = MoneyField()

    with app.test_request_context():
        form = Typed(
            MultiDict(
                {
                    "note": "  收到，明天（周六）上午：来修！  ",
                    "decisions": "更换楼道灯，３盏\n\n清理化粪池。",
                    "room": "１０１",
                    "mobile": "１３９ ０００００００９",
                    "amount": "１２.５",
                }
            )
        )
        assert form.validate(), form.errors
    assert form.note.data == "收到，明天（周六）上午：来修！"
    assert form.decisions.lines == ["更换楼道灯，３盏", "清理化粪池。"]
    assert (form.room.data, form.mobile.data, form.amount.data) == ("101", "13900000009", 1250)
    # Still trimmed, spaces collapsed, composed; control characters still refused.
    assert clean_prose(" a \n\t b ") == "a b" and clean_prose("e\u0301") == "\u00e9"
    with app.test_request_context():
        bad = Typed(MultiDict({"note": "坏\u200b了", "room": "101", "mobile": "", "amount": "1"}))
        assert not bad.validate() and bad.note.errors
