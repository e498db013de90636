"""Access is decided in one place: the views ask ``access``, and templates ask ``can``."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from compound_app import ROOT, view_modules

TEMPLATES = ROOT / "templates"


def _source(module: str) -> tuple[Path, str]:
    path = Path(importlib.import_module(module).__file__ or "")
    return path, path.read_text(encoding="utf-8")


VIEWS = view_modules()


def test_every_area_has_view_modules() -> None:
    areas = {name.split(".")[1] for name in VIEWS}
    assert {"registry", "fees", "repairs", "votes", "oversight", "people"} <= areas
    assert "compound_app.fees.payment_views" in VIEWS


@pytest.mark.parametrize("module", VIEWS)
def test_views_load_objects_only_through_access(module: str) -> None:
    path, text = _source(module)
    tree = ast.parse(text)
    for node in ast.walk(tree):
        # db.session.get(Model, id) bypasses the rules (flask's cookie session.get does not).
        if isinstance(node, ast.Attribute) and node.attr == "get":
            owner = ast.unparse(node.value)
            assert not owner.endswith("db.session"), f"{path.name}:{node.lineno}: {owner}.get("
    assert "db.session.get(" not in text
    # Ids are bounded once, in access (32-bit, as PostgreSQL keeps them).
    assert not re.search(r"2\s*\*\*\s*63", text), f"{path.name} bounds an id itself"


@pytest.mark.parametrize("module", VIEWS)
def test_views_do_not_read_role_sets(module: str) -> None:
    path, text = _source(module)
    found = re.findall(r"\.(is_staff|admin_subdistricts|staff_communities)\b", text)
    assert not found, f"{path.name} decides staff rights itself: {found}"


def test_templates_ask_can_not_role_sets() -> None:
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"\bprincipal\.", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == []


def test_the_scan_catches_a_direct_lookup(tmp_path: Path) -> None:
    """The check above is not vacuous: it trips on the lookups it forbids."""
    bad = "def view(i):\n    task = db.session.get(RepairTask, i) if 0 < i < 2**63 else None\n"
    tree = ast.parse(bad)
    hits = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr == "get" and ast.unparse(n.value) == "db.session"
    ]
    assert hits and re.search(r"2\s*\*\*\s*63", bad)
