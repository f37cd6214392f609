"""The resident's whole way through signed webhooks and the simulator, and its refusal paths."""
from __future__ import annotations

from sqlalchemy import func, select

from domain.models import Match, Need, Person
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from tests.bot.conftest import all_text, buttons, last, press, resident_in


def test_follow_consent_area_hiragana_need_suggestions_volunteer_accepts_and_both_are_told(stack, town):
    resident = stack.new_user("山田 ハナ")
    stack.settle()
    assert stack.sim.texts(resident) == [RESIDENT["greeting"], RESIDENT["privacy_notice"]]

    press(stack, resident, "同意する")
    stack.settle()
    assert RESIDENT["ask_district"] in last(stack, resident)["text"]
    press(stack, resident, "安積地区")
    stack.settle()
    assert [label for label, _ in buttons(last(stack, resident))][:3] == ["荒井", "日出山", "もどる"]
    press(stack, resident, "荒井")
    stack.settle()
    assert "安積地区 荒井" in last(stack, resident)["text"]

    stack.sim.send_text(resident, "かいものにいけない")
    stack.settle()
    restated = last(stack, resident)["text"]
    assert "内容：買い物" in restated and "地区：安積地区 荒井" in restated and "かいものにいけない" in restated

    press(stack, resident, "はい")
    stack.settle()
    carousel = last(stack, resident)
    assert carousel["type"] == "flex" and "移動販売 みどり号" in all_text(carousel)
    assert ("電話する", "tel:0245550101") in buttons(carousel)
    assert [i["action"]["label"] for i in carousel["quickReply"]["items"]] == ["これで大丈夫", "ほかの助けがほしい"]

    press(stack, resident, "ほかの助けがほしい", carousel)
    stack.settle()
    assert last(stack, resident)["text"] == RESIDENT["ask_phone"]
    stack.sim.send_text(resident, "０２４－１２３－４５６７")
    stack.settle()
    assert RESIDENT["asking_volunteers"] in last(stack, resident)["text"]

    suzuki, takahashi = town.ids["suzuki"], town.ids["takahashi"]
    for volunteer in (suzuki, takahashi):
        card = last(stack, volunteer)
        shown = all_text(card)
        assert "買い物" in shown and "安積地区 荒井" in shown
        assert "山田" not in shown and "024-123-4567" not in shown  # no name, no contact before acceptance

    press(stack, suzuki, VOLUNTEER["accept"])
    stack.settle()
    # 買い物 enters the home: the coordinator approves before contacts are exchanged.
    assert last(stack, suzuki)["text"] == VOLUNTEER["accepted_wait_approval"]
    assert last(stack, resident)["text"] == RESIDENT["volunteer_found_pending"]
    approval = last(stack, town.ids["asaka_coord"])
    assert COORDINATOR["approval_title"] in all_text(approval) and "鈴木 博" in all_text(approval)

    press(stack, takahashi, VOLUNTEER["accept"])
    stack.settle()
    assert last(stack, takahashi)["text"] in (VOLUNTEER["taken"], VOLUNTEER["closed"])

    press(stack, town.ids["asaka_coord"], COORDINATOR["approve"])
    stack.settle()
    contact = last(stack, suzuki)["text"]
    assert "山田 ハナさん" in contact and "024-123-4567" in contact
    told = last(stack, resident)["text"]
    assert "鈴木 博さんが引き受けてくれました" in told and "090-1111-2222" in told

    # What the need cost in quota: pushes only for news to someone who did not just write —
    # two request cards, the resident's "found, awaiting approval", the coordinator's approval
    # card, and both contacts. Every answer to a person's own tap went by (free) reply.
    pushes = [r for r in stack.sim.requests_log("push") if r["status"] == 200]
    replies = [r for r in stack.sim.requests_log("reply") if r["status"] == 200]
    assert (len(pushes), len(replies)) == (6, 11)

    with stack.sessions() as session:
        need = session.scalars(select(Need)).one()
        assert need.category == "shopping" and need.status == "matched"
        assert [t.to_status for t in need.transitions] == ["received", "suggested", "asking", "matched"]
        accepted = session.scalars(select(Match).where(Match.status == "accepted")).all()
        assert len(accepted) == 1 and accepted[0].approved_at is not None


