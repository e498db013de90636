"""The compound page for each management model, as each role sees it."""

from __future__ import annotations

import itertools
import re

from compound_app.committees.models import Position
from tests.factories import committee, compound, first_unit, user
from tests.helpers import count_statements


def page(client, compound) -> str:
    response = client.get(f"/registry/compounds/{compound.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_branch_managed_shows_branch_and_representative_coverage(world, login_as):
    html = page(login_as(world.users["staff"]), world.branch)
    assert "新国土小区党支部" in html
    assert "孙德明" in html
    # 2 buildings × 2 units, one representative appointed.
    assert "1 / 4" in html
    assert (
        "4 个单元中 1 个有单元代表" in html
        or "Every unit should have a representative" in html
        or "每个单元" in html
    )


def test_contiguous_compound_lists_its_siblings(world, login_as):
    html = page(login_as(world.users["area_committee"]), world.contiguous[0])
    assert "绿城一片区" in html
    assert "绿城2号院" in html and "绿城3号院" in html
    assert "刘国庆" in html


def test_trusteeship_shows_staff_as_managers(world, login_as):
    html = page(login_as(world.users["staff"]), world.trust)
    assert "城建小区党小组" in html
    assert "李秀兰" in html


def test_resident_sees_structure_but_not_other_households(world, login_as):
    html = page(login_as(world.users["resident"]), world.branch)
    other = first_unit(world.branch).households[1]
    assert other.occupants[0].name not in html
    assert other.occupants[0].mobile not in html
    assert "孙德明" in html  # committee names are public to residents


def test_compound_page_query_count_does_not_grow_with_the_compound(world, login_as):
    from compound_app.committees.models import Position

    small = compound(world.community, "小院", buildings=1, units=1, households=1)
    big = compound(world.community, "大院", buildings=3, units=3, households=4)
    for c in (small, big):
        committee(c.area, (user("委员" + c.name), Position.CHAIR))
        user("代表" + c.name, unit_rep=first_unit(c).id)
    client = login_as(world.users["staff"])
    counts = []
    for c in (small, big):
        with count_statements() as statements:
            page(client, c)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_large_roster_opens_building_by_building(world, login_as):
    big = compound(world.community, "大院", buildings=5, units=2, households=8)  # 80 rows
    committee(big.area, (user("主任"), Position.CHAIR))
    client = login_as(world.users["staff"])
    html = page(client, big)
    building = big.buildings[2]
    body_url = f"/registry/buildings/{building.id}"
    assert f'hx-get="{body_url}"' in html
    assert 'id="household-' not in html  # no rows until a building is opened
    fragment = client.get(
        body_url, headers={"HX-Request": "true", "HX-Target": f"building-{building.id}-body"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith(
        f'<div class="building-body" id="building-{building.id}-body">'
    )
    assert fragment.count('<tr id="household-') == 16
    full = client.get(body_url).get_data(as_text=True)
    assert "<html" in full and full.count('<tr id="household-') == 16


def test_a_representative_sees_their_own_building_open(world, login_as):
    big = compound(world.community, "大院", buildings=5, units=2, households=8)
    unit = big.buildings[3].units[1]
    rep = user("代表", unit_rep=unit.id)
    html = page(login_as(rep), big)
    assert f'<details class="building" id="building-{big.buildings[3].id}" open>' in html
    assert html.count('<tr id="household-') == 8  # only the rep's stairwell
    for other in big.buildings[0].units[0].households:
        assert other.occupants[0].mobile not in html


def test_a_small_roster_is_shown_whole(world, login_as):
    html = page(login_as(world.users["staff"]), world.branch)
    assert html.count('<tr id="household-') == 8


# --- reading the page: headings, what opens, tables, forms drawn more than once ------------


def test_headings_go_down_one_level_at_a_time(world, login_as):
    client = login_as(world.users["staff"])
    html = page(client, world.branch)
    assert "<h4" not in html and html.count('<section class="unit"') == 4
    assert re.search(r'<section class="unit" id="unit-\d+">\s*<h3>', html)
    building = client.get(f"/registry/buildings/{world.branch.buildings[0].id}")
    for html in (html, building.get_data(as_text=True)):
        levels = [int(n) for n in re.findall(r"<h([1-6])\b", html)]
        assert levels[0] == 1
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels


def test_a_closed_building_says_it_opens(world, login_as):
    big = compound(world.community, "大院", buildings=5, units=2, households=8)
    committee(big.area, (user("主任"), Position.CHAIR))
    html = page(login_as(world.users["staff"]), big)
    summaries = re.findall(r"<summary>(.*?)</summary>", html, re.S)
    assert len(summaries) == 5
    for summary in summaries:
        assert '<span class="fold-open">展开</span>' in summary
        assert '<span class="fold-close">收起</span>' in summary


def test_roster_tables_name_every_column(world, login_as):
    html = page(login_as(world.users["staff"]), world.branch)
    assert not re.search(r"<th[^>]*>\s*</th>", html)
    assert '<span class="visually-hidden">操作</span>' in html


def test_inline_forms_open_side_by_side_keep_their_ids_apart(world, login_as):
    client = login_as(world.users["committee"])
    units = [b.units[0] for b in world.branch.buildings]
    household = first_unit(world.branch).households[0]
    fragments = [
        client.get(
            f"/registry/units/{u.id}/households/new",
            headers={"HX-Request": "true", "HX-Target": f"add-household-{u.id}"},
        ).get_data(as_text=True)
        for u in units
    ]
    fragments.append(
        client.get(
            f"/registry/households/{household.id}/edit",
            headers={"HX-Request": "true", "HX-Target": f"household-{household.id}"},
        ).get_data(as_text=True)
    )
    ids = [i for f in fragments for i in re.findall(r'\bid="([^"]+)"', f)]
    assert len(ids) == len(set(ids)), sorted(ids)
    assert f'<label for="u{units[0].id}-room">' in fragments[0]
    assert f'id="u{units[0].id}-room"' in fragments[0]
    assert f'<label for="h{household.id}-room">' in fragments[-1]
    # The whole page, with the chair's forms and the header's switch: no id twice.
    html = page(client, world.branch)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
