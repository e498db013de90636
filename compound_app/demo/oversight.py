"""The story's certifications: the self-governing pilots, certified on their checklist.

Run after the fees and repairs of the story exist, so each certification keeps the
checklist the records give, as staff would have seen it.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..auth.models import Role, RoleGrant
from ..extensions import db
from ..oversight.checklist import checklists, passes, settings_for
from ..oversight.facts import gather, window
from ..oversight.models import Certification
from ..registry.models import Pilot, PilotStage, Subdistrict


def certify_story() -> int:
    """Certify every self-governing pilot; returns how many passed their checklist."""
    with current_app.test_request_context():  # the checklist's words and evidence links
        subdistrict = db.session.scalars(select(Subdistrict)).one()
        settings = settings_for(subdistrict.id)
        pilots = db.session.scalars(
            select(Pilot).where(Pilot.stage == PilotStage.SELF_GOVERNING)
        ).all()
        facts = gather(pilots, window(settings.window_months))
        checks = checklists(facts, settings)
        staff = dict(
            db.session.execute(
                select(RoleGrant.community_id, RoleGrant.user_id)
                .where(RoleGrant.role == Role.COMMUNITY_STAFF)
                .order_by(RoleGrant.id.desc())
            ).all()
        )
        passed = 0
        for fact in facts:
            found = checks[fact.pilot.id]
            ok = passes(found)
            passed += ok
            db.session.add(
                Certification(
                    pilot_id=fact.pilot.id,
                    on=fact.pilot.stage_since,
                    passed=ok,
                    override_reason="" if ok else "街道党工委研究同意，限期补齐",
                    checklist=[c.as_record() for c in found],
                    certified_by_id=staff[fact.compound.community_id],
                )
            )
        db.session.commit()
    return passed
