"""The persona walk's page checks catch what they are meant to, and pass what WCAG allows."""

from __future__ import annotations

from typing import Any

from tests.browser.walk import PHONE, VISITOR, Report, Walker

FAULTY = """<!doctype html><html lang="zh"><head><title>t</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;font:16px/1.4 sans-serif">
<header class="topbar"><a class="brand" href="/">小区自治管理</a></header>
<main>
  <h1>页面</h1>
  <p id="twice">一</p><p id="twice">二</p>
  <div><a href="/a" style="font-size:12px">甲</a><a href="/b" style="font-size:12px">乙</a></div>
  <p style="margin-top:40px"><button class="primary" style="font-size:12px">确认</button></p>
  <div style="width:600px">宽</div>
</main></body></html>"""

FINE = """<!doctype html><html lang="zh"><head><title>t</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0;font:16px/1.4 sans-serif">
<header class="topbar"><a class="brand" href="/"
  style="display:inline-block;min-width:44px;min-height:44px">首页</a></header>
<main>
  <h1>页面</h1>
  <p>这是一句很长的话，中间有一个<a href="/inline">链接</a>，行内链接可以小一些。</p>
  <p style="margin-top:40px">单独的小链接 <a href="/alone" style="font-size:12px">乙</a></p>
  <p style="margin-top:40px"><a href="/far" style="font-size:12px">远</a></p>
  <p style="margin-top:40px"><label><input type="checkbox" name="c"> 同意，标签够大</label></p>
  <p style="margin-top:40px"><button class="primary" style="min-width:44px;min-height:44px">
    确认</button></p>
</main></body></html>"""


def checked(browser: Any, html: str) -> Report:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.set_content(html)
        report = Report(VISITOR)
        Walker(page, VISITOR, "http://127.0.0.1", report)._check()
        return report
    finally:
        context.close()


def test_the_checks_find_duplicate_ids_overflow_crowded_and_small_targets(browser):
    findings = checked(browser, FAULTY).findings.values()
    found = {f.check: f for f in findings}
    assert 'id "twice" used 2 times' in found["duplicate-id"].what
    assert "600 px wide on a 360 px screen" in found["overflow"].what
    assert '"甲"' in found["target-24"].what or '"乙"' in found["target-24"].what
    small = [f.what for f in findings if f.check == "target-44"]
    assert any("primary action" in w and "确认" in w for w in small), small
    assert any("navigation" in w and "小区自治管理" in w for w in small), small


def test_the_checks_allow_inline_links_and_small_targets_with_room_around_them(browser):
    found = checked(browser, FINE).findings
    assert not found, [f.line() for f in found.values()]
