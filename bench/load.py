"""Load test (`make load`): gunicorn with 4 workers, N simulated people for a bounded time.

Half are committee members, half unit representatives. Each signs in, then loops: home
page, compound page, a household's bills, and logs a payment (the form, then the post;
one in twenty sent twice, as a double tap). Afterwards the ledger is checked: every
acknowledged payment present exactly once with its audit row, every balance and monthly
total equal to the sum of the entries.
Loopback only. LOAD_USERS (default 50) and LOAD_SECONDS (default 60) set the size.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import threading
import time
from typing import Any

from . import actors, common


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _walk(session: actors.Session, deadline: float, rng: random.Random) -> None:
    a = session.actor
    try:
        session.login()
        while time.monotonic() < deadline:
            session.read("home", "/")
            session.read("compound", f"/registry/compounds/{a.compound_id}")
            household = rng.choice(a.household_ids)
            session.read("household_fees", f"/fees/households/{household}")
            session.pay(household, again=rng.random() < 0.05)
    except Exception as err:  # a broken connection is a finding, not a crash of the harness
        session.record.failed(f"{type(err).__name__}: {err}"[:120])


def main() -> None:
    users = int(os.environ.get("LOAD_USERS", "50"))
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    engine = common.engine_name()
    url = common.dataset_url("load")
    print(f"load test on {engine}: {users} people for {seconds:g} s, gunicorn -w 4", flush=True)
    common.build("small", url)
    app = common.make_app(url)
    with app.app_context():
        cast = actors.pick(users)
    server = common.Server(url, workers=4)
    server.start()
    record = actors.Record()
    rng = random.Random(2026)
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    threads = [
        threading.Thread(
            target=_walk,
            args=(actors.Session(server.base, a, record), deadline, random.Random(rng.random())),
        )
        for a in cast
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    server.stop()
    with app.app_context():
        problems = actors.verify_payments(record.acknowledged)
    total = sum(len(v) for v in record.latencies.values())
    every = [ms for v in record.latencies.values() for ms in v]
    result: dict[str, Any] = {
        "engine": engine,
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "p50_ms": round(statistics.median(every), 1) if every else None,
        "p95_ms": round(_p(every, 0.95), 1),
        "by_kind": {
            kind: {
                "count": len(v),
                "p50_ms": round(statistics.median(v), 1),
                "p95_ms": round(_p(v, 0.95), 1),
            }
            for kind, v in sorted(record.latencies.items())
        },
        "errors": record.errors,
        "payments_acknowledged": len(record.acknowledged),
        "payments_per_second": round(len(record.acknowledged) / elapsed, 1),
        "ledger_problems": problems,
        "machine": common.machine(),
    }
    common.OUT.mkdir(parents=True, exist_ok=True)
    (common.OUT / f"load-{engine}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2)
    )
    print(
        f"{total} requests in {elapsed:.1f} s = {result['requests_per_second']} req/s; "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms; "
        f"{len(record.acknowledged)} payments acknowledged ({result['payments_per_second']}/s)"
    )
    for kind, row in result["by_kind"].items():
        print(
            f"  {kind:14} {row['count']:6} requests  "
            f"p50 {row['p50_ms']:7} ms  p95 {row['p95_ms']:7} ms"
        )
    print(f"errors: {record.errors or 'none'}")
    verdict = (
        "every acknowledged payment stored exactly once; every total equals its entries"
        if not problems
        else problems[:10]
    )
    print(f"check: {verdict}")
    if problems or record.errors:
        raise SystemExit(1)
