"""Registry pages and forms: lists, the roster, models and areas — and every bad input."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from compound_app.audit import AuditLog
from compound_app.auth.models import Role, RoleGrant, User
from compound_app.extensions import db
from compound_app.registry.models import (
    Building,
    Compound,
    Household,
    ManagementModel,
    ModelChange,
    Occupant,
    Unit,
)
from tests.factories import compound, first_household, first_unit

HX = {"HX-Request": "true"}


def count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- lists -------------------------------------------------------------------------------------


def test_compound_list_filters_by_name_model_and_pilot(world, login_as):
    from compound_app.oversight.pilots import select_pilot

    select_pilot(world.unmanaged, "party_branch", date(2026, 4, 15))
    db.session.commit()
    client = login_as(world.users["staff"])
    html = client.get("/registry/compounds?q=绿城").get_data(as_text=True)
    assert "绿城1号院" in html and "新国土小区" not in html
    html = client.get("/registry/compounds?model=trusteeship").get_data(as_text=True)
    assert "城建小区" in html and "新国土小区" not in html
    html = client.get("/registry/compounds?pilot=pilot").get_data(as_text=True)
    assert "粮食局宿舍" in html and "城建小区" not in html
    html = client.get("/registry/compounds?pilot=not_pilot").get_data(as_text=True)
    assert "粮食局宿舍" not in html and "城建小区" in html
    # Staff of community A never see community B's compounds.
    assert "供电家属院" not in client.get("/registry/compounds").get_data(as_text=True)


def test_compound_list_answers_htmx_with_the_table_only(world, login_as):
    client = login_as(world.users["admin"])
    full = client.get("/registry/compounds?q=城建").get_data(as_text=True)
    assert "<html" in full and 'id="compound-table"' in full
    response = client.get(
        "/registry/compounds?q=城建", headers={**HX, "HX-Target": "compound-table"}
    )
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="compound-table">')
    assert "城建小区" in fragment and "供电家属院" not in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_bad_filter_values_are_ignored_not_errors(world, login_as):
    client = login_as(world.users["admin"])
    for query in (
        "model=bogus",
        "pilot=x'; DROP TABLE compound;--",
        "page=-3",
        "page=abc",
        "community=x",
        "q=" + "%" * 60,
    ):
        assert client.get(f"/registry/compounds?{query}").status_code == 200, query


def test_communities_list_is_for_staff_only(world, login_as):
    assert "绿城社区" in login_as(world.users["admin"]).get("/registry/communities").get_data(
        as_text=True
    )
    staff_html = login_as(world.users["staff"]).get("/registry/communities").get_data(as_text=True)
    assert "绿城社区" in staff_html and "府东社区" not in staff_html
    assert login_as(world.users["resident"]).get("/registry/communities").status_code == 404


# --- adding to the roster ---------------------------------------------------------------------


def test_committee_member_adds_a_household_inline(world, login_as):
    unit = first_unit(world.branch)
    client = login_as(world.users["committee"])
    url = f"/registry/units/{unit.id}/households/new"
    form = client.get(url, headers={**HX, "HX-Target": f"add-household-{unit.id}"})
    assert "<html" not in form.get_data(as_text=True) and 'name="room"' in form.get_data(
        as_text=True
    )
    before = count(Household)
    response = client.post(
        url,
        data={"room": "601", "area": "８５.５", "occupancy": "rented"},
        headers={**HX, "HX-Target": f"add-household-{unit.id}"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<template><tbody hx-swap-oob="beforeend:#unit-{unit.id}-rows">' in html  # new row
    # The confirmation stands next to the form the chair is typing in (the swapped
    # fragment), not at the top of a long page, whose message area is emptied.
    form_part = html[: html.index("<template>")]
    assert form_part.startswith(f'<div id="add-household-{unit.id}"')
    status = re.search(r'<p class="[^"]*" role="status">([^<]*)</p>', form_part)
    assert status and "601" in status.group(1)
    assert re.search(r'<div id="flash"[^>]*hx-swap-oob="true"></div>', html)
    assert 'class="just-added"' in html  # the new row stands out
    assert count(Household) == before + 1
    added = db.session.scalar(select(Household).where(Household.room == "601"))
    assert added.area_dm2 == 8550 and added.occupancy == "rented"
    audit = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "household", AuditLog.entity_id == added.id)
    )
    assert audit.user_id == world.users["committee"].id and audit.after["room"] == "601"


def test_adding_a_household_without_javascript_redirects_back(world, login_as):
    unit = first_unit(world.branch)
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/units/{unit.id}/households/new",
        data={"room": "702", "area": "60", "occupancy": "vacant"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/registry/compounds/{world.branch.id}#unit-{unit.id}"
    )


@pytest.mark.parametrize(
    ("room", "area", "problem"),
    [
        ("", "60", "room"),
        ("101", "60", "duplicate"),  # the unit's first room already exists
        ("8<script>", "60", "room"),
        ("x" * 21, "60", "room"),
        ("601", "abc", "area"),
        ("601", "-5", "area"),
        ("601", "0", "area"),
        ("601", "1e3", "area"),
        ("601", "NaN", "area"),
        ("601", "12.345", "area"),
        ("601", "5000", "area"),
        ("601", "", "area"),
    ],
)
def test_bad_household_input_is_refused_next_to_the_field(world, login_as, room, area, problem):
    unit = first_unit(world.branch)
    client = login_as(world.users["staff"])
    before = count(Household)
    response = client.post(
        f"/registry/units/{unit.id}/households/new",
        data={"room": room, "area": area, "occupancy": "owner_occupied"},
        headers={**HX, "HX-Target": f"add-household-{unit.id}"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error"' in html
    assert "<script>" not in html
    field = "area" if problem == "area" else "room"
    # The unit's own form: its ids carry the unit, as several can be open on the page.
    assert f'id="u{unit.id}-{field}-error"' in html
    assert f'aria-describedby="u{unit.id}-{field}-error"' in html
    assert count(Household) == before


def test_bad_occupancy_value_is_refused(world, login_as):
    unit = first_unit(world.branch)
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/units/{unit.id}/households/new",
        data={"room": "901", "area": "60", "occupancy": "palace"},
    )
    assert response.status_code == 422


def test_buildings_and_units_are_added_with_their_units(world, login_as):
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/compounds/{world.unmanaged.id}/buildings/new",
        data={"name": "5号楼", "unit_count": "3"},
    )
    assert response.status_code == 303
    building = db.session.scalar(select(Building).where(Building.name == "5号楼"))
    assert len(building.units) == 3
    again = client.post(
        f"/registry/compounds/{world.unmanaged.id}/buildings/new",
        data={"name": "5号楼", "unit_count": "1"},
    )
    assert again.status_code == 422
    too_many = client.post(
        f"/registry/compounds/{world.unmanaged.id}/buildings/new",
        data={"name": "6号楼", "unit_count": "99"},
    )
    assert too_many.status_code == 422
    unit = client.post(f"/registry/buildings/{building.id}/units/new", data={"name": "4单元"})
    assert unit.status_code == 303
    assert (
        db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.building_id == building.id)
        )
        == 4
    )


def test_edit_household_inline_returns_the_row(world, login_as):
    household = first_household(world.branch)
    client = login_as(world.users["staff"])
    url = f"/registry/households/{household.id}/edit"
    editor = client.get(url, headers=HX).get_data(as_text=True)
    assert editor.lstrip().startswith(f'<tr id="household-{household.id}" class="editing">')
    response = client.post(
        url, data={"room": "101", "area": "70.25", "occupancy": "vacant"}, headers=HX
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="household-{household.id}">')
    # The counters follow out of band: the home is now vacant.
    assert '<div class="stats" id="compound-stats" hx-swap-oob="true">' in html
    db.session.expire_all()
    assert household.area_dm2 == 7025 and household.occupancy == "vacant"


def test_editing_to_a_taken_room_is_refused(world, login_as):
    unit = first_unit(world.branch)
    first, second = unit.households[0], unit.households[1]
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/households/{second.id}/edit",
        data={"room": first.room, "area": "60", "occupancy": "vacant"},
        headers=HX,
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert second.room != first.room


# --- who may change what -----------------------------------------------------------------------


def test_resident_may_view_own_household_but_not_edit(world, login_as):
    home = first_household(world.branch)
    client = login_as(world.users["resident"])
    assert client.get(f"/registry/households/{home.id}").status_code == 200
    assert client.get(f"/registry/households/{home.id}/edit").status_code == 403
    neighbour = first_unit(world.branch).households[1]
    assert client.get(f"/registry/households/{neighbour.id}").status_code == 404


def test_resident_never_sees_other_residents_mobiles(world, login_as):
    home = first_household(world.branch)
    from compound_app.registry.models import Relation
    from compound_app.registry.roster import add_occupant

    relative = add_occupant(home, "吴小华", "13812345678", Relation.FAMILY)
    db.session.commit()
    html = (
        login_as(world.users["resident"])
        .get(f"/registry/households/{home.id}")
        .get_data(as_text=True)
    )
    assert relative.name in html and relative.mobile not in html
    assert world.users["resident"].mobile in html


def test_representative_edits_only_their_own_unit(world, login_as):
    client = login_as(world.users["rep"])
    own = first_unit(world.branch)
    other = world.branch.buildings[0].units[1]
    ok = client.post(
        f"/registry/households/{own.households[1].id}/occupants",
        data={"name": "家属乙", "mobile": "", "relation": "family"},
    )
    assert ok.status_code == 303
    refused = client.post(
        f"/registry/households/{other.households[1].id}/occupants",
        data={"name": "家属乙", "mobile": "", "relation": "family"},
    )
    assert refused.status_code == 404  # another stairwell's homes are out of their sight
    assert (
        client.post(
            f"/registry/units/{other.id}/households/new",
            data={"room": "801", "area": "66", "occupancy": "owner_occupied"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/registry/compounds/{world.branch.id}/buildings/new", data={"name": "9号楼"}
        ).status_code
        == 403
    )


def test_committee_cannot_change_the_model(world, login_as):
    response = login_as(world.users["committee"]).post(
        f"/registry/compounds/{world.branch.id}/model",
        data={"model": "trusteeship", "effective_on": "2026-11-01", "reason": "x"},
    )
    assert response.status_code == 403


# --- occupants -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mobile", "field"),
    [
        ("", "13812345678", "name"),
        ("张" * 51, "13812345678", "name"),
        ("张三3", "13812345678", "name"),
        ("<b>张三</b>", "13812345678", "name"),
        ("张三", "12812345678", "mobile"),
        ("张三", "1381234567", "mobile"),
        ("张三", "138123456789", "mobile"),
        ("张三", "abc", "mobile"),
    ],
)
def test_bad_occupant_input(world, login_as, name, mobile, field):
    home = first_household(world.branch)
    client = login_as(world.users["staff"])
    before = count(Occupant)
    response = client.post(
        f"/registry/households/{home.id}/occupants",
        data={"name": name, "mobile": mobile, "relation": "family"},
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert "<b>张三</b>" not in response.get_data(as_text=True)
    assert count(Occupant) == before


def test_occupant_names_allow_the_middle_dot_and_full_width_mobiles(world, login_as):
    home = first_household(world.branch)
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/households/{home.id}/occupants",
        data={"name": "买买提・艾力", "mobile": "１３８ 1234 5678", "relation": "tenant"},
    )
    assert response.status_code == 303
    added = db.session.scalar(select(Occupant).where(Occupant.name == "买买提·艾力"))
    assert added.mobile == "13812345678"
    duplicate = client.post(
        f"/registry/households/{home.id}/occupants",
        data={"name": "另一人", "mobile": "13812345678", "relation": "family"},
    )
    assert duplicate.status_code == 422


def test_removing_an_occupant_ends_their_household_access(world, login_as):
    home = first_household(world.branch)
    resident = world.users["resident"]
    occupant_id = next(o.id for o in home.occupants if o.user_id == resident.id)
    response = login_as(world.users["staff"]).post(f"/registry/occupants/{occupant_id}/delete")
    assert response.status_code == 303
    assert db.session.get(Occupant, occupant_id) is None
    assert not db.session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == resident.id, RoleGrant.role == Role.RESIDENT)
    )
    assert login_as(resident).get(f"/registry/households/{home.id}").status_code == 404


# --- representatives ---------------------------------------------------------------------------


def test_appointing_a_representative_replaces_the_previous_one(world, login_as):
    unit = first_unit(world.branch)
    client = login_as(world.users["committee"])
    response = client.post(
        f"/registry/units/{unit.id}/representative",
        data={"name": "钱多多", "mobile": "13698765432"},
    )
    assert response.status_code == 303
    reps = db.session.scalars(
        select(RoleGrant).where(RoleGrant.role == Role.UNIT_REP, RoleGrant.unit_id == unit.id)
    ).all()
    assert len(reps) == 1
    assert db.session.get(User, reps[0].user_id).mobile == "13698765432"
    # The previous representative lost the unit.
    assert (
        login_as(world.users["rep"])
        .get(f"/registry/households/{unit.households[0].id}")
        .status_code
        == 404
    )


def test_coverage_counts_units_with_a_representative(world, login_as):
    html = (
        login_as(world.users["staff"])
        .get(f"/registry/compounds/{world.branch.id}")
        .get_data(as_text=True)
    )
    assert "1 / 4" in html


# --- models and areas -------------------------------------------------------------------------


def test_model_change_is_dated_and_kept_in_history(world, login_as):
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/compounds/{world.unmanaged.id}/model",
        data={"model": "trusteeship", "effective_on": "2026-11-01", "reason": "居民会议决定"},
    )
    assert response.status_code == 303
    change = db.session.scalar(
        select(ModelChange).where(ModelChange.compound_id == world.unmanaged.id)
    )
    assert (change.from_model, change.to_model, change.effective_on) == (
        "unmanaged",
        "trusteeship",
        date(2026, 11, 1),
    )
    earlier = client.post(
        f"/registry/compounds/{world.unmanaged.id}/model",
        data={"model": "party_branch", "effective_on": "2026-10-01", "reason": "x"},
    )
    assert earlier.status_code == 422


@pytest.mark.parametrize(
    "data",
    [
        {"model": "contiguous", "effective_on": "2026-11-01", "reason": "x"},
        {"model": "unmanaged", "effective_on": "2026-11-01", "reason": "x"},  # no change
        {"model": "party_branch", "effective_on": "2026-13-01", "reason": "x"},
        {"model": "party_branch", "effective_on": "2026-11-01", "reason": ""},
        {"model": "palace", "effective_on": "2026-11-01", "reason": "x"},
    ],
)
def test_bad_model_changes_are_refused(world, login_as, data):
    before = count(ModelChange)
    response = login_as(world.users["staff"]).post(
        f"/registry/compounds/{world.unmanaged.id}/model", data=data
    )
    assert response.status_code == 422
    assert count(ModelChange) == before


def test_contiguous_area_sizes(world, login_as):
    a = world.community
    extra = [compound(a, f"新院{n}") for n in range(5)]
    client = login_as(world.users["staff"])
    url = f"/registry/communities/{a.id}/areas/new"
    one = client.post(
        url, data={"name": "孤院", "compounds": [extra[0].id], "effective_on": "2026-11-01"}
    )
    assert one.status_code == 422
    two = client.post(
        url,
        data={
            "name": "两院片区",
            "compounds": [extra[0].id, extra[1].id],
            "effective_on": "2026-11-01",
        },
    )
    assert two.status_code == 303
    area_url = two.headers["Location"]
    html = client.get(area_url).get_data(as_text=True)
    assert 'class="notice"' in html  # 2 compounds: allowed, with a warning
    db.session.expire_all()
    area = db.session.get(Compound, extra[0].id).area
    for c in extra[2:5]:
        assert (
            client.post(
                f"/registry/areas/{area.id}/compounds",
                data={"compound": c.id, "effective_on": "2026-11-02"},
            ).status_code
            == 303
        )
    sixth = client.post(
        f"/registry/areas/{area.id}/compounds",
        data={"compound": world.unmanaged.id, "effective_on": "2026-11-02"},
    )
    assert sixth.status_code == 303  # six: allowed with a warning
    seventh_candidate = compound(a, "第七院")
    seventh = client.post(
        f"/registry/areas/{area.id}/compounds",
        data={"compound": seventh_candidate.id, "effective_on": "2026-11-02"},
    )
    assert seventh.status_code == 422
    db.session.expire_all()
    assert len(db.session.get(Compound, extra[0].id).area.compounds) == 6
    assert db.session.get(Compound, seventh_candidate.id).model == ManagementModel.UNMANAGED


def test_taking_a_compound_out_keeps_at_least_two(world, login_as):
    client = login_as(world.users["staff"])
    area = world.contiguous_area
    _first, second, third = world.contiguous
    response = client.post(
        f"/registry/areas/{area.id}/compounds/{third.id}/remove",
        data={"effective_on": "2026-11-01"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert third.area_id != area.id and third.model == "unmanaged"
    client.post(
        f"/registry/areas/{area.id}/compounds/{second.id}/remove",
        data={"effective_on": "2026-11-01"},
    )
    db.session.expire_all()
    assert second.area_id == area.id  # refused: the area would keep one compound


def test_a_compound_of_another_community_cannot_join(world, login_as):
    response = login_as(world.users["admin"]).post(
        f"/registry/areas/{world.contiguous_area.id}/compounds",
        data={"compound": world.elsewhere.id, "effective_on": "2026-11-01"},
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert world.elsewhere.model == "unmanaged"


def test_party_organisation_form(world, login_as):
    client = login_as(world.users["staff"])
    bad = client.post(
        f"/registry/compounds/{world.unmanaged.id}/party",
        data={"kind": "branch", "name": "", "secretary_name": "王1", "member_count": "-2"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for field in ("name", "secretary_name", "member_count"):
        assert f'id="{field}-error"' in html
    ok = client.post(
        f"/registry/compounds/{world.unmanaged.id}/party",
        data={
            "kind": "group",
            "name": "粮食局宿舍党小组",
            "secretary_name": "王芳",
            "member_count": "5",
        },
    )
    assert ok.status_code == 303
    db.session.expire_all()
    assert world.unmanaged.party_organisation.secretary_name == "王芳"


def test_new_compound_gets_its_own_area(world, login_as):
    client = login_as(world.users["staff"])
    response = client.post(
        f"/registry/communities/{world.community.id}/compounds/new",
        data={"name": "税务小区", "address": "崇文街８号（东门）"},
    )
    assert response.status_code == 303
    created = db.session.scalar(select(Compound).where(Compound.name == "税务小区"))
    assert created.area.compounds == [created] and created.area.code.startswith("LC")
    # An address is looked up, not read as prose: folded as the search box folds it.
    assert created.address == "崇文街8号(东门)"
    found = client.get("/registry/compounds?q=８号（东门）").get_data(as_text=True)
    assert "税务小区" in found
    duplicate = client.post(
        f"/registry/communities/{world.community.id}/compounds/new", data={"name": "税务小区"}
    )
    assert duplicate.status_code == 422


def test_appointing_with_someone_elses_mobile_reveals_nothing(world, login_as):
    unit = first_unit(world.branch)
    resident = world.users["tenant"]  # lives in another compound
    client = login_as(world.users["committee"])
    response = client.post(
        f"/registry/units/{unit.id}/representative",
        data={"name": "随便名字", "mobile": resident.mobile},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="mobile-error"' in html and resident.name not in html
    assert not db.session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == resident.id, RoleGrant.role == Role.UNIT_REP)
    )


def test_a_double_tap_adds_a_resident_without_mobile_once(world, login_as):
    home = first_household(world.branch)
    client = login_as(world.users["staff"])
    before = count(Occupant)
    data = {"name": "吴奶奶", "mobile": "", "relation": "family"}
    assert client.post(f"/registry/households/{home.id}/occupants", data=data).status_code == 303
    again = client.post(f"/registry/households/{home.id}/occupants", data=data)
    assert again.status_code == 422 and 'id="name-error"' in again.get_data(as_text=True)
    assert count(Occupant) == before + 1
