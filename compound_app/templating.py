"""Template filters and globals: dates in Asia/Shanghai, money, areas, labels."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request
from flask_babel import format_date, get_locale
from markupsafe import Markup

from . import clock
from .labels import label
from .money import fen_in_words, format_fen, format_hundredths
from .months import month_name


def fmt_date(value: date | datetime | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):  # an ISO date kept in JSON (a published board's figures)
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    # Babel's long format reads 2026年11月27日 in Chinese and November 27, 2026 in English.
    return format_date(value, "long")


def fmt_datetime(value: datetime | None) -> str:
    """A moment as a date and a time of day in Asia/Shanghai: 2026年11月27日 18:54."""
    if not value:
        return ""
    local = clock.local(value)
    return f"{format_date(local.date(), 'long')} {local:%H:%M}"


def fmt_month(value: date | str | None) -> str:
    """A month as people write it: 2026年11月 (Chinese) or 2026-11. A month kept as text
    (2026-11 or 2026-11-01, as JSON keeps it) reads the same; other text is left as it is."""
    if not value:
        return ""
    if isinstance(value, str):
        month = _iso_month(value)
        return month_name(month) if month else value
    return month_name(value)


def _iso_month(text: str) -> date | None:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-\d{1,2})?", text.strip())
    try:
        return date(int(found[1]), int(found[2]), 1) if found else None
    except ValueError:  # 2026-13, 0000-01
        return None


def fmt_area(dm2: int | None) -> str:
    return f"{format_hundredths(dm2)} m²" if dm2 else ""


def qr_data_uri(text: str) -> str:
    """A QR code as an SVG data URI, so printed notices link to the live page."""
    import base64
    import io

    import qrcode
    from qrcode.image.svg import SvgPathImage

    buffer = io.BytesIO()
    qrcode.make(text, image_factory=SvgPathImage, border=2).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def roster_texts() -> dict[str, str]:
    """The words repeated on every roster row, translated once per request."""
    from flask import g, url_for
    from flask_babel import gettext as _

    cached = g.get("_roster_texts")
    if cached is None:
        # URL patterns built once by url_for and filled per row: 300 url_for calls cost more
        # than the rest of the row.
        marker = 987654321
        cached = {
            "area": _("Floor area"),
            "occupancy": _("Occupancy"),
            "residents": _("Residents"),
            "edit": _("Edit"),
            "household_url": url_for("registry.household", household_id=marker).replace(
                str(marker), "{}"
            ),
            "edit_url": url_for("registry.edit_household", household_id=marker).replace(
                str(marker), "{}"
            ),
        }
        g._roster_texts = cached
    return cached


def named_breadcrumbs(html: Markup, name: str) -> Markup:
    """A page's breadcrumb trail (its templates write a plain ``<nav class="breadcrumbs">``)
    named as a landmark of its own, so a screen reader tells it from the main menu."""
    named = Markup('<nav aria-label="{}" class="breadcrumbs').format(name)
    return html.replace(Markup('<nav class="breadcrumbs'), named, 1)


def address(*parts: Any) -> str:
    return "-".join(str(p) for p in parts if p)


def _return_path() -> str:
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        fen=format_fen,
        fen_words=fen_in_words,
        month=fmt_month,
        area=fmt_area,
    )
    from .committees.service import is_current

    app.jinja_env.tests["current_on"] = is_current
    app.jinja_env.globals.update(
        label=label,
        address=address,
        qr_data_uri=qr_data_uri,
        roster_texts=roster_texts,
        named_breadcrumbs=named_breadcrumbs,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from . import access

        locale = str(get_locale() or "zh_CN")
        return {
            "html_lang": "zh-CN" if locale.startswith("zh") else "en",
            "current_locale": locale,
            "Action": access.Action,
            "can": access.can,
            # Where the language switch returns to: this page, or for a form answered with
            # errors (a POST), the page the form was on.
            "request_path": _return_path(),
            "today": clock.today(),
        }
