"""Sign in, sign out, change password, activate an account with an invite code."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..errors import RuleError
from ..extensions import db
from ..forms import add_error, refuse
from ..htmx import redirect_after_post, render
from . import bp, service
from .forms import ActivateForm, ChangePasswordForm, LoginForm
from .models import User


def safe_next(target: str | None) -> str | None:
    """Only a path on this site; never //host or a scheme, which would leave it."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    return target


def _chosen_language() -> str | None:
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else None


def _client_ip() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        mobile, ip = form.mobile.data, _client_ip()
        wait = service.login_wait(mobile, ip)
        if wait:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(n)d minutes.", n=wait)
            )
            status = 429
        else:
            user = db.session.execute(
                select(User).where(User.mobile == mobile)
            ).scalar_one_or_none()
            if service.check_password(user, (form.password.data or "")) and user and user.is_active:
                service.clear_failures(mobile, ip)
                service.prune_attempts()
                chosen = _chosen_language()
                session.clear()  # a fresh session at login: nothing carried over
                service.start_session(user, request.user_agent.string)
                login_user(user)
                # ...but the language picked on the sign-in page, which is no secret.
                if user.locale or chosen:
                    session["lang"] = user.locale or chosen
                db.session.commit()
                return redirect(safe_next(request.args.get("next")) or url_for("home.index"), 303)
            service.record_failure(mobile, ip)
            db.session.commit()
            form.form_errors.append(_("Wrong mobile number or password."))
            status = 422
    elif request.method == "POST":
        status = 422
    return render("auth/login.html", form=form, status=status)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        service.end_session(current_user.session_token)
        db.session.commit()
    chosen = _chosen_language()
    logout_user()
    session.clear()
    if chosen:
        session["lang"] = chosen
    flash(_("You have signed out."), "info")
    return redirect_after_post(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response:
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        ip = _client_ip()
        # Guesses at the current password count like failed sign-ins: whoever holds a
        # stolen session must not get unlimited tries at the password behind it.
        wait = service.login_wait(user.mobile, ip)
        if wait:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(n)d minutes.", n=wait)
            )
            status = 429
        elif not service.check_password(user, (form.current_password.data or "")):
            service.record_failure(user.mobile, ip)
            db.session.commit()
            add_error(form.current_password, _("The current password is wrong."))
            status = 422
        else:
            try:
                service.change_password(user, (form.new_password.data or ""))
            except RuleError as err:
                refuse(form, err)
                status = 422
            else:
                service.clear_failures(user.mobile, ip)
                db.session.commit()
                flash(_("Password changed. Your other sign-ins have been ended."), "success")
                return redirect_after_post(url_for("home.index"))
    elif request.method == "POST":
        status = 422
    return render("auth/password.html", form=form, status=status)


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> Response:
    form = ActivateForm()
    signed_in = current_user.is_authenticated
    if signed_in and request.method == "GET":
        form.mobile.data = current_user.mobile
    status = 200
    if request.method == "POST":
        if signed_in:
            # Linking a household to the account in use: mobile and password are known.
            form.mobile.data = current_user.mobile
            form.name.data = ""
            form.new_password.validators = []
            form.confirm.validators = []
        if form.validate():
            ip = _client_ip()
            wait = service.code_wait((form.code.data or ""), ip)
            if wait:
                add_error(form.code, _("Too many wrong codes. Try again in %(n)d minutes.", n=wait))
                status = 429
            else:
                invite = service.find_invite(form.code.data or "")
                try:
                    user = service.redeem_invite(
                        invite,
                        mobile=form.mobile.data,
                        name=form.name.data,
                        password=None if signed_in else (form.new_password.data or ""),
                        current=current_user._get_current_object() if signed_in else None,
                    )
                except service.InviteError as err:
                    db.session.rollback()
                    if signed_in and invite is not None and invite.user_id == current_user.id:
                        add_error(
                            form.code,
                            _("This code sets a new password: sign out first, then enter it."),
                        )
                    else:
                        if err.guess:
                            # One answer for every failed try, and each try counted.
                            service.record_code_failure((form.code.data or ""), ip)
                            db.session.commit()
                        # A signed-in user's page shows the code field only.
                        field = form.code if signed_in else getattr(form, err.field)
                        add_error(field, err.message)
                    status = 422
                else:
                    if not signed_in:
                        chosen = _chosen_language()
                        session.clear()
                        service.start_session(user, request.user_agent.string)
                        login_user(user)
                        if chosen:
                            session["lang"] = chosen
                    db.session.commit()
                    flash(_("Welcome! Your account is ready."), "success")
                    return redirect_after_post(url_for("home.index"))
        else:
            status = 422
    return render("auth/activate.html", form=form, signed_in=signed_in, status=status)


@bp.route("/language", methods=["POST"])
def language() -> Response:
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"), 303)
