"""Consent to keep and use a roster mobile (个人信息保护法): recorded on the resident forms,
carried by the import, listed where it is missing, and refused where it does not fit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Consent, Occupant, Relation
from tests.factories import World, first_household, first_unit, mobile

HEADER = [
    "楼栋",
    "单元",
    "户室",
    "面积(m²)",
    "居住状态",
    "住户姓名",
    "手机号",
    "身份",
    "同意方式",
    "同意日期",
]


def occupant_form(o: Occupant, **changes: str) -> dict[str, str]:
    how, on = roster.shown_consent(o)
    data = {
        "name": o.name,
        "mobile": o.mobile or "",
        "relation": o.relation,
        "consent_how": how.value if how else "",
        "consent_on": on.isoformat() if on else "",
    }
    data.update(changes)
    return data


def fresh(o: Occupant) -> Occupant:
    db.session.expire_all()
    found = db.session.get(Occupant, o.id)
    assert found is not None
    return found


def edit(client: Any, o: Occupant, **changes: str) -> Any:
    return client.post(f"/registry/occupants/{o.id}/edit", data=occupant_form(o, **changes))


def test_the_committee_records_consent_given_on_paper(world, login_as):
    o = first_household(world.branch).occupants[0]
    client = login_as(world.users["committee"])
    day = (clock.today() - timedelta(days=3)).isoformat()
    response = edit(client, o, consent_how="paper", consent_on=day)
    assert response.status_code == 303
    o = fresh(o)
    assert o.consent_how == Consent.PAPER
    assert clock.local_date(o.consent_at).isoformat() == day
    assert o.consent_by_id == world.users["committee"].id
    row = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "occupant", AuditLog.entity_id == o.id)
        .order_by(AuditLog.id.desc())
    ).first()
    assert row.action == "update" and row.after["consent_how"] == "paper"
    # The household page says so, beside the number.
    page = client.get(f"/registry/households/{o.household_id}").get_data(as_text=True)
    assert "纸质" in page or "paper" in page


def test_the_representative_records_consent_in_their_own_unit(world, login_as):
    o = first_unit(world.branch).households[1].occupants[0]
    client = login_as(world.users["rep"])
    day = clock.today().isoformat()
    assert (
        edit(client, o, name="钱住户", consent_how="in_person", consent_on=day).status_code == 303
    )
    assert fresh(o).consent_how == Consent.IN_PERSON


def test_a_new_resident_with_consent_and_without(world, login_as):
    household = first_household(world.trust)
    client = login_as(world.users["staff"])
    with_consent, without = mobile(), mobile()
    for number, how in ((with_consent, "paper"), (without, "")):
        response = client.post(
            f"/registry/households/{household.id}/occupants",
            data={
                "name": "新住户",
                "mobile": number,
                "relation": "family",
                "consent_how": how,
                "consent_on": clock.today().isoformat() if how else "",
            },
        )
        assert response.status_code == 303
    db.session.expire_all()
    found = {
        o.mobile: o.consent_how
        for o in db.session.scalars(select(Occupant).where(Occupant.household_id == household.id))
    }
    assert found[with_consent] == "paper" and found[without] is None
    # The form says what a mobile without consent means.
    page = client.get(f"/registry/households/{household.id}").get_data(as_text=True)
    assert "consent_how" in page


def test_bad_consent_is_refused_and_nothing_is_written(world, login_as):
    o = first_household(world.branch).occupants[0]
    no_mobile = roster.add_occupant(first_household(world.branch), "无手机", None, Relation.FAMILY)
    db.session.commit()
    client = login_as(world.users["committee"])
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    cases = [
        (o, {"consent_how": "paper", "consent_on": tomorrow}),  # in the future
        (o, {"consent_how": "paper", "consent_on": "2026-02-30"}),  # no such day
        (o, {"consent_how": "paper", "consent_on": ""}),  # no day
        (o, {"consent_how": "", "consent_on": "2026-01-05"}),  # a day but no way
        (o, {"consent_how": "online", "consent_on": "2026-01-05"}),  # only the resident
        (o, {"consent_how": "by_fax", "consent_on": "2026-01-05"}),  # no such way
        (no_mobile, {"consent_how": "paper", "consent_on": "2026-01-05"}),  # no mobile
    ]
    for occupant, changes in cases:
        before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
        response = edit(client, occupant, **changes)
        assert response.status_code == 422, changes
        assert fresh(occupant).consent_how is None, changes
        after = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
        assert after == before, changes


def test_consent_is_for_one_number(world, login_as):
    o = first_household(world.branch).occupants[0]
    client = login_as(world.users["committee"])
    edit(client, o, consent_how="paper", consent_on=clock.today().isoformat())
    o = fresh(o)
    # A new number, the consent fields left as shown: the old number's consent goes.
    assert edit(client, o, mobile=mobile()).status_code == 303
    o = fresh(o)
    assert o.consent_how is None and o.consent_at is None and o.consent_by_id is None
    # A new number with consent recorded anew in the same form keeps it.
    edit(client, o, consent_how="in_person", consent_on=clock.today().isoformat())
    o = fresh(o)
    day = (clock.today() - timedelta(days=1)).isoformat()
    assert edit(client, o, mobile=mobile(), consent_how="paper", consent_on=day).status_code == 303
    assert fresh(o).consent_how == Consent.PAPER


def test_an_old_form_without_the_consent_fields_leaves_consent_alone(world, login_as):
    o = first_household(world.branch).occupants[0]
    client = login_as(world.users["committee"])
    edit(client, o, consent_how="paper", consent_on=clock.today().isoformat())
    response = client.post(
        f"/registry/occupants/{o.id}/edit",
        data={"name": "改个名", "mobile": fresh(o).mobile, "relation": "owner"},
    )
    assert response.status_code == 303
    assert fresh(o).consent_how == Consent.PAPER


def test_wrong_role_and_wrong_compound_are_refused(world, login_as):
    o = first_household(world.branch).occupants[0]
    data = occupant_form(o, consent_how="paper", consent_on=clock.today().isoformat())
    for role, status in (("resident", 403), ("tenant", 404), ("other_staff", 404)):
        response = login_as(world.users[role]).post(f"/registry/occupants/{o.id}/edit", data=data)
        assert response.status_code == status, role
    assert fresh(o).consent_how is None


# --- whose consent is missing -------------------------------------------------------------------


def test_the_compound_page_counts_the_missing_consents_for_those_who_keep_the_roster(
    world, login_as
):
    branch = world.branch
    url = f"/registry/compounds/{branch.id}"
    missing = roster.consent_missing_count([u.id for b in branch.buildings for u in b.units])
    assert missing > 0
    page = login_as(world.users["committee"]).get(url).get_data(as_text=True)
    assert f"/registry/compounds/{branch.id}/consent" in page
    assert str(missing) in page
    resident_page = login_as(world.users["resident"]).get(url).get_data(as_text=True)
    assert f"/registry/compounds/{branch.id}/consent" not in resident_page


def test_the_missing_list_per_compound_and_unit(world, login_as):
    branch = world.branch
    url = f"/registry/compounds/{branch.id}/consent"
    committee = login_as(world.users["committee"])
    everyone = [
        o for b in branch.buildings for u in b.units for h in u.households for o in h.occupants
    ]
    page = committee.get(url).get_data(as_text=True)
    assert all(o.mobile in page for o in everyone if o.mobile)
    # Recorded: off the list.
    first = everyone[0]
    edit(committee, first, consent_how="paper", consent_on=clock.today().isoformat())
    assert first.mobile not in committee.get(url).get_data(as_text=True)
    # One unit.
    unit = branch.buildings[1].units[0]
    narrowed = committee.get(url, query_string={"unit": unit.id}).get_data(as_text=True)
    inside = [o for h in unit.households for o in h.occupants]
    outside = [o for o in everyone if o not in inside and o is not first]
    assert all(o.mobile in narrowed for o in inside)
    assert not any(o.mobile in narrowed for o in outside)
    # The representative sees their stairwell only.
    rep_page = login_as(world.users["rep"]).get(url).get_data(as_text=True)
    rep_unit = first_unit(branch)
    assert all(
        (o.mobile in rep_page) == (o.household.unit_id == rep_unit.id)
        for o in everyone
        if o is not first
    )


def test_the_missing_list_refuses_who_does_not_keep_the_roster(world, login_as):
    url = f"/registry/compounds/{world.branch.id}/consent"
    assert login_as(world.users["resident"]).get(url).status_code == 403
    assert login_as(world.users["other_staff"]).get(url).status_code == 404
    assert login_as(world.users["outsider"]).get(url).status_code == 404
    # Hostile query strings are no error.
    client = login_as(world.users["committee"])
    for query in ({"unit": "x"}, {"unit": "9" * 40}, {"page": "-1"}, {"page": "99999"}):
        assert client.get(url, query_string=query).status_code == 200


# --- the import carries consent ------------------------------------------------------------------


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def upload(client: Any, compound_id: int, rows: list[list[str]]) -> Any:
    return client.post(
        f"/registry/compounds/{compound_id}/import",
        data={"file": (io.BytesIO(csv_bytes(rows)), "名册.csv")},
        content_type="multipart/form-data",
    )


def confirm(client: Any, compound_id: int, preview: Any) -> Any:
    import re

    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    assert token, preview.get_data(as_text=True)[:2000]
    return client.post(
        f"/registry/compounds/{compound_id}/import/confirm", data={"token": token.group(1)}
    )


def test_the_import_records_consent(world: World, login_as):
    client = login_as(world.users["staff"])
    target = world.unmanaged
    paper, spoken, none = mobile(), mobile(), mobile()
    rows = [
        HEADER,
        ["9号楼", "1单元", "101", "60", "自住", "甲业主", paper, "业主", "纸质", "2026年5月20日"],
        ["9号楼", "1单元", "102", "60", "自住", "乙业主", spoken, "业主", "当面", "2026-06-01"],
        ["9号楼", "1单元", "103", "60", "自住", "丙业主", none, "业主", "", ""],
    ]
    preview = upload(client, target.id, rows)
    assert preview.status_code == 200
    assert confirm(client, target.id, preview).status_code == 303
    db.session.expire_all()
    found = {
        o.mobile: (
            o.consent_how,
            clock.local_date(o.consent_at).isoformat() if o.consent_at else None,
        )
        for o in db.session.scalars(
            select(Occupant).where(Occupant.mobile.in_([paper, spoken, none]))
        )
    }
    assert found == {
        paper: ("paper", "2026-05-20"),
        spoken: ("in_person", "2026-06-01"),
        none: (None, None),
    }
    # A later file adds consent to a record without, and never overwrites a recorded one.
    rows2 = [
        HEADER,
        ["9号楼", "1单元", "101", "60", "自住", "甲业主", paper, "业主", "当面", "2026-06-02"],
        ["9号楼", "1单元", "103", "60", "自住", "丙业主", none, "业主", "当面", "2026-06-03"],
    ]
    preview = upload(client, target.id, rows2)
    assert "1" in preview.get_data(as_text=True)
    assert confirm(client, target.id, preview).status_code == 303
    db.session.expire_all()
    again = {
        o.mobile: o.consent_how
        for o in db.session.scalars(select(Occupant).where(Occupant.mobile.in_([paper, none])))
    }
    assert again == {paper: "paper", none: "in_person"}


def test_the_import_checks_the_consent_cells(world: World, login_as):
    client = login_as(world.users["staff"])
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    bad = [
        ["9号楼", "1单元", "201", "60", "自住", "甲", mobile(), "业主", "线上", "2026-05-01"],
        ["9号楼", "1单元", "202", "60", "自住", "乙", mobile(), "业主", "纸质", tomorrow],
        ["9号楼", "1单元", "203", "60", "自住", "丙", mobile(), "业主", "纸质", ""],
        ["9号楼", "1单元", "204", "60", "自住", "丁", mobile(), "业主", "", "2026-05-01"],
        ["9号楼", "1单元", "205", "60", "自住", "戊", "", "业主", "纸质", "2026-05-01"],
        ["9号楼", "1单元", "206", "60", "自住", "己", mobile(), "业主", "纸质", "2026-02-30"],
    ]
    response = upload(client, world.unmanaged.id, [HEADER, *bad])
    text = response.get_data(as_text=True)
    assert 'name="token"' not in text
    for line in range(2, 2 + len(bad)):
        assert f"<td>{line}</td>" in text, line
    assert db.session.scalar(select(Occupant.id).where(Occupant.name == "甲")) is None


def test_the_template_has_the_consent_columns(world, login_as):
    client = login_as(world.users["committee"])
    text = client.get("/registry/import-template.csv").data.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[-2:] == ["同意方式", "同意日期"]
    assert "纸质" in text


# --- a withdrawal is remembered ------------------------------------------------------------------

WITHDRAWN = "撤回了"


def test_an_old_file_does_not_record_a_withdrawn_consent_again(world: World, login_as, held_clock):
    """Withdrawing empties the consent columns, which must not read as "never given": last
    year's file, with its 纸质 and its day, is refused for that row."""
    held_clock.now = clock.now()
    client = login_as(world.users["staff"])
    target = world.unmanaged
    number = mobile()
    row = ["9号楼", "1单元", "101", "60", "自住", "甲业主", number, "业主", "纸质", "2026-01-05"]
    preview = upload(client, target.id, [HEADER, row])
    assert confirm(client, target.id, preview).status_code == 303
    o = db.session.scalars(select(Occupant).where(Occupant.mobile == number)).one()
    assert o.consent_how == "paper"
    # The resident withdraws; the roster keeper records it.
    assert edit(client, o, consent_how="", consent_on="").status_code == 303
    o = fresh(o)
    assert o.consent_how is None and o.consent_withdrawn_at == held_clock.now
    # Re-importing the old file: the row is an error, nothing is recorded.
    held_clock.now += timedelta(days=2)
    client = login_as(world.users["staff"])  # the earlier session has timed out
    preview = upload(client, target.id, [HEADER, row])
    text = preview.get_data(as_text=True)
    assert 'name="token"' not in text
    assert WITHDRAWN in text and "<td>2</td>" in text
    assert fresh(o).consent_how is None
    # The same file without the consent cells is fine (it changes nothing).
    preview = upload(client, target.id, [HEADER, [*row[:8], "", ""]])
    assert preview.status_code == 200 and WITHDRAWN not in preview.get_data(as_text=True)
    assert fresh(o).consent_how is None
    # Consent given anew, after the withdrawal, is recorded (and the withdrawal forgotten).
    again = [*row[:8], "当面", clock.today().isoformat()]
    preview = upload(client, target.id, [HEADER, again])
    assert confirm(client, target.id, preview).status_code == 303
    o = fresh(o)
    assert o.consent_how == "in_person" and o.consent_withdrawn_at is None


