"""The persona walk's machinery: a demo persona in a real browser, checked at every step.

A ``Walker`` wraps a Playwright page. The persona signs in through the login page and then
only clicks, types and chooses what is on the screen (``open`` is for the first page or a
QR link). Every click that loads a page or makes htmx swap something waits for exactly
that — a new document, or an htmx settle that the click itself started (timed polling
does not count) — and then checks the page:

- axe-core: no serious or critical WCAG 2.1 A/AA violation (tests/browser/axe.py);
- no id used twice;
- on a phone (360×740): no horizontal scrolling, and every visible target (link, button,
  field, summary, role=button, the label of a checkbox or radio) at least 24×24 px
  (WCAG 2.5.8), with its two exceptions: a link inside a line of text, and an undersized
  target whose 24-px circle meets no other target (nor another undersized one's circle);
- on a phone: primary actions (``PRIMARY``) and the navigation (``NAVIGATION``: everything
  in the top bar) at least 44×44 px.

Findings are collected per persona rather than raised, so one run lists them all; the test
fails at the end with a readable report. A step the persona cannot complete is recorded
and stops the walk there (``WalkBlocked``). ``WALK_FINDINGS=<folder>`` writes each
persona's findings to ``<folder>/<key>.md`` as well.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import axe

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "xinyi2026"  # README: all demo accounts share it
PRIMARY = "button.primary, .button.primary, input[type=submit].primary"
NAVIGATION = "header.topbar a[href], header.topbar button, header.topbar [role=button]"
HOME_NAV = "header a[href='/']:not(.brand)"
FIND_MS = 5_000  # how long a persona looks for something on the screen
LOAD_MS = 15_000  # how long a page load or an htmx swap may take


@dataclass(frozen=True)
class Persona:
    key: str  # the README row: "01" … "10"
    mobile: str
    name: str
    who: str
    phone: bool

    @property
    def device(self) -> str:
        return "phone 360×740" if self.phone else "desktop 1280×800"


PERSONAS = {
    p.key: p
    for p in (
        Persona("01", "13900000001", "王建华", "subdistrict admin", phone=False),
        Persona("02", "13900000002", "李秀兰", "community staff, 绿城社区", phone=False),
        Persona("03", "13900000003", "赵志刚", "community staff, 府东社区", phone=False),
        Persona("04", "13900000004", "陈丽", "community staff, 迎宾南社区", phone=False),
        Persona("05", "13900000005", "刘国庆", "committee chair, 绿城一片区", phone=False),
        Persona("06", "13900000006", "张桂英", "committee treasurer, 绿城一片区", phone=True),
        Persona("07", "13900000007", "孙德明", "committee chair, 新国土小区", phone=False),
        Persona("08", "13900000008", "周玉梅", "unit representative, 新国土小区", phone=True),
        Persona("09", "13900000009", "吴振华", "resident (owner), 新国土小区 1-1-101", phone=True),
        Persona("10", "13900000010", "郑晓燕", "resident (tenant), 城建小区 2-1-302", phone=True),
    )
}


VISITOR = Persona("QR", "", "visitor", "someone who scans a poster, not signed in", phone=True)


class WalkBlocked(Exception):
    """The persona cannot go on: the step is recorded as a finding."""


@dataclass
class Finding:
    check: str  # blocked, task, http, script, axe, duplicate-id, overflow, target-24, target-44
    what: str
    pages: list[str]  # where it was seen: the first address of each kind of page
    count: int = 1  # how many such elements on one page, at most
    example: str = ""

    def line(self) -> str:
        count = f" ×{self.count}" if self.count > 1 else ""
        example = f" (e.g. {self.example})" if self.example else ""
        shown = ", ".join(self.pages[:4]) + (
            f" +{len(self.pages) - 4} more" if len(self.pages) > 4 else ""
        )
        return f"[{self.check}] {self.what}{count}{example} — on {shown}"


ORDER = ["blocked", "task", "http", "script", "axe", "duplicate-id", "overflow", "target-24"]


@dataclass
class Report:
    persona: Persona
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    steps: int = 0
    checks: int = 0
    seconds: float = 0.0
    check_seconds: float = 0.0

    def add(self, check: str, url: str, what: str, count: int = 1, example: str = "") -> None:
        """One finding per check and description, with the kinds of page it was seen on."""
        found = self.findings.get((check, what))
        if found is None:
            found = self.findings[(check, what)] = Finding(check, what, [], count, example)
        found.count = max(found.count, count)
        if (check, what, page_key(url)) not in self.seen:
            self.seen.add((check, what, page_key(url)))
            found.pages.append(short_url(url))

    def render(self) -> str:
        p = self.persona
        head = (
            f"{p.key} {p.name} ({p.who}, {p.device}): {len(self.findings)} finding(s) "
            f"in {self.steps} steps, {self.checks} page checks, {self.seconds:.1f} s"
            f" ({self.check_seconds:.1f} s checking)"
        )
        rank = {check: n for n, check in enumerate(ORDER)}
        lines = sorted(
            self.findings.values(), key=lambda f: (rank.get(f.check, len(ORDER)), f.check)
        )
        return "\n".join([head, *("  " + f.line() for f in lines)])


def page_key(url: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(url).path)


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# Installed in every document before its own scripts: counts the htmx swaps a user's
# action started (polling has no triggering event), the requests in flight and failures,
# gives each document an identity, and records window.print() instead of opening a dialog.
INIT_SCRIPT = """
(() => {
  const w = window.__walk = {
    doc: Math.random().toString(36).slice(2), swaps: 0, inflight: 0, errors: [], printed: 0,
  };
  const on = (name, fn) => document.addEventListener(name, fn);
  on('htmx:beforeRequest', () => { w.inflight += 1; });
  on('htmx:afterRequest', (e) => {
    w.inflight = Math.max(0, w.inflight - 1);
    const config = e.detail && e.detail.requestConfig;
    // 204: done, nothing to swap (htmx-config's responseHandling).
    const status = e.detail && e.detail.xhr && e.detail.xhr.status;
    if (config && config.triggeringEvent && status === 204) w.swaps += 1;
  });
  on('htmx:afterSettle', (e) => {
    const config = e.detail && e.detail.requestConfig;
    if (config && config.triggeringEvent) w.swaps += 1;
  });
  on('htmx:responseError', (e) => {
    const d = e.detail;
    const verb = (d.requestConfig && d.requestConfig.verb) || '';
    w.errors.push(`${d.xhr.status} ${verb} ${d.pathInfo && d.pathInfo.requestPath}`);
  });
  on('htmx:sendError', () => { w.errors.push('no connection'); });
  window.print = () => { w.printed += 1; };
})();
"""

# What a click will do: open a page ("nav"), swap something in by htmx ("swap"), or
# neither ("none": a <details> with nothing to load, a tel: link, a print button).
DETECT = """
(el) => {
  const t = el.closest('a[href], button, summary, input, [role=button]') || el;
  const hx = (n) => !!n && ['hx-get', 'hx-post', 'hx-put', 'hx-patch', 'hx-delete']
    .some((a) => n.hasAttribute(a));
  if (t.tagName === 'SUMMARY') {
    const d = t.parentElement;
    return d && !d.open && d.querySelector('[hx-trigger*="toggle"]') ? 'swap' : 'none';
  }
  if (hx(t)) return 'swap';
  if (t.tagName === 'A') {
    const href = t.getAttribute('href') || '';
    if (!href || href.startsWith('#') || /^(tel|mailto|sms|javascript):/.test(href)) return 'none';
    if (t.hasAttribute('download') || t.target === '_blank') return 'none';
    const u = new URL(t.href, location.href);
    if (u.hash && u.pathname === location.pathname && u.search === location.search) return 'none';
    return 'nav';
  }
  if (t.tagName === 'BUTTON' || (t.tagName === 'INPUT' && ['submit', 'image'].includes(t.type))) {
    if (t.type === 'button' || t.type === 'reset' || t.hasAttribute('data-print')) return 'none';
    if (!t.form) return 'none';
    return hx(t.form) ? 'swap' : 'nav';
  }
  return 'none';
}
"""

FIRST_SCREEN = """
() => {
  window.scrollTo(0, 0);
  const height = Math.min(window.innerHeight, window.visualViewport.height);
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim() || !n.parentElement.checkVisibility()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    const seen = r.height > 0 && r.top < height && r.bottom > 0;
    if (seen) parts.push(n.textContent.trim());
  }
  return parts.join(' ');
}
"""

SETTLED = """
([kind, doc, swaps, errors]) => {
  const w = window.__walk;
  if (!w) return false;
  if (w.doc !== doc) return document.readyState === 'complete' && w.inflight === 0;
  if (kind === 'nav') return false;
  return (w.swaps > swaps || w.errors.length > errors) && w.inflight === 0;
}
"""

# The checks that are not axe's, in one pass over the page.
PAGE_CHECKS = """
(opts) => {
  const out = {dupes: [], overflow: null, small: [], big: []};
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    const cls = [...el.classList].slice(0, 3);
    if (cls.length) s += '.' + cls.join('.');
    const href = el.getAttribute('href');
    if (href) s += `[href="${href}"]`;
    else if (el.getAttribute('name') && !el.id) s += `[name="${el.getAttribute('name')}"]`;
    if (el.type && el.tagName === 'INPUT') s += `[type=${el.type}]`;
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 20);
    return text ? `${s} "${text}"` : s;
  };
  // The same kind of element, whatever its row: digits in its link and words as N.
  const kind = (el) => {
    let s = el.tagName.toLowerCase();
    const cls = [...el.classList].slice(0, 3);
    if (cls.length) s += '.' + cls.join('.');
    const href = el.getAttribute('href');
    if (href) s += `[href="${href.replace(/\\d+/g, 'N')}"]`;
    else if (el.getAttribute('name')) s += `[name="${el.getAttribute('name')}"]`;
    if (el.type && el.tagName === 'INPUT') s += `[type=${el.type}]`;
    const text = (el.innerText || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').replace(/\\d+/g, 'N').slice(0, 16);
    return text ? `${s} "${text}"` : s;
  };

  const ids = new Map();
  for (const el of document.querySelectorAll('[id]')) {
    if (el.id) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  }
  for (const [id, n] of ids) if (n > 1) out.dupes.push({id, n});
  if (!opts.phone) return out;

  // The phone's width, not innerWidth: a mobile browser widens its layout viewport to fit
  // a page that overflows (innerWidth becomes the page's width), and the person scrolls.
  const vw = opts.width;
  const scroller = document.scrollingElement;
  if (scroller.scrollWidth > vw) {
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 0.5) continue;
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break; }
      }
      if (!clipped) wide.push(el);
    }
    const leaves = wide.filter((el) => !wide.some((o) => o !== el && el.contains(o)));
    out.overflow = {
      width: scroller.scrollWidth, viewport: vw,
      culprits: leaves.slice(0, 4).map(
        (el) => `${describe(el)} right=${Math.round(el.getBoundingClientRect().right)}`),
    };
  }

  const SELECTOR = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], label';
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const choice = (el) => el && el.tagName === 'INPUT'
    && (el.type === 'checkbox' || el.type === 'radio');
  const targets = [];
  for (const el of document.querySelectorAll(SELECTOR)) {
    let r;
    if (el.tagName === 'LABEL') {
      // The label of a checkbox or radio is part of its target: measure them together.
      if (!choice(el.control) || !visible(el)) continue;
      r = el.getBoundingClientRect();
      if (visible(el.control) && !el.contains(el.control)) {
        const c = el.control.getBoundingClientRect();
        const left = Math.min(r.left, c.left), top = Math.min(r.top, c.top);
        r = {left, top, right: Math.max(r.right, c.right), bottom: Math.max(r.bottom, c.bottom)};
        r.width = r.right - r.left; r.height = r.bottom - r.top;
      }
    } else {
      if (choice(el) && [...(el.labels || [])].some(visible)) continue;
      if (!visible(el)) continue;
      r = el.getBoundingClientRect();
    }
    if (r.width < 1 || r.height < 1) continue;
    if (r.right <= 0 || r.bottom + window.scrollY <= 0) continue;  // parked off-screen (skip link)
    targets.push({
      el, r, w: r.width, h: r.height,
      cx: r.left + r.width / 2, cy: r.top + r.height / 2,
      small: r.width < 23.99 || r.height < 23.99,
    });
  }

  // WCAG 2.5.8's inline exception: a link in a sentence, i.e. sharing its line with text
  // that is not itself a target.
  const SENTENCE = 6;
  const inSentence = (el) => {
    if (el.tagName !== 'A' || getComputedStyle(el).display !== 'inline') return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) {
      block = block.parentElement;
    }
    if (!block) return false;
    const lines = [...el.getClientRects()];
    let text = '';
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (el.contains(n) || n.parentElement.closest(SELECTOR)) continue;
      const t = n.textContent.replace(/[\\s·›‹|•,，。.:：;；()（）\\-–—\\/]+/g, '');
      if (!t) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const same = [...range.getClientRects()].some(
        (r) => lines.some((l) => r.top < l.bottom && r.bottom > l.top));
      if (same) text += t;
      if (text.length >= SENTENCE) return true;
    }
    return false;
  };
  const distance = (x, y, r) => Math.hypot(
    Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  for (const t of targets) {
    if (!t.small || inSentence(t.el)) continue;
    let near = null;
    for (const o of targets) {
      if (o === t || o.el.contains(t.el) || t.el.contains(o.el)) continue;
      const meets = o.small
        ? Math.hypot(t.cx - o.cx, t.cy - o.cy) < 24
        : distance(t.cx, t.cy, o.r) < 12;
      if (meets) { near = o; break; }
    }
    if (near) {
      out.small.push({
        desc: describe(t.el), kind: kind(t.el), w: Math.round(t.w), h: Math.round(t.h),
        near: describe(near.el),
      });
    }
  }
  for (const t of targets) {
    if (!(t.el.matches(opts.primary) || t.el.matches(opts.nav))) continue;
    if (t.w < 43.99 || t.h < 43.99) {
      out.big.push({desc: describe(t.el), kind: kind(t.el), w: Math.round(t.w), h: Math.round(t.h),
                    nav: t.el.matches(opts.nav)});
    }
  }
  return out;
}
"""


class Walker:
    """One persona in one browser context; see the module's docstring."""

    def __init__(
        self,
        page: Page,
        persona: Persona,
        base_url: str,
        report: Report,
        spawn: Callable[[], Walker] | None = None,
    ) -> None:
        self.page = page
        self.persona = persona
        self.base_url = base_url
        self.report = report
        self._spawn = spawn
        self.status = 200  # the last document's HTTP status
        page.on("response", self._response)
        page.on("pageerror", lambda err: self.note("script", f"script error: {err}"))
        page.on("console", self._console)
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm: the persona agrees

    # --- what the persona does ---------------------------------------------------------

    def open(self, path: str) -> None:
        """Type an address: only the first page, or the link of a QR code."""
        self.report.steps += 1
        self.page.goto(path)
        self._settle("nav", None, f"open {path}")
        self._check()

    def sign_in(self) -> None:
        self.open("/auth/login")
        self.fill("input[name=mobile]", self.persona.mobile)
        self.fill("input[name=password]", PASSWORD)
        self.click("main form button[type=submit]", what="the sign-in button")
        if urlsplit(self.page.url).path.startswith("/auth/login"):
            self.blocked("signing in failed")

    def visitor(self) -> Walker:
        """Someone else on a phone, not signed in (scanning a poster's QR code): their pages
        are checked the same way and their findings go into this walk's report."""
        assert self._spawn is not None
        return self._spawn()

    def home(self) -> None:
        """Back to the home page through the top bar: its 首页 link, or else the app's name."""
        target = HOME_NAV if self.has(HOME_NAV) else "header a[href='/']"
        self.click(target, what="首页 in the navigation")

    def click(self, target: str | Locator, *, what: str = "", expect: str = "auto") -> None:
        """Click what the persona sees; wait for the page or the swap it causes; check."""
        loc = self.find(target, what)
        kind = loc.evaluate(DETECT) if expect == "auto" else expect
        # A <summary> opens its section: what it reveals is checked too.
        unfolds = bool(loc.evaluate("(el) => !!el.closest('summary')"))
        before = self._state()
        self.report.steps += 1
        t0 = time.monotonic()
        try:
            loc.click(timeout=FIND_MS)
        except PlaywrightError as exc:
            self.blocked(f"cannot click {what or target}: {first_line(exc)}")
        t1 = time.monotonic()
        self._settle(kind, before, what or str(target))
        t2 = time.monotonic()
        if kind != "none" or unfolds:
            self._check()
        if os.environ.get("WALK_TRACE"):  # where the time goes, step by step (pytest -s)
            took = (
                f"click {t1 - t0:.2f} s, wait {t2 - t1:.2f} s, check {time.monotonic() - t2:.2f} s"
            )
            print(f"walk {self.persona.key} {kind:5} {took}: {what or target} → {self.page.url}")

    def fill(self, target: str | Locator, value: str, *, what: str = "") -> None:
        loc = self.find(target, what)
        loc.fill(value, timeout=FIND_MS)

    def choose(
        self,
        target: str | Locator,
        *,
        value: str | None = None,
        label: str | None = None,
        what: str = "",
    ) -> None:
        """Pick an option of a <select>; waits for the swap if the choice makes one."""
        loc = self.find(target, what)
        live = loc.evaluate(
            "(el) => ['hx-get','hx-post'].some((a) => el.hasAttribute(a)"
            " || (el.form && el.form.hasAttribute(a)"
            " && /change|input/.test(el.form.getAttribute('hx-trigger') || '')))"
        )
        before = self._state()
        self.report.steps += 1
        try:
            if value is not None:
                loc.select_option(value=value, timeout=FIND_MS)
            else:
                loc.select_option(label=label, timeout=FIND_MS)
        except PlaywrightError as exc:
            self.blocked(f"cannot choose {value or label} in {what or target}: {first_line(exc)}")
        if live:
            self._settle("swap", before, what or str(target))
            self._check()

    def tick(self, target: str | Locator, *, what: str = "") -> None:
        self.find(target, what).check(timeout=FIND_MS)

    def attach(self, target: str | Locator, path: Path, *, what: str = "") -> None:
        self.find(target, what).set_input_files(str(path), timeout=FIND_MS)

    def download(self, target: str | Locator, into: Path, *, what: str = "") -> Path:
        loc = self.find(target, what)
        self.report.steps += 1
        with self.page.expect_download(timeout=LOAD_MS) as info:
            loc.click(timeout=FIND_MS)
        path = into / info.value.suggested_filename
        info.value.save_as(path)
        return path

    # --- what the persona sees -----------------------------------------------------------

    def find(self, target: str | Locator, what: str = "") -> Locator:
        """The first visible match. One folded away in a closed <details> is unfolded first,
        as a person would: its summary is clicked (and the page checked)."""
        every = self.page.locator(target) if isinstance(target, str) else target
        loc = every.filter(visible=True).first
        if not loc.count() and every.count():
            self._unfold(every.first, what or str(target))
        try:
            loc.wait_for(state="visible", timeout=FIND_MS)
        except PlaywrightTimeout:
            self.blocked(f"cannot find {what or target} on the page")
        return loc

    def open_folds(self, within: str = "main") -> None:
        """Open the page's closed sections (<details> not inside another), one tap each."""
        closed = f"{within} details:not([open]):not(details details) > summary"
        for _ in range(self.page.locator(closed).count()):
            summary = self.page.locator(closed).filter(visible=True).first
            if not summary.count():
                return
            self.click(summary, what="a folded section")

    def _unfold(self, hidden: Locator, what: str) -> None:
        folds = hidden.evaluate(
            """(el) => {
              const closed = [];
              for (let d = el.closest('details:not([open])'); d;
                   d = d.parentElement && d.parentElement.closest('details:not([open])')) {
                closed.unshift(d);
              }
              return closed.map((d, n) => {
                const mark = `${Date.now()}-${n}`;
                d.setAttribute('data-walk-fold', mark);
                return mark;
              });
            }"""
        )
        for mark in folds:
            self.click(
                f"details[data-walk-fold='{mark}'] > summary", what=f"the fold holding {what}"
            )

    def has(self, target: str) -> bool:
        return self.page.locator(target).filter(visible=True).count() > 0

    def text(self, within: str = "main") -> str:
        """The visible text of the first element matching ``within`` ("" if there is none)."""
        where = self.page.locator(within).first
        return where.inner_text(timeout=FIND_MS) if where.count() else ""

    def sees(self, pattern: str, *, within: str = "main", folded: bool = False) -> bool:
        """Whether the visible text matches (a regular expression); with ``folded``, text in
        closed <details> counts too (it is one tap away)."""
        if folded:
            where = self.page.locator(within).first
            text = (where.text_content(timeout=FIND_MS) or "") if where.count() else ""
            return re.search(pattern, text) is not None
        return re.search(pattern, self.text(within)) is not None

    def must_see(
        self, pattern: str, what: str, *, within: str = "main", folded: bool = False
    ) -> None:
        if not self.sees(pattern, within=within, folded=folded):
            self.blocked(f"{what}: the page does not show /{pattern}/")

    def should_see(
        self, pattern: str, what: str, *, within: str = "main", folded: bool = False
    ) -> None:
        if not self.sees(pattern, within=within, folded=folded):
            self.note("task", f"{what}: the page does not show /{pattern}/")

    def counts_told(self) -> list[tuple[int, int]]:
        """The "N / M" counts on the page (homes told of homes), in their order."""
        return [(int(a), int(b)) for a, b in re.findall(r"(\d+)\s*/\s*(\d+)", self.text())]

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.note("task", what)

    def at(self, path_pattern: str) -> bool:
        return re.fullmatch(path_pattern, urlsplit(self.page.url).path) is not None

    def must_be_at(self, path_pattern: str, what: str) -> None:
        if not self.at(path_pattern):
            self.blocked(f"{what}: expected a page at {path_pattern}")

    def first_screen(self) -> str:
        """The text of the page's first screen, scrolled to the top."""
        return str(self.page.evaluate(FIRST_SCREEN))

    def confirm_if_asked(self, what: str, done: Callable[[], bool]) -> None:
        """Until ``done()``: a second step that asks to confirm (on a page of its own or in
        the same form) gets its boxes ticked and its primary button pressed, twice at most."""
        for _ in range(2):
            if done():
                return
            asking = self.page.locator("main form button[type=submit].primary").filter(visible=True)
            if not asking.count():
                return
            form = asking.first.locator("xpath=ancestor::form[1]")
            for box in form.locator("input[type=checkbox]").filter(visible=True).all():
                box.check()
            self.click(asking.first, what=f"confirm {what}")

    def printed(self) -> int:
        return int(self.page.evaluate("window.__walk ? window.__walk.printed : 0"))

    # --- findings ------------------------------------------------------------------------

    def note(self, check: str, what: str, *, count: int = 1, example: str = "") -> None:
        self.report.add(check, self.page.url, what, count, example)

    def blocked(self, what: str) -> NoReturn:
        self.note("blocked", what)
        raise WalkBlocked(what)

    # --- machinery -----------------------------------------------------------------------

    def _response(self, response: Any) -> None:
        request = response.request
        if request.is_navigation_request() and response.frame == self.page.main_frame:
            self.status = response.status

    def _console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.note("script", f"CSP: {text[:160]}")

    def _state(self) -> list[Any]:
        return self.page.evaluate(
            "[window.__walk.doc, window.__walk.swaps, window.__walk.errors.length]"
        )

    def _settle(self, kind: str, before: list[Any] | None, what: str) -> None:
        if kind == "none":
            return
        state = [kind, *(before or ["", 0, 0])]
        deadline = time.monotonic() + LOAD_MS / 1000
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                awaited = "no new page" if kind == "nav" else "no htmx swap"
                self.blocked(f"{what}: nothing happened ({awaited})")
            try:
                self.page.wait_for_function(SETTLED, arg=state, timeout=left)
                break
            except PlaywrightTimeout:
                continue
            except PlaywrightError as exc:  # the page navigated while we asked
                if "context was destroyed" in str(exc) or "navigat" in str(exc):
                    continue
                raise
        errors = self.page.evaluate("window.__walk.errors")
        if before is not None and len(errors) > before[2]:
            self.note("http", f"htmx request failed: {errors[-1]}")
            self.blocked(f"{what}: the request failed ({errors[-1]})")
        if kind == "nav" and self.status >= 400 and self.status != 422:
            self.note("http", f"the page answered {self.status}")

    def _check(self) -> None:
        t0 = time.monotonic()
        try:
            self._check_now()
        finally:
            self.report.check_seconds += time.monotonic() - t0

    def _check_now(self) -> None:
        self.report.checks += 1
        width = (self.page.viewport_size or PHONE)["width"]
        found = self.page.evaluate(
            PAGE_CHECKS,
            {"phone": self.persona.phone, "width": width, "primary": PRIMARY, "nav": NAVIGATION},
        )
        for dupe in found["dupes"]:
            self.note("duplicate-id", f'id "{dupe["id"]}" used {dupe["n"]} times')
        if found["overflow"]:
            o = found["overflow"]
            self.note(
                "overflow",
                f"page is {o['width']} px wide on a {o['viewport']} px screen",
                example="; ".join(o["culprits"]),
            )
        for kind, items in _grouped(found["small"]).items():
            first = items[0]
            self.note(
                "target-24",
                f"{kind} {first['w']}×{first['h']} px (needs 24×24 or room around it;"
                f" next to {first['near']})",
                count=len(items),
                example=first["desc"] if len(items) > 1 else "",
            )
        for kind, items in _grouped(found["big"]).items():
            first = items[0]
            role = "navigation" if first["nav"] else "primary action"
            self.note(
                "target-44",
                f"{role} {kind} {first['w']}×{first['h']} px (needs 44×44 on a phone)",
                count=len(items),
            )
        try:
            found_axe = axe.violations(self.page)
        except PlaywrightError:  # a timed poll swapped content while axe ran: once more
            found_axe = axe.violations(self.page)
        for v in found_axe:
            self.note(
                "axe",
                f"{v['id']} ({v['impact']}): {v['help']}",
                example=", ".join(v["nodes"]),
            )


