"""Drawn photos for the demo: rough JPEG snapshots of a yard, before and after a repair.

The story attaches them to reports, finished work and works, as people would take them
on a phone; they are drawn from the seed, so building the demo again rewrites the same
files rather than adding more.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime
from typing import Any

from .. import clock
from ..repairs.models import Category, WorkKind


class Photos:
    """Small JPEG photos in the uploads folder, named as uploads are (24 URL-safe characters),
    drawn from the seed: building the demo again rewrites the same files, not more of them."""

    def __init__(self, rng: random.Random) -> None:
        from ..uploads import upload_dir

        self.rng = rng
        self.folder = upload_dir()

    def make(self, subject: str, fixed: bool, at: datetime) -> str:
        """A photo of ``subject``, broken or ``fixed``, stamped ``at``; its file name."""
        name = base64.urlsafe_b64encode(self.rng.randbytes(18)).decode() + ".jpg"
        _draw(self.rng, subject, fixed, clock.local(at)).save(
            self.folder / name, "JPEG", quality=70
        )
        return name


def _draw(rng: random.Random, subject: str, fixed: bool, local: datetime) -> Any:
    """A rough snapshot of a yard: the building, the ground and the thing in question,
    broken (before) or fixed (after), with a phone camera's date stamp."""
    from PIL import Image, ImageDraw

    w, h = 320, 240
    dusk = subject == "street_light"
    sky = (40, 50, 80) if dusk else (rng.randrange(150, 200), rng.randrange(185, 215), 235)
    image = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(image)
    bx = rng.randrange(-40, 120)
    wall = (rng.randrange(190, 215), rng.randrange(175, 195), rng.randrange(150, 175))
    d.rectangle((bx, 25, bx + 200, 165), fill=wall)
    for row in range(4):
        for col in range(5):
            x, y = bx + 12 + col * 38, 35 + row * 30
            lit = dusk and rng.random() < 0.4
            d.rectangle((x, y, x + 22, y + 18), fill=(250, 220, 120) if lit else (90, 110, 130))
    ground = (95, 95, 100) if fixed or subject not in ("road", "parking") else (130, 122, 110)
    d.rectangle((0, 165, w, h), fill=ground)
    broken = (40, 35, 30)
    match subject:
        case "road" | "parking":
            if fixed:
                d.rectangle((0, 165, w, h), fill=(55, 55, 60))
                if subject == "parking":
                    for x in range(10, w, 60):
                        d.line((x, 175, x + 25, h), fill=(240, 240, 240), width=3)
            else:
                for _ in range(6):
                    x, y = rng.randrange(w), rng.randrange(170, h)
                    d.line(
                        (x, y, x + rng.randrange(-60, 60), y + rng.randrange(-20, 20)), broken, 2
                    )
                d.ellipse((90, 190, 190, 225), fill=(80, 100, 120))
        case "camera":
            d.rectangle((250, 60, 258, 200), fill=(70, 70, 70))
            if fixed:
                d.rectangle((225, 55, 262, 72), fill=(235, 235, 235))
                d.ellipse((227, 59, 235, 67), fill=(200, 30, 30))
            else:
                d.line((254, 62, 240, 58), fill=(70, 70, 70), width=3)
        case "street_light":
            d.rectangle((60, 50, 66, 200), fill=(60, 60, 60))
            d.rectangle((50, 44, 90, 54), fill=(80, 80, 80))
            if fixed:
                d.ellipse((40, 50, 110, 110), fill=(250, 235, 150))
        case "building_door":
            door = (40, 90, 60) if fixed else (120, 70, 40)
            d.rectangle((bx + 80, 105, bx + 120, 165), fill=door)
            if not fixed:
                d.line((bx + 85, 110, bx + 115, 160), fill=broken, width=2)
            d.rectangle((bx + 112, 132, bx + 116, 140), fill=(200, 200, 200))
        case "charging":
            if fixed:
                for i in range(rng.randrange(3, 6)):
                    x = 30 + i * 45
                    d.rectangle((x, 140, x + 28, 185), fill=(40, 150, 90))
                    d.line((x + 14, 185, x + 20, 215), fill=(20, 20, 20), width=2)
        case "sewer" | "septic":
            d.ellipse((120, 185, 200, 215), fill=(60, 60, 60))
            if not fixed:
                d.ellipse((80, 180, 250, 232), outline=broken, fill=(85, 80, 55))
        case "cleaning":
            if not fixed:
                for _ in range(7):
                    x, y = rng.randrange(20, 280), rng.randrange(150, 210)
                    d.rectangle((x, y, x + 30, y + 22), fill=(170, 130, 80))
        case _:
            d.rectangle((140, 110, 180, 160), fill=(150, 150, 150))
            if not fixed:
                d.line((145, 115, 175, 155), fill=(200, 40, 40), width=3)
    d.text((w - 120, h - 16), f"{local:%Y-%m-%d %H:%M}", fill=(255, 190, 0))
    return image


# What a photo of a task's category, or of a work's kind, shows (anything else: "other").
PHOTO_SUBJECT: dict[str, str] = {
    Category.ROAD: "road",
    Category.PARKING: "parking",
    Category.CAMERA: "camera",
    Category.STREET_LIGHT: "street_light",
    Category.BUILDING_DOOR: "building_door",
    Category.SEWER: "sewer",
    Category.SEPTIC: "septic",
    Category.CLEANING: "cleaning",
    WorkKind.CHARGING: "charging",
}
