"""The maintenance fund pages: a compound's fund (balance, statements, applications), an
application on a phone (its homes, the vote, the 公示, the money), and a work's payment by
the government, the community or from common-part income."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..fields import new_key
from ..forms import Submitted, form_status, submit
from ..htmx import redirect_after_post, render
from ..labels import label
from ..money import format_fen
from ..notices.models import Notice
from ..registry.models import Building, Compound
from ..repairs.models import Funding, Work
from ..security import accepts_uploads
from ..treasury import service as treasury
from ..treasury.models import MoneyAccount
from ..uploads import discard_upload, save_photo, send_upload
from ..votes.models import VoteStatus
from . import bp, service
from .forms import ApplicationForm, BalanceForm, DisburseForm, PaymentForm, VoteForm
from .models import AppState, FundApplication, FundBalance, FundDisbursement, WorkPayment

T = TypeVar("T")


def _with_photo(form: Any, change: Callable[[str], T]) -> Submitted[T]:
    """``submit`` with the form's optional photo stored first, and dropped again when the
    change is refused or the same form had been sent before (the first photo stays)."""
    saved: list[str] = []

    def run() -> T:
        name = save_photo(form.photo.data, "photo") if form.photo.data else ""
        if name:
            saved.append(name)
        return change(name)

    done = submit(form, run)
    for name in saved:
        if not done.ok or getattr(done.result, "photo", name) != name:
            discard_upload(name)
    return done


# --- a compound's fund --------------------------------------------------------------------


def _buildings(compound: Compound) -> list[tuple[int, str]]:
    return [(b.id, b.name) for b in sorted(compound.buildings, key=lambda b: b.sort_key)]


def _units(compound: Compound) -> list[tuple[int, str]]:
    return [(u.id, f"{b.name}{u.name}") for u, b in service.compound_units(compound.id)]


def _works(compound: Compound) -> list[tuple[int, str]]:
    return [(w.id, f"{w.title} ({w.planned_on:%Y-%m-%d})") for w in service.fund_works(compound.id)]


def _compound_page(
    compound: Compound,
    balance_form: BalanceForm | None = None,
    application_form: ApplicationForm | None = None,
    status: int = 200,
) -> Response:
    keeps = access.can(Action.MANAGE_FEES, compound)
    if keeps and balance_form is None:
        balance_form = BalanceForm(
            formdata=None, buildings=_buildings(compound), stated_on=clock.today(), key=new_key()
        )
    if keeps and application_form is None:
        application_form = ApplicationForm(
            formdata=None, works=_works(compound), units=_units(compound), key=new_key()
        )
    latest = service.latest_balances(compound.id)
    names = dict(_buildings(compound))
    return render(
        "fund/compound.html",
        compound=compound,
        keeps=keeps,
        latest=sorted(latest.values(), key=lambda r: (r.building_id is not None, r.building_id)),
        whole=service.available(compound.id, []),
        building_names=names,
        history=service.balance_history(compound.id),
        applications=service.applications_of(compound.id),
        balance_form=balance_form,
        application_form=application_form,
        status=status,
    )


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    return _compound_page(access.get_or_404(Compound, compound_id, Action.VIEW_ACCOUNTS))


@bp.post("/compounds/<int:compound_id>/balances")
@accepts_uploads
def record_balance(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id, Action.MANAGE_FEES)
    form = BalanceForm(buildings=_buildings(found))

    def change(photo: str) -> FundBalance:
        building = None
        if form.building.data:
            building = access.find(Building, form.building.data)
            if building is None or building.compound_id != found.id:
                raise RuleError(_("Choose from the list."), "building")
        return service.record_balance(
            found,
            viewkit.user(),
            building=building,
            balance_fen=form.balance.data,
            stated_on=form.stated_on.data,
            photo=photo,
            request_key=form.key.data,
        )

    done = _with_photo(form, change)
    if done.ok:
        return viewkit.done(
            _("The fund centre's balance is recorded."), url_for(".compound", compound_id=found.id)
        )
    return _compound_page(found, balance_form=form, status=form_status(form))


@bp.get("/balances/<int:balance_id>/photo")
def balance_photo(balance_id: int) -> Response:
    row = access.get_or_404(FundBalance, balance_id)
    return send_upload(row.photo, f"fund-statement-{row.id}.jpg")


@bp.post("/compounds/<int:compound_id>/applications")
def new_application(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id, Action.MANAGE_FEES)
    form = ApplicationForm(works=_works(found), units=_units(found))

    def change() -> FundApplication:
        work = access.find(Work, form.work.data, Action.MANAGE_FEES) if form.work.data else None
        if form.work.data and (work is None or work.funding != Funding.MAINTENANCE_FUND):
            raise RuleError(_("Choose from the list."), "work")
        return service.draft_application(
            found,
            viewkit.user(),
            service.Draft(
                title=form.title.data,
                budget_fen=form.budget.data,
                unit_ids=form.units.data or [],
                split=form.split.data,
                comment_days=form.comment_days.data,
                work=work,
                kind=form.kind.data,
            ),
            form.key.data,
        )

    done = submit(form, change)
    if done.ok:
        return viewkit.done(
            _("The application is drafted. Put it to the owners' vote when ready."),
            url_for(".application", application_id=done.result.id),
        )
    return _compound_page(found, application_form=form, status=form_status(form))


# --- an application -------------------------------------------------------------------------


def _application_page(
    app: FundApplication,
    disburse_form: DisburseForm | None = None,
    status: int = 200,
) -> Response:
    keeps = access.can(Action.MANAGE_FEES, app)
    vote = service.vote_of(app)
    publicity = app.step(AppState.PUBLICITY)
    fund = service.available(app.compound_id, service.bearing_buildings(app))
    if disburse_form is None:
        disburse_form = DisburseForm(formdata=None, disbursed_on=clock.today(), key=new_key())
    opens_on = service.earliest_vote_day(app)
    return render(
        "fund/application.html",
        app=app,
        compound=app.compound,
        keeps=keeps,
        vote=vote,
        vote_draft=vote is not None and vote.status == VoteStatus.DRAFT,
        vote_visible=vote is not None and access.can(Action.VIEW, vote),
        vote_closed=vote is not None and vote.status == VoteStatus.CLOSED,
        publicity=publicity,
        notice_visible=publicity is not None
        and publicity.notice_id is not None
        and access.find(Notice, publicity.notice_id) is not None,
        fund=fund,
        lines=service.share_lines(app),
        vote_form=VoteForm(
            formdata=None, opens_on=opens_on, closes_on=opens_on + timedelta(days=14)
        ),
        disburse_form=disburse_form,
        ends_passed=publicity is not None
        and publicity.ends_on is not None
        and clock.today() > publicity.ends_on,
        status=status,
    )


@bp.get("/applications/<int:application_id>")
def application(application_id: int) -> Response:
    return _application_page(access.get_or_404(FundApplication, application_id))


def _here(app: FundApplication) -> str:
    return url_for(".application", application_id=app.id)


@bp.post("/applications/<int:application_id>/vote")
def put_to_vote(application_id: int) -> Response:
    app = access.get_or_404(FundApplication, application_id, Action.MANAGE_FEES)
    form = VoteForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()), [_("Please try again.")])[0], "error")
        return redirect_after_post(_here(app))
    return viewkit.act(
        lambda: service.put_to_vote(
            app, viewkit.user(), form.closes_on.data, opens_on=form.opens_on.data
        ),
        _here(app),
        _("The owners' vote is announced; the homes that bear the cost are told."),
    )


@bp.post("/applications/<int:application_id>/settle")
def settle(application_id: int) -> Response:
    app = access.get_or_404(FundApplication, application_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: service.settle_vote(app, viewkit.user()),
        _here(app),
        _("The vote's result is recorded."),
    )


@bp.post("/applications/<int:application_id>/disbursements")
@accepts_uploads
def disburse(application_id: int) -> Response:
    app = access.get_or_404(FundApplication, application_id, Action.MANAGE_FEES)
    form = DisburseForm()
    done = _with_photo(
        form,
        lambda photo: service.disburse(
            app,
            viewkit.user(),
            amount_fen=form.amount.data,
            disbursed_on=form.disbursed_on.data,
            reference=form.reference.data,
            photo=photo,
            request_key=form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _(
                "Recorded: %(amount)s paid out by the fund.",
                amount=format_fen(done.result.amount_fen),
            ),
            _here(app),
        )
    return _application_page(app, disburse_form=form, status=form_status(form))


@bp.get("/disbursements/<int:disbursement_id>/photo")
def disbursement_photo(disbursement_id: int) -> Response:
    row = access.get_or_404(FundDisbursement, disbursement_id)
    return send_upload(row.photo, f"fund-disbursement-{row.id}.jpg")


@bp.post("/applications/<int:application_id>/close")
def close(application_id: int) -> Response:
    app = access.get_or_404(FundApplication, application_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: service.close_application(app, viewkit.user()),
        _here(app),
        _("The application is closed."),
    )


# --- a work's payment by others -------------------------------------------------------------


def payers_of(work: Work) -> list[tuple[str, str]]:
    return [(str(p), label("payer", p)) for p in service.PAYERS.get(Funding(work.funding), ())]


@bp.post("/works/<int:work_id>/payments")
@accepts_uploads
def work_payment(work_id: int) -> Response:
    work = access.get_or_404(Work, work_id, Action.MANAGE_FEES)
    area_id = work.compound.area_id
    form = PaymentForm(payers=payers_of(work), accounts=treasury.paying_accounts(area_id))
    here = url_for("repairs.work", work_id=work.id)

    def change(photo: str) -> WorkPayment:
        paid_from = (
            access.find(MoneyAccount, int(form.paid_from.data), Action.MANAGE_FEES)
            if form.paid_from.data
            else None
        )
        if form.paid_from.data and paid_from is None:
            raise RuleError(_("Choose an open account of this area."), "paid_from")
        return service.record_work_payment(
            work,
            viewkit.user(),
            payer=form.payer.data,
            amount_fen=form.amount.data,
            paid_on=form.paid_on.data,
            reference=form.reference.data,
            photo=photo,
            request_key=form.key.data,
            paid_from=paid_from,
        )

    done = _with_photo(form, change)
    if done.ok:
        return viewkit.done(_("The payment is recorded as the work's cost."), here)
    for errors in [*form.errors.values(), form.form_errors]:
        for error in errors:
            flash(str(error), "error")
    return redirect_after_post(here)


@bp.get("/payments/<int:payment_id>/photo")
def payment_photo(payment_id: int) -> Response:
    row = access.get_or_404(WorkPayment, payment_id)
    return send_upload(row.photo, f"work-payment-{row.id}.jpg")
