"""The page benchmark of docs/ARCHITECTURE.md §5: latency, floor ratio, growth, statements.

Builds the small and the city dataset, then, in-process through the Flask test client,
requests each key page as the role that uses it. Writes bench/out/latest.json (and
latest-<engine>.json) and a Markdown table.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template_string
from flask_login import login_required
from sqlalchemy import event

from . import common

WARMUP = 5
SAMPLES = 60


ANONYMOUS = "anonymous"  # a neighbour who scanned a poster: no account, no sign-in


@dataclass(frozen=True)
class Page:
    name: str
    role: str
    path: Callable[[common.Cast], str]
    per_compound: bool
    target_ratio: float = 5.0


PAGES = [
    Page("home_resident", "resident", lambda c: "/", True),
    Page("home_unit_rep", "unit_rep", lambda c: "/", True),
    Page("home_committee", "committee_member", lambda c: "/", True),
    Page(
        "compound_committee",
        "committee_member",
        lambda c: f"/registry/compounds/{c.compound_id}",
        True,
    ),
    Page("compound_unit_rep", "unit_rep", lambda c: f"/registry/compounds/{c.compound_id}", True),
    Page("compound_resident", "resident", lambda c: f"/registry/compounds/{c.compound_id}", True),
    Page(
        "building_committee",
        "committee_member",
        lambda c: f"/registry/buildings/{c.building_id}",
        True,
    ),
    Page(
        "household_resident", "resident", lambda c: f"/registry/households/{c.household_id}", True
    ),
    Page("committee_page", "committee_member", lambda c: f"/committees/areas/{c.area_id}", True),
    Page("area_page", "committee_member", lambda c: f"/registry/areas/{c.area_id}", True),
    Page(
        "community_staff",
        "community_staff",
        lambda c: f"/registry/communities/{c.community_id}",
        False,
    ),
    Page("compound_list_staff", "community_staff", lambda c: "/registry/compounds", False),
    Page(
        "compound_list_filtered",
        "subdistrict_admin",
        lambda c: "/registry/compounds?q=小区&model=party_branch",
        False,
    ),
    Page("communities_admin", "subdistrict_admin", lambda c: "/registry/communities", False, 10.0),
    Page("home_admin", "subdistrict_admin", lambda c: "/", False, 10.0),
    Page("people_staff", "community_staff", lambda c: "/people/", False),
    # Fees: the representative's stairwell pages, the resident's bills, the committee's books.
    Page("fees_unit_rep", "unit_rep", lambda c: f"/fees/units/{c.unit_id}", True),
    Page("pay_form_rep", "unit_rep", lambda c: f"/fees/households/{c.household_id}/pay", True),
    Page("arrears_notice_rep", "unit_rep", lambda c: f"/fees/units/{c.unit_id}/notice", True),
    Page(
        "household_fees_resident",
        "resident",
        lambda c: f"/fees/households/{c.household_id}",
        True,
    ),
    Page("receipt_resident", "resident", lambda c: f"/fees/payments/{c.payment_id}", True),
    Page(
        "finance_board_resident",
        "resident",
        lambda c: f"/fees/areas/{c.area_id}/board?month={_last_month()}",
        True,
    ),
    Page("fees_area_committee", "committee_member", lambda c: f"/fees/areas/{c.area_id}", True),
    Page(
        "arrears_committee",
        "committee_member",
        lambda c: f"/fees/areas/{c.area_id}/arrears",
        True,
    ),
    Page("cash_committee", "committee_member", lambda c: f"/fees/areas/{c.area_id}/cash", True),
    # Reconciliation (对账): the area's accounts against their statements, as its treasurer.
    Page(
        "reconcile_treasurer",
        "treasurer",
        lambda c: f"/reconcile/areas/{c.area_id}",
        True,
    ),
    Page(
        "expenses_committee",
        "committee_member",
        lambda c: f"/fees/areas/{c.area_id}/expenses",
        True,
    ),
    # Repairs: the public works board and my reports, the committee's list, a task, the register.
    Page(
        "works_board_resident",
        "resident",
        lambda c: f"/repairs/compounds/{c.compound_id}/board",
        True,
    ),
    Page("my_reports_resident", "resident", lambda c: "/repairs/mine", True),
    Page(
        "repair_tasks_committee",
        "committee_member",
        lambda c: f"/repairs/compounds/{c.compound_id}",
        True,
    ),
    Page("repair_task_committee", "committee_member", lambda c: f"/repairs/{c.task_id}", True),
    Page(
        "facilities_committee",
        "committee_member",
        lambda c: f"/repairs/compounds/{c.compound_id}/facilities",
        True,
    ),
    # Oversight: every pilot of the subdistrict (200 in the city), and one pilot's page.
    Page("oversight_admin", "subdistrict_admin", lambda c: "/oversight/", False, 10.0),
    Page("oversight_staff", "community_staff", lambda c: "/oversight/", False),
    Page("pilot_staff", "community_staff", lambda c: f"/oversight/pilots/{c.pilot_id}", True),
    # The three lists: a compound's problem register, and the subdistrict's lists (every
    # community's figures, kept per month on write).
    Page(
        "problems_committee",
        "committee_member",
        lambda c: f"/problems/compounds/{c.compound_id}",
        True,
    ),
    Page(
        "lists_admin",
        "subdistrict_admin",
        lambda c: f"/oversight/lists/subdistricts/{c.subdistrict_id}",
        False,
        10.0,
    ),
    Page("votes_committee", "committee_member", lambda c: "/votes/", True),
    # Messages: the inbox (the home pages above start with what waits for the person).
    Page("inbox_resident", "resident", lambda c: "/messages/", True),
    Page("inbox_committee", "committee_member", lambda c: "/messages/", True),
    # Notices: the compound's list, a notice as its resident and as the committee (with who
    # has been told), the representative's round, and the poster's public page (no sign-in).
    Page("notices_resident", "resident", lambda c: f"/notices/compounds/{c.compound_id}", True),
    Page("notice_resident", "resident", lambda c: f"/notices/{c.notice_id}", True),
    Page("notice_committee", "committee_member", lambda c: f"/notices/{c.notice_id}", True),
    Page(
        "notice_poster_committee",
        "committee_member",
        lambda c: f"/notices/{c.notice_id}/poster",
        True,
    ),
    Page("rounds_unit_rep", "unit_rep", lambda c: "/notices/rounds", True),
    Page("public_notice", ANONYMOUS, lambda c: f"/p/{c.notice_token}", True),
    # The maintenance fund of the cast's compound, and its area's archive, as an owner sees them.
    Page("fund_resident", "resident", lambda c: f"/fund/compounds/{c.compound_id}", True),
    Page("archive_resident", "resident", lambda c: f"/archive/areas/{c.area_id}", True),
]


def _last_month() -> str:
    from compound_app import clock
    from compound_app.months import add_months, month_of

    return f"{add_months(month_of(clock.today()), -1):%Y-%m}"


FLOOR = "/_bench/floor"


def _floor_blueprint() -> Blueprint:
    """The floor: signed in, renders the base layout, asks nothing of its own."""
    bp = Blueprint("bench_floor", __name__)

    @bp.get(FLOOR)
    @login_required
    def floor() -> str:
        return render_template_string('{% extends "base.html" %}{% block content %}{% endblock %}')

    return bp


@dataclass
class Site:
    """One dataset served in-process: its engine, the cast, a signed-in client per role."""

    engine: Any
    who: common.Cast
    clients: dict[str, Any]


def open_site(url: str) -> Site:
    from compound_app.auth.models import User
    from compound_app.extensions import db

    app = common.make_app(url)
    app.config["WTF_CSRF_ENABLED"] = False
    app.register_blueprint(_floor_blueprint())
    # Set-up inside an app context; requests run outside it, each in its own, as in a server.
    with app.app_context():
        who = common.cast()
        common.set_passwords(list(who.users.values()))
        mobiles = {role: db.session.get(User, uid).mobile for role, uid in who.users.items()}
        engine = db.engine
        db.session.remove()
    clients = {}
    for role, mobile in mobiles.items():
        client = app.test_client()
        response = client.post("/auth/login", data={"mobile": mobile, "password": common.PASSWORD})
        assert response.status_code == 303, (role, response.status_code)
        clients[role] = client
    clients[ANONYMOUS] = app.test_client()
    return Site(engine, who, clients)


def _statements(site: Site, role: str, path: str) -> int:
    seen: list[str] = []

    def count(*_args: Any) -> None:
        seen.append("")

    event.listen(site.engine, "before_cursor_execute", count)
    response = site.clients[role].get(path)
    event.remove(site.engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen)


def _timed(site: Site, role: str, path: str) -> float:
    started = time.perf_counter()
    site.clients[role].get(path)
    return (time.perf_counter() - started) * 1000


def measure(
    small: Site, city: Site, role: str, path_of: Callable[[common.Cast], str]
) -> dict[str, Any]:
    """Samples alternate between the datasets and the floor page, so all three see the same
    machine conditions (a shared VM's speed drifts by a factor of two within a minute)."""
    runs = {
        "small": (small, role, path_of(small.who)),
        "city": (city, role, path_of(city.who)),
        "floor": (city, "committee_member", FLOOR),
    }
    for site, who, path in runs.values():
        for _ in range(WARMUP):
            _timed(site, who, path)
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(SAMPLES):
        for name, (site, who, path) in runs.items():
            timings[name].append(_timed(site, who, path))
    return {
        name: {"timings": timings[name], "statements": _statements(site, who, path)}
        for name, (site, who, path) in runs.items()
    }


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run() -> dict[str, Any]:
    engine = common.engine_name()
    print(f"benchmark on {engine}: building datasets…", flush=True)
    jobs = {}
    sites = {}
    for scale, households in (("small", 3000), ("city", 30000)):
        url = common.dataset_url(f"bench_{scale}")
        timings: dict[str, float] = {}
        seconds = common.build(scale, url, timings)
        jobs[f"build_{scale}_dataset"] = {
            "seconds": round(seconds, 2),
            "per_second": round(households / seconds, 1),
        }
        print(f"  {scale}: {households} households built in {seconds:.1f} s", flush=True)
        # Of which the repairs: planning every task's timeline, and inserting the rows.
        tasks = households * 2 // 3  # 100 per compound of 150 homes: 20,000 in the city
        repairs = timings["repairs_rows"] + timings["repairs_insert"]
        jobs[f"build_{scale}_repairs"] = {
            "seconds": round(repairs, 2),
            "per_second": round(tasks / repairs, 1),
            "tasks": tasks,
        }
        jobs[f"check_months_{scale}"] = {
            "seconds": round(timings["check_months"], 2),
            "per_second": round(tasks / timings["check_months"], 1),
            "tasks": tasks,
        }
        print(
            f"    repairs: {tasks} tasks in {repairs:.1f} s (planned "
            f"{timings['repairs_rows']:.1f} s, inserted {timings['repairs_insert']:.1f} s); "
            f"monthly figures proven in {timings['check_months']:.1f} s",
            flush=True,
        )
        sites[scale] = open_site(url)
    print("  measuring pages…", flush=True)
    pages = {}
    floors: list[float] = []
    floor_statements = 0
    # BENCH_PAGES=name,name measures those pages only (the jobs always run).
    only = {n for n in os.environ.get("BENCH_PAGES", "").split(",") if n}
    for page in PAGES:
        if only and page.name not in only:
            continue
        m = measure(sites["small"], sites["city"], page.role, page.path)
        city, small = m["city"], m["small"]
        p50 = statistics.median(city["timings"])
        floors += m["floor"]["timings"]
        floor_statements = m["floor"]["statements"]
        pages[page.name] = {
            "role": page.role,
            "p50_ms": round(p50, 2),
            "p95_ms": round(_p(city["timings"], 0.95), 2),
            "ratio_to_floor": round(p50 / statistics.median(m["floor"]["timings"]), 2),
            "growth": round(p50 / statistics.median(small["timings"]), 2),
            "statements_small": small["statements"],
            "statements_city": city["statements"],
            "per_compound": page.per_compound,
            "target_ratio": page.target_ratio,
        }
    floor_p50 = statistics.median(floors)
    for site in sites.values():
        site.engine.dispose()
    jobs.update(bill_jobs(common.dataset_url("bench_city")))
    jobs.update(outbox_jobs(common.dataset_url("bench_city")))
    jobs.update(reconcile_jobs(common.dataset_url("bench_city")))
    return {
        "engine": engine,
        "pages": pages,
        "floor_p50_ms": round(floor_p50, 2),
        "floor_statements": floor_statements,
        "jobs": jobs,
        "machine": common.machine(),
        "samples_per_page": SAMPLES,
    }


def bill_jobs(url: str) -> dict[str, dict[str, float]]:
    """Issue next month's bills for every household of the city, then run it again."""
    from sqlalchemy import func, select

    from compound_app import clock
    from compound_app.database import writing
    from compound_app.extensions import db
    from compound_app.fees import ledger, proofs
    from compound_app.months import add_months, month_of
    from compound_app.registry.models import Household, ManagementArea

    app = common.make_app(url)
    jobs = {}
    with app.app_context(), writing():
        month = add_months(month_of(clock.today()), 1)
        households = db.session.scalar(select(func.count(Household.id)))
        areas = db.session.scalars(select(ManagementArea.id)).all()
        for name in ("bill_generation_city_month", "bill_generation_rerun"):
            started = time.perf_counter()
            issued = 0
            for area_id in areas:
                issued += ledger.generate_bills(area_id, month)
                db.session.commit()
            seconds = time.perf_counter() - started
            jobs[name] = {
                "seconds": round(seconds, 2),
                "per_second": round(households / seconds, 1),
                "bills": issued,
            }
            print(f"  {name}: {issued} bills for {households} households in {seconds:.2f} s")
        problems = proofs.check_totals(areas[0])
        assert not problems, problems[:5]
        db.engine.dispose()
    return jobs


OUTBOX_ROWS = 2000


def outbox_jobs(url: str) -> dict[str, dict[str, float]]:
    """The SMS worker's delivery rate through the outbox with the dev backend: claim, write
    the dev box's row and mark it sent, a row at a time as in production."""
    from compound_app import clock
    from compound_app.database import writing
    from compound_app.extensions import db
    from compound_app.messages import delivery
    from compound_app.messages.providers import DevBackend
    from compound_app.messages.service import enqueue_sms

    app = common.make_app(url)
    with app.app_context():
        app.config.update(SMS_QUIET_START=0, SMS_QUIET_END=0)
        with writing():
            for n in range(OUTBOX_ROWS):
                row = enqueue_sms(f"139{n:08d}", "notice", {"title": f"通知{n}"})
                row.next_try_at = clock.now()
            db.session.commit()
        started = time.perf_counter()
        sent = 0
        while True:
            report = delivery.run_batch("bench", DevBackend())
            sent += report.sent
            if not report.claimed:
                break
        seconds = time.perf_counter() - started
        db.engine.dispose()
    print(f"  sms_delivery_dev: {sent} SMS in {seconds:.2f} s")
    return {
        "sms_delivery_dev": {
            "seconds": round(seconds, 2),
            "per_second": round(sent / seconds, 1),
            "messages": sent,
        }
    }


STATEMENT_LINES = 10_000


def reconcile_jobs(url: str) -> dict[str, dict[str, float]]:
    """A WeChat Pay bill of 10,000 lines for the cast's area of the city: a line for each of
    its WeChat payments (as many as there are), the rest money nobody has placed yet. Timed:
    reading the file alone, then importing it and proposing every match."""
    import csv
    import io
    import random

    from sqlalchemy import select

    from compound_app import clock
    from compound_app.database import writing
    from compound_app.extensions import db
    from compound_app.fees.models import Method, Payment
    from compound_app.reconcile import service, statements
    from compound_app.registry.models import ManagementArea
    from compound_app.treasury.models import AccountKind, MoneyAccount
    from compound_app.treasury.service import money_keepers, open_account

    app = common.make_app(url)
    with app.app_context(), app.test_request_context(), writing():
        area_id = common.cast().area_id
        account = db.session.scalar(
            select(MoneyAccount).where(
                MoneyAccount.area_id == area_id,
                MoneyAccount.kind == AccountKind.WECHAT,
                MoneyAccount.closed_on.is_(None),
            )
        )
        keeper = money_keepers(area_id)[0]
        if account is None:  # the generated datasets open no accounts: open the code
            area = db.session.get(ManagementArea, area_id)
            account = open_account(area, keeper, kind=AccountKind.WECHAT, name="微信收款码")
            db.session.commit()
        payments = db.session.execute(
            select(Payment.id, Payment.amount_fen, Payment.paid_on)
            .where(Payment.area_id == area_id, Payment.method == Method.WECHAT)
            .order_by(Payment.id)
            .limit(STATEMENT_LINES)
        ).all()
        rng = random.Random(7)
        today = clock.today()
        rows = [
            [
                f"{on.isoformat()} 10:00:00",
                "二维码收款",
                "李**",
                "/",
                "收入",
                f"¥{fen / 100:.2f}",
                "/",
                "已收钱",
                f"BENCH{pid:012d}",
                "/",
                "/",
            ]
            for pid, fen, on in payments
        ]
        while len(rows) < STATEMENT_LINES:
            n = len(rows)
            rows.append(
                [
                    f"{today.isoformat()} 11:{n % 60:02d}:00",
                    "转账",
                    "王**",
                    "/",
                    "收入",
                    f"¥{rng.randint(1, 99_999) / 100:.2f}",
                    "/",
                    "已收钱",
                    f"BENCHX{n:010d}",
                    "/",
                    "/",
                ]
            )
        buffer = io.StringIO()
        buffer.write("微信支付账单明细\n微信昵称：[出纳]\n")
        header = "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态"
        buffer.write(header + ",交易单号,商户单号,备注\n")
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        data = buffer.getvalue().encode("utf-8-sig")
        started = time.perf_counter()
        parsed = statements.read_file("微信支付账单.csv", data)
        parse_seconds = time.perf_counter() - started
        started = time.perf_counter()
        service.import_statement(
            account,
            keeper,
            file_name="微信支付账单.csv",
            sha256=statements.sha256(data),
            layout=parsed.layout,
            lines=parsed.lines,
            doubled=len(parsed.doubled),
            request_key="bench-statement-0000000001",
        )
        db.session.commit()
        state = service.account_state(account)
        import_seconds = time.perf_counter() - started
        proposed = len(state.to_confirm)
        db.engine.dispose()
    lines = len(parsed.lines)
    print(
        f"  statement_{lines}_lines: read in {parse_seconds:.2f} s; imported and matched "
        f"({proposed} proposals for {len(payments)} payments) in {import_seconds:.2f} s"
    )
    return {
        "statement_parse": {
            "seconds": round(parse_seconds, 2),
            "per_second": round(lines / parse_seconds, 1),
            "lines": lines,
        },
        "statement_import_match": {
            "seconds": round(import_seconds, 2),
            "per_second": round(lines / import_seconds, 1),
            "lines": lines,
            "payments": len(payments),
            "proposals": proposed,
            "ratio_to_parse": round(import_seconds / parse_seconds, 2),
        },
    }


def verdicts(result: dict[str, Any]) -> list[str]:
    notes = []
    for name, page in result["pages"].items():
        if page["statements_small"] != page["statements_city"]:
            small, city = page["statements_small"], page["statements_city"]
            notes.append(f"{name}: statements differ ({small} vs {city})")
        if page["ratio_to_floor"] > page["target_ratio"]:
            notes.append(
                f"{name}: {page['ratio_to_floor']}× floor (goal ≤ {page['target_ratio']}×)"
            )
        if page["per_compound"] and page["growth"] > 1.3:
            notes.append(f"{name}: growth {page['growth']} (goal ≤ 1.3)")
    return notes


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"### Page benchmark — {result['engine']}, {m['cpu_count']} CPUs, Python {m['python']}, "
        f"Flask {m['versions']['flask']}, SQLAlchemy {m['versions']['sqlalchemy']}",
        "",
        f"Floor (signed-in base layout): p50 {result['floor_p50_ms']} ms, "
        f"{result['floor_statements']} statements. {result['samples_per_page']} samples per page "
        "on the city dataset, interleaved with the floor and the small dataset; × floor = page "
        "p50 ÷ floor p50 of the same run; growth = city p50 ÷ small p50.",
        "",
        "| page | role | p50 ms | p95 ms | × floor (goal) | growth | statements small / city |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, p in result["pages"].items():
        goal = f"≤ {p['target_ratio']:g}"
        growth = f"{p['growth']}" + (" (≤ 1.3)" if p["per_compound"] else "")
        lines.append(
            f"| {name} | {p['role']} | {p['p50_ms']} | {p['p95_ms']} "
            f"| {p['ratio_to_floor']} ({goal}) | {growth} "
            f"| {p['statements_small']} / {p['statements_city']} |"
        )
    lines += ["", "| job | seconds | per second |", "|---|---:|---:|"]
    for name, job in result["jobs"].items():
        lines.append(f"| {name} | {job['seconds']} | {job['per_second']} |")
    notes = verdicts(result)
    lines += ["", "Targets missed: " + ("; ".join(notes) if notes else "none — every target met.")]
    return "\n".join(lines) + "\n"


def main() -> None:
    result = run()
    common.OUT.mkdir(parents=True, exist_ok=True)
    body = json.dumps(result, ensure_ascii=False, indent=2)
    table = markdown(result)
    # A run of some pages only (BENCH_PAGES) is kept apart from the whole benchmark's.
    names = (
        ["partial"] if os.environ.get("BENCH_PAGES") else ["latest", f"latest-{result['engine']}"]
    )
    for name in names:
        (common.OUT / f"{name}.json").write_text(body)
        (common.OUT / f"{name}.md").write_text(table)
    print(table)
