"""The inbox (消息), SMS choices, and for staff the failed SMS and the dev SMS box."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..extensions import db
from ..fields import whole_number
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from ..viewkit import act, done, user
from . import bp, delivery, service
from .forms import SmsChoicesForm, kind_label
from .models import DevSms, Message, Outbox, OutboxStatus

STAFF_PAGE = 50


@bp.app_context_processor
def _unread() -> dict[str, Any]:
    """``unread_count()`` for the top navigation: one indexed COUNT, once per request."""

    def unread_count() -> int:
        if "_unread" not in g:
            p = access.principal()
            g._unread = 0 if p.user_id is None else service.unread_count(p.user_id)
        return int(g._unread)

    return {"unread_count": unread_count, "kind_label": kind_label}


def _page() -> int:
    return whole_number(request.args.get("page")) or 1


@bp.get("/")
def index() -> Response:
    p = access.require_signed_in()
    assert p.user_id is not None
    inbox = service.inbox(p.user_id, _page())
    g._unread = inbox.unread
    return render("messages/index.html", inbox=inbox, staff=access.can(Action.OVERSEE, p=p))


def _local(url: str) -> str | None:
    """A message's link, if it is a path on this site."""
    if url.startswith("/") and url[1:2] not in ("/", "\\") and not any(ord(c) < 32 for c in url):
        return url
    return None


@bp.post("/<int:message_id>/open")
def open_message(message_id: int) -> Response:
    message = access.get_or_404(Message, message_id)
    service.mark_read(message)
    db.session.commit()
    return redirect_after_post(_local(message.url) or url_for(".index"))


@bp.post("/read")
def read_all() -> Response:
    access.require_signed_in()
    return act(
        lambda: service.mark_all_read(user()), url_for(".index"), _("All messages marked as read.")
    )


@bp.route("/sms", methods=["GET", "POST"])
def sms_choices() -> Response:
    p = access.require_signed_in()
    assert p.user_id is not None
    form = SmsChoicesForm()
    if request.method == "GET":
        form.kinds.data = sorted(service.sms_kinds(p.user_id))
    else:
        saved = submit(form, lambda: service.set_sms_kinds(user(), form.kinds.data or []))
        if saved.ok:
            return done(_("Your SMS choices are saved."), url_for(".index"))
    return render("messages/sms_choices.html", form=form, status=form_status(form))


@bp.get("/failed")
def failed() -> Response:
    p = access.require_staff()
    page = _page()
    in_sight = (Outbox.status == OutboxStatus.FAILED, access.sms_filter(Outbox.mobile, p))
    total = db.session.scalar(select(func.count()).select_from(Outbox).where(*in_sight)) or 0
    pages = max(1, -(-total // STAFF_PAGE))
    page = min(page, pages)
    rows = db.session.scalars(
        select(Outbox)
        .where(*in_sight)
        .order_by(Outbox.id.desc())
        .limit(STAFF_PAGE)
        .offset((page - 1) * STAFF_PAGE)
    ).all()
    return render("messages/failed.html", rows=rows, page=page, pages=pages, total=total)


@bp.post("/outbox/<int:outbox_id>/retry")
def retry(outbox_id: int) -> Response:
    row = access.get_or_404(Outbox, outbox_id)
    return act(lambda: delivery.retry(row), url_for(".failed"), _("The SMS will be sent again."))


def dev_sms_box_open() -> bool:
    """The dev SMS box is there: the dev backend, on a server that is not production."""
    cfg = current_app.config
    return cfg.get("SMS_BACKEND", "dev") == "dev" and cfg.get("ENV_NAME") != "production"


@bp.get("/dev-sms")
def dev_sms() -> Response:
    """Every SMS the dev backend "sent", sign-in codes included: only to try the flows on
    a development machine. Not found with a real SMS backend or in production (where
    ``check-deploy`` refuses the dev backend): staff must never read a resident's code."""
    if not dev_sms_box_open():
        abort(404)
    p = access.require_staff()
    page = _page()
    in_sight = access.sms_filter(DevSms.mobile, p)
    total = db.session.scalar(select(func.count()).select_from(DevSms).where(in_sight)) or 0
    pages = max(1, -(-total // STAFF_PAGE))
    page = min(page, pages)
    rows = db.session.scalars(
        select(DevSms)
        .where(in_sight)
        .order_by(DevSms.id.desc())
        .limit(STAFF_PAGE)
        .offset((page - 1) * STAFF_PAGE)
    ).all()
    return render("messages/dev_sms.html", rows=rows, page=page, pages=pages, total=total)
