"""Forms of the fee pages. Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField
from wtforms.form import BaseForm

from ..fields import (
    CountField,
    DateField,
    MoneyField,
    MonthField,
    OptionalNameField,
    RequestKeyField,
    TextField,
    optional_id,
)
from ..forms import AppForm
from ..labels import choices
from .models import ApprovalHow


class PaymentForm(AppForm):
    amount = MoneyField(_l("Amount (yuan)"))
    method = SelectField(_l("Paid by"))
    paid_on = DateField(_l("Date paid"))
    # As the person paying gives it: never filled in from the roster (a neighbour may pay).
    payer = OptionalNameField(_l("Paid in by (name, optional)"))
    note = TextField(_l("Note"), max_len=100)
    key = RequestKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method.choices = choices("method")


class ReverseForm(AppForm):
    reason = TextField(_l("Reason for the reversal"), max_len=200, required=True)


class AdjustForm(AppForm):
    bill = SelectField(_l("Bill"))
    amount = MoneyField(_l("Reduce by (yuan)"))
    reason = TextField(_l("Reason"), max_len=200, required=True)

    def __init__(self, *args: Any, bills: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.bill.choices = bills or []


class TermsForm(AppForm):
    cycle = SelectField(_l("Billing cycle"))
    start_month = MonthField(_l("First month billed"))
    vacant_percent = CountField(_l("Vacant homes pay (%)"), minimum=0, maximum=100)
    publicity_days = CountField(_l("Days on the notice board"), minimum=1, maximum=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle.choices = choices("cycle")


class ItemForm(AppForm):
    name = TextField(_l("Service item"), max_len=30, required=True, folded=True)
    scope = TextField(_l("Service scope and standard"), max_len=500)
    basis = SelectField(_l("Charged"))
    rate = MoneyField(_l("Rate (yuan)"), maximum=1_000_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.basis.choices = choices("basis")


class ApproveForm(AppForm):
    how = SelectField(_l("Decided by"))
    approved_on = DateField(_l("Date of the decision"))
    note = TextField(_l("Record of the decision"), max_len=200, required=True)
    vote_id = SelectField(_l("The owners' vote that decided it"), coerce=optional_id)

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The owners' vote; community staff may also record the community's exception.
        ways = (
            (ApprovalHow.OWNERS_VOTE, ApprovalHow.COMMUNITY)
            if staff
            else (ApprovalHow.OWNERS_VOTE,)
        )
        self.how.choices = [(code, text) for code, text in choices("approval") if code in ways]


class MonthForm(AppForm):
    month = MonthField(_l("Month"))


class ReliefForm(AppForm):
    percent_off = CountField(_l("Reduction (%)"), minimum=1, maximum=100)
    reason = TextField(_l("Reason"), max_len=50, required=True)
    since = DateField(_l("Reduction from"))


class ThresholdForm(AppForm):
    threshold = MoneyField(_l("Second approval above (yuan)"), allow_zero=True)


class HandoverForm(AppForm):
    amount = MoneyField(_l("Cash handed over (yuan)"))
    handed_on = DateField(_l("Date"))
    key = RequestKeyField()
    # Sent by the second step only, once the collector has checked the amount.
    confirmed = BooleanField()


class CountedField(MoneyField):
    """The cash the treasurer counted; left empty when she ticks that it matches."""

    def pre_validate(self, form: BaseForm) -> None:
        if self.raw.strip():
            super().pre_validate(form)


class ConfirmForm(AppForm):
    received = CountedField(_l("Cash counted (yuan)"), allow_zero=True)
    as_handed = BooleanField(_l("I counted it: the cash is the amount handed over"))
    note = TextField(_l("Note"), max_len=200)


class ExpenseForm(AppForm):
    category = SelectField(_l("Category"))
    amount = MoneyField(_l("Amount (yuan)"))
    payee = TextField(_l("Paid to"), max_len=50, required=True)
    spent_on = DateField(_l("Date"))
    note = TextField(_l("What for"), max_len=200)
    voucher = FileField(_l("Voucher photo"))
    # Which of the area's money accounts paid it; "" = the cash box.
    paid_from = SelectField(_l("Paid from"), default="")
    key = RequestKeyField()

    def __init__(
        self,
        *args: Any,
        item_names: list[str] | None = None,
        accounts: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.paid_from.choices = [("", str(_l("Cash box"))), *(accounts or [])]
        self.category.choices = [
            *((f"service:{name}", name) for name in item_names or []),
            ("repair:", str(_l("Repairs"))),
            ("other:", str(_l("Other"))),
        ]


class SealForm(AppForm):
    seal = FileField(_l("Image of the seal"))
    key = RequestKeyField()
