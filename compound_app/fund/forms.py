"""Forms of the maintenance fund pages. Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import CountField, DateField, MoneyField, RequestKeyField, TextField, optional_id
from ..forms import AppForm
from ..labels import choices


class UnitsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BalanceForm(AppForm):
    building = SelectField(_l("Whose balance"), coerce=optional_id, default="")
    balance = MoneyField(_l("Balance (yuan)"), allow_zero=True)
    stated_on = DateField(_l("Date of the statement"))
    photo = FileField(_l("Photo of the statement"))
    key = RequestKeyField()

    def __init__(self, *args: Any, buildings: list[tuple[int, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.building.choices = [("", str(_l("The whole compound"))), *list(buildings or [])]


class ApplicationForm(AppForm):
    title = TextField(_l("What the fund is used for"), max_len=100, required=True)
    work = SelectField(_l("Work"), coerce=optional_id, default="")
    kind = SelectField(_l("Kind of work (for a new work)"), default="other")
    budget = MoneyField(_l("Budget (yuan)"))
    units = UnitsField(_l("Homes that bear the cost"), coerce=int)
    split = SelectField(_l("How the cost is shared"), default="area")
    comment_days = CountField(_l("Days open for comment (公示)"), minimum=1, maximum=60, default=7)
    key = RequestKeyField()

    def __init__(
        self,
        *args: Any,
        works: list[tuple[int, str]] | None = None,
        units: list[tuple[int, str]] | None = None,
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        self.work.choices = [("", str(_l("A new work of the fund"))), *list(works or [])]
        self.kind.choices = choices("work_kind")
        self.units.choices = list(units or [])
        self.split.choices = choices("split")


class VoteForm(AppForm):
    opens_on = DateField(_l("Voting opens on (after the announcement period)"))
    closes_on = DateField(_l("Voting closes on"))


class DisburseForm(AppForm):
    amount = MoneyField(_l("Amount paid out (yuan)"))
    disbursed_on = DateField(_l("Date paid out"))
    reference = TextField(_l("The fund centre's reference"), max_len=60, required=True)
    photo = FileField(_l("Photo of the fund centre's paper"))
    key = RequestKeyField()


class PaymentForm(AppForm):
    payer = SelectField(_l("Paid by"))
    amount = MoneyField(_l("Amount (yuan)"))
    paid_on = DateField(_l("Date paid"))
    reference = TextField(_l("Document or its number"), max_len=100, required=True)
    photo = FileField(_l("Photo of the document"))
    # Common-part income only: the account it was paid from (the cash box when left empty).
    paid_from = SelectField(_l("Paid from"), default="")
    key = RequestKeyField()

    def __init__(
        self,
        *args: Any,
        payers: list[tuple[str, str]] | None = None,
        accounts: list[tuple[str, str]] | None = None,
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        self.payer.choices = list(payers or [])
        self.paid_from.choices = [("", str(_l("Cash box"))), *(accounts or [])]
