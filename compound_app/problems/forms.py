"""Forms of the problem pages: filing, the level and owner, the moves, the rating, the
repair link, the hotline import, the subdistrict's kinds and deadlines, and grids."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, Field, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget, TextArea

from ..fields import (
    CountField,
    DateField,
    IdField,
    MobileField,
    OptionalMobileField,
    OptionalNameField,
    RequestKeyField,
    TextField,
    VersionField,
)
from ..forms import AppForm
from ..labels import LABELS, choices
from .models import LEVELS


class ProblemForm(AppForm):
    kind = SelectField(_l("What kind of problem"), validate_choice=False)
    title = TextField(_l("In a few words"), max_len=60, required=True)
    detail = TextField(_l("Details"), max_len=1000, widget=TextArea())
    severity = SelectField(_l("How serious"), default="normal")
    source = SelectField(_l("Where it came from"), default="complaint")
    compound = IdField(_l("Compound"))  # on the community's form: none for community-wide
    building_id = IdField(_l("Building"))
    unit_id = IdField(_l("Unit"))
    household_id = IdField(_l("Home"))
    anonymous = BooleanField(_l("Do not tell the committee my name"))
    contact_name = OptionalNameField(_l("For whom (the resident's name)"))
    contact_mobile = OptionalMobileField(_l("Their mobile"), render_kw={"inputmode": "numeric"})
    hotline_no = TextField(_l("12345 ticket number"), max_len=40, folded=True)
    photos = MultipleFileField(_l("Photos (up to 4)"))
    key = RequestKeyField()

    def __init__(
        self, *args: Any, kinds: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = list(kinds or [])
        self.severity.choices = choices("problem_severity")
        self.source.choices = choices("problem_source")


class LevelForm(AppForm):
    level = SelectField(_l("Who answers for it"))
    owner_id = IdField(_l("Responsible person"))
    owner_name = TextField(_l("Or: department or cadre (name)"), max_len=50)
    reply_due = DateField(_l("Reply by"), required=False)
    fix_due = DateField(_l("Fixed by"), required=False)
    note = TextField(_l("Note"), max_len=200)
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = choices("problem_level")


class MoveForm(AppForm):
    move = StringField()
    note = TextField(_l("Note"), max_len=500, widget=TextArea())
    photos = MultipleFileField(_l("Photos of the fix"))
    version = VersionField()


class RateForm(AppForm):
    rating = CountField(_l("How well was it handled? (1–5)"), minimum=1, maximum=5)
    comment = TextField(_l("Comment"), max_len=200)


class RepairForm(AppForm):
    category = SelectField(_l("Repair category"), default="other")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = choices("repair_category")


class FromAnswerForm(AppForm):
    kind = SelectField(_l("What kind of problem"), validate_choice=False)

    def __init__(
        self, *args: Any, kinds: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = list(kinds or [])


class HotlineUploadForm(AppForm):
    file = FileField(_l("The hotline's export (.xlsx or .csv)"))


class HotlineConfirmForm(AppForm):
    """The preview's confirmation: the tickets read, signed."""

    token = HiddenField()


class DeadlinesForm(AppForm):
    """Reply hours and fix days per level: ``reply_<level>``, ``fix_<level>``."""

    def values(self) -> dict[str, tuple[int, int]]:
        return {
            level.value: (getattr(self, f"reply_{level}").data, getattr(self, f"fix_{level}").data)
            for level in LEVELS
        }

    def rows(self) -> list[tuple[str, Field, Field]]:
        return [
            (str(LABELS["problem_level"][level]), self[f"reply_{level}"], self[f"fix_{level}"])
            for level in LEVELS
        ]


for _level in LEVELS:
    setattr(
        DeadlinesForm,
        f"reply_{_level}",
        CountField(_l("Reply within (hours)"), minimum=1, maximum=720),
    )
    setattr(
        DeadlinesForm, f"fix_{_level}", CountField(_l("Fix within (days)"), minimum=1, maximum=365)
    )


class KindForm(AppForm):
    name = TextField(_l("Name of the kind"), max_len=30, required=True)


class KindChangeForm(AppForm):
    name = TextField(_l("New name"), max_len=30)
    change = SelectField(_l("Change"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.change.choices = [
            ("rename", str(_l("Rename"))),
            ("retire", str(_l("Retire"))),
            ("restore", str(_l("Use again"))),
            ("up", str(_l("Move up"))),
            ("down", str(_l("Move down"))),
        ]


class ChecksField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GridForm(AppForm):
    name = TextField(_l("Name of the grid"), max_len=30, required=True)
    compounds = ChecksField(_l("Whole compounds"), coerce=int)
    buildings = ChecksField(_l("Or single buildings"), coerce=int)

    def __init__(
        self,
        *args: Any,
        compounds: list[tuple[int, str]] | None = None,
        buildings: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.compounds.choices = list(compounds or [])
        self.buildings.choices = list(buildings or [])


class CoverForm(GridForm):
    """The grid's coverage changed (its name stays)."""

    name = None  # type: ignore[assignment]


class GridWorkerForm(AppForm):
    mobile = MobileField(_l("The grid worker's mobile (their account)"))
