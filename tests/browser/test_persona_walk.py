"""The persona walk: the ten demo personas of the README do their task by clicking.

Every persona signs in through the login page of a fresh copy of the demo (``flask demo``,
built once per run) and does what the README's table of demo sign-ins says to try, on the
device they would use: a 360×740 phone for the residents, the representative and the
treasurer; a 1280×800 desktop for staff and the chairs. After every page load and every
htmx swap the page is checked (tests/browser/walk.py: axe-core, duplicate ids, and on a
phone overflow and tap-target sizes). Each walk collects its findings and fails at its end
with all of them, or where the persona could not go on.

This file: the README's table itself, and the subdistrict and community staff (01–04).
The committees (05–07) are in test_persona_walk_committee.py, the representative and the
residents (08–10) in test_persona_walk_residents.py. To keep the findings of a run:
``WALK_FINDINGS=/tmp/walk pytest tests/browser/test_persona_walk*.py`` (one file each).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.notices.models import NoticeRead
from compound_app.oversight.models import Certification
from compound_app.registry.models import Building, Compound, Household, PilotStage, Unit
from tests.browser import demo_places as demo
from tests.browser.walk import PERSONAS, one_more_told, walking

# Every walk uses the demo, built once per run: one worker takes them all (and test_cli's
# demo tests), so no worker waits for another to build it.
pytestmark = pytest.mark.xdist_group("demo")

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_walk_covers_every_persona_of_the_readme():
    """The walk's personas are the README's demo sign-ins, on the devices it names."""
    rows = re.findall(
        r"^\| (1390000\d{4}) \| (\S+) · ([^|]+)\| ([^|]+)\|$",
        README.read_text("utf-8"),
        re.MULTILINE,
    )
    assert len(rows) == 10, rows
    assert [mobile for mobile, *_ in rows] == [p.mobile for p in PERSONAS.values()]
    assert [name for _, name, *_ in rows] == [p.name for p in PERSONAS.values()]
    walks = {
        name.split("_")[1]
        for path in Path(__file__).parent.glob("test_persona_walk*.py")
        for name in re.findall(r"^def (test_\d\d_\w+)", path.read_text("utf-8"), re.MULTILINE)
    }
    assert walks == set(PERSONAS), walks
    phones = {p.mobile for p in PERSONAS.values() if p.phone}
    assert phones == {"13900000006", "13900000008", "13900000009", "13900000010"}


def test_01_admin_compares_the_models_certifies_a_pilot_and_exports_the_ledger(
    browser, demo_server, tmp_path
):
    """王建华, subdistrict admin, at his desk: pilot oversight."""
    pilot = demo.pilot("焦化厂小区")  # charging, but its checklist does not pass yet
    assert pilot.stage != PilotStage.SELF_GOVERNING

    with walking(browser, demo_server.url, PERSONAS["01"]) as w:
        w.click("main a[href='/oversight/']", what="试点督导")
        for model in ("连片管理", "小区党支部管理", "社区托管"):
            w.must_see(model, f"the dashboard compares {model}")

        # The branch-managed pilots only, then one of them.
        w.choose("main select[name=model]", value="party_branch", what="管理模式：小区党支部管理")
        w.must_see(pilot.compound.name, "the filtered pilots include 焦化厂小区")
        w.expect(
            "社区托管" not in w.text("#pilot-table"), "the filter leaves only the chosen model"
        )
        w.click(f"main a[href='/oversight/pilots/{pilot.id}']", what=pilot.compound.name)

        # Its checklist does not pass: he certifies it all the same, with his reason.
        w.fill(
            "main form[action$='/certify'] textarea[name=override_reason]",
            "居民会议同意，收缴率接近标准，先行认定，三个月后复查。",
            what="理由",
        )
        w.click("main form[action$='/certify'] button[type=submit]", what="特批认定")
        demo.fresh()
        w.expect(
            db.session.get(type(pilot), pilot.id).stage == PilotStage.SELF_GOVERNING,
            "the pilot is self-governing now",
        )
        w.expect(
            demo.first(select(Certification).where(Certification.pilot_id == pilot.id)) is not None,
            "the certification is recorded with its reason",
        )
        w.must_see("先行认定", "the pilot's page shows the certification and its reason")

        # The pilot ledger in Excel.
        w.click("main a[href='/oversight/']", what="试点督导 (breadcrumb)")
        ledger = w.download(
            "main a[href^='/oversight/ledger.xlsx']", tmp_path, what="导出试点台账（Excel）"
        )
        cells = {
            str(cell.value)
            for sheet in load_workbook(ledger, read_only=True).worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }
        w.expect(pilot.compound.name in cells, "the ledger lists 焦化厂小区")


def test_02_staff_look_after_the_contiguous_areas_of_lvcheng(browser, demo_server):
    """李秀兰, community staff of 绿城社区, at her desk: 绿城一/二/三片区."""
    community = demo.first(select(Compound.community_id).where(Compound.name == "农行小区"))
    areas = [demo.area(f"绿城{n}片区") for n in "一二三"]
    orphan = demo.compound("水泥厂生活区二区")  # unmanaged, in 绿城社区
    assert orphan.model == "unmanaged"

    with walking(browser, demo_server.url, PERSONAS["02"]) as w:
        w.click(f"main a[href='/registry/communities/{community}']", what="绿城社区")
        w.choose("main select[name=model]", value="contiguous", what="管理模式：连片管理")
        w.expect(
            orphan.name not in w.text("#compound-table"),
            "the filter leaves out the unmanaged compounds",
        )
        for area in (areas[0], areas[2], areas[1]):  # 二片区 last: she stays there
            w.click(f"main a[href='/registry/areas/{area.id}']", what=area.name)
            for compound in area.compounds:
                w.must_see(compound.name, f"{area.name} lists {compound.name}")
            if area is not areas[1]:
                w.click(f"main a[href='/registry/communities/{community}']", what="绿城社区")

        # 绿城二片区 has three compounds: an unmanaged neighbour joins it.
        add = f"main form[action='/registry/areas/{areas[1].id}/compounds']"
        w.choose(f"{add} select[name=compound]", value=str(orphan.id), what=orphan.name)
        w.click(f"{add} button[type=submit]", what="添加")
        w.must_see(orphan.name, "the area lists the compound that joined")
        demo.fresh()
        joined = db.session.get(Compound, orphan.id)
        w.expect(
            joined.area_id == areas[1].id and joined.model == "contiguous",
            f"the compound is in 绿城二片区 under contiguous management ({joined.model})",
        )


def test_03_staff_follow_the_urgent_water_cut_and_read_the_dev_sms_box(browser, demo_server):
    """赵志刚, community staff of 府东社区, at his desk: 城建小区 under trusteeship."""
    compound = demo.compound("城建小区")
    water = demo.notice("2号楼明日停水")
    told = {
        r.household_id
        for r in db.session.scalars(select(NoticeRead).where(NoticeRead.notice_id == water.id))
    }
    untold = demo.first(
        select(Household)
        .join(Unit)
        .join(Building)
        .where(Building.id == water.building_id, Household.id.not_in(told))
        .order_by(Unit.sort_key, Household.sort_key, Household.room)
    )
    assert untold is not None, "everyone in 2号楼 has been told in the demo"

    with walking(browser, demo_server.url, PERSONAS["03"]) as w:
        w.click(f"main a[href='/registry/communities/{compound.community_id}']", what="府东社区")
        w.click(f"main a[href='/registry/compounds/{compound.id}']", what="城建小区")
        w.click(f"main a[href='/notices/compounds/{compound.id}']", what="通知公告")
        w.click(f"main a[href='/notices/{water.id}']", what="2号楼明日停水")
        before = w.counts_told()
        if not before:
            w.blocked("the notice does not say how many homes have been told")

        # Who has not been told yet: he phones one of them.
        w.click(f"main a[href='/notices/{water.id}/doors']", what="还没告知的住户")
        door = f"#door-{water.id}-{untold.id}"
        w.click(f"{door} button[value=phone]", what=f"电话告知 at {untold.room}")
        w.must_see("✓", "the door shows it has been told", within=door)
        w.click(f"main a[href='/notices/{water.id}']", what="back to the notice")
        if not one_more_told(before, w.counts_told()):
            w.blocked(f"the notice does not count the home just told ({w.counts_told()})")

        # The dev SMS box: the urgent notice went out by SMS.
        w.click("header a[href='/messages/']", what="消息 in the navigation")
        w.click("main a[href='/messages/dev-sms']", what="开发短信箱")
        w.must_see(water.title, "the dev SMS box holds the urgent notice's SMS")


def test_04_staff_check_a_branch_managed_pilot_and_print_its_report(browser, demo_server):
    """陈丽, community staff of 迎宾南社区, at her desk: 新国土小区 (branch-managed)."""
    compound = demo.compound("新国土小区")
    pilot = demo.pilot("新国土小区")

    with walking(browser, demo_server.url, PERSONAS["04"]) as w:
        w.click(f"main a[href='/registry/communities/{compound.community_id}']", what="迎宾南社区")
        w.choose("main select[name=model]", value="party_branch", what="管理模式：小区党支部管理")
        w.click(f"main a[href='/registry/compounds/{compound.id}']", what="新国土小区")
        w.must_see(r"13\s*/\s*14", "the compound page counts the units with a representative")
        w.must_see("新国土小区党支部", "the compound page names its party branch")

        w.home()
        w.click("main a[href='/oversight/']", what="试点督导")
        w.click(f"main a[href='/oversight/pilots/{pilot.id}']", what="新国土小区")
        w.must_see("✔", "the pilot's checklist is shown")
        w.expect("✘" not in w.text(), "every rule of the checklist passes")
        w.click(f"main a[href='/oversight/pilots/{pilot.id}/report']", what="一页报告（打印）")
        w.must_see(compound.name, "the one-page report is about 新国土小区")
        if w.has("main [data-print]"):
            w.click("main [data-print]", what="打印")
            w.expect(w.printed() == 1, "the print button opens the print dialog")
        else:
            w.note("task", "the one-page report has no print button (other printable pages do)")