def test_a_form_records_consent_after_a_withdrawal_only_with_a_later_day(
    world: World, login_as, held_clock
):
    held_clock.now = clock.now()
    o = first_household(world.branch).occupants[0]
    client = login_as(world.users["committee"])
    old_day = (clock.today() - timedelta(days=30)).isoformat()
    assert edit(client, o, consent_how="paper", consent_on=old_day).status_code == 303
    assert edit(client, fresh(o), consent_how="", consent_on="").status_code == 303
    assert fresh(o).consent_withdrawn_at is not None
    held_clock.now += timedelta(days=1)
    client = login_as(world.users["committee"])  # the earlier session has timed out
    for day in (old_day, (clock.today() - timedelta(days=1)).isoformat()):
        refused = edit(client, fresh(o), consent_how="paper", consent_on=day)
        assert refused.status_code == 422, day
        assert WITHDRAWN in refused.get_data(as_text=True)
        assert fresh(o).consent_how is None
    accepted = edit(client, fresh(o), consent_how="paper", consent_on=clock.today().isoformat())
    assert accepted.status_code == 303
    assert fresh(o).consent_how == "paper" and fresh(o).consent_withdrawn_at is None


def test_consent_given_online_after_a_withdrawal_forgets_it(world: World, login_as):
    resident = world.users["resident"]
    o = first_household(world.branch).occupants[0]
    assert o.user_id == resident.id
    client = login_as(world.users["committee"])
    edit(client, o, consent_how="paper", consent_on=clock.today().isoformat())
    edit(client, fresh(o), consent_how="", consent_on="")
    assert fresh(o).consent_withdrawn_at is not None
    assert roster.consent_online(resident) == 1
    db.session.commit()
    o = fresh(o)
    assert o.consent_how == "online" and o.consent_withdrawn_at is None
