"""Forms of the common-part income pages. Amounts are typed in yuan and kept in fen."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError
from wtforms.widgets import TextArea

from ..fields import (
    DateField,
    MoneyField,
    RequestKeyField,
    TextField,
    amount_problem,
    clean_text,
    has_control,
    parse_date,
)
from ..forms import AppForm
from ..labels import choices
from ..money import AmountError, parse_fen

MAX_LINES = 60
_LINE = re.compile(r"^(\S+)\s+(\S+)$")


class InstalmentsField(TextField):
    """The instalment schedule, one per line: a due date and an amount
    ("2026-07-01 1200"). ``data`` keeps the text; ``schedule`` the parsed pairs."""

    schedule: list[tuple[date, int]] = []

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]) if valuelist else ""
        self.raw_lines = [clean_text(line) for line in raw.splitlines()]
        self.raw_lines = [line for line in self.raw_lines if line]
        self.data = "\n".join(self.raw_lines)
        self.schedule = []
        self.problem: str | None = None
        if len(self.raw_lines) > MAX_LINES:
            self.problem = str(_l("At most %(n)d instalments.", n=MAX_LINES))
            return
        for n, line in enumerate(self.raw_lines, start=1):
            if has_control(line) or len(line) > 60:
                self.problem = str(_l("Line %(n)d: remove what is not a date or amount.", n=n))
                return
            match = _LINE.match(line.replace("：", " ").replace(":", " "))
            due = parse_date(match[1]) if match else None
            if due is None:
                self.problem = str(
                    _l("Line %(n)d: write the due date, a space, then the amount.", n=n)
                )
                return
            try:
                amount = parse_fen(match[2]) if match else 0
            except AmountError as err:
                self.problem = str(_l("Line %(n)d: ", n=n)) + amount_problem(err.code)
                return
            self.schedule.append((due, amount))

    def pre_validate(self, form: BaseForm) -> None:
        problem = getattr(self, "problem", None)
        if problem:
            raise ValidationError(problem)
        if not getattr(self, "schedule", None):
            raise ValidationError(_l("Enter at least one instalment: its due date and amount."))


class ContractForm(AppForm):
    kind = SelectField(_l("Kind"))
    counterparty = TextField(_l("Paid by (company or person)"), max_len=50, required=True)
    starts_on = DateField(_l("Starts on"))
    ends_on = DateField(_l("Ends on"))
    total = MoneyField(_l("Total (yuan)"))
    instalments = InstalmentsField(
        _l("Instalments: due date and amount, one per line"), max_len=4000, widget=TextArea()
    )
    note = TextField(_l("Note"), max_len=200)
    key = RequestKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("contract_kind")


class ReceiptForm(AppForm):
    # "contract:<id>" or "kind:<one-off kind>"; checked by the view, not by the list.
    source = SelectField(_l("Received for"), validate_choice=False)
    amount = MoneyField(_l("Amount (yuan)"))
    method = SelectField(_l("Paid by"))
    received_on = DateField(_l("Date received"))
    payer = TextField(_l("From whom"), max_len=50)
    note = TextField(_l("Note"), max_len=100)
    key = RequestKeyField()

    def __init__(
        self, *args: Any, sources: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source.choices = sources or []
        self.method.choices = choices("method")


class EndForm(AppForm):
    ended_on = DateField(_l("Ends on"))
    reason = TextField(_l("Reason"), max_len=200, required=True)


class ReverseIncomeForm(AppForm):
    reason = TextField(_l("Reason for the reversal"), max_len=200, required=True)
