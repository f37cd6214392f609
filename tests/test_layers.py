"""The layers import only what STYLE.md allows: domain knows no Flask or LINE, and so on."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sasaeai"

FORBIDDEN = {
    "domain": ("flask", "linebot", "sasaeai.bot", "sasaeai.console", "sasaeai.scheduler",
               "sasaeai.webhook", "linesim", "werkzeug"),
    "bot": ("flask", "sasaeai.console", "sasaeai.scheduler", "sasaeai.webhook"),
    "scheduler": ("flask", "linebot", "sasaeai.bot", "sasaeai.console", "sasaeai.webhook"),
    "console": ("linebot", "sasaeai.bot", "sasaeai.scheduler", "sasaeai.webhook"),
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
    folder = PACKAGE / layer
    offences = []
    for path in sorted(folder.rglob("*.py")):
        for name in imported_modules(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert offences == []


def test_the_scan_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import flask\nfrom linebot.v3 import x\n", encoding="utf-8")
    assert {"flask", "linebot.v3"} <= imported_modules(sample)
