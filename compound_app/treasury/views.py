"""The area's money page (资金账户): accounts with balances, movements waiting for approval,
history; opening and closing accounts, recording, approving and reversing movements."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..fees.expenses import has_committee
from ..fees.schedules import settings_of
from ..fields import new_key, whole_number
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from ..registry.models import ManagementArea
from . import bp, service
from .forms import AccountForm, MovementForm, ReasonForm
from .labels import account_name
from .models import AccountKind, MoneyAccount, Movement


def _kinds(area: ManagementArea) -> list[AccountKind]:
    kinds = [AccountKind.BANK, AccountKind.WECHAT, AccountKind.ALIPAY]
    if not has_committee(area.id):
        kinds.append(AccountKind.COMMUNITY)
    return kinds


def _choices(area: ManagementArea) -> list[tuple[int, str]]:
    return [(a.id, account_name(a)) for a in service.accounts_of(area.id, open_only=True)]


def _page(
    area: ManagementArea,
    account_form: AccountForm | None = None,
    movement_form: MovementForm | None = None,
    status: int = 200,
) -> Response:
    user = viewkit.user()
    if account_form is None:
        account_form = AccountForm(formdata=None, kinds=_kinds(area))
    if movement_form is None:
        movement_form = MovementForm(
            formdata=None, accounts=_choices(area), moved_on=clock.today(), key=new_key()
        )
    return render(
        "treasury/area.html",
        area=area,
        holdings=service.holdings(area.id),
        awaiting=service.awaiting_approval(area.id),
        history=service.history(area.id, whole_number(request.args.get("page")) or 1),
        keeps=service.may_keep(area.id, user),
        keepers=service.money_keepers(area.id),
        may_approve=lambda m: service.may_approve(m, user),
        threshold=settings_of(area.id).approval_threshold_fen,
        account_name=account_name,
        account_form=account_form,
        movement_form=movement_form,
        today=clock.today(),
        status=status,
    )


def _area_for_keeper(area_id: int) -> ManagementArea:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    if not service.may_keep(area.id, viewkit.user()):
        abort(403)
    return area


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    return _page(access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES))


@bp.post("/areas/<int:area_id>/accounts")
def open_account(area_id: int) -> Response:
    area = _area_for_keeper(area_id)
    form = AccountForm(kinds=_kinds(area))
    done = submit(
        form,
        lambda: service.open_account(
            area,
            viewkit.user(),
            kind=AccountKind(form.kind.data),
            name=form.name.data,
            bank=form.bank.data,
            holder=form.holder.data,
            last4=form.last4.data or "",
        ),
    )
    if done.ok:
        return viewkit.done(_("Account opened."), url_for(".area", area_id=area.id))
    return _page(area, account_form=form, status=form_status(form))


@bp.post("/accounts/<int:account_id>/close")
def close_account(account_id: int) -> Response:
    account = access.get_or_404(MoneyAccount, account_id, Action.MANAGE_FEES)
    if not service.may_keep(account.area_id, viewkit.user()):
        abort(403)
    return viewkit.act(
        lambda: service.close_account(account, viewkit.user()),
        url_for(".area", area_id=account.area_id),
        _("Account closed."),
    )


@bp.post("/areas/<int:area_id>/movements")
def record_movement(area_id: int) -> Response:
    area = _area_for_keeper(area_id)
    form = MovementForm(accounts=_choices(area))

    def change() -> Movement:
        source = access.find(MoneyAccount, form.source.data, Action.MANAGE_FEES)
        target = access.find(MoneyAccount, form.target.data, Action.MANAGE_FEES)
        if source is None:
            raise RuleError(_("Choose from the list."), "source")
        if target is None:
            raise RuleError(_("Choose from the list."), "target")
        return service.record_movement(
            area,
            viewkit.user(),
            source=source,
            target=target,
            amount_fen=form.amount.data,
            moved_on=form.moved_on.data,
            note=form.note.data,
            request_key=form.key.data,
        )

    done = submit(form, change)
    if done.ok:
        movement = done.result
        message = (
            _("Recorded; it counts once a second person approves it.")
            if movement.needs_approval and movement.approval is None
            else _("Recorded; the balances are updated.")
        )
        return viewkit.done(message, url_for(".area", area_id=area.id))
    return _page(area, movement_form=form, status=form_status(form))


@bp.post("/movements/<int:movement_id>/approve")
def approve_movement(movement_id: int) -> Response:
    movement = access.get_or_404(Movement, movement_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: service.approve_movement(movement, viewkit.user()),
        url_for(".area", area_id=movement.area_id),
        _("Approved; the money has moved."),
    )


@bp.post("/movements/<int:movement_id>/reverse")
def reverse_movement(movement_id: int) -> Response:
    movement = access.get_or_404(Movement, movement_id, Action.MANAGE_FEES)
    here = url_for(".area", area_id=movement.area_id)
    if not service.may_keep(movement.area_id, viewkit.user()):
        abort(403)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()), [_("Please try again.")])[0], "error")
        return redirect_after_post(here)
    return viewkit.act(
        lambda: service.reverse_movement(movement, viewkit.user(), form.reason.data),
        here,
        _("Reversed; it stays on record with the reason."),
    )
