"""Crash test (`make crash`): kill -9 the server at random moments under write load.

Ten rounds: start gunicorn, let simulated committee members and representatives log
payments, kill the whole server process group with SIGKILL at a random moment, start it
again. At the end every payment the server acknowledged (303) must be stored exactly once
with its audit row, every balance and monthly total must equal the sum of the ledger's
entries, and SQLite's PRAGMA integrity_check must answer ok.
CRASH_ROUNDS (default 10) and CRASH_WRITERS (default 8) set the size.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time

from sqlalchemy import text

from . import actors, common


def _write(session: actors.Session, stop: threading.Event, rng: random.Random) -> None:
    while not stop.is_set():
        try:
            session.pay(rng.choice(session.actor.household_ids))
        except Exception:  # the server is being killed: unacknowledged, so not counted
            time.sleep(0.05)


def main() -> None:
    rounds = int(os.environ.get("CRASH_ROUNDS", "10"))
    writers = int(os.environ.get("CRASH_WRITERS", "8"))
    engine = common.engine_name()
    url = common.dataset_url("crash")
    print(f"crash test on {engine}: {rounds} rounds of kill -9 under {writers} writers", flush=True)
    started = time.perf_counter()
    common.build("small", url)
    app = common.make_app(url)
    with app.app_context():
        cast = actors.pick(writers)
    rng = random.Random(20261127)
    record = actors.Record()
    server = common.Server(url, workers=2)
    sessions = [actors.Session(server.base, a, record) for a in cast]
    kills = []
    for n in range(1, rounds + 1):
        server.start()
        if n == 1:
            for s in sessions:
                s.login()  # sessions live in the database, so they survive the kills
        before = len(record.acknowledged)
        stop = threading.Event()
        threads = [
            threading.Thread(target=_write, args=(s, stop, random.Random(rng.random())))
            for s in sessions
        ]
        for t in threads:
            t.start()
        wait = rng.uniform(0.5, 2.5)
        time.sleep(wait)
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        kills.append(round(wait, 2))
        print(
            f"  round {n}: killed after {wait:.1f} s, {len(record.acknowledged) - before} "
            "payments acknowledged",
            flush=True,
        )
    with app.app_context():
        from compound_app.extensions import db

        problems = actors.verify_payments(record.acknowledged, exact=False)
        if engine == "sqlite":
            check = db.session.execute(text("PRAGMA integrity_check")).scalar()
            if check != "ok":
                problems.append(f"integrity_check: {check}")
        db.session.remove()
    elapsed = time.perf_counter() - started
    result = {
        "engine": engine,
        "rounds": rounds,
        "kill_after_seconds": kills,
        "payments_acknowledged": len(record.acknowledged),
        "problems": problems,
        "seconds": round(elapsed, 1),
    }
    common.OUT.mkdir(parents=True, exist_ok=True)
    (common.OUT / f"crash-{engine}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2)
    )
    print(
        f"{len(record.acknowledged)} acknowledged payments over {rounds} kill -9 rounds "
        f"in {elapsed:.0f} s: "
        + (
            "all present exactly once, every total equal to its entries, database intact."
            if not problems
            else f"PROBLEMS: {problems[:10]}"
        )
    )
    if problems:
        raise SystemExit(1)
