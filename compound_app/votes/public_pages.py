"""The public page of a closed vote's result notice (rooms and choices, never names),
opened by its QR code. A vote not closed has no public page."""

from __future__ import annotations

from flask import render_template, url_for

from ..extensions import db
from ..public.models import LinkKind, PublicLink
from ..public.pages import printed_at, renders
from . import service
from .models import Vote, VoteStatus


@renders(LinkKind.VOTE_RESULT)
def result_page(link: PublicLink) -> str | None:
    vote = db.session.get(Vote, link.target_id)
    if vote is None or vote.status != VoteStatus.CLOSED:
        return None
    return render_template(
        "public/vote_result.html",
        vote=vote,
        tally=service.tally(vote),
        lines=service.homes(vote),
        tellers=service.tellers_of(vote),
    )


@printed_at(LinkKind.VOTE_RESULT)
def result_poster(link: PublicLink) -> str:
    return url_for("votes.notice", vote_id=link.target_id)
