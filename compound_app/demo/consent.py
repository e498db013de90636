"""Consent on the demo roster: most numbers have it, as a committee's paper forms and
door-to-door visits would leave it; the demo residents give theirs online themselves."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from .. import clock
from ..extensions import db
from ..registry.models import Consent, Occupant


def give_consent() -> None:
    """Four in five unlinked roster mobiles get consent (on paper or in person, weeks ago);
    the rest stay on the committee's list of whose consent is missing. Does not commit."""
    for how, remainders, weeks in ((Consent.PAPER, (1, 2), 6), (Consent.IN_PERSON, (3, 4), 3)):
        db.session.execute(
            update(Occupant)
            .where(
                Occupant.mobile.is_not(None),
                Occupant.user_id.is_(None),
                (Occupant.id % 5).in_(remainders),
            )
            .values(
                consent_how=how.value,
                consent_at=clock.start_of_day(clock.today() - timedelta(weeks=weeks)),
            )
            .execution_options(synchronize_session=False)
        )
