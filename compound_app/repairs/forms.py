"""Forms of the repair pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import Field, HiddenField, SelectField, StringField
from wtforms.widgets import TextArea

from ..fields import (
    CountField,
    DateField,
    IdField,
    LinesField,
    MoneyField,
    OptionalNameField,
    RequestKeyField,
    TextField,
    VersionField,
)
from ..forms import AppForm
from ..labels import LABELS, choices
from .models import Category


class ReportForm(AppForm):
    category = SelectField(_l("What is it about?"))
    place = SelectField(_l("Where"))
    building_id = IdField(_l("Building"))
    unit_id = IdField(_l("Unit"))
    household_id = IdField(_l("Home"))
    resident_name = OptionalNameField(_l("Reported for (the resident's name)"))
    neighbour = HiddenField()  # "1": a representative reports for a resident of their units
    description = TextField(_l("What is wrong?"), max_len=500, required=True, widget=TextArea())
    priority = SelectField(_l("Urgency"))
    photos = MultipleFileField(_l("Photos (up to 6)"))
    decision_id = IdField()
    key = RequestKeyField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = choices("repair_category")
        self.place.choices = choices("repair_place")
        self.priority.choices = choices("priority")


class AssignForm(AppForm):
    kind = SelectField(_l("Who does the work"))
    member_id = IdField(_l("Person"))
    contractor = TextField(_l("Contractor"), max_len=50)
    category = SelectField(_l("Category"))
    priority = SelectField(_l("Urgency"))
    note = TextField(_l("Note"), max_len=200)
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("assignee")
        self.category.choices = choices("repair_category")
        self.priority.choices = choices("priority")


class MoveForm(AppForm):
    move = StringField()
    note = TextField(_l("Note"), max_len=200)
    photos = MultipleFileField(_l("Photos of the work done"))
    version = VersionField()


class RateForm(AppForm):
    rating = CountField(_l("Rating (1–5)"), minimum=1, maximum=5)
    comment = TextField(_l("Comment"), max_len=200)


class TargetsForm(AppForm):
    """Target days per category: one field each, ``days_<category>``."""

    def days(self) -> dict[str, int]:
        return {category.value: getattr(self, f"days_{category}").data for category in Category}

    def day_fields(self) -> list[Field]:
        return [getattr(self, f"days_{category}") for category in Category]


for _category in Category:
    setattr(
        TargetsForm,
        f"days_{_category}",
        CountField(LABELS["repair_category"][_category], minimum=1, maximum=365),
    )


class WorkForm(AppForm):
    kind = SelectField(_l("Kind of work"))
    title = TextField(_l("Title"), max_len=60, required=True)
    description = TextField(_l("Scope and plan"), max_len=1000, widget=TextArea())
    budget = MoneyField(_l("Budget (yuan)"), allow_zero=True)
    funding = SelectField(_l("Funded by"))
    planned_on = DateField(_l("Planned for"))
    decision_id = IdField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("work_kind")
        self.funding.choices = choices("funding")


class WorkStepForm(AppForm):
    on = DateField(_l("Date"))
    installed = CountField(_l("Installed (number)"), minimum=0, maximum=10000)
    location = TextField(_l("Where"), max_len=60)
    version = VersionField()


class LinkExpenseForm(AppForm):
    expense_id = IdField(_l("Expense in the fee ledger"))
    version = VersionField()


class WorkPhotoForm(AppForm):
    stage = SelectField(_l("Photos taken"))
    photos = MultipleFileField(_l("Photos"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stage.choices = choices("photo_stage")


class FacilityForm(AppForm):
    kind = SelectField(_l("Facility"))
    count = CountField(_l("Number"), minimum=1, maximum=10000)
    location = TextField(_l("Where"), max_len=60)
    installed_on = DateField(_l("Installed on"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("facility")


class RemoveFacilityForm(AppForm):
    on = DateField(_l("Out of service since"))


class MeetingForm(AppForm):
    kind = SelectField(_l("Meeting"))
    held_on = DateField(_l("Held on"))
    attendees = TextField(_l("Attendees"), max_len=500, required=True)
    attendee_count = CountField(_l("Number of attendees"), minimum=1, maximum=10000)
    problems = TextField(_l("Problems discussed"), max_len=2000, required=True, widget=TextArea())
    decisions = LinesField(_l("Decisions (one per line)"), max_len=300, widget=TextArea())
