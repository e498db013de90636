"""The public page behind a poster's QR code: no login, nothing personal, not indexed."""

from __future__ import annotations

from flask import Response, abort, make_response

from . import bp
from .models import LinkKind
from .pages import RENDERERS
from .service import find_live


@bp.get("/<token>")
def show(token: str) -> Response:
    link = find_live(token)
    renderer = RENDERERS.get(LinkKind(link.kind)) if link else None
    html = renderer(link) if link and renderer else None
    if html is None:
        abort(404)
    response = make_response(html)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
