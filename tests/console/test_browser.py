"""Through a real browser (the system Chromium driven by Playwright): LINE Login through the
simulator, a case acknowledged and the resident messaged from the console, the message seen
arriving in the simulator's chat page; another district's coordinator gets 404.

Skipped, with the reason, where Playwright or Chromium is missing (`.ci/run` installs them).
"""
from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("SASAEAI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no system Chromium (apt-get install chromium)")


@pytest.fixture
def chromium():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def log_in(page, stack, line_user_id: str) -> None:
    page.goto(stack.bot_server.url + "/console/")
    page.get_by_role("link", name="LINEでログイン").click()
    page.wait_for_url(stack.sim_server.url + "/oauth2/v2.1/authorize**")
    page.locator(f'button[data-user="{line_user_id}"]').click()
    page.wait_for_url(stack.bot_server.url + "/console/")


def test_a_coordinator_works_a_case_in_the_browser_and_the_resident_gets_the_message(chromium, stack, console_town):
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 768})  # a tablet
    page = context.new_page()
    log_in(page, stack, console_town.ids["asaka_coord"])
    assert page.get_by_role("heading", name="わたしの相談").is_visible()
    page.get_by_role("link", name="買い物").first.click()
    page.wait_for_url(f"**/console/cases/{console_town.asaka_case}")
    assert page.get_by_text("024-111-2222").first.is_visible()
    page.get_by_role("button", name="対応します").click()
    assert page.get_by_text("担当になりました").is_visible()
    assert page.get_by_role("button", name="対応します").count() == 0
    page.get_by_label("住民にメッセージを送る").fill("明日の午前にお電話します。山田さん、よろしくお願いします。")
    page.get_by_role("button", name="送る", exact=True).click()
    assert page.get_by_text("住民にメッセージを送りました").is_visible()
    stack.settle()  # the dispatcher pushes the stored message to the simulator

    chat = context.new_page()
    chat.goto(f"{stack.sim_server.url}/?users={console_town.ids['yamada']}")
    arrived = chat.get_by_text("地区の生活支援コーディネーター（安積地区）より", exact=False)
    arrived.first.wait_for(timeout=10_000)
    assert chat.get_by_text("明日の午前にお電話します。", exact=False).first.is_visible()
    context.close()


def test_another_districts_coordinator_gets_404_in_the_browser(chromium, stack, console_town):
    context = chromium.new_context(locale="ja-JP")
    page = context.new_page()
    log_in(page, stack, console_town.ids["tomita_coord"])
    response = page.goto(f"{stack.bot_server.url}/console/cases/{console_town.asaka_case}")
    assert response.status == 404
    assert page.get_by_text("ページが見つかりません").is_visible()
    assert page.get_by_text("山田").count() == 0
    context.close()
