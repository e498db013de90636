from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import AppForm
from .models import SMS_CHOICES, Kind

SMS_LABELS = {
    Kind.REPAIR: _l("My repair reports"),
    Kind.BILL: _l("Bills and fee reminders"),
    Kind.VOTE: _l("Votes and consultations"),
    Kind.NOTICE: _l("Notices"),
    Kind.URGENT: _l("Urgent notices (water, power, safety)"),
    Kind.DUTY: _l("My duties (cash to count, new repair reports)"),
}

KIND_LABELS = {
    Kind.REPAIR.value: _l("Repair"),
    Kind.BILL.value: _l("Fees"),
    Kind.VOTE.value: _l("Vote"),
    Kind.NOTICE.value: _l("Notice"),
    Kind.URGENT.value: _l("Urgent"),
    Kind.DUTY.value: _l("To do"),
    Kind.LOGIN.value: _l("Sign-in code"),
    "login_code": _l("Sign-in code"),
}


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


class SmsChoicesForm(AppForm):
    """Which messages also come by SMS: a tick per kind (none ticked is a valid choice)."""

    kinds = SelectMultipleField(
        _l("Also send me an SMS for"),
        choices=[(k.value, SMS_LABELS[k]) for k in SMS_CHOICES],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
