"""The common-part income pages of an area: its income, a contract, a receipt, the forms."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..fees import receipts
from ..fees.models import Method
from ..fields import new_key, optional_id, parse_month
from ..forms import form_status, refuse, submit
from ..htmx import redirect_after_post, render
from ..labels import label
from ..money import format_fen
from ..months import month_of
from ..registry.models import ManagementArea
from . import bp, reports, service
from .forms import ContractForm, EndForm, ReceiptForm, ReverseIncomeForm
from .models import ONE_OFF_KINDS, IncomeContract, IncomeKind, IncomeReceipt

# --- the area's income --------------------------------------------------------------------------


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    month = parse_month(request.args.get("month", "")) or month_of(clock.today())
    if month > month_of(clock.today()):
        month = month_of(clock.today())
    states = service.contracts_of(area.id)
    return render(
        "income/area.html",
        area=area,
        month=month,
        states=states,
        overdue=[s for s in states if s.overdue],
        section=reports.board_section(area.id, month),
        one_off=service.receipts_of(area.id, one_off=True, limit=20),
        receipts=service.receipts_of(area.id, month),
    )


# --- contracts ----------------------------------------------------------------------------------


def _contract_form_page(area: ManagementArea, form: ContractForm, status: int = 200) -> Response:
    return render("income/new_contract.html", area=area, form=form, status=status)


@bp.route("/areas/<int:area_id>/contracts/new", methods=["GET", "POST"])
def new_contract(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    form = ContractForm()
    if not form.is_submitted():
        form = ContractForm(formdata=None, starts_on=clock.today(), key=new_key())
        return _contract_form_page(area, form)
    done = submit(
        form,
        lambda: service.create_contract(
            area,
            viewkit.user(),
            kind=IncomeKind(form.kind.data),
            counterparty=form.counterparty.data,
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            total_fen=form.total.data,
            instalments=form.instalments.schedule,
            note=form.note.data,
            request_key=form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("Contract entered."), url_for(".contract", contract_id=done.result.id)
        )
    return _contract_form_page(area, form, form_status(form))


def _contract_page(
    contract: IncomeContract, end_form: EndForm | None = None, status: int = 200
) -> Response:
    state = service.state_of(contract)
    if end_form is None and contract.end is None:
        end_form = EndForm(formdata=None, ended_on=clock.today())
    return render(
        "income/contract.html",
        area=contract.area,
        contract=contract,
        state=state,
        receipts=service.receipts_of_contract(contract),
        end_form=end_form if contract.end is None else None,
        status=status,
    )


@bp.get("/contracts/<int:contract_id>")
def contract(contract_id: int) -> Response:
    return _contract_page(access.get_or_404(IncomeContract, contract_id, Action.MANAGE_FEES))


@bp.post("/contracts/<int:contract_id>/end")
def end_contract(contract_id: int) -> Response:
    contract = access.get_or_404(IncomeContract, contract_id, Action.MANAGE_FEES)
    form = EndForm()
    done = submit(
        form,
        lambda: service.end_contract(
            contract, form.ended_on.data, form.reason.data, viewkit.user()
        ),
    )
    if done.ok:
        return viewkit.done(
            _("The contract is ended; it stays on record with the reason."),
            url_for(".contract", contract_id=contract.id),
        )
    return _contract_page(contract, form, form_status(form))


# --- receipts -----------------------------------------------------------------------------------


def _sources(area_id: int) -> list[tuple[str, str]]:
    found = [
        (
            f"contract:{s.contract.id}",
            _(
                "%(kind)s · %(who)s (left %(left)s)",
                kind=label("income_kind", s.contract.kind),
                who=s.contract.counterparty,
                left=format_fen(s.left),
            ),
        )
        for s in service.open_contracts(area_id)
    ]
    found += [
        (f"kind:{kind}", _("One-off: %(kind)s", kind=label("income_kind", kind)))
        for kind in ONE_OFF_KINDS
    ]
    return found


def _receive_page(area: ManagementArea, form: ReceiptForm, status: int = 200) -> Response:
    return render("income/receive.html", area=area, form=form, status=status)


def _picked(form: ReceiptForm) -> tuple[IncomeContract | None, IncomeKind | None]:
    """The contract or one-off kind the form names; a contract out of reach is refused."""
    what, _sep, value = (form.source.data or "").partition(":")
    if what == "contract":
        picked = access.find(IncomeContract, optional_id(value), Action.MANAGE_FEES)
        if picked is None:
            raise RuleError(_("Choose one of this area's contracts."), "source")
        return picked, None
    if what == "kind" and value in {str(k) for k in ONE_OFF_KINDS}:
        return None, IncomeKind(value)
    raise RuleError(_("Choose a contract or the kind of income."), "source")


@bp.route("/areas/<int:area_id>/receive", methods=["GET", "POST"])
def receive(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    sources = _sources(area.id)
    form = ReceiptForm(sources=sources)
    if not form.is_submitted():
        wanted = optional_id(request.args.get("contract"))
        form = ReceiptForm(
            formdata=None,
            sources=sources,
            method=Method.BANK,
            received_on=clock.today(),
            key=new_key(),
        )
        if wanted is not None and f"contract:{wanted}" in {code for code, _text in sources}:
            form.source.data = f"contract:{wanted}"
        return _receive_page(area, form)
    if not form.validate_on_submit():
        return _receive_page(area, form, form_status(form))
    try:
        contract, kind = _picked(form)
        recorded = service.record_receipt(
            area,
            viewkit.user(),
            contract=contract,
            kind=kind,
            payer=form.payer.data,
            amount_fen=form.amount.data,
            method=Method(form.method.data),
            received_on=form.received_on.data,
            note=form.note.data,
            request_key=form.key.data,
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _receive_page(area, form, 422)
    except IntegrityError:
        # The same form, sent twice at the same moment: the other request recorded it.
        db.session.rollback()
        earlier = service.receipt_for_key(form.key.data)
        if earlier is None or earlier.area_id != area.id:
            raise
        recorded = service.Recorded(earlier, repeated=True)
    receipt = recorded.receipt
    if recorded.repeated:
        flash(_("This was already recorded: receipt %(no)s.", no=receipt.receipt_no), "info")
    else:
        flash(_("Income recorded: receipt %(no)s.", no=receipt.receipt_no), "success")
    return redirect_after_post(url_for(".receipt", receipt_id=receipt.id))


def _receipt_page(
    receipt: IncomeReceipt, form: ReverseIncomeForm | None = None, status: int = 200
) -> Response:
    if form is None and receipt.reversal is None:
        form = ReverseIncomeForm(formdata=None)
    seal = receipts.current_seal(receipt.area_id)
    return render(
        "income/receipt.html",
        receipt=receipt,
        area=receipt.area,
        issuer=receipts.issuer(receipt.area),
        seal=seal,
        reverse_form=form if receipt.reversal is None else None,
        status=status,
    )


@bp.get("/receipts/<int:receipt_id>")
def receipt(receipt_id: int) -> Response:
    return _receipt_page(access.get_or_404(IncomeReceipt, receipt_id, Action.MANAGE_FEES))


@bp.post("/receipts/<int:receipt_id>/reverse")
def reverse(receipt_id: int) -> Response:
    receipt = access.get_or_404(IncomeReceipt, receipt_id, Action.MANAGE_FEES)
    form = ReverseIncomeForm()
    done = submit(form, lambda: service.reverse_receipt(receipt, form.reason.data, viewkit.user()))
    if done.ok:
        return viewkit.done(
            _("Receipt %(no)s is void; it stays on record with the reason.", no=receipt.receipt_no),
            url_for(".receipt", receipt_id=receipt.id),
        )
    return _receipt_page(receipt, form, form_status(form))
