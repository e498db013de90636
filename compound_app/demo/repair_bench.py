"""The benchmark datasets' repairs: the same lives as the story's, written in bulk.

Each compound of a benchmark dataset gets a year of tasks planned by ``plan_life`` and
written as rows with the timeline events and the monthly figures the services would
have kept (``queries.check_months`` proves they agree), plus a few completed works and
their facility lines.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from .. import clock
from ..auth.models import Role, RoleGrant, User
from ..committees.models import CommitteeMember, Position
from ..registry.models import Building, Household, ManagementModel, Unit
from ..repairs.levels import allowed_days
from ..repairs.models import (
    DEFAULT_TARGET_DAYS,
    AssigneeKind,
    Channel,
    Facility,
    FacilityKind,
    Funding,
    Place,
    Priority,
    RepairEvent,
    RepairMonth,
    RepairTask,
    Status,
    Work,
    WorkKind,
    WorkStatus,
)
from ..repairs.queries import MONTH_FIELDS
from ..repairs.workflow import EventKind
from . import repair_texts as texts
from .repair_life import (
    BENCH_PROFILE,
    CATEGORY_WEIGHTS,
    URGENT_CAN,
    Step,
    describe,
    moment,
    noon,
    plan_life,
)

# Tables the benchmark datasets fill in bulk, in insert order.
ORDER = [RepairTask, RepairEvent, RepairMonth, Work, Facility]

BENCH_TASKS_PER_COMPOUND = 100  # 20,000 over the city's 200 compounds


class BulkTimeline:
    """Tasks and their events as rows, with the monthly figures the services would keep."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows
        self.months: dict[tuple[int, date], dict[str, int]] = {}

    def count(self, compound_id: int, on: date, **deltas: int) -> None:
        key = (compound_id, on.replace(day=1))
        row = self.months.setdefault(key, dict.fromkeys(MONTH_FIELDS, 0))
        for k, v in deltas.items():
            row[k] += v

    def event(
        self, task: dict[str, Any], actor: int, kind: str, before: str, note: str, at: datetime
    ) -> None:
        closing = kind in (EventKind.CONFIRMED, EventKind.CLOSED)
        self.rows.add(
            RepairEvent,
            task_id=task["id"],
            at=at,
            actor_id=actor,
            from_status=before,
            to_status=task["status"],
            kind=kind,
            note=note[:200],
            due_on=task["due_on"] if closing else None,
        )

    def task(
        self,
        values: dict[str, Any],
        steps: list[Step],
        now: datetime,
        actors: dict[str, int],
        assignee: tuple[str, int | None, str],
    ) -> dict[str, Any]:
        """Report a task and play its steps until ``now``; ``actors`` by who acts: reporter,
        triage, worker."""
        reported_at = values["reported_at"]
        days = allowed_days(values["category"], values["priority"], DEFAULT_TARGET_DAYS)
        task = dict(
            values,
            status=Status.REPORTED.value,
            assignee_kind=None,
            assignee_id=None,
            assignee_name="",
            due_on=clock.local_date(reported_at) + timedelta(days=days),
            done_at=None,
            finished_at=None,
            reject_reason="",
            rating=None,
            rating_comment="",
            version=1,
            decision_id=None,
            request_key=None,
        )
        self.rows.add(RepairTask, **task)
        task = self.rows.tables[RepairTask][-1]
        compound_id = task["compound_id"]
        self.event(task, actors["reporter"], EventKind.REPORTED, "", "", reported_at)
        self.count(compound_id, clock.local_date(reported_at), reported=1)
        for step in steps:
            if step.at >= now:
                break
            before = task["status"]
            day = clock.local_date(step.at)
            note = step.note
            match step.move:
                case "assign":
                    kind, person, name = assignee
                    task.update(assignee_kind=kind, assignee_id=person, assignee_name=name)
                    task["status"] = Status.ASSIGNED.value
                    actor, event, note = actors["triage"], EventKind.ASSIGNED, name
                case "start":
                    task["status"] = Status.IN_PROGRESS.value
                    actor, event = actors["worker"], EventKind.STARTED
                case "done":
                    task.update(status=Status.DONE.value, done_at=step.at)
                    actor, event = actors["worker"], EventKind.DONE
                case "confirm" | "close":
                    task.update(status=Status.CLOSED.value, finished_at=step.at)
                    actor = actors["reporter" if step.move == "confirm" else "triage"]
                    event = EventKind.CONFIRMED if step.move == "confirm" else EventKind.CLOSED
                    self.count(
                        compound_id,
                        day,
                        closed=1,
                        closed_in_target=1 if day <= task["due_on"] else 0,
                        close_days=(day - clock.local_date(reported_at)).days,
                    )
                case "send_back":
                    task.update(status=Status.IN_PROGRESS.value, done_at=None)
                    actor, event = actors["reporter"], EventKind.SENT_BACK
                case "reject":
                    task.update(status=Status.REJECTED.value, finished_at=step.at)
                    task["reject_reason"] = note
                    actor, event = actors["triage"], EventKind.REJECTED
                    self.count(compound_id, day, rejected=1)
                case "reopen":
                    task.update(
                        status=Status.REPORTED.value,
                        finished_at=None,
                        done_at=None,
                        reject_reason="",
                        rating=None,
                        rating_comment="",
                    )
                    actor, event = actors["reporter"], EventKind.REOPENED
                    self.count(compound_id, day, reopened=1)
                case "rate":
                    task.update(rating=step.rating, rating_comment=note)
                    actor, event, before = actors["reporter"], EventKind.RATED, ""
                case _:
                    raise ValueError(step.move)
            task["version"] += 1
            self.event(task, actor, event, before, note, step.at)
        return task

    def finish(self) -> None:
        for (compound_id, month), counts in sorted(self.months.items()):
            self.rows.add(RepairMonth, compound_id=compound_id, month=month, **counts)


