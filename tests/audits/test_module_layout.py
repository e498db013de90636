"""The package layout: each area's blueprint lives in its package; views never import views."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from compound_app import AREAS, view_modules


@pytest.mark.parametrize("area", AREAS)
def test_each_blueprint_is_created_in_its_package(area: str) -> None:
    package = importlib.import_module(f"compound_app.{area}")
    assert package.bp.name == area
    for module in view_modules():
        if module.startswith(f"compound_app.{area}."):
            assert importlib.import_module(module).bp is package.bp


@pytest.mark.parametrize("module", view_modules())
def test_view_modules_do_not_import_each_other(module: str) -> None:
    path = Path(importlib.import_module(module).__file__ or "")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            last = name.rsplit(".", 1)[-1]
            assert not (last == "views" or last.endswith("_views")), (
                f"{path.name}:{node.lineno} imports {name}"
            )


def test_shared_parts_live_in_neutral_modules() -> None:
    fields = importlib.import_module("compound_app.fields")
    for name in ("MoneyField", "RequestKeyField", "IdField", "LinesField", "MonthField"):
        assert hasattr(fields, name)
    for area_forms in ("compound_app.fees.forms", "compound_app.repairs.forms"):
        module = importlib.import_module(area_forms)
        for name in ("MoneyField", "IdField", "LinesField"):
            assert getattr(module, name, None) in (None, getattr(fields, name)), area_forms
    ledger = importlib.import_module("compound_app.fees.ledger")
    source = Path(ledger.__file__ or "").read_text(encoding="utf-8")
    assert "def add_months" not in source and "def month_of" not in source
    viewkit = importlib.import_module("compound_app.viewkit")
    for name in ("user", "done", "refused", "act"):
        assert callable(getattr(viewkit, name))
