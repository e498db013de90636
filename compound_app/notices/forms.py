"""Forms of the notice pages."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, TextArea

from ..fields import DateField, IdField, TextField, clean_prose, has_control
from ..forms import AppForm
from .models import NoticeKind, TellHow

BODY_MAX = 5000
LINE_MAX = 500

KIND_LABELS = {
    NoticeKind.NOTICE: _l("Notice"),
    NoticeKind.PUBLICITY: _l("For public comment (公示)"),
    NoticeKind.URGENT: _l("Urgent: water, power, safety"),
    NoticeKind.EVENT: _l("Event"),
}
HOW_LABELS = {
    TellHow.OPENED: _l("opened it"),
    TellHow.IN_PERSON: _l("told in person"),
    TellHow.PHONE: _l("told by phone"),
}


class BodyField(TextField):
    """Plain text kept line by line: each line cleaned like free text, blank lines kept
    (they separate paragraphs). Stored as a list of lines, so no control character (not
    even a line break) is stored."""

    lines: list[str] = []

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]) if valuelist else ""
        self.raw = raw
        self.lines = [clean_prose(line) for line in raw.splitlines()]
        self.data = "\n".join(self.lines).strip()

    def _value(self) -> str:
        return getattr(self, "raw", None) or (self.data or "")

    def pre_validate(self, form: BaseForm) -> None:
        if self.required and not self.data:
            raise ValidationError(_l("This field is required."))
        if len(self.data or "") > self.max_len:
            raise ValidationError(_l("At most %(n)d characters.", n=self.max_len))
        for line in getattr(self, "lines", []):
            if len(line) > LINE_MAX:
                raise ValidationError(_l("A line can have at most %(n)d characters.", n=LINE_MAX))
            if has_control(line):
                raise ValidationError(_l("Remove the invisible control characters."))


class FlagField(StringField):
    """A tick box: on when sent as "y", off for anything else (or nothing)."""

    widget = CheckboxInput()
    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = bool(valuelist) and valuelist[0] == "y"

    def _value(self) -> str:
        return "y"

    @property
    def checked(self) -> bool:
        return bool(self.data)


class NoticeForm(AppForm):
    scope = SelectField(_l("Who it is for"))
    kind = SelectField(_l("Kind"))
    title = TextField(_l("Title"), max_len=100, required=True)
    body = BodyField(
        _l("What residents need to know"), max_len=BODY_MAX, required=True, widget=TextArea()
    )
    publish_on = DateField(_l("Publish on (empty: now)"), required=False)
    publish_time = SelectField(_l("At"))
    expires_on = DateField(_l("Take down after (optional)"), required=False)
    comments_until = DateField(_l("公示: comments until"), required=False)
    pinned = FlagField(_l("Pin to the top"))
    ask_ack = FlagField(_l("Ask residents to confirm they have read it (已知悉)"))
    files = MultipleFileField(_l("Photos or PDF files (optional)"))

    def __init__(self, *args: Any, scopes: list[tuple[str, str]] | None = None, **kwargs: Any):
        from .service import PUBLISH_HOURS

        super().__init__(*args, **kwargs)
        self.scope.choices = scopes or []
        self.kind.choices = [(k.value, str(text)) for k, text in KIND_LABELS.items()]
        self.publish_time.choices = [(h, h) for h in PUBLISH_HOURS]


class WithdrawForm(AppForm):
    reason = TextField(_l("Why is it withdrawn?"), max_len=200, required=True)


class CommentForm(AppForm):
    text = TextField(_l("Your comment"), max_len=500, required=True, widget=TextArea())


class TellForm(AppForm):
    household_id = IdField(_l("Home"))
    how = SelectField(_l("How were they told?"))
    back = SelectField(_l("Back to"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.how.choices = [
            (TellHow.IN_PERSON.value, str(HOW_LABELS[TellHow.IN_PERSON])),
            (TellHow.PHONE.value, str(HOW_LABELS[TellHow.PHONE])),
        ]
        self.back.choices = [("notice", "notice"), ("rounds", "rounds")]
