"""Form fields and the rules for what people type, shared by every area's forms.

Names, mobiles, labels, areas, dates, counts, money, months, ids picked from lists, lines
of text, and the hidden keys that recognise a form sent twice. Each field turns what a
person typed (in Chinese or English input, full-width or not) into a clean value, or into
a plain message next to the field.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.form import BaseForm
from wtforms.validators import ValidationError
from wtforms.widgets import HiddenInput, TextInput

from .money import AmountError, format_hundredths, parse_fen, parse_hundredths

# ASCII digits only: \d would also take Arabic-Indic and other scripts' digits, which NFKC
# leaves alone and no phone dials; $ would take a trailing newline.
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
NAME_MAX = 50
# Middle dots people type for 维吾尔族 and foreign names; all stored as "·".
_DOTS = {"・": "·", "•": "·", "‧": "·", "∙": "·", "．": "·"}


def clean_text(value: Any) -> str:
    """For numbers and identifiers (rooms, labels, dates, codes): NFKC-normalised, so that
    full-width ``１２`` and ``Ａ`` read as ``12`` and ``A``; trimmed, inner whitespace
    collapsed; control characters kept (to reject)."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split())


def clean_prose(value: Any) -> str:
    """For what people write (titles, descriptions, notes, comments, reasons): as typed.

    Only canonically composed (NFC), trimmed and inner whitespace collapsed. Never NFKC,
    which would turn the full-width punctuation of Chinese prose (，。：（）！) into ASCII.
    Control characters are kept, to reject.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text)


# --- query strings: search boxes and list filters answer bad values by ignoring them ------


def search_text(value: Any, max_len: int = 50) -> str:
    """What a search box sent, normalised like stored text, invisible characters dropped.

    PostgreSQL refuses a NUL in a query parameter, so it never reaches the LIKE.
    """
    text = "".join(ch for ch in clean_text(value) if not has_control(ch))
    return text[:max_len]


def whole_number(value: Any, maximum: int = 2**31 - 1) -> int | None:
    """A page number or id from a query string: ASCII digits from 1 to ``maximum``, else None.

    ``str.isdigit`` admits "²" and other digits ``int()`` refuses, and the database
    refuses integers beyond 64 bits.
    """
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if 0 < number <= maximum else None


def normalise_mobile(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"[\s\-]", "", text).removeprefix("+86")


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.fullmatch(value))


def normalise_name(value: Any) -> str:
    text = str(value or "")
    for dot, plain in _DOTS.items():
        text = text.replace(dot, plain)
    return clean_text(text)


def name_problem(name: str) -> str | None:
    if not name:
        return str(_l("Please enter a name."))
    if len(name) > NAME_MAX:
        return str(_l("A name can have at most %(n)d characters.", n=NAME_MAX))
    if has_control(name) or not all(
        unicodedata.category(ch)[0] in "LM" or ch in " ·" for ch in name
    ):
        return str(_l("A name may contain only letters, spaces and “·”."))
    return None


def label_problem(label: str, max_len: int = 20) -> str | None:
    """Building, unit and room labels: 1号楼, 2单元, 301, A-1202."""
    if not label:
        return str(_l("This field is required."))
    if len(label) > max_len:
        return str(_l("At most %(n)d characters.", n=max_len))
    if has_control(label) or not all(
        unicodedata.category(ch)[0] in "LMN" or ch in " -#/()" for ch in label
    ):
        return str(_l("Use letters, digits, spaces and - # / ( ) only."))
    return None


class NameField(StringField):
    data: str  # once submitted: "" when left empty

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = normalise_name(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: BaseForm) -> None:
        problem = name_problem(self.data or "")
        if problem:
            raise ValidationError(problem)


class OptionalNameField(NameField):
    def pre_validate(self, form: BaseForm) -> None:
        if self.data:
            super().pre_validate(form)


class MobileField(StringField):
    data: str  # once submitted: "" when left empty

    required = True

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = normalise_mobile(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: BaseForm) -> None:
        if not self.data:
            if self.required:
                raise ValidationError(_l("Please enter a mobile number."))
            return
        if not is_mobile(self.data):
            raise ValidationError(_l("A mobile number has 11 digits and starts with 13–19."))


class OptionalMobileField(MobileField):
    required = False


class LabelField(StringField):
    data: str  # once submitted: "" when left empty

    def __init__(self, *args: Any, max_len: int = 20, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_len = max_len

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = clean_text(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: BaseForm) -> None:
        problem = label_problem(self.data or "", self.max_len)
        if problem:
            raise ValidationError(problem)


class TextField(StringField):
    """Free text as written (``clean_prose``): trimmed, length-capped, no control characters.

    ``folded=True`` for text that is looked up or compared rather than read (an address, a
    name that must be unique): NFKC-folded like the search box folds what is typed there.
    """

    data: str  # once submitted: "" when left empty

    def __init__(
        self,
        *args: Any,
        max_len: int = 200,
        required: bool = False,
        folded: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.max_len = max_len
        self.required = required
        self.folded = folded

    def process_formdata(self, valuelist: list[Any]) -> None:
        clean = clean_text if self.folded else clean_prose
        self.data = clean(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: BaseForm) -> None:
        if self.required and not self.data:
            raise ValidationError(_l("This field is required."))
        if len(self.data or "") > self.max_len:
            raise ValidationError(_l("At most %(n)d characters.", n=self.max_len))
        if has_control(self.data or ""):
            raise ValidationError(_l("Remove the invisible control characters."))


AREA_MAX_DM2 = 100_000  # 1,000 m²: larger is a typing slip for a flat in an old compound


def area_problem(code: str) -> str:
    return {
        "required": str(_l("Please enter the area in m².")),
        "too_many_decimals": str(_l("At most two decimal places.")),
        "negative": str(_l("The area must be greater than 0.")),
        "zero": str(_l("The area must be greater than 0.")),
        "too_large": str(_l("The area must be at most 1,000 m².")),
    }.get(code, str(_l("Enter the area as a number, e.g. 68.5.")))


def parse_area(text: Any) -> int:
    return parse_hundredths(
        text, maximum=AREA_MAX_DM2, suffixes=("m²", "m2", "平方米", "平米", "㎡")
    )


class AreaField(Field):
    """Area in m², kept as an integer count of 0.01 m²."""

    problem: str | None = None
    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        try:
            self.data = parse_area(self.raw)
        except AmountError as err:
            self.problem = area_problem(err.code)
        else:
            self.problem = None

    def _value(self) -> str:
        if getattr(self, "raw", None) is not None and self.raw != "":
            return str(self.raw)
        from .money import format_hundredths

        return format_hundredths(self.data) if self.data else ""

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            raise ValidationError(getattr(self, "problem", None) or area_problem("required"))


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)


def parse_date(text: Any) -> Any:
    from datetime import date

    s = clean_text(text).replace(" ", "")
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            try:
                value = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
            return value if 1900 <= value.year <= 2100 else None
    return None


class DateField(Field):
    """A date typed as 2026-11-27, 2026/11/27 or 2026年11月27日 (phones send the first)."""

    widget = TextInput()

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("type", "date")
        super().__init__(*args, **kwargs)
        self.required = required
        self.raw = ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]) if valuelist else ""
        self.data = parse_date(self.raw) if self.raw.strip() else None

    def _value(self) -> str:
        if self.data:
            return self.data.isoformat()
        return self.raw or ""

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            if self.raw.strip():
                raise ValidationError(_l("Enter a date such as 2026-11-27."))
            if self.required:
                raise ValidationError(_l("Please enter a date."))


class CountField(Field):
    """A whole number in a range, with a plain message for anything else."""

    widget = TextInput()

    def __init__(self, *args: Any, minimum: int = 0, maximum: int = 1000, **kwargs: Any):
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "numeric")
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.raw = ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = clean_text(valuelist[0]) if valuelist else ""
        self.data = (
            int(self.raw)
            if self.raw.isascii() and self.raw.isdigit() and len(self.raw) < 10
            else None
        )

    def _value(self) -> str:
        return self.raw if self.raw else ("" if self.data is None else str(self.data))

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None or not self.minimum <= self.data <= self.maximum:
            raise ValidationError(
                _l("Enter a whole number from %(a)d to %(b)d.", a=self.minimum, b=self.maximum)
            )


_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月$"),
)


def amount_problem(code: str) -> str:
    return {
        "required": str(_l("Please enter an amount.")),
        "too_many_decimals": str(_l("At most two decimal places (fen).")),
        "negative": str(_l("The amount must be greater than 0.")),
        "zero": str(_l("The amount must be greater than 0.")),
        "too_large": str(_l("This amount is too large.")),
    }.get(code, str(_l("Enter an amount in yuan, e.g. 45 or 45.50.")))


def optional_id(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


class MoneyField(Field):
    """An amount of money in yuan (12, 12.5, ¥12.50, １２.５), kept as integer fen."""

    widget = TextInput()

    def __init__(
        self, *args: Any, allow_zero: bool = False, maximum: int = 100_000_000, **kwargs: Any
    ) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("inputmode", "decimal")
        super().__init__(*args, **kwargs)
        self.allow_zero, self.maximum = allow_zero, maximum
        self.raw = ""
        self.problem: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]) if valuelist else ""
        self.data, self.problem = None, None
        try:
            self.data = parse_fen(self.raw, allow_zero=self.allow_zero, maximum=self.maximum)
        except AmountError as err:
            self.problem = amount_problem(err.code)

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return "" if self.data is None else format_hundredths(self.data)

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            raise ValidationError(self.problem or amount_problem("required"))


def parse_month(text: Any) -> date | None:
    s = clean_text(text).replace(" ", "")
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(s)
        if m and 1 <= int(m[2]) <= 12 and 2000 <= int(m[1]) <= 2100:
            return date(int(m[1]), int(m[2]), 1)
    return None


class MonthField(Field):
    """A month, typed 2026-11 or 2026年11月 (browsers with a month picker send the first)."""

    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {}).setdefault("type", "month")
        super().__init__(*args, **kwargs)
        self.raw = ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = str(valuelist[0]) if valuelist else ""
        self.data = parse_month(self.raw)

    def _value(self) -> str:
        return f"{self.data:%Y-%m}" if self.data else self.raw

    def pre_validate(self, form: BaseForm) -> None:
        if self.data is None:
            raise ValidationError(_l("Enter a month such as 2026-11."))


class RequestKeyField(StringField):
    """A random key per form shown: the same form sent twice is recognised by it."""

    data: str

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = str(valuelist[0]) if valuelist else ""

    def pre_validate(self, form: BaseForm) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", self.data or ""):
            raise ValidationError(_l("This form has expired. Please open it again."))


def new_key() -> str:
    return secrets.token_urlsafe(24)


class IdField(Field):
    """An optional id picked from a list; anything not a plain positive number is None."""

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = valuelist[0] if valuelist else ""
        # At most a 32-bit id, as PostgreSQL keeps them: a larger one is not on any list.
        self.data = whole_number(raw, 2**31 - 1) if str(raw).strip() else None
        self.bad = bool(str(raw).strip()) and self.data is None

    def pre_validate(self, form: BaseForm) -> None:
        if getattr(self, "bad", False):
            raise ValidationError(_l("Choose from the list."))


class VersionField(Field):
    """The version of the record the form was drawn from (for "changed meanwhile")."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = whole_number(valuelist[0] if valuelist else "")

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class LinesField(TextField):
    """Several short entries, one per line; each line cleaned like free text."""

    lines: list[str] = []

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = str(valuelist[0]) if valuelist else ""
        lines = [clean_prose(line) for line in raw.splitlines()]
        self.lines = [line for line in lines if line][:20]
        self.data = "\n".join(self.lines)

    def pre_validate(self, form: BaseForm) -> None:
        for line in getattr(self, "lines", []):
            if len(line) > self.max_len:
                raise ValidationError(_l("At most %(n)d characters.", n=self.max_len))
            if has_control(line):
                raise ValidationError(_l("Remove the invisible control characters."))
