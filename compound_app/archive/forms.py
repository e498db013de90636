"""Forms of the archive pages: a document with its first file, a new version, a
withdrawal, and the area's setting for tenants."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField
from wtforms.form import BaseForm

from ..fields import DateField, MoneyField, RequestKeyField, TextField
from ..forms import AppForm
from .models import DocKind

# The kinds a committee uploads; vote results, notices and minutes of meetings are listed
# from their own records as well, but a paper one may be uploaded too.
KIND_LABELS: dict[DocKind, Any] = {
    DocKind.COVENANT: _l("Management covenant (管理规约)"),
    DocKind.RULES: _l("Rules of procedure (议事规则)"),
    DocKind.PLAN: _l("Plan for the compound (一小区一方案)"),
    DocKind.CONTRACT: _l("Contract"),
    DocKind.MINUTES: _l("Meeting minutes"),
    DocKind.VOTE_RESULT: _l("Vote result"),
    DocKind.NOTICE: _l("Notices (公告)"),
    DocKind.OTHER: _l("Other"),
}


class OptionalMoneyField(MoneyField):
    """An amount that may be left empty (then None)."""

    def pre_validate(self, form: BaseForm) -> None:
        if self.raw.strip():
            super().pre_validate(form)
        else:
            self.data = None


class DocumentForm(AppForm):
    kind = SelectField(_l("Kind"))
    title = TextField(_l("Title"), max_len=100, required=True)
    dated = DateField(_l("Date of the document"))
    counterparty = TextField(_l("Contracts: the other party"), max_len=100)
    amount = OptionalMoneyField(_l("Contracts: amount (yuan)"), allow_zero=True)
    file = FileField(_l("The file (PDF or photo)"))
    key = RequestKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, str(text)) for k, text in KIND_LABELS.items()]


class VersionForm(AppForm):
    file = FileField(_l("The new file (PDF or photo)"))
    note = TextField(_l("What changed"), max_len=200)
    key = RequestKeyField()


class WithdrawForm(AppForm):
    reason = TextField(_l("Why is it withdrawn?"), max_len=200, required=True)


class TenantsForm(AppForm):
    """Sent by one of two buttons: open the accounts and the archive to tenants, or close them."""

    open_to_tenants = SelectField(_l("Tenants see the accounts and the archive"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_to_tenants.choices = [
            ("yes", str(_l("Open to tenants"))),
            ("no", str(_l("Owners only"))),
        ]
