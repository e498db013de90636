from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField

from ..fields import CountField, DateField, MobileField, NameField, TextField
from ..forms import AppForm
from ..labels import choices


class CommitteeForm(AppForm):
    name = TextField(_l("Committee name"), max_len=50, required=True, folded=True)
    formed_on = DateField(_l("Formed on"))


class MemberTermsForm(AppForm):
    position = SelectField(_l("Position"))
    kind = SelectField(_l("Represents"))
    background = SelectField(_l("Background"))
    term_start = DateField(_l("Term starts"))
    term_end = DateField(_l("Term ends"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.position.choices = choices("position")
        self.kind.choices = choices("member_kind")
        self.background.choices = choices("background")


class MemberForm(MemberTermsForm):
    name = NameField(_l("Name"))
    mobile = MobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})


class EndTermForm(AppForm):
    ended_on = DateField(_l("Last day"))


class ChairForm(AppForm):
    chair_appointed = SelectField(_l("How the chair was appointed"))
    chair_appointed_by = TextField(_l("Appointed by (office or meeting)"), max_len=50)
    chair_appointed_on = DateField(_l("Appointed on"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.chair_appointed.choices = choices("chair_appointment")


class RulesForm(AppForm):
    min_members = CountField(_l("Fewest members"), minimum=1, maximum=99)
    max_members = CountField(_l("Most members"), minimum=1, maximum=99)
    odd_members = BooleanField(_l("The number of members must be odd"))
    owners_rule = BooleanField(_l("Owner representatives must be a share of the members"))
    owners_pct = CountField(_l("Owner representatives, at least (%)"), minimum=1, maximum=100)
    chair_appointment = SelectField(_l("The chair is"))
    max_term_years = CountField(_l("A term lasts at most (years)"), minimum=1, maximum=10)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.chair_appointment.choices = choices("chair_appointment")
