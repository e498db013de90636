"""Accessibility checks with axe-core (vendored: tests/browser/vendor/axe-core-*, MPL-2.0).

``assert_accessible(page)`` runs axe on the page as it is and fails on any serious or
critical violation. The script is evaluated through the browser's debugging protocol, so
the app's Content Security Policy (no inline script) stays in force for the page itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

VENDOR = Path(__file__).parent / "vendor"
AXE_SOURCE = next(VENDOR.glob("axe-core-*/axe.min.js")).read_text(encoding="utf-8")
SERIOUS = ("serious", "critical")


def violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations on the page, as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in SERIOUS]


def assert_accessible(page: Any) -> None:
    found = violations(page)
    assert not found, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found
    )
