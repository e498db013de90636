"""One way to answer a request: the full page, or just a fragment for htmx.

A page template includes its fragments, so the markup exists once; an htmx request
that targets a fragment's element gets only that fragment. Every link and form also
works without JavaScript, getting the full page.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def targets(element_id: str | None) -> bool:
    """True for an htmx request aimed at ``element_id`` (or at anything if None)."""
    if not is_htmx():
        return False
    return element_id is None or request.headers.get("HX-Target") == element_id


def render(
    page: str,
    fragment: str | None = None,
    /,
    *,
    target: str | None = None,
    status: int = 200,
    **context: Any,
) -> Response:
    """Render ``fragment`` for an htmx request targeting it, else the whole ``page``."""
    use_fragment = fragment is not None and targets(target)
    body = render_template(fragment if use_fragment else page, **context)  # type: ignore[arg-type]
    response = make_response(body, status)
    response.vary.add("HX-Request")
    response.vary.add("HX-Target")
    return response


def redirect_after_post(location: str) -> BaseResponse:
    """303 for a plain form post; HX-Redirect for htmx, which would otherwise swap it in."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, code=303)
