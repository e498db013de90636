"""Forms of the consultation and vote pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField
from wtforms.widgets import TextArea

from ..fields import DateField, IdField, LinesField, OptionalNameField, TextField
from ..forms import AppForm
from ..labels import choices


class VoteForm(AppForm):
    scope = SelectField(_l("Who votes"))
    matter = SelectField(_l("Matter (Civil Code art. 278)"))
    title = TextField(_l("Title"), max_len=100, required=True)
    text = TextField(_l("What is decided"), max_len=3000, required=True, widget=TextArea())
    closes_on = DateField(_l("Voting closes on"))

    def __init__(self, *args: Any, scopes: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.scope.choices = scopes or []
        self.matter.choices = choices("matter")


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
