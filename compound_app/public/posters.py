"""What a page that prints a poster needs: the poster's live public link for its QR code,
and for those who manage the poster's object, the form that withdraws the link.

Used by the areas' poster views (fees, votes, repairs, notices); not a view module itself,
so they may import it (docs/ARCHITECTURE.md §2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy.exc import IntegrityError

from .. import access, viewkit
from ..access import Action
from ..database import writing
from ..extensions import db
from ..templating import qr_data_uri
from . import service
from .forms import RevokeForm
from .models import LinkKind, PublicLink


@dataclass
class Poster:
    link: PublicLink
    url: str  # printed in the QR code
    revoke_form: RevokeForm | None  # None: the viewer may not withdraw the link
    last_day: date | None = None  # the code stops working after this day; None: never

    @property
    def qr(self) -> str:
        """The QR code of ``url``, as a data URI for the poster's <img>."""
        return _qr(self.url)


@lru_cache(maxsize=1024)
def _qr(url: str) -> str:
    # Drawing a code takes ~20 ms; a poster's code stays the same until it is withdrawn.
    return qr_data_uri(url)


def poster(kind: LinkKind, target_id: int) -> Poster:
    """The poster's link (made on its first print) and, for its managers, the revoke form."""
    link = printed_link(kind, target_id)
    form = RevokeForm(formdata=None) if access.can(Action.MANAGE, link) else None
    return Poster(link, service.public_url(link), form, service.last_day(link))


def printed_link(kind: LinkKind, target_id: int) -> PublicLink:
    """The live link of a poster, made and committed now if it has none.

    Called while a page (a GET) is shown: its reading transaction ends first, so that the
    new link is written in a transaction of its own that takes the write lock up front
    (docs/ARCHITECTURE.md §4). Two people printing the same poster at once get one link.
    A link past its time (``service.expires_at``) is ended and replaced the same way.
    """
    link = service.live_link(kind, target_id)
    if link is not None and not service.expired(link):
        return link
    db.session.commit()
    with writing():
        try:
            link = service.link_for(kind, target_id, viewkit.user())
            db.session.commit()
        except IntegrityError:  # made by someone else at the same moment
            db.session.rollback()
            link = None
    if link is None:
        link = service.live_link(kind, target_id)
    if link is None:
        raise RuntimeError(f"no live link for {kind} {target_id}")
    return link
