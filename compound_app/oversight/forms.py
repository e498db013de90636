"""Forms of the oversight pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.widgets import TextArea

from ..fields import CountField, DateField, IdField, TextField
from ..forms import AppForm
from ..labels import LABELS
from .pilots import ORDER, ORGANISATIONS, PILOT_MODELS


def _models() -> list[tuple[str, str]]:
    return [(m.value, str(LABELS["model"][m])) for m in PILOT_MODELS]


class SelectPilotForm(AppForm):
    compound_id = IdField(_l("Compound"))
    model = SelectField(_l("Model to follow"))
    selected_on = DateField(_l("Selected on"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model.choices = _models()


class StageForm(AppForm):
    to = SelectField(_l("New stage"))
    on = DateField(_l("Since"))
    note = TextField(_l("Note"), max_len=200)

    def __init__(self, *args: Any, stages: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = stages if stages is not None else [s.value for s in ORDER]
        self.to.choices = [(code, str(LABELS["stage"][code])) for code in codes]


class PlanForm(AppForm):
    model = SelectField(_l("Model"))
    organisation = SelectField(_l("Organised by"))
    service_scope = TextField(_l("Service scope"), max_len=1000, widget=TextArea())
    fee_note = TextField(_l("Fee standard (in words)"), max_len=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model.choices = _models()
        self.organisation.choices = [
            (code, str(LABELS["organisation"][code])) for code in ORGANISATIONS
        ]


class MilestoneForm(AppForm):
    title = TextField(_l("Milestone"), max_len=60, required=True)
    due_on = DateField(_l("Due on"))


class MilestoneDoneForm(AppForm):
    done_on = DateField(_l("Reached on"))
    note = TextField(_l("Note"), max_len=200)
    vote_id = IdField(_l("The owners' vote that decided it"))


class CertifyForm(AppForm):
    on = DateField(_l("Certified on"))
    override_reason = TextField(
        _l("Reason for certifying although the checklist does not pass"),
        max_len=500,
        widget=TextArea(),
    )


class SettingsForm(AppForm):
    rep_coverage_pct = CountField(
        _l("Branch-managed: units with a representative (%)"), minimum=0, maximum=100
    )
    collection_pct = CountField(_l("Collection rate in each month (%)"), minimum=0, maximum=100)
    repairs_in_target_pct = CountField(
        _l("Repairs completed within target (%)"), minimum=0, maximum=100
    )
    window_months = CountField(_l("Months looked at"), minimum=1, maximum=12)
    overdue_rule = BooleanField(_l("Check that no problem is overdue longer than the days below"))
    overdue_days = CountField(_l("Days a problem may be overdue"), minimum=1, maximum=365)
    min_publicity_days = CountField(
        _l("Fewest days a fee schedule stays on the notice board (公示)"), minimum=1, maximum=90
    )
