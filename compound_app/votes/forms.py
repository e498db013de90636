"""Forms of the consultation and vote pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget, TextArea

from ..fields import CountField, DateField, IdField, LinesField, OptionalNameField, TextField
from ..forms import AppForm
from ..labels import choices


class CompoundsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VoteForm(AppForm):
    scope = SelectField(_l("Who votes"))
    compounds = CompoundsField(_l("The compounds that vote (for chosen compounds)"), coerce=int)
    matter = SelectField(_l("Matter (Civil Code art. 278)"))
    title = TextField(_l("Title"), max_len=100, required=True)
    text = TextField(_l("What is decided"), max_len=3000, required=True, widget=TextArea())
    closes_on = DateField(_l("Voting closes on"))

    def __init__(
        self,
        *args: Any,
        scopes: list[tuple[str, str]] | None = None,
        compounds: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.scope.choices = scopes or []
        self.compounds.choices = compounds or []
        self.matter.choices = choices("matter")


class AnnounceForm(AppForm):
    opens_on = DateField(_l("Voting opens on"))
    closes_on = DateField(_l("Voting ends on"))


class CloseForm(AppForm):
    reason = TextField(
        _l("Why it closes before its end date (needed while the outcome can change)"),
        max_len=500,
        widget=TextArea(),
    )


class TellerForm(AppForm):
    role = SelectField(_l("Role"))
    occupant_id = SelectField(_l("Owner"), coerce=int)

    def __init__(self, *args: Any, owners: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.role.choices = choices("teller_role")
        self.occupant_id.choices = owners or []


class CorrectionForm(AppForm):
    ballot_id = IdField(_l("Paper ballot to correct"))
    choice = RadioField(_l("Vote on the paper ballot"))
    reason = TextField(_l("What was wrong?"), max_len=200, required=True)
    photo = FileField(_l("Photo of the signed ballot"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice.choices = choices("choice")


class VoteRulesForm(AppForm):
    announce_days = CountField(
        _l("Days a vote is announced before it opens"), minimum=1, maximum=90
    )
    scrutineers = CountField(_l("Scrutineers (监票人) per vote"), minimum=1, maximum=5)
    counters = CountField(_l("Counters (计票人) per vote"), minimum=1, maximum=5)


class AssemblyRulesForm(AppForm):
    non_voters_follow_majority = BooleanField(
        _l(
            "Owners who were told of a vote and did not vote are counted with the majority "
            "of those who voted (未参与表决的业主计入已表决的多数票)"
        )
    )


class ConsultationForm(AppForm):
    scope = SelectField(_l("Who is asked"))
    title = TextField(_l("Title"), max_len=100, required=True)
    text = TextField(_l("The question or plan"), max_len=3000, required=True, widget=TextArea())
    options = LinesField(_l("Answers to choose from (one per line)"), max_len=40, widget=TextArea())
    closes_on = DateField(_l("Closes on"))

    def __init__(self, *args: Any, scopes: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.scope.choices = scopes or []


class BallotForm(AppForm):
    choice = RadioField(_l("Your vote"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice.choices = choices("choice")


class PaperBallotForm(AppForm):
    household_id = IdField(_l("Home"))
    choice = RadioField(_l("Vote on the paper ballot"))
    photo = FileField(_l("Photo of the signed ballot"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choice.choices = choices("choice")


class VoidBallotForm(AppForm):
    reason = TextField(_l("Why is it void?"), max_len=200, required=True)


class AnswerForm(AppForm):
    household_id = IdField(_l("Home"))
    option = RadioField(_l("Answer"))
    comment = TextField(_l("Comment"), max_len=500, widget=TextArea())
    resident_name = OptionalNameField(_l("Answered for (the resident's name)"))

    def __init__(self, *args: Any, options: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.option.choices = [(o, o) for o in options or []]
