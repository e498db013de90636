from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from ..fields import DateField, MobileField, NameField, TextField
from ..forms import AppForm
from ..labels import choices


class CommitteeForm(AppForm):
    name = TextField(_l("Committee name"), max_len=50, required=True, folded=True)
    formed_on = DateField(_l("Formed on"))


class MemberTermsForm(AppForm):
    position = SelectField(_l("Position"))
    background = SelectField(_l("Background"))
    term_start = DateField(_l("Term starts"))
    term_end = DateField(_l("Term ends"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.position.choices = choices("position")
        self.background.choices = choices("background")


class MemberForm(MemberTermsForm):
    name = NameField(_l("Name"))
    mobile = MobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})


class EndTermForm(AppForm):
    ended_on = DateField(_l("Last day"))
