"""People and roles, for community and subdistrict staff."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..auth import service as auth_service
from ..auth.models import Role, RoleGrant, User
from ..errors import RuleError
from ..extensions import db
from ..fields import search_text
from ..forms import form_status, refuse
from ..htmx import redirect_after_post, render
from ..labels import label
from ..registry.models import Community
from . import bp, service
from .forms import GrantForm, PersonForm

PEOPLE_SHOWN = 50


@bp.before_request
def _staff_only() -> None:
    access.require_staff()


def _grant_choices() -> list[tuple[str, str]]:
    p = access.principal()
    options = []
    for s in access.administered(p):
        options.append(
            (
                f"{Role.SUBDISTRICT_ADMIN}:{s.id}",
                f"{label('role', Role.SUBDISTRICT_ADMIN)} · {s.name}",
            )
        )
    for c in db.session.scalars(
        select(Community).where(access.community_filter(p)).order_by(Community.name)
    ):
        options.append(
            (f"{Role.COMMUNITY_STAFF}:{c.id}", f"{label('role', Role.COMMUNITY_STAFF)} · {c.name}")
        )
    return options


def _parse_grant(value: str) -> tuple[Role, int] | None:
    role, _sep, scope = (value or "").partition(":")
    if role not in set(Role) or not scope.isdigit():
        return None
    return Role(role), int(scope)


@bp.get("/")
def index() -> Response:
    q = search_text(request.args.get("q"))
    stmt = select(User).where(access.people_filter())
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(User.name.like(like), User.mobile.like(like)))
    # One row more than shown tells whether to ask for a narrower search; no count needed.
    people = db.session.scalars(
        stmt.options(selectinload(User.grants)).order_by(User.name, User.id).limit(PEOPLE_SHOWN + 1)
    ).all()
    return render(
        "people/index.html",
        "people/_table.html",
        target="people-table",
        people=people[:PEOPLE_SHOWN],
        more=len(people) > PEOPLE_SHOWN,
        q=q,
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> Response:
    form = PersonForm()
    form.grant.choices = _grant_choices()
    if form.validate_on_submit():
        parsed = _parse_grant(form.grant.data)
        try:
            if parsed is None or not access.can_grant(*parsed):
                raise RuleError(_("You cannot give this role."), "grant")
            user = service.create_person(form.name.data, form.mobile.data)
            db.session.flush()
            auth_service.grant(user, parsed[0], parsed[1], granted_by=current_user)
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("Account for %(name)s created.", name=user.name), "success")
            return redirect_after_post(url_for(".person", user_id=user.id))
    return render("people/new.html", form=form, status=form_status(form))


def _person_page(user: User, form: GrantForm | None = None, status: int = 200) -> Response:
    if form is None:
        form = GrantForm(formdata=None)
        form.grant.choices = _grant_choices()
    return render(
        "people/person.html",
        person=user,
        grants=service.describe_grants(user),
        form=form,
        can_revoke=access.can_revoke,
        is_self=user.id == current_user.id,
        can_manage_account=access.can_manage_account(user),
        status=status,
    )


@bp.get("/<int:user_id>")
def person(user_id: int) -> Response:
    return _person_page(access.require_person(user_id))


@bp.post("/<int:user_id>/grants")
def add_grant(user_id: int) -> Response:
    user = access.require_person(user_id)
    form = GrantForm()
    form.grant.choices = _grant_choices()
    if form.validate_on_submit():
        parsed = _parse_grant(form.grant.data)
        if parsed is not None and access.can_grant(*parsed):
            auth_service.grant(user, parsed[0], parsed[1], granted_by=current_user)
            db.session.commit()
            access.forget()
            flash(_("Role given."), "success")
            return redirect_after_post(url_for(".person", user_id=user.id))
        form.grant.errors = [_("You cannot give this role.")]
    return _person_page(user, form, 422)


@bp.post("/grants/<int:grant_id>/revoke")
def revoke(grant_id: int) -> Response:
    row = access.get_or_404(RoleGrant, grant_id, Action.MANAGE_PEOPLE)
    user = row.user
    auth_service.revoke(row)
    db.session.commit()
    access.forget()
    flash(_("Role removed."), "success")
    return redirect_after_post(url_for(".person", user_id=user.id))


def _manageable_account(user_id: int) -> User:
    """Someone else's account whose every role the current staff member may manage."""
    user = access.require_person(user_id)
    if user.id == current_user.id:
        access.deny()
    if not access.can_manage_account(user):
        abort(403)
    return user


@bp.post("/<int:user_id>/activation")
def activation(user_id: int) -> Response:
    """A new activation code, answered with its printable slip (see registry.invite)."""
    user = _manageable_account(user_id)
    code = auth_service.issue_invite(created_by=current_user, user_id=user.id)
    db.session.commit()
    return render(
        "people/slip.html",
        person=user,
        code=code,
        activate_url=url_for("auth.activate", _external=True),
    )


@bp.post("/<int:user_id>/enabled")
def set_enabled(user_id: int) -> Response:
    user = _manageable_account(user_id)
    enable = request.form.get("enabled") == "1"
    service.set_enabled(user, enable)
    db.session.commit()
    flash(_("Account enabled.") if enable else _("Account disabled and signed out."), "success")
    return redirect_after_post(url_for(".person", user_id=user.id))
