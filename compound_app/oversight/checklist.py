"""The self-governance checklist: each rule computed from the records, with its evidence.

A pilot is self-governing when every rule that applies to it passes over the last
``window_months`` complete months. The thresholds are the subdistrict's own
(``OversightSettings``); the defaults are the pilots' experience.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from .. import clock
from ..fees.models import ApprovalHow
from ..labels import label
from ..months import month_name
from ..registry.models import ManagementModel, PartyOrgKind
from .facts import Facts, window
from .models import OversightSettings


@dataclass
class Check:
    code: str
    label: str
    passed: bool
    detail: str
    evidence: str | None  # a link to the page that shows it

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def settings_for(subdistrict_id: int) -> OversightSettings:
    from ..extensions import db

    found = db.session.get(OversightSettings, subdistrict_id)
    return found or OversightSettings(
        subdistrict_id=subdistrict_id,
        rep_coverage_pct=90,
        collection_pct=80,
        repairs_in_target_pct=80,
        window_months=3,
        overdue_rule=False,
        overdue_days=30,
        min_publicity_days=7,
    )


def owners_decided(f: Facts) -> bool:
    """The fee standard in force was decided by the owners' vote (not the community's
    exception, nor a meeting recorded before the rule)."""
    return f.schedule_id is not None and f.schedule_how == ApprovalHow.OWNERS_VOTE


def fee_exception(f: Facts) -> bool:
    """The pilot's fee standard in force is the community's decision, an exception."""
    return f.schedule_id is not None and f.schedule_how == ApprovalHow.COMMUNITY


def overdue_days(f: Facts) -> float | None:
    """How long the pilot's longest-overdue open problem has been overdue, in days."""
    if f.oldest_overdue is None:
        return None
    return (clock.now() - f.oldest_overdue).total_seconds() / 86400


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _month(d: Any) -> str:
    return month_name(d)  # 2026年11月, as every page writes a month


def verdicts(f: Facts, s: OversightSettings) -> dict[str, bool]:
    """Each rule that applies to the pilot, passed or not (the dashboard needs no more)."""
    model = f.pilot.model
    found: dict[str, bool] = {}
    if model == ManagementModel.TRUSTEESHIP:
        found["organisation"] = f.staff > 0
    elif model == ManagementModel.PARTY_BRANCH and f.party_kind == PartyOrgKind.BRANCH:
        found["organisation"] = f.party_members > 0
    else:
        found["organisation"] = f.committee_members > 0
    if model == ManagementModel.PARTY_BRANCH:
        coverage = f.rep_coverage
        found["representatives"] = coverage is not None and coverage >= s.rep_coverage_pct
    found["schedule"] = f.schedule_id is not None
    found["owners_decided"] = owners_decided(f)
    rates = [m.rate for _month_, m in sorted(f.months.items())]
    found["collection"] = bool(rates) and all(
        r is not None and r >= s.collection_pct for r in rates
    )
    found["boards"] = bool(f.months) and all(m.board for m in f.months.values())
    share = f.in_target_share
    found["repairs"] = share is not None and share >= s.repairs_in_target_pct
    if s.overdue_rule:
        days = overdue_days(f)
        found["problems"] = days is None or days <= s.overdue_days
    return found


