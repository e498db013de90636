"""Uploaded photos: type checked by content, re-encoded, metadata (EXIF, GPS) stripped.

A photo is decoded with Pillow whatever its name says, drawn onto a fresh image and
saved as JPEG under a random name in ``instance/uploads``; nothing of the original file
(its name, its metadata, anything hidden after the image data) is kept. Files are
served as downloads only (see ``send_upload``).
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Response, current_app, send_file
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from .errors import RuleError
from .extensions import db

MAX_BYTES = 6 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000  # longer side after re-encoding: enough to read a receipt
ACCEPTED = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redraw(storage: Any, field: str, mode: str, side: int, empty: str) -> Any:
    """Read an upload, check it by its content (size, pixel count, accepted kinds) and draw
    it onto a fresh image of ``mode`` at most ``side`` px long: nothing of the original
    file is kept. Raises ``RuleError`` on ``field`` for anything that is not such an image."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    data = storage.read(MAX_BYTES + 1) if storage else b""
    if not data:
        raise RuleError(empty, field)
    if len(data) > MAX_BYTES:
        raise RuleError(_("A photo can be at most 6 MB."), field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED:
                    raise RuleError(_("Upload a photo (JPEG, PNG or WebP)."), field)
                probe.verify()
            with Image.open(io.BytesIO(data)) as opened:
                opened.seek(0)
                image = ImageOps.exif_transpose(opened).convert(mode)
                image.thumbnail((side, side))
                clean = Image.new(mode, image.size, (255, 255, 255, 0) if mode == "RGBA" else 0)
                clean.paste(image, (0, 0))
                return clean
    except RuleError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Warning,
        Image.DecompressionBombError,
    ):
        raise RuleError(_("This file is not a photo we can read."), field) from None


def save_photo(storage: Any, field: str = "photo") -> str:
    """Check, re-encode and store an uploaded photo; returns its new file name."""
    clean = _redraw(storage, field, "RGB", MAX_SIDE, _("Choose a photo to upload."))
    name = f"{secrets.token_urlsafe(18)}.jpg"
    clean.save(upload_dir() / name, "JPEG", quality=85, optimize=True)
    return name


def discard_upload(name: str | None) -> None:
    """Remove a stored photo whose record was not kept."""
    if name and "/" not in name:
        (upload_dir() / name).unlink(missing_ok=True)


def send_upload(name: str, download_name: str) -> Response:
    """A stored photo, as a download under a neutral name."""
    path = upload_dir() / name
    if not name or "/" in name or not path.is_file():
        from flask import abort

        abort(404)
    response = send_file(
        path, mimetype="image/jpeg", as_attachment=True, download_name=download_name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- seals: an image kept with its transparency ------------------------------------------

SEAL_MAX_SIDE = 800  # a seal prints at about 40 mm: 800 px is well above 300 dpi


def save_seal(storage: Any, field: str = "seal") -> str:
    """Check and store a seal image (印章) as PNG, transparency kept; returns its file name.

    Checked like every photo (size, pixel count, decoded by content, accepted kinds), then
    drawn onto a fresh RGBA image and saved as PNG under a random name: a transparent PNG
    stays transparent so the seal lies over the receipt's text, and nothing else of the
    original file (name, metadata, trailing data) is kept.
    """
    clean = _redraw(
        storage, field, "RGBA", SEAL_MAX_SIDE, _("Choose an image of the seal to upload.")
    )
    name = f"{secrets.token_urlsafe(18)}.png"
    clean.save(upload_dir() / name, "PNG", optimize=True)
    return name


def send_image(name: str) -> Response:
    """A stored seal, shown in the page (not a download): it is our own re-encoded PNG."""
    path = upload_dir() / name
    if not name or "/" in name or not name.endswith(".png") or not path.is_file():
        from flask import abort

        abort(404)
    response = send_file(path, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- photos stored with the transaction ------------------------------------------------------

# Photos stored during a transaction live or die with it: a save that fails after the
# files were written (the audit row, the commit) must not leave photos nobody can find.
_STORED = "photos_stored"


def store_photos(
    files: Sequence[Any], *, limit: int, too_many: str, already: int = 0, field: str = "photos"
) -> list[str]:
    """Check and store the photos sent, at most ``limit`` with the ``already`` kept (else
    ``too_many``); all or none are kept, and they are removed again if the transaction
    rolls back."""
    files = [f for f in files if f and getattr(f, "filename", "")]
    if already + len(files) > limit:
        raise RuleError(too_many, field)
    names: list[str] = []
    try:
        for storage in files:
            names.append(save_photo(storage, field))
    except RuleError:
        for name in names:
            discard_upload(name)
        raise
    db.session.info.setdefault(_STORED, []).extend(names)
    return names


@event.listens_for(Session, "after_commit")
def _keep_stored(session: Session) -> None:
    session.info.pop(_STORED, None)


@event.listens_for(Session, "after_rollback")
def _discard_stored(session: Session) -> None:
    for name in session.info.pop(_STORED, ()):
        discard_upload(name)