def test_without_consent_nothing_is_stored_and_only_public_information_is_shown(stack, town):
    resident = stack.new_user("佐々木")
    stack.settle()
    press(stack, resident, "同意しない")
    stack.settle()
    assert RESIDENT["consent_declined"] in last(stack, resident)["text"]
    stack.sim.send_text(resident, "ごみだしがたいへん")
    stack.settle()
    # Issue 14: a typed need without consent gets the public information, for the area asked.
    assert RESIDENT["public_only"] in last(stack, resident)["text"]
    press(stack, resident, "安積地区")
    stack.settle()
    press(stack, resident, "荒井")
    stack.settle()
    assert "荒井いきいき百歳体操" in all_text(last(stack, resident))
    with stack.sessions() as session:
        person = session.scalars(select(Person).where(Person.line_user_id == resident)).one()
        assert (person.consent, person.area_id, person.display_name, person.phone) == ("refused", None, "", None)
        assert session.scalar(select(func.count()).select_from(Need)) == 0


def test_a_postback_forged_for_another_persons_need_is_refused(stack, town):
    owner = _resident_with_suggestions(stack, "うんどうしたい")
    with stack.sessions() as session:
        need = session.scalars(select(Need)).one()
    stranger = stack.new_user("他人")
    stack.settle()
    press(stack, stranger, "同意する")
    stack.settle()
    stack.sim.send_postback(stranger, f"v1|ok|{need.id}", display_text="これで大丈夫")
    stack.sim.send_postback(stranger, f"v1|more|{need.id}", display_text="ほかの助けがほしい")
    stack.settle()
    assert stack.sim.texts(stranger)[-2:] == [RESIDENT["not_yours"], RESIDENT["not_yours"]]
    with stack.sessions() as session:
        assert session.get(Need, need.id).status == "suggested"
    assert owner


def test_a_sticker_gets_a_kind_answer_with_the_menu(stack, town):
    resident = stack.new_user()
    stack.settle()
    stack.sim.sticker(resident)
    stack.settle()
    answer = last(stack, resident)
    assert answer["text"] == RESIDENT["not_text"]
    assert RESIDENT["menu_ask"] in [label for label, _ in buttons(answer)]


def test_a_6000_character_message_is_accepted_and_shortened_for_display(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    long_text = "買い物に行けなくて困っています。" + "あ" * 6000
    stack.sim.send_text(resident, long_text)
    stack.settle()
    restated = last(stack, resident)["text"]
    assert "内容：買い物" in restated and len(restated) < 400
    press(stack, resident, "はい")
    stack.settle()
    with stack.sessions() as session:
        need = session.scalars(select(Need)).one()
        assert need.words.startswith("買い物に行けなくて") and len(need.words) == 4000


def test_the_resident_can_correct_the_category_and_the_time_before_confirming(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "らいしゅうのかようびのごぜんちゅう、かいものにつれてってほしい")
    stack.settle()
    assert "いつ：12月1日(火) 午前" in last(stack, resident)["text"]
    press(stack, resident, "内容を直す")
    stack.settle()
    press(stack, resident, "通院・外出")
    stack.settle()
    press(stack, resident, "日時を直す")
    stack.settle()
    press(stack, resident, "明日")
    stack.settle()
    restated = last(stack, resident)["text"]
    assert "内容：通院・外出の付き添い・送迎" in restated and "11月27日(金)" in restated


def test_a_safety_signal_gets_the_119_guidance_first_and_an_urgent_case(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "おっとがたおれていきをしていない")
    stack.settle()
    answer = last(stack, resident)["text"]
    assert answer.startswith("【命にかかわるときは、すぐに119番へ】") and "サロン" not in answer
    notice = last(stack, town.ids["asaka_coord"])
    assert "【至急】" in all_text(notice)
    assert "【至急】" in all_text(last(stack, town.ids["city"]))  # urgent: the city is told too


def test_deleting_my_data_after_confirmation(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "わたしのデータを消す")
    stack.settle()
    press(stack, resident, "消す")
    stack.settle()
    assert last(stack, resident)["text"] == RESIDENT["deleted"]
    with stack.sessions() as session:
        assert session.scalars(select(Person).where(Person.line_user_id == resident)).first() is None


def test_a_half_finished_dialogue_expires_politely(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "かいものにいけない")
    stack.settle()
    stack.clock.advance(hours=2)
    stack.sim.send_postback(resident, "v1|nc|yes", display_text="はい")
    stack.settle()
    texts = stack.sim.texts(resident)
    assert RESIDENT["expired"] in texts[-2:] or RESIDENT["expired"] in texts[-3:]


def _resident_with_suggestions(stack, words: str) -> str:
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, words)
    stack.settle()
    press(stack, resident, "はい")
    stack.settle()
    return resident
