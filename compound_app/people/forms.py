from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from ..forms import MobileField, NameField


class GrantForm(FlaskForm):
    # "role:scope_id", e.g. "community_staff:3": one choice per role and place.
    grant = SelectField(_l("Role"))


class PersonForm(GrantForm):
    name = NameField(_l("Name"))
    mobile = MobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})
