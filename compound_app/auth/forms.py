from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from ..forms import AppForm, MobileField, OptionalNameField
from .service import MIN_PASSWORD_LENGTH


def _password_strength(_form: AppForm, field: PasswordField) -> None:
    value = field.data or ""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationError(_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(value) > 128:
        raise ValidationError(_l("At most %(n)d characters.", n=128))
    if value.isdigit() and len(set(value)) <= 2:
        raise ValidationError(_l("This password is too easy to guess."))


class LoginForm(AppForm):
    mobile = MobileField(_l("Mobile number"))
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Please enter your password.")), Length(max=128)],
    )


class NewPasswordMixin:
    new_password = PasswordField(_l("New password"), validators=[_password_strength])
    confirm = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new_password", _l("The two passwords differ."))],
    )


class ChangePasswordForm(NewPasswordMixin, AppForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(_l("Please enter your current password.")), Length(max=128)],
    )


class ActivateForm(NewPasswordMixin, AppForm):
    code = StringField(
        _l("Invitation or activation code"),
        validators=[InputRequired(_l("Please enter the code.")), Length(max=20)],
    )
    mobile = MobileField(_l("Mobile number"))
    name = OptionalNameField(_l("Your name"))
