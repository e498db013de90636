"""What a new password may not be: short, common, a pattern, or the person's own mobile or name.

Checked wherever a password is set (activating an account with a code, changing it), in
the form and again in the service. The list of common passwords ships with the code
(``common_passwords.txt``); the patterns below catch what no list can hold whole:
characters repeated or counted up, walks along the keyboard, dates of birth.
"""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# Passwords printed for everybody to read: the demo's (demo/generate.py DEMO_PASSWORD, in
# the README). An owner choosing one would look like a demo account left open.
PUBLISHED = frozenset({"xinyi2026"})

# Rows and columns of the keyboard (and of a phone's number pad), in both directions.
KEYBOARD_WALKS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "zaqxswcdevfrbgtnhymjukilop",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1s2d3f4g5h6j7k8l9",
    "qweasdzxc",
    "147258369",
    "741852963",
    "159753",
    "123654789",
)
_EDGES = string.digits + string.punctuation + " "


@cache
def common() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and line[0] != "#")


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _variants(password: str) -> set[str]:
    """The password and its core without the digits or signs people add at either end."""
    found = {password, password.rstrip(_EDGES), password.lstrip(_EDGES), password.strip(_EDGES)}
    return {v for v in found if len(v) >= 4}


def _repeated(password: str) -> bool:
    """aaaaaaaa, 12121212, abcabcabc: a short piece over and over."""
    for size in range(1, 5):
        piece = password[:size]
        if (piece * (len(password) // size + 1))[: len(password)] == password:
            return True
    return False


def _counted(password: str) -> bool:
    """abcdefgh, 12345678, 98765432: each character one step from the last."""
    steps = {ord(b) - ord(a) for a, b in pairwise(password)}
    return len(steps) == 1 and steps <= {1, -1}


def _walked(password: str) -> bool:
    core = password.strip(string.punctuation + " ")
    if len(core) < 6:
        return False
    return any(core in walk or core in walk[::-1] for walk in KEYBOARD_WALKS)


def _a_date(password: str) -> bool:
    """19650312 or 20080808: a birthday, the first thing anyone tries."""
    if not re.fullmatch(r"(19|20)\d{6}", password):
        return False
    try:
        date(int(password[:4]), int(password[4:6]), int(password[6:]))
    except ValueError:
        return False
    return True


def _has_mobile(password: str, mobile: str | None) -> bool:
    digits = "".join(ch for ch in mobile or "" if ch.isdigit())
    if len(digits) < 8:
        return False
    pieces = {digits[i : i + 8] for i in range(len(digits) - 7)}
    reversed_ = digits[::-1]
    pieces |= {reversed_[i : i + 8] for i in range(len(reversed_) - 7)}
    return any(piece in password for piece in pieces)


def _has_name(password: str, name: str | None) -> bool:
    text = _plain(name or "")
    whole = "".join(ch for ch in text if ch.isalnum())
    if not whole:
        return False
    if any(not ch.isascii() for ch in whole):
        # Chinese names are short: two characters are already the name.
        return len(whole) >= 2 and whole in "".join(ch for ch in password if ch.isalnum())
    parts = {whole, *(p for p in re.split(r"[\s·.\-]+", text) if p)}
    squeezed = "".join(ch for ch in password if ch.isalnum())
    return any(len(p) >= 4 and p in squeezed for p in parts)


def problem(password: str, *, mobile: str | None = None, name: str | None = None) -> str | None:
    """Why ``password`` may not be used, in the reader's language; None when it may."""
    if len(password) < MIN_LENGTH:
        return str(_l("At least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("At most %(n)d characters.", n=MAX_LENGTH))
    plain = _plain(password)
    if _has_mobile(plain, mobile):
        return str(_l("Your password must not contain your mobile number."))
    if _has_name(plain, name):
        return str(_l("Your password must not contain your name."))
    listed = common()
    if (
        any(v in listed or v in PUBLISHED for v in _variants(plain))
        or _repeated(plain)
        or _counted(plain)
        or _walked(plain)
        or _a_date(plain)
    ):
        return str(
            _l(
                "This password is too common and easy to guess. Choose another, for example "
                "a few words with a number."
            )
        )
    return None
