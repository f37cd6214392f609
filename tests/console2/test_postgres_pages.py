"""Every console page and export answers on PostgreSQL too (the rest of the console's tests run on
SQLite): PostgreSQL refuses SQL that SQLite lets through (a GROUP BY on an expression with a
bound parameter was one, found by bench/console2.py), so each page is fetched once on it."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.console.conftest import Browser
from tests.console2.conftest import build_town2


def test_every_console_page_and_export_answers_on_postgresql(pg_stack):
    from webhook import create_app

    town = build_town2(pg_stack)
    app = create_app(services=pg_stack.services)
    browser = Browser(app, pg_stack)
    browser.login(town.ids["tomita_coord"])
    mine, district = town.tomita, town.areas["tomita"]
    period = "start=2026-01-01&end=2026-12-31"
    # Every page without a path parameter, as the app declares them (a new page is covered too).
    paths = sorted(rule.rule for rule in app.url_map.iter_rules()
                   if rule.rule.startswith("/console") and "GET" in rule.methods and not rule.arguments
                   and not rule.rule.startswith(("/console/login", "/console/logout", "/console/static")))
    paths += [f"/console/resources/{mine.candidate}", f"/console/resources/{mine.resource}",
              f"/console/volunteers/{mine.volunteer}", f"/console/meetings/{mine.meeting}",
              f"/console/insights?district={district}&{period}", f"/console/volunteers/help?{period}",
              f"/console/export/report.xlsx?district={district}&{period}",
              f"/console/export/report.xlsx?district={district}&{period}&contacts=1"]
    paths += [f"/console/export/{sheet}.csv?district={district}&{period}"
              for sheet in ("needs", "resources", "unmet", "proposals", "attendance")]
    failed = {path: browser.get(path).status_code for path in paths}
    assert {path: status for path, status in failed.items() if status != 200} == {}
    assert len(paths) > 20
    book = load_workbook(io.BytesIO(browser.get(f"/console/export/report.xlsx?district={district}&{period}").data))
    assert len(book.worksheets) >= 5 and book.worksheets[0].max_row > 2
