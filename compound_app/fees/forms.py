"""Forms of the fee pages. Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import Field, Form, SelectField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import HiddenInput

from ..forms import AppForm, CountField, DateField, TextField, clean_text
from ..labels import choices
from ..money import AmountError, format_hundredths, parse_fen

_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月$"),
)


def amount_problem(code: str) -> str:
    return {
        "required": str(_l("Please enter an amount.")),
        "too_many_decimals": str(_l("At most two decimal places (fen).")),
        "negative": str(_l("The amount must be greater than 0.")),
        "zero": str(_l("The amount must be greater than 0.")),
        "too_large": str(_l("This amount is too large.")),
    }.get(code, str(_l("Enter an amount in yuan, e.g. 45 or 45.50.")))


def _optional_id(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


class MoneyField(Field):
    """An amount of money in yuan (12, 12.5, ¥12.50, １２.５), kept as integer fen."""

    widget = StringField.widget

    def __init__(
        self, *args: Any, allow_zero: bool = False, maximum: int = 100_000_000, **kwargs: Any
    ) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(*args, **kwargs)
        self.allow_zero, self.maximum = allow_zero, maximum
        self.raw = ""
        self.problem: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]) if valuelist else ""
        self.data, self.problem = None, None
        try:
            self.data = parse_fen(self.raw, allow_zero=self.allow_zero, maximum=self.maximum)
        except AmountError as err:
            self.problem = amount_problem(err.code)

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return "" if self.data is None else format_hundredths(self.data)

    def pre_validate(self, form: Form) -> None:
        if self.data is None:
            raise ValidationError(self.problem or amount_problem("required"))


def parse_month(text: Any) -> date | None:
    s = clean_text(text).replace(" ", "")
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(s)
        if m and 1 <= int(m[2]) <= 12 and 2000 <= int(m[1]) <= 2100:
            return date(int(m[1]), int(m[2]), 1)
    return None


class MonthField(Field):
    """A month, typed 2026-11 or 2026年11月 (browsers with a month picker send the first)."""

    widget = StringField.widget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("type", "month")
        super().__init__(*args, **kwargs)
        self.raw = ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]) if valuelist else ""
        self.data = parse_month(self.raw)

    def _value(self) -> str:
        return f"{self.data:%Y-%m}" if self.data else self.raw

    def pre_validate(self, form: Form) -> None:
        if self.data is None:
            raise ValidationError(_l("Enter a month such as 2026-11."))


class RequestKeyField(StringField):
    """A random key per form shown: the same form sent twice is recognised by it."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = str(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: Form) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", self.data or ""):
            raise ValidationError(_l("This form has expired. Please open it again."))


def new_key() -> str:
    return secrets.token_urlsafe(24)


class PaymentForm(AppForm):
    amount = MoneyField(_l("Amount (yuan)"))
    method = SelectField(_l("Paid by"))
    paid_on = DateField(_l("Date paid"))
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
    publicity_days = CountField(_l("Days on the notice board"), minimum=0, maximum=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cycle.choices = choices("cycle")


class ItemForm(AppForm):
    name = TextField(_l("Service item"), max_len=30, required=True)
    scope = TextField(_l("Service scope and standard"), max_len=500)
    basis = SelectField(_l("Charged"))
    rate = MoneyField(_l("Rate (yuan)"), maximum=1_000_000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.basis.choices = choices("basis")


class ApproveForm(AppForm):
    how = SelectField(_l("Approved by"))
    approved_on = DateField(_l("Date of the decision"))
    note = TextField(_l("Record of the decision"), max_len=200, required=True)
    vote_id = SelectField(_l("The owners' vote that decided it"), coerce=_optional_id)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.how.choices = choices("approval")


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


class ConfirmForm(AppForm):
    received = MoneyField(_l("Cash counted (yuan)"), allow_zero=True)
    note = TextField(_l("Note"), max_len=200)


class ExpenseForm(AppForm):
    category = SelectField(_l("Category"))
    amount = MoneyField(_l("Amount (yuan)"))
    payee = TextField(_l("Paid to"), max_len=50, required=True)
    spent_on = DateField(_l("Date"))
    note = TextField(_l("What for"), max_len=200)
    voucher = FileField(_l("Voucher photo"))
    key = RequestKeyField()

    def __init__(self, *args: Any, item_names: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = [
            *((f"service:{name}", name) for name in item_names or []),
            ("repair:", str(_l("Repairs"))),
            ("other:", str(_l("Other"))),
        ]
