"""The public page of a notice poster's QR code: exactly what the paper shows.

Title, kind, dates, body and photos; never a resident's name or mobile, no comments, no
coverage. A withdrawn notice, or one not yet published, answers 404.
"""

from __future__ import annotations

import base64

from flask import render_template, url_for

from ..extensions import db
from ..public.models import LinkKind, PublicLink
from ..public.pages import printed_at, renders
from ..uploads import upload_dir
from .forms import KIND_LABELS
from .models import FileKind, Notice
from .service import blocks


def _photo_uri(name: str) -> str | None:
    path = upload_dir() / name
    if "/" in name or not path.is_file():
        return None
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@renders(LinkKind.NOTICE)
def notice_page(link: PublicLink) -> str | None:
    notice = db.session.get(Notice, link.target_id)
    if notice is None or notice.withdrawn or not notice.published():
        return None
    photos = [
        uri
        for f in notice.files
        if f.kind == FileKind.PHOTO and (uri := _photo_uri(f.name)) is not None
    ]
    return render_template(
        "notices/public.html",
        notice=notice,
        photos=photos,
        kind_labels=KIND_LABELS,
        blocks=blocks,
    )


@printed_at(LinkKind.NOTICE)
def notice_poster(link: PublicLink) -> str:
    return url_for("notices.poster", notice_id=link.target_id)
