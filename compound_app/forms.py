"""The base form and the one path by which a submitted form changes anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from flask import request
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField
from wtforms.widgets import HiddenInput

from .errors import RuleError

T = TypeVar("T")


class AppForm(FlaskForm):
    """The base of every form: fields read the HTML form body; only file fields read files.

    Flask-WTF hands every field the uploaded files too, and the values of a JSON body: a
    file or a number where text belongs reached WTForms' validators as such (a 500, not a
    message). An upload under a text field's name, or a JSON body, counts as not sent.
    """

    class Meta:
        def wrap_formdata(self, form: AppForm, formdata: Any) -> Any:
            if formdata is None or hasattr(formdata, "getlist"):
                return formdata  # the view's own data, or explicitly none
            if not form.is_submitted():
                return None
            wanted = {field.name for field in form if isinstance(field, FileField)}
            files = MultiDict([(k, v) for k, v in request.files.items(multi=True) if k in wanted])
            if files:
                return CombinedMultiDict((files, request.form))
            return request.form or None

    def hidden_tag(self, *fields: Any) -> Markup:
        """The hidden fields (the CSRF token, a request key) without ids: a page with several
        forms would otherwise repeat ``id="csrf_token"``. Nothing points at a hidden field."""
        chosen = [getattr(self, f, None) if isinstance(f, str) else f for f in fields or self]
        return Markup("\n").join(
            f(id=False) for f in chosen if f is not None and isinstance(f.widget, HiddenInput)
        )


F = TypeVar("F", bound=FlaskForm)


def ids_prefixed(form: F, prefix: str) -> F:
    """Give every field of ``form`` (and its label) an id starting ``prefix-``; names stay.

    Two forms on one page that share field names (a note, the version, the CSRF token)
    would otherwise repeat ids, and a label would name the other form's field.
    """
    for field in form:
        field.id = f"{prefix}-{field.name}"
        field.label.field_id = field.id
    return form


def add_error(field: Any, message: str) -> None:
    """Put ``message`` next to ``field`` (its error list is a tuple once validated)."""
    field.errors = [*field.errors, message]


def refuse(form: Any, err: RuleError) -> None:
    """Show a service's refusal next to its field (or above the form); nothing is kept."""
    from .extensions import db

    db.session.rollback()
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        add_error(field, err.message)
    else:
        form.form_errors.append(err.message)


def form_status(form: Any) -> int:
    """422 when the form is answered with errors (htmx swaps it in), else 200."""
    return 422 if form.errors or form.form_errors else 200


class Submitted(Generic[T]):
    """What became of a submitted form: ``ok`` once the change is saved, with its result."""

    def __init__(self, ok: bool, result: T | None = None) -> None:
        self.ok = ok
        self._result = result

    @property
    def result(self) -> T:
        """What the change returned; only a saved change has one."""
        if not self.ok:
            raise RuntimeError("the form was refused: nothing was saved")
        return cast(T, self._result)


def submit(form: Any, change: Callable[[], T]) -> Submitted[T]:
    """Validate ``form``, make the ``change`` and commit it.

    Invalid input, or a rule the service refuses, leaves the form with its errors next
    to the fields and nothing saved; the view then renders the form again.
    """
    from .extensions import db

    if not form.validate_on_submit():
        return Submitted(False)
    try:
        result = change()
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return Submitted(False)
    return Submitted(True, result)
