from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ..fields import (
    AreaField,
    CountField,
    DateField,
    LabelField,
    MobileField,
    NameField,
    OptionalMobileField,
    TextField,
)
from ..forms import AppForm
from ..labels import choices
from .models import Consent, ManagementModel


class CommunityForm(AppForm):
    name = LabelField(_l("Community name"), max_len=50)
    code = StringField(
        _l("Short code"),
        validators=[
            Regexp(r"^[A-Z]{2,4}$", message=_l("2 to 4 capital letters, e.g. LC for 绿城.")),
        ],
        filters=[lambda v: (v or "").strip().upper()],
    )


class CompoundForm(AppForm):
    name = LabelField(_l("Compound name"), max_len=50)
    address = TextField(_l("Address"), max_len=100, folded=True)


class ModelForm(AppForm):
    model = SelectField(_l("New management model"))
    effective_on = DateField(_l("Effective from"))
    reason = TextField(_l("Reason or decision"), max_len=200, required=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.model.choices = [
            (code, text) for code, text in choices("model") if code != ManagementModel.CONTIGUOUS
        ]


class PartyOrgForm(AppForm):
    kind = SelectField(_l("Kind"))
    name = TextField(_l("Organisation name"), max_len=50, required=True, folded=True)
    secretary_name = NameField(_l("Secretary"))
    member_count = CountField(_l("Party members"), minimum=0, maximum=10000)
    founded_on = DateField(_l("Founded on"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("party_org")


class BuildingForm(AppForm):
    name = LabelField(_l("Building"), render_kw={"placeholder": _l("e.g. Building 3")})
    unit_count = CountField(_l("Number of units to create"), minimum=0, maximum=20, default=0)


class UnitForm(AppForm):
    name = LabelField(_l("Unit"), render_kw={"placeholder": _l("e.g. Unit 2")})


class RoomForm(AppForm):
    """A home's room number: what a representative without fee rights may correct."""

    room = LabelField(_l("Room"), render_kw={"placeholder": "301"})


class HouseholdForm(RoomForm):
    area = AreaField(_l("Floor area (m²)"), render_kw={"inputmode": "decimal"})
    occupancy = SelectField(_l("Occupancy"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.occupancy.choices = choices("occupancy")


class ConsentField(SelectField):
    """How consent to keep the mobile was given; "" for none (a record's None shows so)."""

    def process_data(self, value: object) -> None:
        super().process_data(value or "")


class OccupantForm(AppForm):
    name = NameField(_l("Name"))
    mobile = OptionalMobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})
    relation = SelectField(_l("Relation to the home"))
    consent_how = ConsentField(_l("Consent to keep and use the mobile"), default="")
    consent_on = DateField(_l("Consent given on"), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.relation.choices = choices("relation")
        self.consent_how.choices = [("", str(_l("Not given yet"))), *choices("consent")]

    def consent(self) -> tuple[Consent | None, date | None] | None:
        """The consent as entered: the way (None: not given) and the day; None if the
        request did not send these fields at all (the record's consent is left as it is)."""
        if not self.consent_how.raw_data and not self.consent_on.raw:
            return None
        how = self.consent_how.data
        return (Consent(how) if how else None), self.consent_on.data


class RepresentativeForm(AppForm):
    name = NameField(_l("Name"))
    mobile = MobileField(_l("Mobile"), render_kw={"inputmode": "numeric"})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AreaForm(AppForm):
    name = TextField(_l("Area name"), max_len=50, required=True, folded=True)
    compounds = MultiCheckboxField(_l("Compounds"), coerce=int)
    effective_on = DateField(_l("Managed together from"))


class AddToAreaForm(AppForm):
    compound = SelectField(_l("Compound"), coerce=int)
    effective_on = DateField(_l("Managed together from"))


class DatedForm(AppForm):
    effective_on = DateField(_l("Effective from"))


class ImportForm(AppForm):
    file = FileField(_l("Spreadsheet (.xlsx or .csv)"))
