"""The committee make-up routes' cases for ``test_audit``: recording how the chair was
appointed and the subdistrict's committee rules each write their audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from compound_app.committees.models import Committee
from tests.audits.test_audit import Changed, Post, case, changed, one
from tests.factories import World


@case("committees.chair", "staff")
def _chair(w: World, client: Any) -> Post:
    area_id = w.branch.area_id
    return Post(
        f"/committees/areas/{area_id}/chair",
        {
            "chair_appointed": "elected",
            "chair_appointed_by": "物管会第一次会议",
            "chair_appointed_on": "2026-06-01",
        },
        lambda: [
            changed(
                one(select(Committee).where(Committee.area_id == area_id)),
                "chair_appointed",
                chair_appointed="elected",
                chair_appointed_by="物管会第一次会议",
                chair_appointed_on="2026-06-01",
            )
        ],
    )


@case("committees.rules", "admin")
def _rules(w: World, client: Any) -> Post:
    sub_id = w.subdistrict.id
    return Post(
        f"/committees/rules/{sub_id}",
        {
            "min_members": "7",
            "max_members": "13",
            "odd_members": "y",
            "owners_rule": "y",
            "owners_pct": "60",
            "chair_appointment": "named",
            "max_term_years": "5",
        },
        # The rules are kept per subdistrict: the row's key is the subdistrict's id.
        lambda: [
            Changed(
                "committee_rules",
                sub_id,
                {
                    "min_members": 7,
                    "max_members": 13,
                    "odd_members": True,
                    "owners_pct": 60,
                    "max_term_years": 5,
                },
                "committee_rules",
            )
        ],
    )