def _grouped(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["kind"], []).append(item)
    return groups


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200]


@contextmanager
def walking(browser: Any, base_url: str, persona: Persona) -> Iterator[Walker]:
    """A persona's walk: a fresh browser context on their device, signed in through the
    login page. The test fails at the end if anything was found, with the whole report."""
    report = Report(persona)
    contexts: list[Any] = []

    def open_page(who: Persona) -> Page:
        options: dict[str, Any] = {"locale": "zh-CN", "base_url": base_url}
        if who.phone:
            options.update(viewport=PHONE, is_mobile=True, has_touch=True)
        else:
            options.update(viewport=DESKTOP)
        context = browser.new_context(**options)
        context.add_init_script(INIT_SCRIPT)
        contexts.append(context)
        return context.new_page()

    def spawn() -> Walker:
        return Walker(open_page(VISITOR), VISITOR, base_url, report)

    walker = Walker(open_page(persona), persona, base_url, report, spawn)
    started = time.monotonic()
    crash: BaseException | None = None
    try:
        walker.sign_in()
        yield walker
    except WalkBlocked:
        pass
    except Exception as exc:
        crash = exc
        try:
            walker.note("blocked", f"the walk broke off: {type(exc).__name__}: {first_line(exc)}")
        except PlaywrightError:
            report.add("blocked", base_url, f"the walk broke off: {first_line(exc)}")
    finally:
        report.seconds = time.monotonic() - started
        for context in contexts:
            context.close()
        _write(report)
    if report.findings:
        message = "The persona walk found faults:\n" + report.render()
        if crash is not None:
            raise AssertionError(message) from crash
        pytest.fail(message, pytrace=False)


def _write(report: Report) -> None:
    folder = os.environ.get("WALK_FINDINGS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{report.persona.key}.md").write_text(report.render() + "\n", "utf-8")


def one_more_told(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> bool:
    """Some "N / M" count went up by one, out of the same M."""
    return any(
        (a_told, a_homes) == (b_told + 1, b_homes)
        for (b_told, b_homes), (a_told, a_homes) in zip(before, after, strict=False)
    )


def photo(folder: Path, name: str = "photo.jpg") -> Path:
    """A phone photo to attach (a voucher, a ballot): a plain JPEG."""
    from PIL import Image

    path = folder / name
    Image.new("RGB", (800, 600), (180, 170, 160)).save(path, "JPEG")
    return path
