"""The layers import only what the design card allows, and every top-level package is ours."""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OUR_PACKAGES = ("bot", "cli", "console", "domain", "linesim", "migrations", "scheduler", "webhook")

FORBIDDEN = {
    "domain": ("flask", "linebot", "werkzeug", "bot", "console", "scheduler", "webhook", "cli",
               "linesim", "migrations"),
    "bot": ("flask", "console", "scheduler", "webhook", "cli"),
    "scheduler": ("flask", "linebot", "bot", "console", "webhook", "cli"),
    "console": ("linebot", "bot", "scheduler", "cli"),
}

def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer):
    offences = []
    for path in sorted((REPO / layer).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.relative_to(REPO)} imports {name}")
    assert offences == []


def test_the_scan_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import flask\nfrom linebot.v3 import x\nimport bot.outbox\n", encoding="utf-8")
    assert {"flask", "linebot.v3", "bot.outbox"} <= imported_modules(sample)


@pytest.mark.parametrize("name", OUR_PACKAGES)
def test_each_top_level_package_is_this_repositorys(name):
    # `domain`, `scheduler`, `bot`… exist on PyPI too: the one imported must be the one here.
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO), module.__file__


def test_no_package_named_sasaeai_is_left():
    assert not (REPO / "sasaeai").exists()
    assert "sasaeai" not in sys.modules
