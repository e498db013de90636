"""Sign in (with a password or a code sent by SMS), sign out, the account page, change
password, activate an account with an invite code."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..forms import add_error, refuse
from ..htmx import redirect_after_post, render
from ..registry import roster
from . import bp, codes, service
from .forms import (
    ActivateForm,
    ChangePasswordForm,
    CodeForm,
    CodeRequestForm,
    ConsentForm,
    LoginForm,
)
from .models import Role, User

# This device's text size (large or standard), for pages seen before signing in.
TEXT_SIZE_COOKIE = "text_size"
TEXT_SIZES = ("large", "standard")


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
    locked = False
    if form.validate_on_submit():
        mobile, ip = form.mobile.data, _client_ip()
        wait = service.login_wait(mobile, ip)
        if wait:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(n)d minutes.", n=wait)
            )
            status = 429
            locked = True
        else:
            user = db.session.execute(
                select(User).where(User.mobile == mobile)
            ).scalar_one_or_none()
            if service.check_password(user, (form.password.data or "")) and user and user.is_active:
                service.clear_failures(mobile, ip)
                service.prune_attempts()
                _start(user, remember=bool(form.remember.data))
                db.session.commit()
                return redirect(safe_next(request.args.get("next")) or url_for("home.index"), 303)
            service.record_failure(mobile, ip)
            db.session.commit()
            form.form_errors.append(_("Wrong mobile number or password."))
            status = 422
    elif request.method == "POST":
        status = 422
    return render("auth/login.html", form=form, locked=locked, status=status)


def _start(user: User, *, remember: bool) -> None:
    """Sign ``user`` in on a fresh session: nothing of the signed-out one carried over but
    the language picked on the sign-in page, which is no secret. A remembered sign-in
    (residents only) keeps its cookie when the browser closes."""
    chosen = _chosen_language()
    session.clear()
    service.start_session(user, request.user_agent.string, remember=remember)
    login_user(user)
    session.permanent = remember and service.may_remember(user)
    if user.locale or chosen:
        session["lang"] = user.locale or chosen
    _carry_large_text(user)


def _carry_large_text(user: User) -> None:
    """Large text chosen on this phone before signing in stays on after it, for this
    session: whoever needed it to sign in needs it inside too. Only the person's own
    switch, signed in, keeps it on the account, so a shared phone's choice never sticks
    to the next account signed in on it."""
    if request.cookies.get(TEXT_SIZE_COOKIE) == "large" and not user.large_text:
        session["large_text"] = True


# --- signing in with a code sent by SMS ---------------------------------------------------


@bp.route("/code", methods=["GET", "POST"])
def code_request() -> Response:
    """Step 1: the mobile. The answer is the same whether or not the number is known."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = CodeRequestForm()
    status = 200
    if request.method == "GET" and session.get("code_mobile"):
        form.mobile.data = session["code_mobile"]
    if form.validate_on_submit():
        try:
            codes.request_code(form.mobile.data, _client_ip())
        except codes.CodeRefused as err:
            db.session.rollback()
            add_error(form.mobile, err.message)
            status = err.status
        else:
            db.session.commit()
            session["code_mobile"] = form.mobile.data
            return redirect(_with_next(url_for(".code_enter")), 303)
    elif request.method == "POST":
        status = 422
    return render("auth/code_request.html", form=form, status=status)


def _with_next(url: str) -> str:
    target = safe_next(request.args.get("next"))
    return f"{url}?{urlencode({'next': target})}" if target else url


@bp.route("/code/enter", methods=["GET", "POST"])
def code_enter() -> Response:
    """Step 2: the code from the SMS (and, on a phone of one's own, "remember")."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = CodeForm()
    status = 200
    if request.method == "GET":
        remembered_mobile = session.get("code_mobile")
        if not remembered_mobile:
            return redirect(_with_next(url_for(".code_request")))
        form.mobile.data = str(remembered_mobile)
    elif form.validate_on_submit():
        try:
            done = codes.sign_in(
                form.mobile.data,
                form.code.data or "",
                _client_ip(),
                consent=bool(form.consent.data),
            )
        except codes.CodeRefused as err:
            # The wrong try is counted (and kept) though the rest is undone.
            db.session.commit()
            add_error(form.code, err.message)
            status = err.status
        else:
            _start(done.user, remember=bool(form.remember.data))
            db.session.commit()
            if done.created:
                flash(_("Welcome! Your account is ready."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"), 303)
    else:
        status = 422
    return render(
        "auth/code_enter.html", form=form, masked=_masked(form.mobile.data), status=status
    )


def _masked(mobile: str | None) -> str:
    """138****0000: enough for the person to recognise their number on a shared screen."""
    if not mobile or len(mobile) != 11:
        return ""
    return f"{mobile[:3]}****{mobile[7:]}"


# --- the account page ----------------------------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response:
    """One's own name, number and homes, consent to keep the number, and the password."""
    user = current_user._get_current_object()
    form = ConsentForm()
    status = 200
    if form.validate_on_submit():
        if roster.consent_online(user):
            db.session.commit()
            flash(_("Thank you. Your consent is recorded."), "success")
        return redirect_after_post(url_for(".account"))
    if request.method == "POST":
        status = 422
    return render(
        "auth/account.html",
        form=form,
        records=[o for o in roster.own_records(user) if access.can(Action.VIEW, o.household)],
        roles=sorted({g.role for g in user.grants if g.role != Role.RESIDENT}),
        consent_missing=roster.own_consent_missing(user),
        remembered=service.may_remember(user),
        status=status,
    )


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
    user = current_user._get_current_object()
    # An account set up by a code sent to its phone has no password yet: it chooses one.
    first = user.password_hash is None
    if first:
        form.current_password.validators = []
    status = 200
    if form.validate_on_submit():
        ip = _client_ip()
        # Guesses at the current password count like failed sign-ins: whoever holds a
        # stolen session must not get unlimited tries at the password behind it.
        wait = service.login_wait(user.mobile, ip)
        if wait:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(n)d minutes.", n=wait)
            )
            status = 429
        elif not first and not service.check_password(user, (form.current_password.data or "")):
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
    return render("auth/password.html", form=form, first=first, status=status)


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
                        _carry_large_text(user)
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


# --- large text (适老化) ----------------------------------------------------------------------
#
# Larger letters, stronger contrast and bigger buttons: one tap in the header of every page.
# An account keeps the choice for every phone it signs in on; the device keeps it too, in a
# cookie, so the sign-in page (and a visitor without an account) looks the same.


def large_text() -> bool:
    """Whether this request's pages are drawn in large text."""
    if current_user.is_authenticated:
        return bool(current_user.large_text or session.get("large_text"))
    return request.cookies.get(TEXT_SIZE_COOKIE) == "large"


@bp.app_context_processor
def _text_size() -> dict[str, bool]:
    return {"large_text": large_text()}


@bp.route("/text-size", methods=["POST"])
def text_size() -> Response:
    size = request.form.get("size", "")
    if size not in TEXT_SIZES:
        abort(400)
    if current_user.is_authenticated:
        current_user.large_text = size == "large"
        session.pop("large_text", None)
        db.session.commit()
    response = redirect(safe_next(request.form.get("next")) or url_for("home.index"), 303)
    response.set_cookie(
        TEXT_SIZE_COOKIE,
        size,
        max_age=365 * 24 * 3600,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response
