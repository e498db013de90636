"""Which page each kind of public link shows.

An area registers, for each kind of poster it prints, a function that renders the public
page of one link (or answers None when the object behind it is gone or not public any
more). The page shows exactly what the paper shows: no resident's name or mobile.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import LinkKind, PublicLink

Renderer = Callable[[PublicLink], str | None]
RENDERERS: dict[LinkKind, Renderer] = {}


def renders(kind: LinkKind) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn

    return register
