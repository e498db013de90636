"""Property committees: members, positions, terms — and the access a seat gives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.auth.models import Role, RoleGrant, User
from compound_app.committees.models import Committee, CommitteeMember
from compound_app.extensions import db
from tests.factories import days_ago


def ago(days: int) -> str:
    """A date typed into a form: ``days`` before today (after it when negative)."""
    return days_ago(days).isoformat()


def members() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CommitteeMember))


def new_member(client, area, **data):  # type: ignore[no-untyped-def]
    form = {
        "name": "钱学军",
        "mobile": "13655556666",
        "position": "member",
        "kind": "owner",
        "background": "retired_cadre",
        "term_start": ago(165),
        "term_end": ago(-930),
        **data,
    }
    return client.post(f"/committees/areas/{area.id}/members/new", data=form)


def test_staff_set_up_a_committee_and_members_get_access(world, login_as):
    staff = login_as(world.users["staff"])
    area = world.unmanaged.area
    assert (
        staff.post(
            f"/committees/areas/{area.id}",
            data={"name": "粮食局宿舍物管会", "formed_on": ago(45)},
        ).status_code
        == 303
    )
    assert new_member(staff, area, position="treasurer").status_code == 303
    member = db.session.scalar(select(User).where(User.mobile == "13655556666"))
    assert (
        db.session.scalar(
            select(RoleGrant).where(
                RoleGrant.user_id == member.id, RoleGrant.role == Role.COMMITTEE_MEMBER
            )
        ).area_id
        == area.id
    )
    page = staff.get(f"/committees/areas/{area.id}").get_data(as_text=True)
    assert "钱学军" in page and "13655556666" in page


def test_a_second_committee_for_one_area_is_refused(world, login_as):
    staff = login_as(world.users["staff"])
    response = staff.post(
        f"/committees/areas/{world.branch.area_id}",
        data={"name": "另一个", "formed_on": ago(45)},
    )
    assert response.status_code == 422
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Committee)
            .where(Committee.area_id == world.branch.area_id)
        )
        == 1
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"mobile": "1234"}, "mobile"),
        ({"name": ""}, "name"),
        ({"name": "钱" * 51}, "name"),
        ({"position": "emperor"}, "position"),
        ({"background": "spy"}, "background"),
        ({"term_end": ago(530)}, "term_end"),
        ({"term_start": "not a date"}, "term_start"),
        ({"position": "chair"}, "position"),  # the area already has a chair for that term
    ],
)
def test_bad_member_input_is_refused(world, login_as, data, field):
    staff = login_as(world.users["staff"])
    before = members()
    response = new_member(staff, world.branch.area, **data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert members() == before


def test_the_same_person_cannot_join_twice(world, login_as):
    staff = login_as(world.users["staff"])
    chair = world.users["committee"]
    response = new_member(staff, world.branch.area, name=chair.name, mobile=chair.mobile)
    assert response.status_code == 422


def test_committee_members_cannot_manage_their_committee(world, login_as):
    client = login_as(world.users["committee"])
    assert client.get(f"/committees/areas/{world.branch.area_id}").status_code == 200
    assert new_member(client, world.branch.area).status_code == 403


def test_a_seat_ended_yesterday_ends_the_access_now(world, login_as):
    chair = world.users["committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    client = login_as(chair)
    assert client.get(f"/registry/compounds/{world.branch.id}/import").status_code == 200
    staff = login_as(world.users["staff"])
    yesterday = clock.today() - timedelta(days=1)
    response = staff.post(
        f"/committees/members/{member.id}/end", data={"ended_on": yesterday.isoformat()}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert member.term_end == yesterday  # history kept
    assert login_as(chair).get(f"/registry/compounds/{world.branch.id}").status_code == 404
    assert not db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == chair.id, RoleGrant.role == Role.COMMITTEE_MEMBER
        )
    )


def test_a_seat_ending_later_keeps_its_access_until_then(world, login_as):
    chair = world.users["committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    staff = login_as(world.users["staff"])
    later = clock.today() + timedelta(days=30)
    assert (
        staff.post(
            f"/committees/members/{member.id}/end", data={"ended_on": later.isoformat()}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert member.term_end == later
    assert login_as(chair).get(f"/registry/compounds/{world.branch.id}").status_code == 200
    # An end after the term's own end changes nothing.
    assert (
        staff.post(
            f"/committees/members/{member.id}/end", data={"ended_on": "2099-01-01"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert member.term_end == later


def test_a_bad_end_date_keeps_the_page_and_says_why(world, login_as):
    chair = world.users["committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    term_end = member.term_end
    staff = login_as(world.users["staff"])
    for value in ("2019-01-01", "not a date"):
        response = staff.post(f"/committees/members/{member.id}/end", data={"ended_on": value})
        assert response.status_code == 422
        assert 'id="ended_on-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert member.term_end == term_end


def test_re_election_after_a_break_is_a_new_seat(world, login_as):
    chair = world.users["committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    staff = login_as(world.users["staff"])
    staff.post(f"/committees/members/{member.id}/end", data={"ended_on": ago(106)})
    overlapping = new_member(
        staff,
        world.branch.area,
        name=chair.name,
        mobile=chair.mobile,
        term_start=ago(134),
        term_end=ago(-930),
    )
    assert overlapping.status_code == 422
    response = new_member(
        staff,
        world.branch.area,
        name=chair.name,
        mobile=chair.mobile,
        position="chair",
        term_start=clock.today().isoformat(),
        term_end=ago(-1235),
    )
    assert response.status_code == 303
    assert login_as(chair).get(f"/registry/compounds/{world.branch.id}/import").status_code == 200


def test_a_seat_entered_by_mistake_is_removed_the_same_day(world, login_as):
    staff = login_as(world.users["staff"])
    assert (
        new_member(staff, world.branch.area, term_start=clock.today().isoformat()).status_code
        == 303
    )
    member_id = db.session.scalar(
        select(CommitteeMember.id).join(User).where(User.mobile == "13655556666")
    )
    assert staff.post(f"/committees/members/{member_id}/remove").status_code == 303
    assert db.session.get(CommitteeMember, member_id) is None
    newcomer = db.session.scalar(select(User).where(User.mobile == "13655556666"))
    assert not db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == newcomer.id))
    # A seat that has run for a while cannot simply vanish.
    chair = db.session.scalar(
        select(CommitteeMember).where(CommitteeMember.user_id == world.users["committee"].id)
    )
    assert staff.post(f"/committees/members/{chair.id}/remove").status_code == 303
    assert db.session.get(CommitteeMember, chair.id) is not None


def test_editing_a_term_back_into_the_present_restores_access(world, login_as):
    chair = world.users["committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    staff = login_as(world.users["staff"])
    staff.post(f"/committees/members/{member.id}/end", data={"ended_on": ago(106)})
    assert login_as(chair).get(f"/registry/compounds/{world.branch.id}").status_code == 404
    response = staff.post(
        f"/committees/members/{member.id}/edit",
        data={
            "position": "chair",
            "kind": "owner",
            "background": "party_member",
            "term_start": ago(165),
            "term_end": ago(-930),
        },
    )
    assert response.status_code == 303
    assert login_as(chair).get(f"/registry/compounds/{world.branch.id}").status_code == 200


def test_an_expired_term_gives_no_access(world, login_as):
    chair = world.users["area_committee"]
    member = db.session.scalar(select(CommitteeMember).where(CommitteeMember.user_id == chair.id))
    member.term_start = date(2020, 1, 1)
    member.term_end = clock.today() - timedelta(days=1)
    db.session.commit()
    assert login_as(chair).get(f"/registry/compounds/{world.contiguous[0].id}").status_code == 404


def test_residents_see_names_but_not_mobiles(world, login_as):
    page = (
        login_as(world.users["resident"])
        .get(f"/committees/areas/{world.branch.area_id}")
        .get_data(as_text=True)
    )
    chair = world.users["committee"]
    assert chair.name in page and chair.mobile not in page


def test_editing_positions_keeps_one_chair(world, login_as):
    staff = login_as(world.users["staff"])
    assert new_member(staff, world.branch.area).status_code == 303
    member = db.session.scalar(
        select(CommitteeMember).join(User).where(User.mobile == "13655556666")
    )
    response = staff.post(
        f"/committees/members/{member.id}/edit",
        data={
            "position": "chair",
            "kind": "owner",
            "background": "party_member",
            "term_start": ago(165),
            "term_end": ago(-930),
        },
    )
    assert response.status_code == 422
    ok = staff.post(
        f"/committees/members/{member.id}/edit",
        data={
            "position": "vice_chair",
            "kind": "owner",
            "background": "party_member",
            "term_start": ago(165),
            "term_end": ago(-930),
        },
    )
    assert ok.status_code == 303
    db.session.expire_all()
    assert member.position == "vice_chair"
