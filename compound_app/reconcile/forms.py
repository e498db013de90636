"""Forms of reconciliation: the statement upload, the column mapping, the decisions on a
line, and a resident's transfer claim (我已转账)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField

from ..fields import DateField, MoneyField, RequestKeyField, TextField
from ..forms import AppForm
from ..labels import label
from .models import CLAIM_METHODS, Explanation


class UploadForm(AppForm):
    file = FileField(_l("Statement (.csv or .xlsx)"))


class ConfirmImportForm(AppForm):
    """The preview's confirmation: the lines read, signed (see ``views._signer``)."""

    token = HiddenField()


class MappingForm(AppForm):
    """Which column holds what, for a layout the app does not know; the headers offered
    come back signed."""

    headers = HiddenField()
    date = SelectField(_l("Date"))
    amount = SelectField(_l("Amount (money in positive, money out negative)"))
    money_in = SelectField(_l("Or: money in"))
    money_out = SelectField(_l("And: money out"))
    counterparty = SelectField(_l("Who paid (counterparty)"))
    note = SelectField(_l("Note"))
    reference = SelectField(_l("Transaction number"))
    currency = SelectField(_l("Currency"))

    CHOICES = ("date", "amount", "money_in", "money_out", "counterparty", "note", "reference")

    def __init__(self, *args: Any, columns: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = [("", str(_l("(none)")))] + [(c, c) for c in columns or []]
        for name in (*self.CHOICES, "currency"):
            getattr(self, name).choices = offered


class MatchForm(AppForm):
    """Confirm a proposed match, pick one by hand, or say "not this one"."""

    target = SelectField(_l("Payment or claim"))

    def __init__(self, *args: Any, targets: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.target.choices = list(targets or [])


class ExplainForm(AppForm):
    explanation = SelectField(_l("What is it"))
    reason = TextField(_l("Note"), max_len=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.explanation.choices = [(str(e), label("explanation", e)) for e in Explanation]


class ReasonForm(AppForm):
    reason = TextField(_l("Reason"), max_len=200, required=True)


class ClaimForm(AppForm):
    amount = MoneyField(_l("Amount transferred (yuan)"))
    paid_on = DateField(_l("Date of the transfer"))
    method = SelectField(_l("Transferred by"))
    note = TextField(_l("Note (optional)"), max_len=100)
    photo = FileField(_l("Screenshot of the transfer (optional)"))
    key = RequestKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method.choices = [(str(m), label("method", m)) for m in CLAIM_METHODS]
