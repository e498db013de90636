"""Notice pages: a compound's notices, the notice, posting, withdrawing, comments,
acknowledgement, the A4 poster, and the representative's round of doors."""

from __future__ import annotations

from typing import Any

import click
from flask import abort, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, database, viewkit
from ..access import Action
from ..extensions import db
from ..fields import search_text
from ..forms import form_status, submit
from ..htmx import render
from ..public import posters
from ..public.models import LinkKind
from ..registry.models import Compound
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, service
from .forms import HOW_LABELS, KIND_LABELS, CommentForm, NoticeForm, TellForm, WithdrawForm
from .models import FileKind, Notice, NoticeFile


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "how_labels": HOW_LABELS, "blocks": service.blocks}


# --- a compound's notices ---------------------------------------------------------------------


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id)
    p = access.principal()
    runs = access.can(Action.POST_NOTICE, found.area) or access.can(Action.POST_NOTICE, found)
    state = search_text(request.args.get("status"), 12)
    if state not in service.STATES or not runs:
        state = "current"
    kind = search_text(request.args.get("kind"), 12) or None
    return render(
        "notices/compound.html",
        "notices/_list.html",
        target="notice-list",
        compound=found,
        notices=service.compound_notices(found, p, state, kind),
        runs=runs,
        may_post=bool(service.post_scopes(found, p)),
        has_rounds=bool(p.rep_units),
        state=state,
        kind=kind,
        states=service.STATES,
        now=clock.now(),
        **_labels(),
    )


def _form_page(found: Compound, form: NoticeForm, status: int = 200) -> Response:
    return render("notices/new.html", status=status, compound=found, form=form, **_labels())


@bp.route("/compounds/<int:compound_id>/new", methods=["GET", "POST"])
@accepts_uploads
def new(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id)
    p = access.principal()
    scopes = service.post_scopes(found, p)
    if not scopes:
        abort(403)
    choices = [(s.value, s.label) for s in scopes]
    if request.method == "GET":
        return _form_page(found, NoticeForm(formdata=None, scopes=choices, publish_time="08:00"))
    form = NoticeForm(scopes=choices)
    done = submit(
        form,
        lambda: service.create_notice(
            service.resolve_scope(form.scope.data),
            service.Draft(
                kind=form.kind.data,
                title=form.title.data,
                body=list(form.body.lines),
                publish_on=form.publish_on.data,
                publish_time=form.publish_time.data,
                expires_on=form.expires_on.data,
                comments_until=form.comments_until.data,
                pinned=bool(form.pinned.data),
                ask_ack=bool(form.ask_ack.data),
            ),
            request.files.getlist("files"),
            viewkit.user(),
            p,
        ),
    )
    if done.ok:
        notice = done.result
        message = (
            _("The notice is published; residents have been told.")
            if notice.announced_at
            else _("The notice is saved and will be published at the time you chose.")
        )
        return viewkit.done(message, url_for(".show", notice_id=notice.id))
    return _form_page(found, form, form_status(form))


# --- the notice ---------------------------------------------------------------------------------


def _notice_page(notice: Notice, status: int = 200, **forms: Any) -> Response:
    p = access.principal()
    user = viewkit.user()
    manages = access.can(Action.POST_NOTICE, notice)
    units = service.tellable_units(notice, p)
    sees_coverage = manages or bool(units)
    lines = service.coverage(notice, None if manages else units) if sees_coverage else []
    own = bool(service.own_homes(notice, p))
    return render(
        "notices/notice.html",
        status=status,
        notice=notice,
        manages=manages,
        own=own,
        lines=lines,
        total=service.total(lines),
        tells=units is None or bool(units),
        comments_open=service.comments_open(notice),
        comments=service.comments(notice) if manages else [],
        mine=service.my_comments(notice, user) if own else [],
        acknowledged=service.acknowledged(notice, p) if own and notice.ask_ack else False,
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawForm(formdata=None),
        now=clock.now(),
        **_labels(),
    )


@bp.get("/<int:notice_id>")
def show(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id)
    p = access.principal()
    homes = service.unopened_homes(notice, p)
    if homes:
        # Opening the notice counts as told for the resident's homes: a small write of
        # its own, begun as a writer (docs/ARCHITECTURE.md §4).
        db.session.commit()
        with database.writing():
            service.record_open(notice, homes, viewkit.user())
            db.session.commit()
    return _notice_page(notice)


