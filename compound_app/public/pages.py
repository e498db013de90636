"""Which page each kind of public link shows, and where its poster is printed.

An area registers, for each kind of poster it prints, a function that renders the public
page of one link (or answers None when the object behind it is gone or not public any
more). The page shows exactly what the paper shows: no resident's name or mobile. The
functions live in the area's ``public_pages`` module, which ``create_app`` imports
(``compound_app.public_page_modules``); its template extends ``public/base.html`` and
includes the poster's own body, so paper and screen share one markup.

An area may also say where the poster of a link is printed (``printed_at``): the page
the committee goes back to after withdrawing the link, to print a new one.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import LinkKind, PublicLink

Renderer = Callable[[PublicLink], str | None]
RENDERERS: dict[LinkKind, Renderer] = {}
Locator = Callable[[PublicLink], str]
POSTER_PAGES: dict[LinkKind, Locator] = {}


def renders(kind: LinkKind) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register


def printed_at(kind: LinkKind) -> Callable[[Locator], Locator]:
    """Register the function giving the path of the page that prints a link's poster."""

    def register(fn: Locator) -> Locator:
        POSTER_PAGES[kind] = fn
        return fn

    return register


def render(link: PublicLink) -> str | None:
    """The public page of a live link; None when nothing (any more) is shown there."""
    renderer = RENDERERS.get(LinkKind(link.kind))
    return renderer(link) if renderer is not None else None


def poster_page(link: PublicLink) -> str | None:
    locator = POSTER_PAGES.get(LinkKind(link.kind))
    return locator(link) if locator is not None else None
