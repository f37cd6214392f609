"""LINE menus by role: every menu deployed once, linked when a role is given and unlinked when it
is taken; a coordinator's 「相談の一覧」 and 「期限切れ」 answer with their own district's cases."""
from __future__ import annotations

from bot import richmenu
from bot.line_api import LineApi
from bot.messages import postback as postbacks
from bot.messages.coordinator import COORDINATOR
from cli.commands.richmenu import deploy_all
from domain import staff
from domain.db import transaction
from domain.people import find_by_line_id
from linesim.validation import image_size, validate_richmenu
from tests.bot.conftest import buttons, last
from tests.conftest import TEST_TOKEN


def test_every_menu_is_valid_and_its_image_fits():
    for menu in richmenu.MENUS:
        definition = richmenu.definition() if menu is richmenu.RESIDENT_MENU else menu.definition(
            console_url="https://example.jp/console")
        assert validate_richmenu(definition) == [], menu.role
        assert image_size(menu.image_bytes()) == ("image/png", menu.width, menu.height)
    labels = [a["action"]["label"] for a in richmenu.COORDINATOR_MENU.definition(console_url="https://x/console")["areas"]]
    assert labels == ["相談の一覧", "期限切れ", "会議", "コンソールを開く"]


def test_deploy_creates_every_menu_once_and_links_follow_the_roles(stack, console_town):
    said: list[str] = []
    line = LineApi(stack.sim_server.url, TEST_TOKEN)
    first = deploy_all(line, console_url="https://example.jp/console", say=said.append)
    assert all(result.created for result in first.values())
    again = deploy_all(line, console_url="https://example.jp/console", say=said.append)
    assert not any(result.changed for result in again.values())
    overview = stack.sim.richmenus()
    assert len(overview["richmenus"]) == 3 and overview["defaultRichMenuId"] == first["resident"].rich_menu_id

    api = LineApi(stack.sim_server.url, TEST_TOKEN)
    coordinator = console_town.ids["asaka_coord"]
    try:
        assert richmenu.link_for_roles(api, coordinator, {"coordinator"}) == "linked the coordinator menu"
        assert stack.sim.richmenus()["userLinks"][coordinator] == first["coordinator"].rich_menu_id
        with transaction(stack.sessions) as s:
            staff.remove_coordinator(s, find_by_line_id(s, coordinator), stack.clock.now())
            roles = set(find_by_line_id(s, coordinator).roles)
        assert richmenu.link_for_roles(api, coordinator, roles) == "unlinked"
        assert coordinator not in stack.sim.richmenus()["userLinks"]
    finally:
        api.close()


def test_a_new_volunteer_gets_the_volunteers_menu(stack, console_town):
    from bot.messages.volunteer import VOLUNTEER

    deploy_all(LineApi(stack.sim_server.url, TEST_TOKEN), say=lambda _m: None)
    user = console_town.ids["resident_x"]
    stack.sim.send_postback(user, postbacks.encode("menu", "help"))
    stack.settle()
    for data in (postbacks.encode("oc", "shopping"), postbacks.encode("onext", "cat"),
                 postbacks.encode("oa", console_town.areas["asaka"]), postbacks.encode("onext", "area"),
                 postbacks.encode("od", 0), postbacks.encode("onext", "days"), postbacks.encode("ot", 1),
                 postbacks.encode("onext", "times"), postbacks.encode("ocar", 0), postbacks.encode("oreg", "yes")):
        stack.sim.send_postback(user, data)
        stack.settle()
    assert VOLUNTEER["registered"] in last(stack, user)["text"]
    menus = {m["richMenuId"]: m["name"] for m in stack.sim.richmenus()["richmenus"]}
    assert menus[stack.sim.richmenus()["userLinks"][user]].startswith(richmenu.VOLUNTEER_MENU.name_prefix)


def test_a_coordinator_typing_the_list_gets_their_open_cases(stack, console_town):
    coordinator = console_town.ids["asaka_coord"]
    stack.sim.send_text(coordinator, "相談の一覧")
    stack.settle()
    answer = last(stack, coordinator)
    assert answer["text"].startswith(COORDINATOR["open_cases_intro"].format(count=1))
    assert "買い物" in answer["text"] and "除雪" not in answer["text"]
    # Each case is a button away from its card (with the contact, for this district).
    stack.sim.press(coordinator, "1. 買い物")
    stack.settle()
    assert [label for label, _ in buttons(last(stack, coordinator))][0] == COORDINATOR["ack"]


def test_overdue_from_the_menu_and_a_resident_typing_the_same_words(stack, console_town):
    coordinator = console_town.ids["tomita_coord"]
    stack.sim.send_postback(coordinator, postbacks.encode("coord", "overdue"))
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["overdue_none"]
    stack.clock.advance(days=20)
    stack.sim.send_postback(coordinator, postbacks.encode("coord", "overdue"))
    stack.settle()
    text = last(stack, coordinator)["text"]
    assert text.startswith(COORDINATOR["overdue_intro"].format(count=1)) and "除雪" in text and "期限切れ" in text
    resident = console_town.ids["resident_x"]
    stack.sim.send_text(resident, "相談の一覧")
    stack.settle()
    assert COORDINATOR["open_cases_intro"].split("（")[0] not in last(stack, resident).get("text", "")
    stack.sim.send_postback(resident, postbacks.encode("coord", "list"))
    stack.settle()
    assert last(stack, resident)["text"] == COORDINATOR["not_coordinator"]