def bench_rows(builder: Any, seed: int) -> None:
    """Per compound of a benchmark dataset: a year of tasks, a few works and facilities.

    Each compound draws from its own random stream, named by its community and its place
    there, so the compound the benchmark measures is the same in the small and the city
    dataset, and only the number of other compounds differs.
    """
    from ..committees.models import Committee

    rows = builder.rows
    tables = rows.tables
    # Everything happened before today began: both datasets built on one day are the same.
    today = clock.local_date(clock.now())
    now = clock.start_of_day(today)
    area_of = {c["id"]: c["area_id"] for c in tables[Committee]}
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for m in tables[CommitteeMember]:
        members[area_of[m["committee_id"]]].append((m["user_id"], m["position"]))
    reps, residents = {}, {}
    for g in tables[RoleGrant]:
        if g["role"] == Role.UNIT_REP.value:
            reps[g["unit_id"]] = g["user_id"]
        elif g["role"] == Role.RESIDENT.value:
            residents[g["household_id"]] = g["user_id"]
    names = {u["id"]: u["name"] for u in tables[User]}
    units, buildings, households = tables[Unit], tables[Building], tables[Household]
    timeline = BulkTimeline(rows)
    place_in_community: dict[int, int] = defaultdict(int)
    categories = list(CATEGORY_WEIGHTS[ManagementModel.PARTY_BRANCH])
    weights = list(CATEGORY_WEIGHTS[ManagementModel.PARTY_BRANCH].values())
    for info in builder.compounds.values():
        index = place_in_community[info["community_id"]]
        place_in_community[info["community_id"]] += 1
        rng = random.Random(f"{seed}-{info['community_code']}-{index}")
        compound_id = info["id"]
        committee = [u for u, _position in members[info["area_id"]]]
        chair = next(u for u, pos in members[info["area_id"]] if pos == Position.CHAIR.value)
        own_homes = [h for h in info["households"] if h in residents]
        for _ in range(BENCH_TASKS_PER_COMPOUND):
            category = rng.choices(categories, weights)[0]
            priority = (
                Priority.URGENT.value
                if category in URGENT_CAN and rng.random() < 0.15
                else Priority.NORMAL.value
            )
            at = moment(rng, today - timedelta(days=rng.randrange(1, 366)))
            unit_id = rng.choice(info["units"])
            building_id = units[unit_id - 1]["building_id"]
            building, unit = buildings[building_id - 1]["name"], units[unit_id - 1]["name"]
            text = describe(rng, rng.choice(texts.PUBLIC[category]), building, unit)
            roll = rng.random()
            triage = rng.choice(committee)
            if roll < 0.12 and own_homes:
                home = own_homes[0]
                reporter, channel, resident_name, own = residents[home], Channel.RESIDENT, "", False
            elif roll < 0.5:
                homes = [h for h in info["households"] if households[h - 1]["unit_id"] == unit_id]
                home = rng.choice(homes)
                reporter, channel, own = reps[unit_id], Channel.ASSISTED, False
                resident_name = builder.household_occupants[home][0]["name"]
            else:
                home, reporter, channel, resident_name, own = (
                    None,
                    triage,
                    Channel.COMMITTEE,
                    "",
                    True,
                )
            assignee: tuple[str, int | None, str]
            if rng.random() < 0.5:
                assignee = (AssigneeKind.CONTRACTOR.value, None, texts.CONTRACTORS[category][0])
                worker = triage
            else:
                helper = rng.choice(committee)
                assignee = (AssigneeKind.MEMBER.value, helper, names[helper])
                worker = helper
            steps = plan_life(rng, category, priority, at, BENCH_PROFILE, own=own)
            timeline.task(
                {
                    "compound_id": compound_id,
                    "building_id": building_id,
                    "unit_id": unit_id,
                    "place": Place.PUBLIC.value,
                    "category": category,
                    "description": text,
                    "priority": priority,
                    "channel": channel.value,
                    "reported_by_id": reporter,
                    "household_id": home,
                    "resident_name": resident_name,
                    "reported_at": at,
                },
                steps,
                now,
                {"reporter": reporter, "triage": triage, "worker": worker},
                assignee,
            )
        for kind, facility, count, budget in (
            (WorkKind.CAMERA, FacilityKind.CAMERA, rng.randrange(4, 12), 12000),
            (WorkKind.CHARGING, FacilityKind.CHARGING_PILE, rng.randrange(4, 10), 16000),
            (WorkKind.STREET_LIGHT, FacilityKind.STREET_LIGHT, rng.randrange(4, 10), 9000),
        ):
            completed = today - timedelta(days=rng.randrange(20, 300))
            work_id = rows.add(
                Work,
                compound_id=compound_id,
                kind=kind.value,
                title={"camera": "安装监控摄像头", "charging": "电动车充电桩"}.get(
                    kind.value, "路灯更换"
                ),
                description="",
                budget_fen=budget * 100,
                funding=Funding.FEES.value,
                status=WorkStatus.COMPLETED.value,
                planned_on=completed - timedelta(days=40),
                started_on=completed - timedelta(days=10),
                completed_on=completed,
                expense_id=None,
                decision_id=None,
                created_by_id=chair,
                created_at=noon(completed - timedelta(days=40)),
                version=3,
            )
            rows.add(
                Facility,
                compound_id=compound_id,
                kind=facility.value,
                count=count,
                location="院内",
                installed_on=completed,
                removed_on=None,
                work_id=work_id,
                recorded_by_id=chair,
            )
        rows.add(
            Facility,
            compound_id=compound_id,
            kind=FacilityKind.BUILDING_DOOR.value,
            count=len(info["units"]),
            location="各单元",
            installed_on=date(2012, 5, 1),
            removed_on=None,
            work_id=None,
            recorded_by_id=chair,
        )
    timeline.finish()
