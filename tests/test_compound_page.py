"""The compound page for each management model, as each role sees it."""

from __future__ import annotations

from .factories import committee, compound, first_unit, user
from .helpers import count_statements


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
