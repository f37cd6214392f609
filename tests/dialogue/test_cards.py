"""Suggestion cards: one layout (なに・いつ・どこ・きょり, and a dial button whenever there is a
phone), only resources whose kind can meet the need, and those at other times last, saying so."""
from __future__ import annotations

from bot.messages.resident import RESIDENT
from domain import resources
from domain.db import transaction
from domain.schedule import parse_rules
from tests.bot.conftest import all_text, buttons, last, press
from tests.dialogue.conftest import resident_in


def rows_of(bubble: dict) -> dict[str, str]:
    """{label: value} of the baseline rows of a bubble's body."""
    out = {}
    for node in bubble["body"]["contents"]:
        if node.get("type") == "box" and node.get("layout") == "baseline":
            label, value = node["contents"]
            out[label["text"]] = value["text"]
    return out


def bubbles(message: dict) -> list[dict]:
    contents = message["contents"]
    return contents["contents"] if contents["type"] == "carousel" else [contents]


def add(stack, town, **kw):
    with transaction(stack.sessions) as s:
        resources.create_resource(s, stack.clock.now(), source="test", area_ids=[town.areas["asaka"]], **kw)


def test_a_hospital_escort_gets_transport_not_a_walking_club_and_a_saturday_service_comes_last(stack, town):
    add(stack, town, categories=["outing", "exercise"], rules=parse_rules("毎週土曜 9:00-10:30"),
        name="ノルディックウォーキングの会", kind="exercise_group", venue="笹川公園", phone="024-555-0303",
        lat=37.357, lon=140.361)
    add(stack, town, categories=["outing"], rules=parse_rules("毎週土曜 9:00-12:00"),
        name="土曜の送迎ボランティア", kind="transport", phone="024-555-0404", lat=37.357, lon=140.361)
    add(stack, town, categories=["outing"], rules=parse_rules("平日 8:00-17:00"),
        name="おでかけ支援 あさか号", kind="transport", description="通院・買い物の送迎",
        venue="安積地区社協", address="郡山市安積町荒井1-1", phone="024-555-0505", lat=37.3562, lon=140.3602)
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "らいしゅうのかようびに びょういんへ つれていってほしい")
    stack.settle()
    press(stack, user, "はい")
    stack.settle()
    carousel = last(stack, user)
    shown = [b["body"]["contents"][0]["text"] for b in bubbles(carousel)]
    assert "ノルディックウォーキングの会" not in all_text(carousel)
    assert shown == ["おでかけ支援 あさか号", "土曜の送迎ボランティア"]
    first, saturday = bubbles(carousel)
    assert rows_of(first) == {"なに": "通院・買い物の送迎", "いつ": "平日 8:00〜17:00",
                              "どこ": "安積地区社協\n郡山市安積町荒井1-1", "きょり": "歩いて1分",
                              "電話": "024-555-0505"}
    assert RESIDENT["card_other_time"] not in all_text(first)
    assert RESIDENT["card_other_time"] in all_text(saturday)
    assert ("電話する", "tel:0245550505") in buttons(carousel) and ("電話する", "tel:0245550404") in buttons(carousel)


def test_every_card_has_the_same_rows_and_a_dial_button_when_a_phone_exists(stack, town):
    add(stack, town, categories=["talk"], rules=parse_rules("不定期"), name="見守り隊",
        kind="watch_network", address="郡山市", phone="024-555-0606")
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "はなしあいてがほしい")
    stack.settle()
    press(stack, user, "はい")
    stack.settle()
    card = bubbles(last(stack, user))[0]
    rows = rows_of(card)
    assert list(rows) == ["なに", "いつ", "電話"]  # an address that is only the city is no どこ
    assert rows["いつ"] == "不定期" and rows["なに"] == "見守りネットワーク"
    assert ("電話する", "tel:0245550606") in buttons({"contents": card})
