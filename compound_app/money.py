"""Money and other fixed-point amounts as integers (fen; hundredths of a m²).

Rounding rule for area × rate: the exact product is rounded once per bill, half up
(0.5 fen → 1 fen), never per square metre or per month.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

MAX_FEN = 10_000_000_000  # ¥100,000,000: far above any compound's yearly turnover

_PLAIN = re.compile(r"^(?P<int>\d+|\d{1,3}(?:,\d{3})+)(?:\.(?P<frac>\d{1,2}))?$")


class AmountError(ValueError):
    """An amount that cannot be accepted; ``code`` names the reason for the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _normalise(text: str) -> str:
    # NFKC folds full-width digits, "．" and "￥" into their ASCII/Latin forms.
    text = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    return text


def parse_hundredths(
    text: str | None,
    *,
    allow_zero: bool = False,
    allow_negative: bool = False,
    maximum: int = MAX_FEN,
    prefixes: tuple[str, ...] = (),
    suffixes: tuple[str, ...] = (),
) -> int:
    """Parse a decimal with at most two places into an integer count of hundredths."""
    if text is None:
        raise AmountError("required")
    s = _normalise(str(text))
    if not s:
        raise AmountError("required")
    negative = False
    if s[0] in "-−":
        negative, s = True, s[1:]
    for prefix in prefixes:
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    for suffix in suffixes:
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    match = _PLAIN.match(s)
    if not match:
        if re.fullmatch(r"\d+\.\d{3,}", s):
            raise AmountError("too_many_decimals")
        raise AmountError("invalid")
    digits = match["int"].replace(",", "").lstrip("0")
    if len(digits) > len(str(maximum)):
        # Surely too large; and int() refuses more than 4,300 digits with a ValueError.
        raise AmountError("too_large")
    whole = int(digits or "0")
    frac = (match["frac"] or "").ljust(2, "0")
    value = whole * 100 + int(frac)
    if negative:
        if not allow_negative and value != 0:
            raise AmountError("negative")
        value = -value
    if value == 0 and not allow_zero:
        raise AmountError("zero")
    if abs(value) > maximum:
        raise AmountError("too_large")
    return value


def parse_fen(text: str | None, **kwargs: object) -> int:
    """Parse what a person types for a sum of money: 12, 12.5, ¥12.50, １２.５０, 12元."""
    return parse_hundredths(text, prefixes=("¥", "RMB"), suffixes=("元",), **kwargs)  # type: ignore[arg-type]


def format_fen(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def format_hundredths(value: int | None) -> str:
    """2-place decimal without trailing zeros: 8550 → "85.5", 9000 → "90"."""
    if value is None:
        return ""
    text = f"{Decimal(value) / 100:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def area_charge(area_dm2: int, rate_fen_per_m2: int, months: int = 1) -> int:
    """Fee for an area at a monthly rate per m², rounded half up once for the whole bill."""
    exact = Decimal(area_dm2) * rate_fen_per_m2 * months / 100
    return round_half_up(exact)


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿")


def fen_in_words(fen: int) -> str:
    """The amount in capital Chinese numerals, as receipts write it: 壹佰贰拾元伍角整."""
    if fen < 0:
        return "负" + fen_in_words(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, fen_part = divmod(rest, 10)
    words = ""
    if yuan:
        groups: list[str] = []
        index = 0
        while yuan:
            yuan, group = divmod(yuan, 10_000)
            if group:
                text, zero = "", False
                for position in range(3, -1, -1):
                    digit = group // 10**position % 10
                    if digit:
                        text += ("零" if zero else "") + _DIGITS[digit] + _SMALL[position]
                        zero = False
                    elif text:
                        zero = True
                # A group below a thousand after a higher one reads with 零: 壹万零伍.
                lead = "零" if yuan and group < 1000 else ""
                groups.append(lead + text + _GROUPS[index])
            index += 1
        words = "".join(reversed(groups))
        words += "元"
    if not jiao and not fen_part:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen_part:
        words += _DIGITS[fen_part] + "分"
    else:
        words += "整"
    return words
