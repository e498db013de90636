from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from ..fields import MobileField, NameField
from ..forms import AppForm


class GrantForm(AppForm):
    # "role:scope_id", e.g. "community_staff:3": one choice per role and place.
    grant = SelectField(_l("Role"))


class PersonForm(GrantForm):
    name = NameField(_l("Name"))
    mobile = MobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})
