"""Forms of the rectification and inspection pages. Budgets are typed in yuan, kept in fen."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget, TextArea

from ..fields import (
    CountField,
    DateField,
    IdField,
    MoneyField,
    OptionalNameField,
    RequestKeyField,
    TextField,
    optional_id,
)
from ..forms import AppForm
from ..labels import choices


class ProblemsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ProjectForm(AppForm):
    problems = ProblemsField(_l("Problems it takes on"), coerce=int)
    kind = SelectField(_l("Kind of project"))
    level = SelectField(_l("Level"))
    title = TextField(_l("Project"), max_len=100, required=True)
    plan = TextField(_l("Plan"), max_len=2000, widget=TextArea())
    budget = MoneyField(_l("Budget (yuan)"), allow_zero=True)
    work = SelectField(_l("Repair work carrying the budget"), coerce=optional_id, default="")
    owner = SelectField(_l("Responsible person"), coerce=optional_id, default="")
    owner_name = TextField(_l("Or a department or cadre (包联干部)"), max_len=50)
    due_on = DateField(_l("Deadline"))
    key = RequestKeyField()

    def __init__(
        self,
        *args: Any,
        problems: list[tuple[int, str]] | None = None,
        works: list[tuple[int, str]] | None = None,
        owners: list[tuple[int, str]] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.problems.choices = list(problems or [])
        self.kind.choices = choices("rectify_kind")
        self.level.choices = choices("rectify_level")
        self.work.choices = [("", str(_l("None"))), *list(works or [])]
        self.owner.choices = [
            ("", str(_l("Myself, or the department named below"))),
            *(owners or []),
        ]


class NoteForm(AppForm):
    note = TextField(_l("What was done"), max_len=1000, required=True, widget=TextArea())
    photos = MultipleFileField(_l("Photos (up to 6)"))
    key = RequestKeyField()


class CompleteForm(AppForm):
    evidence = TextField(_l("Evidence of the fix"), max_len=1000, required=True, widget=TextArea())
    photos = MultipleFileField(_l("Photos of the result (up to 6)"))
    key = RequestKeyField()


class VerifyForm(AppForm):
    verdict = SelectField(_l("Your verdict"))
    rating = SelectField(_l("How was it handled? (reporters)"), default="")
    note = TextField(_l("Note"), max_len=500, widget=TextArea())

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.verdict.choices = choices("rectify_verdict")
        self.rating.choices = [("", "–"), *[(str(n), "★" * n) for n in range(5, 0, -1)]]


class PartyForm(AppForm):
    role = TextField(
        _l("Party, by role (e.g. 3-2-301 住户, 楼上住户, 商户)"), max_len=60, required=True
    )
    name = OptionalNameField(_l("Name (seen by staff only)"))


class AgreementForm(AppForm):
    text = TextField(_l("Agreement reached"), max_len=1000, required=True, widget=TextArea())
    photo = FileField(_l("Photo of the signed agreement"))
    key = RequestKeyField()


class VolunteerForm(AppForm):
    name = OptionalNameField(_l("Volunteer's name"))


class HoursForm(AppForm):
    volunteer = SelectField(_l("Volunteer"), coerce=optional_id, default="")
    on = DateField(_l("Day"))
    hours = CountField(_l("Hours"), minimum=0, maximum=24)
    minutes = CountField(_l("and minutes"), minimum=0, maximum=59, default=0)
    key = RequestKeyField()

    def __init__(self, *args: Any, volunteers: list[tuple[int, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.volunteer.choices = [("", "–"), *list(volunteers or [])]


# --- inspections ---------------------------------------------------------------------------


class ItemForm(AppForm):
    text = TextField(_l("Item"), max_len=100, required=True)
    fix_days = CountField(_l("Days to fix a failed item"), minimum=1, maximum=365)


class ItemEditForm(AppForm):
    item_id = IdField()
    text = TextField(_l("Item"), max_len=100, required=True)
    fix_days = CountField(_l("Days to fix a failed item"), minimum=1, maximum=365)


class ItemPickForm(AppForm):
    item_id = IdField()
    direction = SelectField(default="up")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.direction.choices = [("up", "up"), ("down", "down")]


class InspectionForm(AppForm):
    compound_id = IdField(_l("Pilot compound"))
    visited_on = DateField(_l("Visited on"))
    counterpart = TextField(_l("Signing for the compound (e.g. 物管会主任 孙德明)"), max_len=60)
    key = RequestKeyField()


class ResultForm(AppForm):
    item_id = IdField()
    passed = SelectField(_l("Result"))
    note = TextField(_l("What is wrong (or a note)"), max_len=200)
    photo = FileField(_l("Photo"))

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.passed.choices = choices("inspection_result")


class FinishForm(AppForm):
    note = TextField(_l("Summary of the visit"), max_len=500, widget=TextArea())
