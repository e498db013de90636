"""``flask messages …``: the delivery worker and the daily reminders."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import click
from flask import current_app
from sqlalchemy.exc import OperationalError

from ..database import writing
from ..extensions import db
from . import bp

log = logging.getLogger(__name__)


@bp.cli.command("work")
@click.option("--once", is_flag=True, help="Deliver one batch and stop (for cron and tests).")
@click.option("--sleep", type=float, default=None, help="Seconds between empty batches.")
def work(once: bool, sleep: float | None) -> None:
    """Deliver the SMS outbox: run beside the web server (a second service)."""
    from .delivery import run_batch, worker_id

    token = worker_id()
    pause = current_app.config["SMS_WORKER_SLEEP"] if sleep is None else sleep
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True  # the row in hand is finished first

    every = current_app.config.get("PROBLEM_ESCALATE_SECONDS", 0)
    next_escalation = time.monotonic()
    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo(f"SMS worker {token} started ({current_app.config['SMS_BACKEND']}).")
    while True:
        if every and not once and time.monotonic() >= next_escalation:
            next_escalation = time.monotonic() + every
            _escalate()
            _close_votes()
        try:
            report = run_batch(token)
        except OperationalError as err:  # the database restarting: try again shortly
            db.session.rollback()
            log.warning("SMS worker: database unavailable (%s)", type(err).__name__)
            if once:
                raise
            time.sleep(pause)
            continue
        if once or report.claimed or report.released or report.unknown:
            click.echo(
                f"claimed {report.claimed}, sent {report.sent}, retrying {report.retrying}, "
                f"failed {report.failed}, released {report.released}, unknown {report.unknown}"
            )
        if once or stopping:
            break
        if not report.claimed:
            deadline = time.monotonic() + pause
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, pause))
        if stopping:
            break
    db.session.remove()


def _escalate() -> None:
    """The worker's periodic step: overdue problems go up one level (``flask problems
    escalate``). A failure is logged and tried at the next period; delivery goes on."""
    from ..problems.cli import escalate_now

    try:
        moved = escalate_now()
    except Exception as err:  # the worker keeps delivering whatever this step meets
        db.session.rollback()
        log.warning("problem escalation failed (%s)", type(err).__name__)
        return
    if moved:
        click.echo(f"{moved} overdue problems escalated.")


def _close_votes() -> None:
    """The worker's periodic step: votes past their end date are closed (``flask votes
    close-due``). A failure is logged and tried at the next period; delivery goes on."""
    from ..votes.cli import close_due_now

    try:
        closed, _waiting = close_due_now()
    except Exception as err:  # the worker keeps delivering whatever this step meets
        db.session.rollback()
        log.warning("closing votes failed (%s)", type(err).__name__)
        return
    if closed:
        click.echo(f"{closed} votes closed at their end date.")


@bp.cli.command("remind")
def remind() -> None:
    """Write the day's reminders: arrears (monthly) and votes closing soon (run daily)."""
    from .triggers import remind as write_reminders

    with writing():
        counts = write_reminders()
        db.session.commit()
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()) + " reminders written.")
