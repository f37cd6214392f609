"""Every text states what really happened: whose contact went to whom, why approval is needed,
that a coordinator's own pick needs no second approval; 見送る and やめる; days with times."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from domain import offers
from domain.db import transaction
from domain.models import Match, Need
from tests.bot.conftest import all_text, buttons, last, press
from tests.dialogue.conftest import resident_in


def wants_a_volunteer(stack, user: str, words: str, phone: str | None = None) -> None:
    stack.sim.send_text(user, words)
    stack.settle()
    for label in ("はい", "ほかの助けがほしい"):
        press(stack, user, label)
        stack.settle()
    if phone:
        stack.sim.send_text(user, phone)
    else:
        press(stack, user, RESIDENT["no_phone"])
    stack.settle()


def third_volunteer(stack, town, name: str = "佐藤 三郎", phone: str = "090-3333-4444") -> str:
    with transaction(stack.sessions) as s:
        volunteer = town.person(s, "third", name, "asaka-arai", phone)
        offers.register_offer(s, person=volunteer, categories=["shopping"], area_ids=[town.areas["asaka"]],
                              now=stack.clock.now(), weekdays=0b1111111, parts=0b111)
    return town.ids["third"]


def test_each_side_is_told_whose_number_went_to_whom(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "体操にいきたい")  # 体操: no approval, contacts at once; no phone given
    press(stack, town.ids["suzuki"], VOLUNTEER["accept"])
    stack.settle()
    told = last(stack, user)
    assert RESIDENT["found_your_phone_none"] in told["text"]
    assert "鈴木 博さんの電話番号：090-1111-2222" in told["text"]
    assert ("電話する", "tel:09011112222") in buttons(told)
    assert "LINEでご連絡します" not in told["text"]
    contact = last(stack, town.ids["suzuki"])["text"]
    assert VOLUNTEER["no_contact"] in contact
    assert VOLUNTEER["your_phone_given"].format(phone="090-1111-2222") in contact


def test_the_volunteer_without_a_phone_is_told_theirs_was_not_given(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "体操にいきたい", phone="024-123-4567")
    press(stack, town.ids["takahashi"], VOLUNTEER["accept"])
    stack.settle()
    contact = last(stack, town.ids["takahashi"])
    assert "024-123-4567" in contact["text"] and VOLUNTEER["your_phone_none"] in contact["text"]
    assert ("電話する", "tel:0241234567") in buttons(contact)
    told = last(stack, user)["text"]
    assert "高橋 恵子さんに、あなたの電話番号（024-123-4567）をお伝えしました" in told


def test_the_approval_card_gives_the_categorys_own_reason_and_offers_both_answers(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "かいものにいけない")
    press(stack, town.ids["suzuki"], VOLUNTEER["accept"])
    stack.settle()
    card = last(stack, town.ids["asaka_coord"])
    shown = all_text(card)
    assert "玄関先まで行き、お金を預かる" in shown and "家に入るお手伝い" not in shown
    assert [label for label, _ in buttons(card)] == [COORDINATOR["approve"], COORDINATOR["reject"]]


def test_miokuru_thanks_the_volunteer_and_the_need_goes_on_to_the_next_volunteer(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "かいものにいけない")
    press(stack, town.ids["suzuki"], VOLUNTEER["accept"])
    stack.settle()
    third = third_volunteer(stack, town)
    press(stack, town.ids["asaka_coord"], COORDINATOR["reject"])
    stack.settle()
    assert last(stack, town.ids["suzuki"])["text"].startswith("「買い物」")
    assert "ほかの方法でお手伝いする" in last(stack, town.ids["suzuki"])["text"]
    assert VOLUNTEER["request_title"] in all_text(last(stack, third))
    assert last(stack, user)["text"] == RESIDENT["still_looking"]
    assert "1人に声をかけています" in last(stack, town.ids["asaka_coord"])["text"]
    with stack.sessions() as session:
        need = session.scalars(select(Need)).one()
        assert need.status == "asking"
        statuses = {m.volunteer.display_name: m.status for m in session.scalars(select(Match))}
        assert statuses["鈴木 博"] == "declined" and statuses["佐藤 三郎"] == "tentative"
    # Pressing 見送る again changes nothing.
    press(stack, town.ids["asaka_coord"], COORDINATOR["reject"], stack.sim.messages(town.ids["asaka_coord"])[-2]["message"])
    stack.settle()
    assert last(stack, town.ids["asaka_coord"])["text"] == COORDINATOR["already_decided"]


def test_miokuru_with_nobody_left_opens_a_case_and_the_resident_is_told(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "かいものにいけない")
    press(stack, town.ids["suzuki"], VOLUNTEER["accept"])
    stack.settle()
    press(stack, town.ids["asaka_coord"], COORDINATOR["reject"])
    stack.settle()
    assert COORDINATOR["rejected_case"] in stack.sim.texts(town.ids["asaka_coord"])
    assert "までにご連絡します" in last(stack, user)["text"]
    with stack.sessions() as session:
        assert session.scalars(select(Need)).one().status == "escalated"


def test_a_volunteer_the_coordinator_asked_needs_no_second_approval_and_numbers_stay(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    wants_a_volunteer(stack, user, "かいものにいけない")
    for who in ("suzuki", "takahashi"):
        press(stack, town.ids[who], VOLUNTEER["decline"])
        stack.settle()
    coordinator = town.ids["asaka_coord"]
    notice = last(stack, coordinator)
    assert "依頼した担い手が全員見送り" in all_text(notice)
    third = third_volunteer(stack, town)
    press(stack, coordinator, COORDINATOR["connect"], notice)
    stack.settle()
    listing = last(stack, coordinator)["text"]
    lines = {line.split("：")[0]: line for line in listing.splitlines() if line.startswith("担い手")}
    assert "佐藤 三郎" in lines["担い手1"]
    assert "【依頼済み】" in lines["担い手2"] and "【依頼済み】" in lines["担い手3"]
    assert [label for label, _ in buttons(last(stack, coordinator)) if "担い手" in label] == ["担い手1に依頼"]
    press(stack, coordinator, "担い手1に依頼")
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["volunteer_asked"]
    press(stack, coordinator, COORDINATOR["connect"], notice)
    stack.settle()
    again = last(stack, coordinator)["text"]
    assert "担い手1：佐藤 三郎" in again and "【依頼済み】" in again.splitlines()[1]
    before = len(stack.sim.messages(coordinator))
    press(stack, third, VOLUNTEER["accept"])
    stack.settle()
    assert last(stack, third)["text"].startswith("ありがとうございます。よろしくお願いします。")
    assert "佐藤 三郎さんが引き受けてくれました" in last(stack, user)["text"]
    assert len(stack.sim.messages(coordinator)) == before  # no approval card


def test_the_confirmations_have_yameru(stack, town):
    user = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(user, "かいものにいけない")
    stack.settle()
    assert "やめる" in [label for label, _ in buttons(last(stack, user))]
    press(stack, user, "やめる")
    stack.settle()
    assert last(stack, user)["text"].startswith(RESIDENT["need_cancelled"])
    with stack.sessions() as session:
        assert session.scalars(select(Need)).first() is None
    volunteer = town.ids["suzuki"]
    stack.sim.send_postback(volunteer, "v1|menu|help", display_text="手伝いたい")
    stack.settle()
    for label in ("つぎへ", "つぎへ", "月曜", "つぎへ", "午前", "つぎへ", "できない"):
        press(stack, volunteer, label)
        stack.settle()
    assert "やめる" in [label for label, _ in buttons(last(stack, volunteer))]
    press(stack, volunteer, "やめる")
    stack.settle()
    assert last(stack, volunteer)["text"].startswith(VOLUNTEER["offer_cancelled"])


def test_my_registration_shows_days_with_their_times(stack, town):
    with transaction(stack.sessions) as s:
        volunteer = town.person(s, "mw", "水野 みどり", "asaka-arai")
        offers.register_offer(s, person=volunteer, categories=["talk"], area_ids=[town.areas["asaka"]],
                              now=stack.clock.now(), weekdays=0b0000101, parts=0b011)
    stack.sim.send_postback(town.ids["mw"], "v1|menu|mine", display_text="わたしの登録")
    stack.sim.send_postback(town.ids["suzuki"], "v1|menu|mine", display_text="わたしの登録")
    stack.settle()
    assert "曜日と時間：月・水：午前・午後" in last(stack, town.ids["mw"])["text"]
    assert "曜日と時間：月〜日：午前・午後・夕方" in last(stack, town.ids["suzuki"])["text"]
    assert "時間：水\n" not in last(stack, town.ids["mw"])["text"]
