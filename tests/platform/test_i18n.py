"""Translations: complete Chinese catalog, a .pot in step with the sources, locale switching,
and the Chinese formats for dates and money.

The catalogs live in translations/; see translations/README.md for how to update them.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale, ngettext

from compound_app.auth.models import User
from compound_app.extensions import babel, db
from compound_app.money import format_fen
from compound_app.templating import fmt_date

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"
# Babel resolves the app's "zh_CN" to zh_Hans_CN, so that is the catalog's directory name.
ZH = "zh_Hans_CN"
LOCALES = (ZH, "en")

# The extraction command of translations/README.md. Babel skips directories whose name
# starts with "_" unless --ignore-dirs is given, which would miss templates/_macros.
EXTRACT_ARGS = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "--ignore-dirs",
    ".* __pycache__",
    "--add-comments",
    "TRANSLATORS:",
]

_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?"  # %(name)
    r"[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"  # flags, width, precision
    r"(?P<conv>[diouxXeEfFgGcrsa%])"
)
_KEYWORDS = ("_", "_l", "gettext", "ngettext", "lazy_gettext")
_CALL = re.compile(
    r"""\b(?:_|_l|gettext|ngettext|lazy_gettext)\(\s*(?P<q>["'])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)""",
    re.S,
)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _po(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {m.id for m in catalog if m.id}


def _singular(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _placeholders(text: str) -> Counter[tuple[str | None, str]]:
    return Counter((m["name"], m["conv"]) for m in _PLACEHOLDER.finditer(text) if m["conv"] != "%")


def _dummy_args(text: str) -> dict[str, object]:
    return {
        name: (1 if conv in "diouxXeEfFgGc" else "x")
        for name, conv in _placeholders(text)
        if name is not None
    }


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> Iterator[None]:
    """Compile any .mo that is missing or older than its .po (as `make translations` does)."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = _read(po, locale=po.parent.parent.name)
        tmp = mo.with_name(f"messages.mo.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=True)
        os.replace(tmp, mo)
    # Flask-Babel caches loaded catalogs process-wide; drop what an earlier test cached.
    if "domain_instance" in vars(babel):
        babel.domain_instance.cache.clear()
    yield


# --- the catalogs -----------------------------------------------------------------------------


def test_every_msgid_has_a_chinese_translation() -> None:
    zh = _read(_po(ZH), locale=ZH)
    assert zh.num_plurals == 1, zh.plural_forms
    problems = []
    for entry in _read(POT):
        if not entry.id:
            continue
        message = zh.get(entry.id)
        if message is None:
            problems.append(f"missing (run pybabel update): {entry.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {entry.id!r}")
        elif isinstance(entry.id, tuple):
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            if len(forms) != 1 or not forms[0].strip():
                problems.append(f"plural needs exactly one msgstr[0]: {entry.id!r} → {forms!r}")
        elif not (message.string or "").strip():
            problems.append(f"untranslated: {entry.id!r}")
    assert not problems, f"{len(problems)} zh problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    problems = []
    for message in _read(_po(locale), locale=locale):
        if not message.id or not message.string:
            continue
        plural = isinstance(message.id, tuple)
        # Every form of a plural is checked against the plural msgid (it carries the count).
        source = message.id[-1] if plural else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if not form:
                continue
            if _placeholders(form) != _placeholders(source):
                problems.append(f"{source!r} → {form!r}")
                continue
            args = _dummy_args(source)
            if args:
                try:
                    form % args
                except (KeyError, ValueError, TypeError) as err:
                    problems.append(f"{form!r} does not format: {err}")
    assert not problems, f"placeholders differ in {locale}:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_are_updated_from_the_pot(locale: str) -> None:
    missing = _ids(_read(POT)) - _ids(_read(_po(locale), locale=locale))
    assert not missing, (
        f"translations/{locale} lacks {len(missing)} msgids of the .pot; run "
        "`.venv/bin/pybabel update -i translations/messages.pot -d translations`:\n"
        + "\n".join(sorted(map(repr, missing)))
    )


def test_pot_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *EXTRACT_ARGS, "-o", str(fresh), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    extracted, committed = _ids(_read(fresh)), _ids(_read(POT))
    missing, stale = extracted - committed, committed - extracted
    assert not (missing or stale), (
        "translations/messages.pot is out of date; follow translations/README.md.\n"
        f"Missing from the .pot ({len(missing)}):\n"
        + "\n".join(sorted(map(repr, missing)))
        + f"\nNo longer in the sources ({len(stale)}):\n"
        + "\n".join(sorted(map(repr, stale)))
    )


def _gettext_calls(path: Path) -> Iterator[tuple[int, str]]:
    """(line, msgid) of every gettext call with a literal first argument."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield node.lineno, node.args[0].value
    else:
        for match in _CALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield line, ast.literal_eval(match["q"] + match["s"] + match["q"])


def test_every_gettext_call_in_the_sources_is_in_the_pot() -> None:
    """An independent look at the sources, so a directory the extractor skips is noticed."""
    known = {_singular(m) for m in _read(POT) if m.id}
    files = [*ROOT.glob("compound_app/**/*.py"), *ROOT.glob("templates/**/*.html")]
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {msgid!r}"
        for path in sorted(files)
        for line, msgid in _gettext_calls(path)
        if msgid not in known
    ]
    assert not missing, "not in translations/messages.pot:\n" + "\n".join(missing)


# --- in the running app -----------------------------------------------------------------------


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _choose(client: FlaskClient, lang: str, next_url: str = "/auth/login") -> None:
    response = client.post("/auth/language", data={"lang": lang, "next": next_url})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(next_url)


def test_login_page_is_chinese_by_default(client: FlaskClient) -> None:
    html = _page(client, "/auth/login")
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "手机号" in html
    assert "Sign in" not in html


def test_language_switch_to_english_and_back(client: FlaskClient) -> None:
    _choose(client, "en")
    html = _page(client, "/auth/login")
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Mobile number" in html
    assert "登录" not in html
    _choose(client, "zh_CN")
    assert "登录" in _page(client, "/auth/login")


def test_unknown_language_is_refused(client: FlaskClient) -> None:
    assert client.post("/auth/language", data={"lang": "fr"}).status_code == 400
    assert client.post("/auth/language", data={"lang": "zh_Hans_CN"}).status_code == 400
    assert "登录" in _page(client, "/auth/login")


def test_form_errors_follow_the_language(client: FlaskClient) -> None:
    response = client.post("/auth/login", data={"mobile": "123", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "手机号应为11位数字" in html and "请输入密码。" in html
    _choose(client, "en")
    html = client.post("/auth/login", data={"mobile": "123", "password": ""}).get_data(as_text=True)
    assert "A mobile number has 11 digits" in html and "Please enter your password." in html


def test_signed_in_users_choice_is_remembered_at_the_next_login(
    app: Flask, world, login_as
) -> None:
    person = world.users["resident"]
    first = login_as(person)
    assert "退出" in _page(first, "/")
    _choose(first, "en", next_url="/")
    db.session.expire_all()
    assert db.session.get(User, person.id).locale == "en"

    # A new device: the session starts empty, the login restores the saved choice.
    second = login_as(person)
    html = _page(second, "/")
    assert "Sign out" in html and "退出" not in html
    # Someone else on a fresh browser still gets Chinese.
    assert "登录" in _page(app.test_client(), "/auth/login")

    _choose(second, "zh_CN", next_url="/")
    db.session.expire_all()
    assert db.session.get(User, person.id).locale == "zh_CN"
    assert "退出" in _page(login_as(person), "/")


def test_plural_forms(app: Flask) -> None:
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert ngettext("%(num)d household", "%(num)d households", 1) == "1户"
            assert ngettext("%(num)d household", "%(num)d households", 12) == "12户"
        with force_locale("en"):
            assert ngettext("%(num)d household", "%(num)d households", 1) == "1 household"
            assert ngettext("%(num)d household", "%(num)d households", 12) == "12 households"


# --- formats ----------------------------------------------------------------------------------


def test_dates_read_chinese_style_in_shanghai_time(app: Flask) -> None:
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert fmt_date(date(2026, 11, 27)) == "2026年11月27日"
            assert fmt_date(date(2026, 1, 5)) == "2026年1月5日"
            # 16:30 UTC is already the next day in Asia/Shanghai (UTC+8).
            assert fmt_date(datetime(2026, 11, 26, 16, 30, tzinfo=UTC)) == "2026年11月27日"
            assert fmt_date(None) == ""
            assert render_template_string("{{ d|date }}", d=date(2026, 11, 27)) == (
                "2026年11月27日"
            )
        with force_locale("en"):
            assert fmt_date(date(2026, 11, 27)) == "November 27, 2026"


def test_dates_on_a_page(world, login_as) -> None:
    client = login_as(world.users["committee"])
    url = f"/committees/areas/{world.branch.area.id}"
    assert "2026年1月1日" in _page(client, url)  # the committee's founding and terms
    _choose(client, "en", next_url=url)
    assert "January 1, 2026" in _page(client, url)


def test_money_reads_yuan_with_thousands_separators(app: Flask) -> None:
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(5) == "¥0.05"
    assert format_fen(0) == "¥0.00"
    assert format_fen(-123456) == "-¥1,234.56"
    assert format_fen(100_000_000_00) == "¥100,000,000.00"
    assert format_fen(None) == ""
    with app.test_request_context():
        for locale in ("zh_CN", "en"):
            with force_locale(locale):
                assert render_template_string("{{ v|fen }}", v=123456) == "¥1,234.56"
