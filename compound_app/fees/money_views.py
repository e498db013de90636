"""An area's money: arrears, cash hand-over, expenses, the finance board, the ledger export."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key, parse_month, whole_number
from ..forms import refuse
from ..htmx import redirect_after_post, render
from ..money import format_fen
from ..months import add_months, month_of
from ..public import posters
from ..public.models import LinkKind
from ..registry.models import ManagementArea
from ..security import accepts_uploads
from ..treasury import service as treasury
from ..treasury.models import MoneyAccount
from ..uploads import discard_upload, save_photo, send_upload
from . import bp, cash, expenses, ledger, reports, schedules
from .export import ledger_xlsx
from .forms import ConfirmForm, ExpenseForm, HandoverForm, MonthForm, ReverseForm
from .models import CashHandover, Expense, ExpenseKind

# --- arrears -------------------------------------------------------------------------------------


@bp.get("/areas/<int:area_id>/arrears")
def arrears(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    return render(
        "fees/arrears.html",
        area=area,
        arrears=reports.area_arrears(area),
        months=reports.area_months(area.id, 12),
        rate=reports.rate,
    )


# --- cash ---------------------------------------------------------------------------------------


def _cash_page(
    area: ManagementArea,
    form: HandoverForm | None = None,
    status: int = 200,
    *,
    confirming: bool = False,
    counting: tuple[int, ConfirmForm] | None = None,
) -> Response:
    """The cash page. ``confirming``: the collector's amount, to check before it is recorded;
    ``counting``: a count refused, shown again with its message at its hand-over."""
    user = viewkit.user()
    manages = access.can(Action.MANAGE_FEES, area)
    positions = cash.positions(area.id)
    mine = next((p for p in positions if p.user.id == user.id), None)
    keepers = cash.keepers(area.id)
    if form is None and mine is not None and not mine.is_keeper and mine.held > 0:
        form = HandoverForm(formdata=None, amount=mine.held, handed_on=clock.today(), key=new_key())
    shown = positions if manages else [p for p in positions if p.user.id == user.id]
    # Those who manage the fees see every collector's hand-overs; a collector sees their own.
    collector_id = None if manages else user.id
    waiting = cash.waiting(area.id, collector_id)
    return render(
        "fees/cash.html",
        area=area,
        manages=manages,
        positions=shown,
        mine=mine,
        form=form,
        confirming=confirming,
        waiting=waiting,
        waiting_total=sum(h.amount_fen for h in waiting),
        held_total=sum(p.held for p in shown if not p.is_keeper),
        history=cash.history(area.id, whole_number(request.args.get("page")) or 1, collector_id),
        keepers=keepers,
        is_keeper=user.id in {u.id for u in keepers},
        counting=counting,
        status=status,
    )


@bp.get("/areas/<int:area_id>/cash")
def cash_page(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    if not access.collects_in(area):
        abort(403)
    return _cash_page(area)


@bp.post("/areas/<int:area_id>/cash")
def hand_over(area_id: int) -> Response:
    """Two steps: the collector sends the amount, checks it on the next page, then confirms."""
    area = access.get_or_404(ManagementArea, area_id)
    if not access.collects_in(area):
        abort(403)
    form = HandoverForm()
    if form.validate_on_submit():
        try:
            if not form.confirmed.data:
                cash.check_hand_over(
                    area, viewkit.user(), amount_fen=form.amount.data, handed_on=form.handed_on.data
                )
                return _cash_page(area, form, confirming=True)
            handover = cash.hand_over(
                area,
                viewkit.user(),
                amount_fen=form.amount.data,
                handed_on=form.handed_on.data,
                request_key=form.key.data,
            )
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            return viewkit.done(
                _(
                    "%(amount)s handed over; the treasurer will count it.",
                    amount=format_fen(handover.amount_fen),
                ),
                url_for(".cash_page", area_id=area.id),
            )
    return _cash_page(area, form, 422)


@bp.post("/handovers/<int:handover_id>/confirm")
def confirm(handover_id: int) -> Response:
    handover = access.get_or_404(CashHandover, handover_id)
    area = access.get_or_404(ManagementArea, handover.area_id)
    here = url_for(".cash_page", area_id=area.id)
    if not cash.may_confirm(handover, viewkit.user()):
        abort(403)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _cash_page(area, status=422, counting=(handover.id, form))
    try:
        confirmation = cash.confirm(
            handover,
            viewkit.user(),
            received_fen=form.received.data,
            as_handed=bool(form.as_handed.data),
            note=form.note.data,
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _cash_page(area, status=422, counting=(handover.id, form))
    if confirmation.received_fen != handover.amount_fen:
        flash(_("Counted with a discrepancy; it stays on record."), "info")
        return redirect_after_post(here)
    return viewkit.done(_("Hand-over confirmed."), here)


# --- expenses -----------------------------------------------------------------------------------


def _item_names(area_id: int) -> list[str]:
    active = schedules.active_schedule(area_id)
    return [item.name for item in active.items] if active else []


def _expenses_page(
    area: ManagementArea, form: ExpenseForm | None = None, status: int = 200
) -> Response:
    if form is None:
        form = ExpenseForm(
            formdata=None,
            item_names=_item_names(area.id),
            accounts=treasury.paying_accounts(area.id),
            spent_on=clock.today(),
            key=new_key(),
        )
    return render(
        "fees/expenses.html",
        area=area,
        form=form,
        awaiting=expenses.awaiting_approval(area.id),
        history=expenses.expenses_of(area.id, whole_number(request.args.get("page")) or 1),
        recorded=bool(request.args.get("recorded")),
        threshold=schedules.settings_of(area.id).approval_threshold_fen,
        may_approve=lambda e: expenses.may_approve(
            e, viewkit.user(), access.can(Action.OVERSEE, area)
        ),
        status=status,
    )


@bp.get("/areas/<int:area_id>/expenses")
def expenses_page(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    return _expenses_page(area)


@bp.post("/areas/<int:area_id>/expenses")
@accepts_uploads
def new_expense(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    form = ExpenseForm(item_names=_item_names(area.id), accounts=treasury.paying_accounts(area.id))
    if form.validate_on_submit():
        kind, _sep, category = form.category.data.partition(":")
        paid_from = (
            access.find(MoneyAccount, int(form.paid_from.data), Action.MANAGE_FEES)
            if form.paid_from.data
            else None
        )
        voucher = None
        try:
            voucher = save_photo(form.voucher.data, "voucher") if form.voucher.data else None
            expense = expenses.record_expense(
                area,
                viewkit.user(),
                kind=ExpenseKind(kind),
                category=category,
                amount_fen=form.amount.data,
                payee=form.payee.data,
                spent_on=form.spent_on.data,
                note=form.note.data,
                voucher=voucher,
                request_key=form.key.data,
                paid_from=paid_from,
            )
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
            discard_upload(voucher)
        else:
            if expense.voucher != voucher:
                discard_upload(voucher)  # the same form again: the first photo stays
            # Back to the list where the new one shows: with those awaiting a second
            # approval, or in the recorded expenses, opened.
            if expense.needs_approval and expense.approval is None:
                back = url_for(".expenses_page", area_id=area.id, _anchor="awaiting")
            else:
                back = url_for(".expenses_page", area_id=area.id, recorded=1, _anchor="history")
            return viewkit.done(_("Expense recorded."), back)
    return _expenses_page(area, form, 422)


@bp.post("/expenses/<int:expense_id>/approve")
def approve_expense(expense_id: int) -> Response:
    expense = access.get_or_404(Expense, expense_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: expenses.approve_expense(
            expense, viewkit.user(), staff=access.can(Action.OVERSEE, expense)
        ),
        url_for(".expenses_page", area_id=expense.area_id),
        _("Expense approved; it now counts."),
    )


@bp.post("/expenses/<int:expense_id>/void")
def void_expense(expense_id: int) -> Response:
    expense = access.get_or_404(Expense, expense_id, Action.MANAGE_FEES)
    form = ReverseForm()
    here = url_for(".expenses_page", area_id=expense.area_id)
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()), [_("Please try again.")])[0], "error")
        return redirect_after_post(here)
    return viewkit.act(
        lambda: expenses.void_expense(expense, form.reason.data, viewkit.user()),
        here,
        _("The expense is void; it stays on record with the reason."),
    )


@bp.get("/expenses/<int:expense_id>/voucher")
def voucher(expense_id: int) -> Response:
    expense = access.get_or_404(Expense, expense_id, Action.MANAGE_FEES)
    if not expense.voucher:
        abort(404)
    return send_upload(expense.voucher, f"voucher-{expense.id}.jpg")


# --- the finance board ---------------------------------------------------------------------------


def _board_month(area: ManagementArea) -> date:
    wanted = parse_month(request.args.get("month", ""))
    last_month = add_months(month_of(clock.today()), -1)
    if wanted is None or wanted > month_of(clock.today()):
        published = reports.published_months(area.id)
        return published[0] if published else last_month
    return wanted


def _board_context(area: ManagementArea) -> dict[str, Any]:
    month = _board_month(area)
    board = reports.board_for(area.id, month)
    return {
        "area": area,
        "month": month,
        "board": board,
        "figures": board.figures if board else reports.figures(area, month),
        "decided": ledger.schedule_for_month(area.id, month),
        "published": reports.published_months(area.id),
        "previous": add_months(month, -1),
        "next": add_months(month, 1) if month < month_of(clock.today()) else None,
        "manages": access.can(Action.MANAGE_FEES, area),
        "label_credit": _("Paid in advance"),
        "rate": reports.rate,
    }


@bp.get("/areas/<int:area_id>/board")
def board(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    context = _board_context(area)
    context["publish_form"] = MonthForm(formdata=None, month=context["month"])
    return render("fees/board.html", **context)


@bp.get("/areas/<int:area_id>/board/poster")
def poster(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    context = _board_context(area)
    # Only a published month has a public page: its figures no longer change.
    board = context["board"]
    context["public"] = posters.poster(LinkKind.BOARD, board.id) if board else None
    return render("fees/poster.html", **context)


@bp.post("/areas/<int:area_id>/board")
def publish_board(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    form = MonthForm()
    if not form.validate_on_submit():
        flash(form.month.errors[0] if form.month.errors else _("Please try again."), "error")
        return redirect_after_post(url_for(".board", area_id=area.id))
    return viewkit.act(
        lambda: reports.publish_board(area, form.month.data, viewkit.user()),
        url_for(".board", area_id=area.id, month=f"{form.month.data:%Y-%m}"),
        _("Published. The figures of this month are now fixed."),
    )


@bp.get("/areas/<int:area_id>/ledger.xlsx")
def export(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    year = whole_number(request.args.get("year"), 2100) or clock.today().year
    if year < 2000:
        year = clock.today().year
    response = make_response(ledger_xlsx(area, year))
    response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f"attachment; filename=ledger-{area.id}-{year}.xlsx"
    return response
