"""The form that withdraws a public link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..fields import TextField
from ..forms import AppForm


class RevokeForm(AppForm):
    reason = TextField(_l("Why withdraw it?"), max_len=200, required=True)
