from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from ..fields import MobileField, OptionalNameField
from ..forms import AppForm
from . import passwords


def _password_strength(form: AppForm, field: PasswordField) -> None:
    """Not common, not a pattern, and not the person's own mobile or name: theirs as
    signed in, else as typed on the activation form (the service checks the account's)."""
    if current_user.is_authenticated:
        mobile, name = current_user.mobile, current_user.name
    else:
        mobile = getattr(getattr(form, "mobile", None), "data", None)
        name = getattr(getattr(form, "name", None), "data", None)
    problem = passwords.problem(field.data or "", mobile=mobile, name=name)
    if problem:
        raise ValidationError(problem)


REMEMBER_LABEL = _l("Remember this phone (stay signed in for 30 days)")


class LoginForm(AppForm):
    mobile = MobileField(_l("Mobile number"))
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(_l("Please enter your password.")), Length(max=128)],
    )
    remember = BooleanField(REMEMBER_LABEL)


class CodeRequestForm(AppForm):
    mobile = MobileField(_l("Mobile number"))


def _six_digits(form: AppForm, field: StringField) -> None:
    from .codes import CODE_DIGITS, normalise

    if len(normalise(field.data or "")) != CODE_DIGITS or len(field.data or "") > 20:
        raise ValidationError(_l("The code has 6 digits. Type the 6 digits from the SMS."))


class CodeForm(AppForm):
    # Carried in a hidden field from the request step (kept in the session there).
    mobile = MobileField(_l("Mobile number"))
    code = StringField(
        _l("Code from the SMS"),
        validators=[InputRequired(_l("Please enter the 6-digit code.")), _six_digits],
    )
    remember = BooleanField(REMEMBER_LABEL)
    consent = BooleanField(
        _l(
            "I agree that my community and committee keep my mobile number and use it to "
            "send me notices and messages."
        )
    )


class ConsentForm(AppForm):
    consent = BooleanField(
        _l(
            "I agree that my community and committee keep my mobile number and use it to "
            "send me notices and messages."
        ),
        validators=[DataRequired(_l("Tick the box to agree."))],
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
