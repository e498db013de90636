"""The public page of a notice poster's QR code: exactly what the paper shows.

Title, kind, dates and body, as the poster prints them: no photos or files (the paper has
none), never a resident's name or mobile, no comments, no coverage. A withdrawn or expired
notice, or one not yet published, answers 404.
"""

from __future__ import annotations

from flask import render_template, url_for

from ..extensions import db
from ..public.models import LinkKind, PublicLink
from ..public.pages import printed_at, renders
from .forms import KIND_LABELS
from .models import Notice
from .service import blocks


@renders(LinkKind.NOTICE)
def notice_page(link: PublicLink) -> str | None:
    notice = db.session.get(Notice, link.target_id)
    if notice is None or not notice.current():
        return None
    return render_template(
        "notices/public.html",
        notice=notice,
        kind_labels=KIND_LABELS,
        blocks=blocks,
    )


@printed_at(LinkKind.NOTICE)
def notice_poster(link: PublicLink) -> str:
    return url_for("notices.poster", notice_id=link.target_id)
