"""Forms of the money accounts page. Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError

from ..fields import DateField, MoneyField, RequestKeyField, TextField, clean_text, optional_id
from ..forms import AppForm
from ..labels import label
from .models import AccountKind


class Last4Field(StringField):
    """The last four digits of an account number; never the whole number."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = clean_text(valuelist[0] if valuelist else "")[:8]

    def pre_validate(self, form: BaseForm) -> None:
        if self.data and (
            len(self.data) != 4 or not self.data.isascii() or not self.data.isdigit()
        ):
            raise ValidationError(_l("Type the last 4 digits of the account number."))


class AccountForm(AppForm):
    kind = SelectField(_l("Kind of account"))
    name = TextField(_l("Name (as you call it)"), max_len=40, required=True)
    bank = TextField(_l("Bank"), max_len=40)
    holder = TextField(_l("Account name"), max_len=40)
    last4 = Last4Field(_l("Last 4 digits of the account number"))

    def __init__(self, *args: Any, kinds: list[AccountKind] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(str(k), label("account_kind", k)) for k in kinds or []]


class MovementForm(AppForm):
    source = SelectField(_l("From"), coerce=optional_id)
    target = SelectField(_l("To"), coerce=optional_id)
    amount = MoneyField(_l("Amount (yuan)"))
    moved_on = DateField(_l("Date"))
    note = TextField(_l("Note"), max_len=200)
    key = RequestKeyField()

    def __init__(self, *args: Any, accounts: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source.choices = list(accounts or [])
        self.target.choices = list(accounts or [])


class ReasonForm(AppForm):
    reason = TextField(_l("Reason"), max_len=200, required=True)