def checklist(f: Facts, s: OversightSettings) -> list[Check]:
    """The rules with their words and the links to their evidence, for a pilot's page."""
    compound, area_id = f.compound, f.compound.area_id
    model = f.pilot.model
    verdict = verdicts(f, s)
    checks: list[Check] = []

    # 1. An organisation with members: a committee, the party branch, or community staff.
    ok = verdict["organisation"]
    if model == ManagementModel.TRUSTEESHIP:
        detail = _("%(n)d community staff", n=f.staff)
        link = url_for("registry.compound", compound_id=compound.id)
    elif model == ManagementModel.PARTY_BRANCH and f.party_kind == PartyOrgKind.BRANCH:
        detail = _("party branch, %(n)d members", n=f.party_members)
        link = url_for("registry.party", compound_id=compound.id)
    else:
        detail = _("committee, %(n)d members in office", n=f.committee_members)
        link = url_for("committees.area", area_id=area_id)
    checks.append(Check("organisation", _("Organisation formed with members"), ok, detail, link))

    # 2. Branch-managed: a representative in (nearly) every stairwell.
    if model == ManagementModel.PARTY_BRANCH:
        checks.append(
            Check(
                "representatives",
                _("Unit representatives cover at least %(n)d%% of units", n=s.rep_coverage_pct),
                verdict["representatives"],
                _("%(a)d of %(b)d units", a=f.units_with_rep, b=f.units),
                url_for("registry.compound", compound_id=compound.id),
            )
        )

    # 3. A fee schedule in force.
    checks.append(
        Check(
            "schedule",
            _("Fee schedule in force"),
            verdict["schedule"],
            _("in force") if f.schedule_id else _("none in force"),
            url_for("fees.schedule", schedule_id=f.schedule_id)
            if f.schedule_id
            else url_for("fees.area", area_id=area_id),
        )
    )

    # 3a. The owners decided the fee standard in force (Civil Code art. 278).
    if fee_exception(f):
        detail = _("the community's exception: %(reason)s", reason=f.schedule_note or "–")
    elif f.schedule_id is None:
        detail = _("none in force")
    elif f.schedule_how == ApprovalHow.OWNERS_VOTE:
        detail = _("by the owners' vote")
    else:
        detail = _(
            "by %(how)s, without an owners' vote",
            how=label("approval", f.schedule_how),
        )
    checks.append(
        Check(
            "owners_decided",
            _("Fee standard decided by the owners"),
            verdict["owners_decided"],
            detail,
            url_for("fees.schedule", schedule_id=f.schedule_id)
            if f.schedule_id
            else url_for("fees.area", area_id=area_id),
        )
    )

    # 4. Collection rate in each month of the window.
    rates = [(month, m.rate) for month, m in sorted(f.months.items())]
    checks.append(
        Check(
            "collection",
            _(
                "Collection rate at least %(n)d%% in each of the last %(m)d months",
                n=s.collection_pct,
                m=s.window_months,
            ),
            verdict["collection"],
            " · ".join(f"{_month(m)} {_pct(r)}" for m, r in rates),
            url_for("fees.arrears", area_id=area_id),
        )
    )

    # 5. The finance board published for each month of the window.
    missing = [month for month, m in sorted(f.months.items()) if not m.board]
    checks.append(
        Check(
            "boards",
            _("Finance board published for each of the last %(m)d months", m=s.window_months),
            verdict["boards"],
            _("missing: %(months)s", months=", ".join(_month(m) for m in missing))
            if missing
            else _("all published"),
            url_for("fees.board", area_id=area_id),
        )
    )

    # 6. Repairs completed within their target days.
    share = f.in_target_share
    closed = sum(m.closed for m in f.months.values())
    checks.append(
        Check(
            "repairs",
            _(
                "At least %(n)d%% of repairs completed within target",
                n=s.repairs_in_target_pct,
            ),
            verdict["repairs"],
            _("%(share)s of %(n)d completed", share=_pct(share), n=closed)
            if closed
            else _("no repair completed in these months"),
            url_for("repairs.tasks", compound_id=compound.id, status="finished"),
        )
    )

    # 7. Switched on by the subdistrict: no problem overdue longer than N days.
    if s.overdue_rule:
        days = overdue_days(f)
        checks.append(
            Check(
                "problems",
                _("No problem overdue longer than %(n)d days", n=s.overdue_days),
                verdict["problems"],
                _("none overdue")
                if days is None
                else _("the longest overdue for %(days)d days", days=int(days)),
                url_for("problems.compound", compound_id=compound.id, status="overdue"),
            )
        )
    return checks


def passes(checks: list[Check]) -> bool:
    return all(c.passed for c in checks)


def checklists(facts: list[Facts], s: OversightSettings) -> dict[int, list[Check]]:
    return {f.pilot.id: checklist(f, s) for f in facts}


__all__ = [
    "Check",
    "checklist",
    "checklists",
    "fee_exception",
    "owners_decided",
    "passes",
    "settings_for",
    "verdicts",
    "window",
]
