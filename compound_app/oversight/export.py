"""The pilot ledger (试点台账) as an Excel workbook with Chinese headers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..xlsx import Sheet, workbook, yuan, zh
from .dashboard import Dashboard
from .models import Certification, StageChange


def _pct(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def pilot_ledger_xlsx(board: Dashboard) -> bytes:
    rows = board.shown
    pilot_ids = [r.facts.pilot.id for r in rows]
    names = {r.facts.pilot.id: r.facts.compound.name for r in rows}
    ledger: list[list[Any]] = []
    for r in rows:
        f = r.facts
        ledger.append(
            [
                f.community.name,
                f.compound.name,
                zh("model", f.pilot.model),
                f.pilot.selected_on,
                zh("stage", f.pilot.stage),
                f.pilot.stage_since,
                f.households,
                zh("organisation", f.pilot.organisation),
                f.pilot.fee_note,
                _pct(f.rep_coverage) if f.pilot.model == "party_branch" else "",
                _pct(f.latest_rate),
                f.open_repairs,
                f.overdue_repairs,
                _pct(f.in_target_share),
                f.facilities.get("camera", 0),
                f"{r.passed}/{len(r.checks)}",
                "是" if r.passes else "否",
            ]
        )
    monthly: list[list[Any]] = []
    for r in rows:
        for month, m in sorted(r.facts.months.items()):
            monthly.append(
                [
                    r.facts.compound.name,
                    f"{month:%Y-%m}",
                    yuan(m.billed_fen),
                    yuan(m.collected_fen),
                    _pct(m.rate),
                    "是" if m.board else "否",
                    m.closed,
                    m.in_target,
                    m.open_at_end,
                ]
            )
    changes = db.session.scalars(
        select(StageChange)
        .where(StageChange.pilot_id.in_(pilot_ids))
        .order_by(StageChange.pilot_id, StageChange.on, StageChange.id)
    ).all()
    certs = db.session.scalars(
        select(Certification)
        .where(Certification.pilot_id.in_(pilot_ids))
        .options(joinedload(Certification.certified_by))
        .order_by(Certification.pilot_id, Certification.id)
    ).all()
    sheets: list[Sheet] = [
        (
            "试点台账",
            [
                "社区",
                "小区",
                "管理模式",
                "入选日期",
                "阶段",
                "阶段起始",
                "户数",
                "组织",
                "收费标准",
                "单元代表覆盖率(%)",
                "最近月收缴率(%)",
                "未完成维修",
                "超时维修",
                "维修按时完成率(%)",
                "监控(个)",
                "自治清单",
                "清单通过",
            ],
            ledger,
        ),
        (
            "月度指标",
            [
                "小区",
                "月份",
                "应收(元)",
                "已收(元)",
                "收缴率(%)",
                "收支公示",
                "完成维修",
                "按时完成",
                "月末未完成",
            ],
            monthly,
        ),
        (
            "阶段记录",
            ["小区", "日期", "原阶段", "新阶段", "说明"],
            [
                [
                    names[c.pilot_id],
                    c.on,
                    zh("stage", c.from_stage) if c.from_stage else "",
                    zh("stage", c.to_stage),
                    c.note,
                ]
                for c in changes
            ],
        ),
        (
            "自治认定",
            ["小区", "认定日期", "清单通过", "特批理由", "认定人"],
            [
                [
                    names[c.pilot_id],
                    c.on,
                    "是" if c.passed else "否",
                    c.override_reason,
                    c.certified_by.name,
                ]
                for c in certs
            ],
        ),
    ]
    return workbook(sheets)
