"""Through a real browser (system Chromium driven by Playwright): a resource created in the console is
suggested to a resident in the simulator; a resident's place offer is confirmed; a member added to a
meeting gets its reminder (the scheduler's job run directly, the clock injected); the 協議体 report
downloaded and read back with openpyxl. Skipped, with the reason, where Playwright or Chromium is missing.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from domain.clock import TOKYO
from domain.db import transaction
from domain.meetings.models import Meeting
from domain.models import Need, Resource
from domain.reports import JA
from tests.bot.conftest import all_text, last, press
from tests.console.test_browser import CHROMIUM, chromium, log_in, playwright_api  # noqa: F401

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no system Chromium (apt-get install chromium)")


def _page(chromium, stack, who: str):
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    log_in(page, stack, who)
    return context, page


def test_a_resource_made_in_the_console_is_suggested_to_a_resident(chromium, stack, town2):
    context, page = _page(chromium, stack, town2.ids["asaka_coord"])
    page.get_by_role("link", name="社会資源", exact=True).click()
    page.get_by_role("link", name="新しく登録する").click()
    page.get_by_label("名前").first.fill("荒井 草取りボランティア会")
    page.get_by_label("種類").select_option("mutual_aid")
    page.get_by_label("庭の手入れ", exact=False).first.check()
    page.get_by_label("対象の地域").select_option(str(town2.areas["asaka"]))
    page.get_by_label("日時").fill("毎日 9:00〜17:00")
    page.get_by_label("電話").fill("024-555-0303")
    page.get_by_role("button", name="保存する").click()
    assert page.get_by_text("社会資源を保存しました").is_visible()

    resident = stack.new_user("草野 ミツ")
    stack.settle()
    for label in ("同意する", "安積地区", "荒井"):
        press(stack, resident, label)
        stack.settle()
    stack.sim.send_text(resident, "庭の草取りをお願いしたい")
    stack.settle()
    press(stack, resident, "はい")
    stack.settle()
    assert "荒井 草取りボランティア会" in all_text(last(stack, resident))
    chat = context.new_page()
    chat.goto(f"{stack.sim_server.url}/?users={resident}")
    chat.get_by_text("荒井 草取りボランティア会", exact=False).first.wait_for(timeout=10_000)
    context.close()


def test_a_coordinator_confirms_a_residents_place_offer(chromium, stack, town2):
    context, page = _page(chromium, stack, town2.ids["asaka_coord"])
    page.goto(stack.bot_server.url + "/console/resources/candidates")
    page.get_by_role("link", name="asakaさんの座敷").click()
    assert page.get_by_text("毎週水曜").first.is_visible()
    page.get_by_role("button", name="確認して掲載する").click()
    assert page.get_by_text("確認済みとして掲載しました").is_visible()
    with stack.sessions() as s:
        assert s.get(Resource, town2.asaka.candidate).status == "active"
    context.close()


def test_a_member_added_in_the_console_gets_the_meeting_reminder(chromium, stack, town2):
    from scheduler.jobs import send_due_reminders

    context, page = _page(chromium, stack, town2.ids["asaka_coord"])
    page.get_by_role("link", name="会議", exact=True).click()
    page.get_by_role("link", name="asaka 第2層協議体").click()
    page.get_by_label("委員を加える").select_option(label="asaka担い手 花子")
    page.get_by_role("button", name="委員に加える").click()
    assert page.get_by_text("委員を加えました").is_visible()
    with stack.sessions() as s:
        starts = s.get(Meeting, town2.asaka.meeting).starts_at.astimezone(TOKYO)
    due = datetime.combine(starts.date() - timedelta(days=7), time(9, 1), TOKYO)
    stack.clock.set(due)
    with transaction(stack.sessions) as s:
        report = send_due_reminders(s, stack.clock.now(), stack.services.job_deps())
    assert report.claimed >= 1
    stack.settle()
    volunteer = stack.sim.messages(town2.ids["asaka_vol"])
    assert any("asaka 第2層協議体" in all_text(m["message"]) for m in volunteer)
    context.close()


def test_the_report_downloads_and_reads_back_with_openpyxl(chromium, stack, town2, tmp_path):
    context, page = _page(chromium, stack, town2.ids["asaka_coord"])
    page.get_by_role("link", name="報告", exact=True).click()
    page.get_by_label("から").fill("2026-01-01")
    page.get_by_label("まで").fill("2026-12-31")
    with page.expect_download() as info:
        page.get_by_role("button", name="Excelで書き出す").click()
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == [JA[k] for k in ("needs", "resources", "unmet", "proposals", "attendance")]
    needs = book[JA["needs"]]
    rows = list(needs.iter_rows(values_only=True))
    assert rows[0][0].startswith("第2層 協議体 報告 安積地区")
    assert list(rows[2]) == JA["needs_headers"]
    assert needs.column_dimensions["A"].width == 22
    figures = {row[0]: row[1] for row in rows[3:]}
    with stack.sessions() as s:
        asaka = [town2.areas[c] for c in ("asaka", "asaka-arai", "asaka-hideyama")]
        counted = dict(s.execute(select(Need.category, func.count()).where(Need.area_id.in_(asaka))
                                 .group_by(Need.category)).all())
    from domain.categories import label

    for code, n in counted.items():
        assert figures[label(code)] == n, code
    assert figures[JA["total"]] == sum(counted.values())
    unmet = list(book[JA["unmet"]].iter_rows(values_only=True))
    assert list(unmet[2]) == JA["unmet_headers"] and len(unmet) > 3
    assert "024-" not in "".join(str(v) for row in unmet for v in row if v)
    context.close()
