"""scripts/screenshots.py lists each console page after the resident's steps."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_list_names_every_console_page():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "screenshots.py"), "--list"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    pages = [line.split()[-1] for line in result.stdout.splitlines() if " console " in line]
    assert pages == ["/console/login", "line-login", "/console/", "/console/cases", "/console/cases/{case}",
                     "/console/needs", "/console/volunteers", "/console/resources"]
