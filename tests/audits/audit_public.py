"""The public links' case for ``test_audit``: withdrawing a poster's link writes its audit row
(the token itself is never copied into the trail)."""

from __future__ import annotations

from typing import Any

from compound_app.extensions import db
from compound_app.public import service
from compound_app.public.models import LinkKind
from tests.audits.test_audit import Changed, Post, case, changed, is_set
from tests.factories import World


@case("public.revoke", "committee")
def _revoke(w: World, client: Any) -> Post:
    link = service.link_for(LinkKind.WORKS_BOARD, w.branch.id, w.users["committee"])
    db.session.commit()

    def expect() -> list[Changed]:
        db.session.refresh(link)
        return [
            changed(link, "revoke", revoke_reason="贴错了", revoked_at=is_set),
        ]

    return Post(f"/p/links/{link.id}/revoke", {"reason": "贴错了"}, expect)
