"""The oversight pages as staff read them: the dashboard's filter and sort replace the pilot
table (never nest a copy in it), months read 2026年11月, the charts' words stay readable."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from compound_app.oversight.facts import window
from compound_app.registry.models import Pilot
from compound_app.templating import fmt_month
from tests.factories import World
from tests.oversight.test_oversight import _fees, _pilot, _reps_everywhere

HX = {"HX-Request": "true"}


def _pilots(world: World) -> Pilot:
    """Two pilots; the branch-managed one (returned) with fees and a representative each."""
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    _reps_everywhere(world)
    _fees(world, paid_months={0: 2})
    _pilot(world.trust, "trusteeship", window(3)[0])
    return pilot


def test_filter_and_sort_replace_the_pilot_table_instead_of_nesting_it(
    world: World, login_as
) -> None:  # type: ignore[no-untyped-def]
    _pilots(world)
    client = login_as(world.users["admin"])
    html = client.get("/oversight/").get_data(as_text=True)
    assert html.count('id="pilot-table"') == 1
    # Every control aimed at the table (the filters, each sort link) swaps the element itself.
    aimed = re.findall(r"<(?:form|a)\b[^>]*hx-target=\"#pilot-table\"[^>]*>", html)
    assert len(aimed) == 1 + 8  # the filter form and the eight sort links
    for tag in aimed:
        assert 'hx-swap="outerHTML"' in tag, tag

    for query in ("?model=party_branch", "?sort=rate&dir=desc"):
        answer = client.get("/oversight/" + query, headers={**HX, "HX-Target": "pilot-table"})
        fragment = answer.get_data(as_text=True)
        assert "<html" not in fragment
        assert fragment.lstrip().startswith('<div id="pilot-table" class="card">'), query
        assert fragment.count('id="pilot-table"') == 1
        # The page after the swap: the old element replaced by the fragment, once.
        start = html.index('<div id="pilot-table"')
        end = html.index("</table>\n</div>", start) + len("</table>\n</div>")
        swapped = html[:start] + fragment + html[end:]
        assert swapped.count('id="pilot-table"') == 1
        assert swapped.count('class="card"') == html.count('class="card"')
    filtered = client.get(
        "/oversight/?model=party_branch",
        headers={**HX, "HX-Target": "pilot-table", "HX-Trigger": "pilot-filters"},
    ).get_data(as_text=True)
    assert world.branch.name in filtered and world.trust.name not in filtered
    assert 'id="pilot-sort"' not in filtered  # the form sent its own order: left alone


def test_a_column_heading_sort_carries_into_the_next_filter(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    _pilots(world)
    client = login_as(world.users["admin"])
    html = client.get("/oversight/").get_data(as_text=True)
    start = html.index('<form class="filters')
    form = html[start : html.index("</form>", start)]
    # The order is part of the filter form, as choices a phone (no column headings) can use.
    assert '<select id="f-sort" name="sort">' in form and '<select id="f-dir" name="dir">' in form
    # A heading re-sorts the table; the form's order is refreshed out of band with it.
    sorted_ = client.get(
        "/oversight/?sort=rate&dir=desc", headers={**HX, "HX-Target": "pilot-table"}
    ).get_data(as_text=True)
    assert sorted_.lstrip().startswith('<div id="pilot-table"')
    oob = sorted_[sorted_.index('<div id="pilot-sort" class="sort-fields" hx-swap-oob="true">') :]
    assert '<option value="rate" selected>' in oob
    assert '<option value="desc" selected>' in oob


def test_tables_have_no_empty_headers(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    _pilots(world)
    html = login_as(world.users["admin"]).get("/oversight/").get_data(as_text=True)
    assert not re.search(r"<th[^>]*>\s*</th>", html)
    # The column of report links has a heading a screen reader can say.
    assert '<span class="visually-hidden">报告</span>' in html


def test_the_checklist_writes_months_as_every_page_does(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    pilot = _pilots(world)
    client = login_as(world.users["admin"])
    html = client.get(f"/oversight/pilots/{pilot.id}").get_data(as_text=True)
    start = html.index('<ul class="checklist">')
    checklist = html[start : html.index("</ul>", start)]
    first, _, last = window(3)
    assert f"{first.year}年{first.month}月" in checklist
    assert f"{last.year}年{last.month}月" in checklist
    assert not re.search(r"\b\d{4}-\d{2}\b", checklist)


def test_chart_labels_are_page_text_not_shrinking_svg_text(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    pilot = _pilots(world)
    # The pilot page adds the problems' three lines (filed, fixed, deadlines missed).
    for path, charts in (
        (f"/oversight/pilots/{pilot.id}", 5),
        (f"/oversight/pilots/{pilot.id}/report", 2),
    ):
        html = login_as(world.users["admin"]).get(path).get_data(as_text=True)
        assert html.count('<figure class="chart">') == charts, path
        # No SVG text: it would shrink and stretch with the chart.
        assert not re.search(r"<text\b", html)
        axis = r'<div class="chart-axis"><span>([^<]+)</span><span>([^<]+)</span>'
        months = re.findall(axis, html)
        assert len(months) == charts
        for pair in months:
            assert all(re.fullmatch(r"\d{4}年\d{1,2}月", m) for m in pair), pair
        assert '<span class="chart-top">100%</span>' in html


def test_a_month_kept_as_text_reads_like_any_other(app: Flask) -> None:
    with app.test_request_context():
        assert fmt_month(date(2026, 12, 1)) == "2026年12月"
        assert fmt_month("2026-12") == "2026年12月"
        assert fmt_month("2026-03-01") == "2026年3月"
        # Anything else is left as it was written, never an error.
        for text in ("2026-13", "0000-01", "十二月", "2026/12", "2026-12-01x"):
            assert fmt_month(text) == text
        assert fmt_month(None) == "" and fmt_month("") == ""
