"""Deterministic demo and benchmark datasets, bulk-inserted.

``story`` follows the source story: Xinyi subdistrict, ten communities, 189 unmanaged
compounds of which 30 are pilots under the three models. ``city`` and ``small`` are the
benchmark datasets of docs/ARCHITECTURE.md §5 (200 compounds / 30,000 households, and
one tenth).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from .. import clock
from ..auth.models import Role, RoleGrant, User
from ..auth.service import hash_password
from ..committees.models import (
    Background,
    ChairAppointment,
    Committee,
    CommitteeMember,
    MemberKind,
    Position,
)
from ..extensions import db
from ..oversight.models import Milestone, StageChange
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    ModelChange,
    Occupancy,
    Occupant,
    PartyOrganisation,
    PartyOrgKind,
    Pilot,
    PilotStage,
    Relation,
    Subdistrict,
    Unit,
)
from . import names
from .fees import ORDER as FEE_ORDER
from .repair_bench import ORDER as REPAIR_ORDER

DEMO_PASSWORD = "xinyi2026"  # noqa: S105 — the published password of the demo accounts only
SEED = 20261127


@dataclass
class DemoAccount:
    mobile: str
    name: str
    role_text: str


DEMO_ACCOUNTS = [
    DemoAccount("13900000001", "王建华", "街道管理员 subdistrict admin — 新义街道"),
    DemoAccount("13900000002", "李秀兰", "社区工作人员 community staff — 绿城社区 (contiguous)"),
    DemoAccount(
        "13900000003", "赵志刚", "社区工作人员 community staff — 府东社区 (trusteeship of 城建小区)"
    ),
    DemoAccount("13900000004", "陈丽", "社区工作人员 community staff — 迎宾南社区"),
    DemoAccount("13900000005", "刘国庆", "物管会主任 committee chair — 绿城一片区 (4 compounds)"),
    DemoAccount("13900000006", "张桂英", "物管会财务委员 committee treasurer — 绿城一片区"),
    DemoAccount(
        "13900000007", "孙德明", "物管会主任 committee chair — 新国土小区 (branch-managed)"
    ),
    DemoAccount("13900000008", "周玉梅", "单元代表 unit representative — 新国土小区 1号楼 1–2单元"),
    DemoAccount("13900000009", "吴振华", "居民（业主）resident owner — 新国土小区 1号楼1单元101"),
    DemoAccount("13900000010", "郑晓燕", "居民（租户）resident tenant — 城建小区 2号楼1单元302"),
    DemoAccount("13900000011", "马晓东", "网格员 grid worker — 绿城社区 第一网格"),
]


@dataclass
class Spec:
    name: str
    communities: list[tuple[str, str]]
    compounds_per_community: list[int]
    # (buildings, units per building, households per unit); None = random realistic sizes
    fixed_shape: tuple[int, int, int] | None = None
    story: bool = False


def spec_for(scale: str) -> Spec:
    if scale == "story":
        # 189 compounds over the ten communities; 绿城 has the most small compounds.
        per = [18, 19, 18, 19, 20, 18, 19, 18, 19, 21]
        return Spec("story", names.COMMUNITIES, per, story=True)
    if scale == "city":
        return Spec("city", names.COMMUNITIES, [20] * 10, fixed_shape=(5, 3, 10))
    if scale == "small":
        return Spec("small", names.COMMUNITIES[-1:], [20], fixed_shape=(5, 3, 10))
    raise ValueError(f"unknown scale {scale!r}")


@dataclass
class Rows:
    """Rows per table, with ids assigned here so related rows can point at them."""

    tables: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: Any, /, **values: Any) -> int:
        rows = self.tables.setdefault(model, [])
        if "id" in model.__table__.c:
            values.setdefault("id", len(rows) + 1)
        rows.append(values)
        return values.get("id", 0)


# The plan of each model's pilots (一小区一方案), as the subdistrict wrote them.
PLAN_SCOPE = {
    ManagementModel.CONTIGUOUS: "几个小区统一聘请保洁、门岗，共用一个物管会；"
    "楼道、院内道路日常清扫，生活垃圾日产日清，公共照明和下水管道及时维修。",
    ManagementModel.PARTY_BRANCH: "党支部牵头，单元代表每栋楼每单元一人，负责收费、动员和收集意见；"
    "保洁、垃圾清运、公共照明维修。",
    ManagementModel.TRUSTEESHIP: "社区托管，社区工作人员统一安排保洁、垃圾清运和门岗，"
    "党小组协助收集居民意见。",
}
PLAN_FEE = {
    ManagementModel.CONTIGUOUS: "保洁、垃圾清运按户，公共照明电费按面积分摊，每户每月约25元",
    ManagementModel.PARTY_BRANCH: "每户每月20至30元，空置房减半，低保户减免",
    ManagementModel.TRUSTEESHIP: "每户每月约20元，由社区代收代支，按月公示",
}
# Milestones of every plan: title, days after selection, the stage that reaches it.
MILESTONES = [
    ("入户征求意见，形成一小区一方案", 20, PilotStage.CONSULTING),
    ("成立组织（物管会、党支部或党小组）", 45, PilotStage.ORGANISED),
    ("收费标准公示期满，经决定开始收费", 70, PilotStage.FEES_STARTED),
    ("开始收费，首次收支公示", 105, PilotStage.FEES_STARTED),
    ("自治认定", 180, PilotStage.SELF_GOVERNING),
]


ORDER = [
    Subdistrict,
    Community,
    ManagementArea,
    Compound,
    User,
    ModelChange,
    PartyOrganisation,
    Pilot,
    StageChange,
    Milestone,
    Building,
    Unit,
    Household,
    Occupant,
    Committee,
    CommitteeMember,
    RoleGrant,
    *FEE_ORDER,
    *REPAIR_ORDER,
]


def database_is_empty() -> bool:
    return db.session.scalar(select(func.count()).select_from(Subdistrict)) == 0


def generate(
    scale: str = "story", seed: int = SEED, timings: dict[str, float] | None = None
) -> dict[str, int]:
    """Build the dataset into an empty database; returns row counts per table, and the
    seconds the repairs took (planning their rows, inserting them) into ``timings``."""
    if not database_is_empty():
        raise RuntimeError("the database already holds data")
    builder = _Builder(spec_for(scale), random.Random(seed), seed)
    rows = builder.build()
    now = clock.now()
    counts = {}
    repairs_insert = 0.0
    for model in ORDER:
        started = time.perf_counter()
        table_rows = rows.tables.get(model, [])
        for row in table_rows:
            for column in ("created_at", "granted_at", "changed_at"):
                if column in model.__table__.c and column not in row:
                    row[column] = now
        for chunk in _chunks(table_rows, 5000):
            db.session.execute(insert(model), chunk)
        counts[model.__tablename__] = len(table_rows)
        if model in REPAIR_ORDER:
            repairs_insert += time.perf_counter() - started
    _reset_sequences()
    db.session.commit()
    if timings is not None:
        timings.update(builder.timings, repairs_insert=repairs_insert)
    from .consent import give_consent

    if scale == "story":
        from .fees import finish_story
        from .repair_story import build_story

        # Before the boards are published, so each month's board shows its works' costs.
        started = time.perf_counter()
        build_story(seed)
        if timings is not None:
            timings["repairs_story"] = time.perf_counter() - started
        from .income import income_story

        income_story()  # before the boards are published: they show the month's income
        finish_story()
        from .archive import archive_story

        archive_story()
        from .fund import fund_story

        fund_story()
        from .asking import ask_story
        from .messages import messages_story
        from .notices import tell_story
        from .oversight import certify_story

        certify_story()
        ask_story()
        from .transition import transition_story

        transition_story()
        from .problems import problems_story

        started = time.perf_counter()
        problems_story(seed)
        if timings is not None:
            timings["problems_story"] = time.perf_counter() - started
        # Consent first: an urgent notice texts the consenting neighbours without an account;
        # the messages come last and deliver every SMS the story wrote.
        give_consent()
        tell_story()
        messages_story()
        from ..repairs.models import Facility, Meeting, RepairEvent, RepairPhoto, RepairTask, Work

        for model in (RepairTask, RepairEvent, RepairPhoto, Meeting, Work, Facility):
            counts[model.__tablename__] = (
                db.session.scalar(select(func.count()).select_from(model)) or 0
            )
    else:
        from .fees import bench_statements
        from .notices import bench_notices
        from .problem_bench import bench_problems

        give_consent()
        bench_notices()
        bench_statements()
        bench_problems(seed)
    # A bulk load leaves the query planner's statistics behind; refresh them.
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return counts


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the data."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in ORDER:
        if "id" not in model.__table__.c:
            continue
        table = model.__tablename__  # our own table names, never user input
        sql = (
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )
        db.session.execute(text(sql))


class _Builder:
    def __init__(self, spec: Spec, rng: random.Random, seed: int = SEED) -> None:
        self.spec = spec
        self.rng = rng
        self.seed = seed
        self.timings: dict[str, float] = {}
        self.rows = Rows()
        self.taken_mobiles: set[str] = {a.mobile for a in DEMO_ACCOUNTS}
        self.user_ids: dict[str, int] = {}
        self.compounds: dict[str, dict[str, Any]] = {}  # "community/compound" → info
        self.community_ids: dict[str, int] = {}
        self.area_seq: dict[str, int] = {}
        self.household_occupants: dict[int, list[dict[str, Any]]] = {}
        # The story is told back from today, so the demo reads the same in any year.
        self.today = clock.today()

    # --- helpers ---------------------------------------------------------------------------

    def user(self, mobile: str | None = None, name: str | None = None) -> int:
        mobile = mobile or names.mobile(self.rng, self.taken_mobiles)
        if mobile in self.user_ids:
            return self.user_ids[mobile]
        uid = self.rows.add(
            User,
            mobile=mobile,
            name=name or names.person_name(self.rng),
            password_hash=None,
            is_enabled=True,
        )
        self.user_ids[mobile] = uid
        return uid

    def grant(self, user_id: int, role: Role, scope_id: int) -> None:
        column = {
            Role.SUBDISTRICT_ADMIN: "subdistrict_id",
            Role.COMMUNITY_STAFF: "community_id",
            Role.COMMITTEE_MEMBER: "area_id",
            Role.UNIT_REP: "unit_id",
            Role.RESIDENT: "household_id",
        }[role]
        values = dict.fromkeys(
            ("subdistrict_id", "community_id", "area_id", "unit_id", "household_id")
        )
        values[column] = scope_id
        self.rows.add(RoleGrant, user_id=user_id, role=role.value, granted_by_id=None, **values)

    def area(self, community_code: str, community_id: int, name: str) -> int:
        n = self.area_seq.get(community_code, 0) + 1
        self.area_seq[community_code] = n
        return self.rows.add(
            ManagementArea, community_id=community_id, name=name, code=f"{community_code}{n:02d}"
        )

    # --- build -----------------------------------------------------------------------------

    def build(self) -> Rows:
        sub_id = self.rows.add(Subdistrict, name=names.SUBDISTRICT, city=names.CITY)
        self.sub_id = sub_id
        for (cname, code), count in zip(
            self.spec.communities, self.spec.compounds_per_community, strict=True
        ):
            cid = self.rows.add(Community, subdistrict_id=sub_id, name=cname, code=code)
            self.community_ids[cname] = cid
            for compound_name in self._compound_names(cname, count):
                self._compound(cname, code, cid, compound_name)
        if self.spec.story:
            self._story()
        else:
            self._bench_people()
        self._fees()
        if not self.spec.story:
            from .repair_bench import bench_rows

            started = time.perf_counter()
            bench_rows(self, self.seed)
            self.timings["repairs_rows"] = time.perf_counter() - started
        return self.rows

    def _fees(self) -> None:
        """Money for the areas that charge fees: the pilots that have started charging in
        the story; every area, for three years, in the benchmark datasets."""
        from . import fees

        tables = self.rows.tables
        today = clock.today()
        this_month = today.replace(day=1)
        if self.spec.story:
            started = {
                p["compound_id"]: p["stage"]
                for p in tables.get(Pilot, [])
                if p["stage"] in (PilotStage.FEES_STARTED.value, PilotStage.SELF_GOVERNING.value)
            }
            starts: dict[int, date] = {}
            steady: set[int] = set()  # where nearly every home pays every month
            for info in self.compounds.values():
                stage = started.get(info["id"])
                if stage is None:
                    continue
                months_ago = 4 if stage == PilotStage.SELF_GOVERNING.value else 2
                start = fees.add_months(this_month, -months_ago)
                area_id = info["area_id"]
                starts[area_id] = min(starts.get(area_id, start), start)
                if stage == PilotStage.SELF_GOVERNING.value:
                    steady.add(area_id)
        else:
            steady = set()
            starts = {
                info["area_id"]: fees.add_months(this_month, -35)
                for info in self.compounds.values()
            }
        committee_area = {c["id"]: c["area_id"] for c in tables.get(Committee, [])}
        positions = fees.keepers_of(self.rows, committee_area)
        reps = {
            g["unit_id"]: g["user_id"]
            for g in tables.get(RoleGrant, [])
            if g["role"] == Role.UNIT_REP.value
        }
        staff = {
            g["community_id"]: g["user_id"]
            for g in reversed(tables.get(RoleGrant, []))
            if g["role"] == Role.COMMUNITY_STAFF.value
        }
        households = tables[Household]
        areas: dict[int, fees.FeeArea] = {}
        for info in self.compounds.values():
            area_id = info["area_id"]
            if area_id not in starts:
                continue
            if area_id not in areas:
                held = positions.get(area_id, {})
                areas[area_id] = fees.FeeArea(
                    area_id=area_id,
                    code=tables[ManagementArea][area_id - 1]["code"],
                    start=starts[area_id],
                    households=[],
                    reps={},
                    treasurer=held.get(Position.TREASURER),
                    chair=held.get(Position.CHAIR),
                    staff=staff.get(info["community_id"]),
                    steady=area_id in steady,
                    name=tables[ManagementArea][area_id - 1]["name"],
                )
            area = areas[area_id]
            for hid in info["households"]:
                h = households[hid - 1]
                area.households.append((hid, h["unit_id"], h["area_dm2"], h["occupancy"]))
                owner = self._owner_of(hid)
                if owner is not None:
                    area.owners[hid] = (owner["id"], owner["name"])
            for unit_id in info["units"]:
                if unit_id in reps:
                    area.reps[unit_id] = reps[unit_id]
        fees.FeeBuilder(self.rows, self.rng, today, self.spec.story).build(
            [areas[k] for k in sorted(areas)]
        )

    def _owner_of(self, hid: int) -> dict[str, Any] | None:
        """The home's owner of record, through whom it votes (``roster.designated_owner``:
        the owner, else the first co-owner)."""
        occupants = self.household_occupants.get(hid, [])
        for relation in (Relation.OWNER.value, Relation.CO_OWNER.value):
            found = [o for o in occupants if o["relation"] == relation]
            if found:
                return min(found, key=lambda o: (o["user_id"] is None, o["id"]))
        return None

    def _compound_names(self, community: str, count: int) -> list[str]:
        chosen: list[str] = []
        fixed = {"迎宾南社区": ["新国土小区"], "府东社区": ["城建小区"]}.get(community, [])
        chosen.extend(fixed)
        while len(chosen) < count:
            name = (
                self.rng.choice(names.INSTITUTIONS)
                + self.rng.choice(names.SUFFIXES)
                + self.rng.choice(names.QUARTERS)
            )
            if name not in chosen and name not in ("国土小区", "城建小区"):
                chosen.append(name)
        return chosen

    def _shape(self, name: str) -> list[list[int]]:
        """Households per unit, per building."""
        if self.spec.fixed_shape:
            b, u, h = self.spec.fixed_shape
            return [[h] * u for _ in range(b)]
        if name == "新国土小区":
            return [[12, 12, 12], [12, 12, 12], [10, 10, 10], [12, 12, 12], [10, 10]]
        if name == "城建小区":
            return [[12, 12], [12, 12, 12], [10, 10]]
        buildings = self.rng.choice((2, 3, 3, 4, 4, 5, 6, 8))
        shape = []
        for _ in range(buildings):
            units = self.rng.choice((1, 2, 2, 3, 3, 4))
            per_unit = self.rng.choice((10, 12, 12, 14))
            shape.append([per_unit] * units)
        return shape

    def _compound(self, cname: str, ccode: str, cid: int, name: str) -> None:
        rng = self.rng
        area_id = self.area(ccode, cid, name)
        comp_id = self.rows.add(
            Compound,
            community_id=cid,
            area_id=area_id,
            name=name,
            address=f"{names.CITY}{rng.choice(names.STREETS)}{rng.randrange(1, 300)}号",
            model=ManagementModel.UNMANAGED.value,
            model_since=None,
        )
        rented_share = 0.65 if name == "城建小区" else 0.2
        units: list[int] = []
        households: list[int] = []
        for b_index, unit_sizes in enumerate(self._shape(name), start=1):
            bid = self.rows.add(
                Building, compound_id=comp_id, name=f"{b_index}号楼", sort_key=b_index
            )
            for u_index, size in enumerate(unit_sizes, start=1):
                uid = self.rows.add(Unit, building_id=bid, name=f"{u_index}单元", sort_key=u_index)
                units.append(uid)
                base_area = rng.choice((5800, 6450, 6850, 7200, 8100, 8860, 9300))
                for n in range(size):
                    floor, door = n // 2 + 1, n % 2 + 1
                    room = f"{floor}0{door}"
                    roll = rng.random()
                    occupancy = (
                        Occupancy.VACANT
                        if roll < 0.08
                        else Occupancy.RENTED
                        if roll < 0.08 + rented_share
                        else Occupancy.OWNER_OCCUPIED
                    )
                    hid = self.rows.add(
                        Household,
                        unit_id=uid,
                        room=room,
                        sort_key=int(room),
                        area_dm2=base_area + (door - 1) * 420,
                        occupancy=occupancy.value,
                    )
                    households.append(hid)
                    self._occupants(hid, occupancy)
        self.compounds[f"{cname}/{name}"] = {
            "id": comp_id,
            "area_id": area_id,
            "community_id": cid,
            "community_code": ccode,
            "units": units,
            "households": households,
            "name": name,
        }

    def _occupant(self, hid: int, **values: Any) -> None:
        self.rows.add(Occupant, household_id=hid, user_id=None, **values)
        self.household_occupants.setdefault(hid, []).append(self.rows.tables[Occupant][-1])

    def _occupants(self, hid: int, occupancy: Occupancy) -> None:
        rng = self.rng
        owner = names.person_name(rng)
        has_mobile = rng.random() < 0.85
        self._occupant(
            hid,
            name=owner,
            mobile=names.mobile(rng, self.taken_mobiles) if has_mobile else None,
            relation=Relation.OWNER.value,
        )
        if occupancy == Occupancy.OWNER_OCCUPIED and rng.random() < 0.5:
            self._occupant(
                hid,
                name=owner[0] + names.person_name(rng)[1:],
                mobile=names.mobile(rng, self.taken_mobiles) if rng.random() < 0.5 else None,
                relation=Relation.FAMILY.value if rng.random() < 0.7 else Relation.CO_OWNER.value,
            )
        if occupancy == Occupancy.RENTED:
            self._occupant(
                hid,
                name=names.person_name(rng),
                mobile=names.mobile(rng, self.taken_mobiles),
                relation=Relation.TENANT.value,
            )

    # --- the pilots of the story ------------------------------------------------------------

    def _set_model(self, info: dict[str, Any], model: ManagementModel, on: date, why: str) -> None:
        compound = self.rows.tables[Compound][info["id"] - 1]
        self.rows.add(
            ModelChange,
            compound_id=info["id"],
            from_model=compound["model"],
            to_model=model.value,
            effective_on=on,
            reason=why,
            changed_by_id=None,
        )
        compound["model"] = model.value
        compound["model_since"] = on

    def _pilot(
        self,
        info: dict[str, Any],
        stage: PilotStage,
        selected_on: date,
        model: ManagementModel,
    ) -> None:
        """A pilot with its plan, its stage history and milestones up to ``stage``."""
        steps = [
            (PilotStage.SELECTED, 0, ""),
            (PilotStage.CONSULTING, 20, "入户征求意见"),
            (PilotStage.ORGANISED, 45, "居民会议选举产生"),
            (PilotStage.FEES_STARTED, 75, "收费标准公示期满，经决定开始收费"),
            (PilotStage.SELF_GOVERNING, 180, "自治清单各项达标"),
        ]
        reached = steps[: [s for s, _d, _n in steps].index(stage) + 1]
        organisation = {
            ManagementModel.PARTY_BRANCH: "branch",
            ManagementModel.TRUSTEESHIP: "group",
        }.get(model, "committee")
        pilot_id = self.rows.add(
            Pilot,
            compound_id=info["id"],
            selected_on=selected_on,
            stage=stage.value,
            stage_since=selected_on + timedelta(days=reached[-1][1]),
            model=model.value,
            service_scope=PLAN_SCOPE[model],
            fee_note=PLAN_FEE[model],
            organisation=organisation,
        )
        before = ""
        for step, days, note in reached:
            self.rows.add(
                StageChange,
                pilot_id=pilot_id,
                from_stage=before,
                to_stage=step.value,
                on=selected_on + timedelta(days=days),
                note=note,
                changed_by_id=None,
            )
            before = step.value
        done = {s for s, _d, _n in reached}
        for title, days, needs in MILESTONES:
            due = selected_on + timedelta(days=days)
            self.rows.add(
                Milestone,
                pilot_id=pilot_id,
                title=title,
                due_on=due,
                done_on=due + timedelta(days=self.rng.randrange(-5, 6)) if needs in done else None,
                note="",
                vote_id=None,
            )

    def _committee(
        self,
        area_id: int,
        name: str,
        formed_on: date,
        size: int,
        fixed: Sequence[tuple[int, Position]] = (),
    ) -> None:
        # Made up as the subdistrict's committee rules ask (the defaults): an odd number of
        # members, owner representatives more than half, the chair a residents' committee
        # member named by the subdistrict, a seat for its office, terms within three years.
        cid = self.rows.add(
            Committee,
            area_id=area_id,
            name=name,
            formed_on=formed_on,
            chair_appointed=ChairAppointment.NAMED.value,
            chair_appointed_by=f"{names.SUBDISTRICT}办事处",
            chair_appointed_on=formed_on,
        )
        positions = [Position.CHAIR, Position.VICE_CHAIR, Position.TREASURER] + [
            Position.MEMBER
        ] * (size - 3)
        fixed_positions = {p for _u, p in fixed}
        members = list(fixed)
        for position in positions:
            if position in fixed_positions and position != Position.MEMBER:
                continue
            members.append((self.user(), position))
        for index, (user_id, position) in enumerate(members[:size]):
            if position == Position.CHAIR:
                kind = MemberKind.RESIDENTS_COMMITTEE
            elif index == size - 1:
                kind = MemberKind.SUBDISTRICT
            else:
                kind = MemberKind.OWNER
            self.rows.add(
                CommitteeMember,
                committee_id=cid,
                user_id=user_id,
                position=position.value,
                background=self.rng.choice(list(Background)).value,
                kind=kind.value,
                term_start=formed_on,
                term_end=date(formed_on.year + 3, formed_on.month, 1),
            )
            self.grant(user_id, Role.COMMITTEE_MEMBER, area_id)

    def _party_org(self, info: dict[str, Any], kind: PartyOrgKind, founded: date) -> None:
        self.rows.add(
            PartyOrganisation,
            compound_id=info["id"],
            kind=kind.value,
            name=info["name"] + ("党支部" if kind == PartyOrgKind.BRANCH else "党小组"),
            secretary_name=names.person_name(self.rng),
            member_count=self.rng.randrange(8, 30)
            if kind == PartyOrgKind.BRANCH
            else self.rng.randrange(3, 7),
            founded_on=founded,
        )

    def _reps(self, info: dict[str, Any], share: float, skip_last: int = 0) -> None:
        units = info["units"][: len(info["units"]) - skip_last] if skip_last else info["units"]
        for uid in units:
            if self.rng.random() < share:
                self.grant(self.user(), Role.UNIT_REP, uid)

    def _in(self, community: str) -> list[dict[str, Any]]:
        return [v for k, v in self.compounds.items() if k.startswith(community + "/")]

    def _story(self) -> None:
        rng = self.rng
        accounts = {a.mobile[-2:]: a for a in DEMO_ACCOUNTS}
        uid = {k: self.user(a.mobile, a.name) for k, a in accounts.items()}
        self.grant(uid["01"], Role.SUBDISTRICT_ADMIN, self.sub_id)
        self.grant(uid["02"], Role.COMMUNITY_STAFF, self.community_ids["绿城社区"])
        self.grant(uid["03"], Role.COMMUNITY_STAFF, self.community_ids["府东社区"])
        self.grant(uid["04"], Role.COMMUNITY_STAFF, self.community_ids["迎宾南社区"])
        for community, cid in self.community_ids.items():
            if community not in ("绿城社区", "府东社区", "迎宾南社区"):
                self.grant(self.user(), Role.COMMUNITY_STAFF, cid)

        # The pilots were chosen seven and a half months ago; all else follows from that.
        selected = self.today - timedelta(days=226)
        stages = iter(
            [PilotStage.SELF_GOVERNING] * 18
            + [PilotStage.FEES_STARTED] * 5
            + [PilotStage.ORGANISED] * 4
            + [PilotStage.CONSULTING] * 2
            + [PilotStage.SELECTED] * 1
        )

        # Contiguous: 绿城 groups 12 small compounds into three areas of 4, 3 and 5.
        lc = self._in("绿城社区")
        lc_id, lc_code = lc[0]["community_id"], lc[0]["community_code"]
        start = 0
        for n, size in enumerate((4, 3, 5), start=1):
            members = lc[start : start + size]
            start += size
            area_name = f"绿城{'一二三'[n - 1]}片区"
            area_id = self.area(lc_code, lc_id, area_name)
            on = selected + timedelta(days=40 + n)
            for info in members:
                self.rows.tables[Compound][info["id"] - 1]["area_id"] = area_id
                info["area_id"] = area_id
                self._set_model(info, ManagementModel.CONTIGUOUS, on, area_name)
                self._pilot(info, next(stages), selected, ManagementModel.CONTIGUOUS)
                self._reps(info, 0.5)
            fixed = [(uid["05"], Position.CHAIR), (uid["06"], Position.TREASURER)] if n == 1 else []
            self._committee(area_id, f"{area_name}物管会", on, rng.randrange(5, 8), fixed)

        # Party-branch managed: 新国土小区 and nine more.
        branch = [self.compounds["迎宾南社区/新国土小区"]]
        for community, k in (("迎宾南社区", 3), ("大峰社区", 2), ("府中社区", 2), ("新安社区", 2)):
            branch += [c for c in self._in(community) if c["name"] != "新国土小区"][:k]
        # Trusteeship: 城建小区 and seven more.
        trust = [self.compounds["府东社区/城建小区"]]
        for community, k in (("府东社区", 2), ("府前社区", 2), ("离柳社区", 2), ("建西社区", 1)):
            trust += [c for c in self._in(community) if c["name"] != "城建小区"][:k]
        plan = [(c, ManagementModel.PARTY_BRANCH) for c in branch] + [
            (c, ManagementModel.TRUSTEESHIP) for c in trust
        ]
        # Interleave so both models reach every stage.
        plan.sort(
            key=lambda item: (item[0]["name"] not in ("新国土小区", "城建小区"), rng.random())
        )
        for info, model in plan:
            stage = next(stages)
            self._pilot(info, stage, selected, model)
            if stage in (PilotStage.SELECTED, PilotStage.CONSULTING):
                continue
            on = selected + timedelta(days=45)
            self._set_model(info, model, on, "一小区一方案")
            if model == ManagementModel.PARTY_BRANCH:
                self._party_org(info, PartyOrgKind.BRANCH, selected - timedelta(days=45))
                is_xgt = info["name"] == "新国土小区"
                fixed = [(uid["07"], Position.CHAIR)] if is_xgt else []
                self._committee(info["area_id"], f"{info['name']}物管会", on, 5, fixed)
                if is_xgt:
                    # 周玉梅 represents the first two units; the last unit waits for a new rep.
                    self.grant(uid["08"], Role.UNIT_REP, info["units"][0])
                    self.grant(uid["08"], Role.UNIT_REP, info["units"][1])
                    for unit_id in info["units"][2:-1]:
                        self.grant(self.user(), Role.UNIT_REP, unit_id)
                else:
                    # The self-governing ones have a representative in every stairwell.
                    self._reps(info, 1.0 if stage == PilotStage.SELF_GOVERNING else 0.8)
            else:
                self._party_org(info, PartyOrgKind.GROUP, selected + timedelta(days=16))

        # The demo residents live where the story is.
        xgt = self.compounds["迎宾南社区/新国土小区"]
        self._resident(uid["09"], xgt["households"][0], Relation.OWNER)
        self._resident(uid["08"], xgt["households"][2], Relation.OWNER)
        cj = self.compounds["府东社区/城建小区"]
        # 2号楼1单元302: buildings of 24 households, 2 per floor.
        self._resident(uid["10"], cj["households"][24 + 5], Relation.TENANT)

    def _resident(self, user_id: int, household_id: int, relation: Relation) -> None:
        user = self.rows.tables[User][user_id - 1]
        household = self.rows.tables[Household][household_id - 1]
        # The demo residents live in their homes: rented for the tenant, owner-occupied else.
        household["occupancy"] = (
            Occupancy.RENTED.value
            if relation == Relation.TENANT
            else Occupancy.OWNER_OCCUPIED.value
        )
        # The resident takes the place of the generated occupant of the same standing.
        for occupant in self.household_occupants.get(household_id, []):
            if occupant["relation"] == relation.value:
                occupant.update(name=user["name"], mobile=user["mobile"], user_id=user_id)
                break
        else:
            self._occupant(
                household_id, name=user["name"], mobile=user["mobile"], relation=relation.value
            )
            self.household_occupants[household_id][-1]["user_id"] = user_id
        self.grant(user_id, Role.RESIDENT, household_id)

    # --- benchmark datasets -----------------------------------------------------------------

    def _bench_people(self) -> None:
        """An admin; staff per community; per compound a committee, a representative per
        unit and a resident account for the first household."""
        formed = self.today - timedelta(days=330)
        self.grant(self.user(), Role.SUBDISTRICT_ADMIN, self.sub_id)
        for cid in self.community_ids.values():
            self.grant(self.user(), Role.COMMUNITY_STAFF, cid)
        stages = [stage for stage in PilotStage if stage != PilotStage.PAUSED]
        for n, info in enumerate(self.compounds.values()):
            # Every compound a pilot, at every stage in turn: the dashboard's whole load.
            self._pilot(
                info,
                stages[n % len(stages)],
                self.today - timedelta(days=1275),
                ManagementModel.PARTY_BRANCH,
            )
            self._set_model(info, ManagementModel.PARTY_BRANCH, formed, "bench")
            self._party_org(info, PartyOrgKind.BRANCH, formed)
            self._committee(info["area_id"], f"{info['name']}物管会", formed, 5)
            for unit_id in info["units"]:
                self.grant(self.user(), Role.UNIT_REP, unit_id)
            self._resident(self.user(), info["households"][0], Relation.OWNER)


def set_demo_passwords() -> None:
    """Give the demo accounts the published demo password (hashed per account)."""
    for account in DEMO_ACCOUNTS:
        user = db.session.scalar(select(User).where(User.mobile == account.mobile))
        if user is not None:
            user.password_hash = hash_password(DEMO_PASSWORD)
    db.session.commit()


def sample_accounts() -> list[DemoAccount]:
    """For the generated datasets: the first account of each role, given the demo password."""
    hashed = hash_password(DEMO_PASSWORD)
    accounts = []
    for role in Role:
        user = db.session.scalar(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == role)
            .order_by(RoleGrant.id)
        )
        if user is not None:
            user.password_hash = hashed
            accounts.append(DemoAccount(user.mobile, user.name, role.value))
    db.session.commit()
    return accounts


def demo_accounts_present() -> bool:
    return (
        db.session.scalar(select(User.id).where(User.mobile == DEMO_ACCOUNTS[0].mobile)) is not None
    )
