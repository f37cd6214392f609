"""Choosing an area: typed names, kana rows with もどる, pages that keep their place, and
locations that are far away or change a chosen area only when the person says so."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages.resident import RESIDENT
from domain.models import Area, Person
from tests.bot.conftest import buttons, last, press
from tests.dialogue.conftest import consented_resident, resident_in

TOKYO_STATION = (35.6812, 139.7671)  # the simulator's Tokyo preset


def labels(message: dict) -> list[str]:
    return [label for label, _ in buttons(message)]


def area_of(stack, user: str) -> str | None:
    with stack.sessions() as session:
        person = session.scalars(select(Person).where(Person.line_user_id == user)).one()
        return session.get(Area, person.area_id).code if person.area_id else None


def test_many_districts_are_searched_by_kana_row_with_back_and_pages_that_keep_their_place(stack, city):
    user = consented_resident(stack)
    first = labels(last(stack, user))
    assert first[:5] == ["あ行", "か行", "た行", "な行", "は行"] and first[-1] == RESIDENT["send_location"]
    press(stack, user, "あ行")
    stack.settle()
    page1 = labels(last(stack, user))
    assert page1[:3] == ["相沢地区", "愛野地区", "葵地区"] and "つぎへ" in page1 and "もどる" in page1
    press(stack, user, "つぎへ")
    stack.settle()
    page2 = labels(last(stack, user))
    assert "安積地区" in page2 and "相沢地区" not in page2 and "まえへ" in page2
    press(stack, user, "まえへ")
    stack.settle()
    assert labels(last(stack, user)) == page1
    press(stack, user, "もどる")
    stack.settle()
    assert labels(last(stack, user)) == first
    # A district with neighbourhoods, then もどる: back to the same row and page, not page 1.
    press(stack, user, "あ行")
    stack.settle()
    press(stack, user, "つぎへ")
    stack.settle()
    press(stack, user, "安積地区")
    stack.settle()
    assert labels(last(stack, user))[:3] == ["荒井", "日出山", "もどる"]
    press(stack, user, "もどる")
    stack.settle()
    assert labels(last(stack, user)) == page2
    for message in [m["message"] for m in stack.sim.messages(user)]:
        assert len((message.get("quickReply") or {}).get("items", [])) <= 13


def test_a_district_is_recognised_typed_in_kanji_without_chiku_in_kana_and_with_a_typo(stack, city):
    for typed in ("日和田地区", "日和田", "ひわだ", "ヒワダ", "ひわた", "日和田地く"):
        user = consented_resident(stack, f"住民 {typed}")
        stack.sim.send_text(user, typed)
        stack.settle()
        assert "日和田地区" in last(stack, user)["text"], typed
        assert area_of(stack, user) == "hiwada", typed


def test_a_typed_district_with_neighbourhoods_asks_for_the_neighbourhood_and_unknown_words_ask_again(stack, city):
    user = consented_resident(stack)
    stack.sim.send_text(user, "あさか")
    stack.settle()
    assert labels(last(stack, user))[:2] == ["荒井", "日出山"]
    stack.sim.send_text(user, "ひでやま")
    stack.settle()
    assert area_of(stack, user) == "asaka-hideyama"
    other = consented_resident(stack, "別の人")
    stack.sim.send_text(other, "ぱぴぷぺぽ")
    stack.settle()
    answer = last(stack, other)
    assert "見つかりませんでした" in answer["text"] and "あ行" in labels(answer)
    assert area_of(stack, other) is None


def test_a_location_far_outside_the_city_is_asked_about_never_taken(stack, city):
    user = consented_resident(stack)
    stack.sim.send_location(user, *TOKYO_STATION)
    stack.settle()
    answer = last(stack, user)
    assert answer["text"] == RESIDENT["location_far"] and "あ行" in labels(answer)
    assert area_of(stack, user) is None
    # Mid-conversation, with an area chosen: still a question, the area stays.
    settled = resident_in(stack, "あ行", "つぎへ", "安積地区", "荒井", name="荒井の人")
    stack.sim.send_text(settled, "かいものにいけない")
    stack.settle()
    stack.sim.send_location(settled, *TOKYO_STATION)
    stack.settle()
    assert last(stack, settled)["text"] == RESIDENT["location_far"]
    assert area_of(stack, settled) == "asaka-arai"


def test_a_nearby_location_mid_flow_changes_the_area_only_when_confirmed(stack, city):
    user = resident_in(stack, "あ行", "つぎへ", "安積地区", "荒井")
    stack.sim.send_text(user, "かいものにいけない")
    stack.settle()
    stack.sim.send_location(user, 37.4531, 140.3851)  # 日和田
    stack.settle()
    question = last(stack, user)
    assert "「安積地区 荒井」から「日和田地区」に変えますか" in question["text"]
    assert labels(question) == ["変える", "やめる"]
    press(stack, user, "やめる")
    stack.settle()
    assert area_of(stack, user) == "asaka-arai"
    assert "地区：安積地区 荒井" in last(stack, user)["text"]  # back to the need's 【確認】
    stack.sim.send_location(user, 37.4531, 140.3851)
    stack.settle()
    press(stack, user, "変える")
    stack.settle()
    assert area_of(stack, user) == "hiwada"
    assert "地区：日和田地区" in last(stack, user)["text"]


def test_just_outside_the_radius_is_asked_about_just_inside_is_taken(stack, city):
    far = consented_resident(stack)
    stack.sim.send_location(far, 37.4530 + 0.09, 140.3850)  # 10 km north of 日和田: over 8 km
    stack.settle()
    assert last(stack, far)["text"] == RESIDENT["location_far"]
    near = consented_resident(stack, "近くの人")
    stack.sim.send_location(near, 37.4530 + 0.045, 140.3850)  # 5 km
    stack.settle()
    assert area_of(stack, near) == "hiwada"


def test_config_reads_the_area_radius_from_the_environment():
    from domain.settings import Config

    assert Config.from_env({}).area_radius_km == 8.0
    assert Config.from_env({"SASAEAI_AREA_RADIUS_KM": "20"}).area_radius_km == 20.0
