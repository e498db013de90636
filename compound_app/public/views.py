"""The public page behind a poster's QR code: no login, nothing personal, not indexed; and
withdrawing a poster's link."""

from __future__ import annotations

from flask import Response, make_response, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from .. import access, viewkit
from ..access import Action
from ..database import writing
from ..extensions import db
from ..forms import submit
from ..htmx import render
from . import bp, pages, service
from .forms import RevokeForm
from .models import PublicLink


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _public(html: str, status: int = 200) -> Response:
    response = make_response(html, status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/<token>")
def show(token: str) -> Response:
    ip = _client_ip()
    wait = service.miss_wait(ip)
    if wait:
        # Over the limit: the same answer for every token, so a hit cannot be told apart.
        response = _public(render_template("public/limited.html", minutes=wait), 429)
        response.headers["Retry-After"] = str(wait * 60)
        return response
    link = service.find(token)
    if link is None:
        # A guess: counted in a transaction of its own, begun with the write lock.
        db.session.rollback()
        with writing():
            service.record_miss(ip)
            db.session.commit()
        return _public(render_template("public/gone.html"), 404)
    live = link.revoked_at is None and not service.expired(link)
    html = pages.render(link) if live else None
    if html is None:  # withdrawn or expired, or what it showed is gone or no longer public
        return _public(render_template("public/gone.html"), 404)
    return _public(html)


@bp.post("/links/<int:link_id>/revoke")
def revoke(link_id: int) -> BaseResponse:
    link = access.get_or_404(PublicLink, link_id, Action.MANAGE)
    back = pages.poster_page(link) or url_for("home.index")
    form = RevokeForm()
    done = submit(form, lambda: service.revoke(link, viewkit.user(), form.reason.data))
    if done.ok:
        return viewkit.done(
            _(
                "The link is withdrawn: the QR code on the paper opens nothing any more. "
                "Print the poster again for a new code."
            ),
            back,
        )
    return render(
        "public/revoke.html",
        link=link,
        url=service.public_url(link),
        form=form,
        back=back,
        status=422,
    )