@bp.post("/<int:notice_id>/withdraw")
def withdraw(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id, Action.POST_NOTICE)
    form = WithdrawForm()
    if submit(form, lambda: service.withdraw(notice, form.reason.data, viewkit.user())).ok:
        return viewkit.done(
            _("The notice is withdrawn; it stays on record with your reason."),
            url_for(".show", notice_id=notice.id),
        )
    return _notice_page(notice, form_status(form), withdraw_form=form)


@bp.post("/<int:notice_id>/comment")
def comment(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id)
    form = CommentForm()
    done = submit(
        form,
        lambda: service.comment(notice, form.text.data, viewkit.user(), access.principal()),
    )
    if done.ok:
        return viewkit.done(
            _("Thank you: the committee will read your comment."),
            url_for(".show", notice_id=notice.id),
        )
    return _notice_page(notice, form_status(form), comment_form=form)


@bp.post("/<int:notice_id>/ack")
def ack(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id)
    return viewkit.act(
        lambda: service.acknowledge(notice, viewkit.user(), access.principal()),
        url_for(".show", notice_id=notice.id),
        _("Thank you: you have confirmed you read it."),
    )


@bp.get("/files/<int:file_id>")
def attachment(file_id: int) -> Response:
    found = access.get_or_404(NoticeFile, file_id)
    if found.kind == FileKind.PDF:
        response = send_upload(found.name, f"notice-{found.notice_id}-{found.id}.pdf")
        response.mimetype = "application/pdf"
        return response
    return send_upload(found.name, f"notice-{found.notice_id}-{found.id}.jpg")


@bp.get("/<int:notice_id>/poster")
def poster(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id, Action.POST_NOTICE)
    if notice.withdrawn:
        abort(404)
    # Made with the notice; a withdrawn one is replaced on the next print.
    shown = posters.poster(LinkKind.NOTICE, notice.id)
    return render("notices/poster.html", notice=notice, public=shown, **_labels())


# --- who has been told: doors to knock on -----------------------------------------------------


@bp.get("/<int:notice_id>/doors")
def doors(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id)
    units = service.tellable_units(notice, access.principal())
    if units is not None and not units:
        abort(403)
    return render(
        "notices/doors.html",
        notice=notice,
        doors=service.doors(notice, units),
        lines=service.coverage(notice, units),
        back="notice",
        **_labels(),
    )


@bp.get("/rounds")
def rounds() -> Response:
    p = access.require_signed_in()
    if not p.rep_units:
        abort(404)
    return render("notices/rounds.html", rounds=service.rounds(p), back="rounds", **_labels())


@bp.post("/<int:notice_id>/told")
def told(notice_id: int) -> Response:
    notice = access.get_or_404(Notice, notice_id)
    p = access.principal()
    form = TellForm()
    back = (
        url_for(".rounds") if form.back.data == "rounds" else url_for(".doors", notice_id=notice.id)
    )
    done = submit(
        form,
        lambda: service.tell(notice, form.household_id.data, form.how.data, viewkit.user(), p),
    )
    target = f"door-{notice.id}-{form.household_id.data}"
    if done.ok:
        found = service.door(notice, done.result.household_id)
        if found is not None and request.headers.get("HX-Target") == target:
            return render(
                "notices/_told.html",
                notice=notice,
                door=found,
                back=form.back.data,
                lines=_coverage_lines(notice, p, form.back.data),
                **_labels(),
            )
        return viewkit.done(_("Marked as told."), back)
    errors = [e for field in form for e in field.errors] + list(form.form_errors)
    error = errors[0] if errors else _("Please try again.")
    if form.back.data == "rounds" and p.rep_units:
        return render(
            "notices/rounds.html",
            status=422,
            rounds=service.rounds(p),
            back="rounds",
            error=error,
            **_labels(),
        )
    units = service.tellable_units(notice, p)
    return render(
        "notices/doors.html",
        status=422,
        notice=notice,
        doors=service.doors(notice, units),
        lines=service.coverage(notice, units),
        back="notice",
        error=error,
        **_labels(),
    )


def _coverage_lines(notice: Notice, p: access.Principal, back: str) -> list[Any]:
    """The coverage lines the page the door was marked on shows for this notice."""
    units = set(p.rep_units) if back == "rounds" else service.tellable_units(notice, p)
    return list(service.coverage(notice, units))


# --- the scheduled publishing job ------------------------------------------------------------


@bp.cli.command("publish")
def publish_command() -> None:
    """Announce the notices whose publishing time has come (idempotent; run it from cron)."""
    with database.writing():
        count = service.publish_due()
        db.session.commit()
    click.echo(f"{count} notices published.")
