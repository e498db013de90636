"""Households and units: statements, logging a payment, receipts, reversals, arrears."""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key
from ..forms import form_status, refuse
from ..htmx import redirect_after_post, render
from ..money import format_fen
from ..public import posters
from ..public.models import LinkKind
from ..reconcile import service as reconcile
from ..registry.models import Household, Unit
from ..templating import fmt_month
from . import bp, ledger, receipts, reports, schedules
from .forms import AdjustForm, PaymentForm, ReliefForm, ReverseForm
from .models import Bill, Method, Payment


@bp.app_template_filter("covers")
def covers(text: str) -> str:
    """A payment's months on its receipt and statement: 2026年11月–2026年12月."""
    return reports.months_text(text)


def _bill_choices(statement: reports.Statement) -> list[tuple[str, str]]:
    return [
        (str(bill_id), f"{fmt_month(line.period)} {name} {format_fen(amount)}")
        for line in statement.periods
        for name, amount, bill_id in line.items
    ]


def _household_page(
    household: Household, adjust_form: AdjustForm | None = None, status: int = 200
) -> Response:
    manages = access.can(Action.MANAGE_FEES, household)
    relief = schedules.relief_of(household)
    statement = reports.statement(household)
    if manages and adjust_form is None:
        adjust_form = AdjustForm(formdata=None, bills=_bill_choices(statement))
    return render(
        "fees/household.html",
        household=household,
        area=household.unit.building.compound.area,
        statement=statement,
        relief=relief,
        # Where the standard in force is the community's exception, the home is told so.
        active=schedules.active_schedule(household.unit.building.compound.area_id),
        manages=manages,
        adjust_form=adjust_form if manages else None,
        status=status,
        collects=access.can(Action.COLLECT, household),
        # 我已转账: the home's residents say they paid by transfer; its claims show here.
        claims_transfer=access.can(Action.CLAIM_TRANSFER, household),
        claims=reconcile.claims_of(household.id),
        relief_form=ReliefForm(
            formdata=None,
            percent_off=relief.percent_off if relief else 50,
            reason=relief.reason if relief else _("Minimum living allowance (低保户)"),
            since=clock.today(),
        )
        if manages
        else None,
    )


@bp.get("/households/<int:household_id>")
def household(household_id: int) -> Response:
    return _household_page(access.get_or_404(Household, household_id))


@bp.post("/households/<int:household_id>/adjust")
def adjust(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.MANAGE_FEES)
    form = AdjustForm(bills=_bill_choices(reports.statement(household)))
    if form.validate_on_submit():
        bill = access.find(Bill, int(form.bill.data), Action.MANAGE_FEES)
        try:
            if bill is None or bill.household_id != household.id:
                raise RuleError(_("Choose one of this home's bills."), "bill")
            ledger.adjust_bill(bill, form.amount.data, form.reason.data, viewkit.user())
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            return viewkit.done(
                _("The bill is corrected; the correction stays on record with its reason."),
                url_for(".household", household_id=household.id, _anchor="bills"),
            )
    return _household_page(household, form, 422)


def _pay_page(household: Household, form: PaymentForm, status: int = 200) -> Response:
    return render(
        "fees/pay.html",
        household=household,
        statement=reports.statement(household, payments=5),
        form=form,
        status=status,
    )


