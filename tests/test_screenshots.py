"""scripts/screenshots.py: the demo stack, the first steps of the resident flow, real PNGs."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linesim.validation import image_size

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "screenshots.py"


def load_script():
    spec = importlib.util.spec_from_file_location("screenshots_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_steps_are_a_list_at_the_top_in_the_agreed_shape():
    steps = load_script().STEPS
    assert steps[0] == ("follow", "resident", ("follow",))  # the flow starts by adding the bot
    kinds = {"follow": {1}, "press": {2}, "postback": {2, 3}, "text": {2}, "location": {3}}
    for name, who, action in steps:
        assert isinstance(name, str) and name, action
        assert who in ("resident", "volunteer", "coordinator"), (name, who)
        assert action[0] in kinds and len(action) in kinds[action[0]], (name, action)
    names = [name for name, _who, _action in steps]
    assert len(set(names)) == len(names), "step names make the file names: keep them unique"


def test_list_prints_the_steps_without_a_browser():
    result = subprocess.run([sys.executable, str(SCRIPT), "--list"], capture_output=True,
                            text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("01 follow")


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not installed (Debian: apt-get install chromium): "
                           "no browser to take screenshots with")
def test_the_first_two_steps_give_two_real_screenshots(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--steps", "2", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    shots = sorted(tmp_path.glob("*.png"))
    assert [p.name for p in shots] == ["01-follow.png", "02-consent.png"]
    for shot in shots:
        data = shot.read_bytes()
        assert len(data) > 10_000, f"{shot.name} is only {len(data)} bytes: a blank page?"
        assert image_size(data) == ("image/png", 1500, 1400)
    # The bot answered each step before its picture was taken, and the list was printed.
    lines = [line for line in result.stdout.splitlines() if line[:2] in ("01", "02")]
    assert len(lines) == 2 and all("0 new message(s)" not in line for line in lines), result.stdout