@bp.route("/households/<int:household_id>/pay", methods=["GET", "POST"])
def pay(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.COLLECT)
    form = PaymentForm()
    if not form.is_submitted():
        form = PaymentForm(formdata=None, method=Method.CASH, paid_on=clock.today(), key=new_key())
        owed = reports.statement(household, payments=0).balance
        if owed > 0:
            form.amount.data = owed
        return _pay_page(household, form)
    if not form.validate_on_submit():
        return _pay_page(household, form, form_status(form))
    area_id = household.unit.building.compound.area_id
    try:
        ledger.ensure_current_bills(area_id)
        recorded = ledger.record_payment(
            household,
            amount_fen=form.amount.data,
            method=Method(form.method.data),
            paid_on=form.paid_on.data,
            collector=viewkit.user(),
            request_key=form.key.data,
            note=form.note.data,
            payer_name=form.payer.data or None,
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _pay_page(household, form, 422)
    except IntegrityError:
        # The same form, sent twice at the same moment: the other request recorded it.
        db.session.rollback()
        earlier = ledger.payment_for_key(form.key.data)
        if earlier is None or earlier.household_id != household.id:
            raise
        recorded = ledger.Recorded(earlier, repeated=True)
    payment = recorded.payment
    if recorded.repeated:
        flash(
            _("This payment was already recorded: receipt %(no)s.", no=payment.receipt_no), "info"
        )
    else:
        flash(_("Payment recorded: receipt %(no)s.", no=payment.receipt_no), "success")
    return redirect_after_post(url_for(".receipt", payment_id=payment.id))


def _receipt_page(
    payment: Payment, reverse_form: ReverseForm | None, status: int = 200
) -> Response:
    area = payment.household.unit.building.compound.area
    seal = receipts.current_seal(area.id)
    return render(
        "fees/receipt.html",
        payment=payment,
        household=payment.household,
        area=area,
        issuer=receipts.issuer(area),
        seal=seal,
        keeps_seal=access.can(Action.KEEP_SEAL, area),
        reverse_form=reverse_form,
        status=status,
    )


@bp.get("/payments/<int:payment_id>")
def receipt(payment_id: int) -> Response:
    payment = access.get_or_404(Payment, payment_id)
    manages = access.can(Action.MANAGE_FEES, payment)
    return _receipt_page(
        payment, ReverseForm(formdata=None) if manages and not payment.reversal else None
    )


@bp.post("/payments/<int:payment_id>/reverse")
def reverse(payment_id: int) -> Response:
    payment = access.get_or_404(Payment, payment_id, Action.MANAGE_FEES)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            ledger.reverse_payment(payment, form.reason.data, viewkit.user())
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            return viewkit.done(
                _("Receipt %(no)s is void; the amount is owed again.", no=payment.receipt_no),
                url_for(".receipt", payment_id=payment.id),
            )
    return _receipt_page(payment, form, 422)


@bp.post("/households/<int:household_id>/relief")
def relief(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.MANAGE_FEES)
    form = ReliefForm()
    here = url_for(".household", household_id=household.id)
    if not form.validate_on_submit():
        first = next(iter(form.errors.values()), [_("Please try again.")])
        flash(first[0], "error")
        return redirect_after_post(here)
    schedules.set_relief(household, form.percent_off.data, form.reason.data, form.since.data)
    db.session.commit()
    return viewkit.done(_("The reduction applies to bills issued from now on."), here)


@bp.post("/households/<int:household_id>/relief/clear")
def clear_relief(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: schedules.clear_relief(household),
        url_for(".household", household_id=household.id),
        _("The reduction ends; bills issued from now on are in full."),
    )


# --- a unit's arrears: the representative's page ------------------------------------------------


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int) -> Response:
    unit = access.get_or_404(Unit, unit_id, Action.COLLECT)
    owing = reports.unit_arrears(unit)
    return render(
        "fees/unit.html",
        unit=unit,
        building=unit.building,
        compound=unit.building.compound,
        owing=owing,
        total=sum(o.balance for o in owing if o.balance > 0),
        show_names=access.can(Action.VIEW_ROSTER, unit),
    )


@bp.get("/units/<int:unit_id>/notice")
def notice(unit_id: int) -> Response:
    unit = access.get_or_404(Unit, unit_id, Action.COLLECT)
    owing = [o for o in reports.unit_arrears(unit) if o.balance > 0]
    area = unit.building.compound.area
    return render(
        "fees/notice.html",
        unit=unit,
        building=unit.building,
        compound=unit.building.compound,
        area=area,
        owing=owing,
        total=sum(o.balance for o in owing),
        public=posters.poster(LinkKind.ARREARS, unit.id),
    )
