"""Stories through the LINE simulator: family answers, graded certainty, harmless alarm words."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages.resident import SAFETY_TEXT
from domain import escalation as esc_rules
from domain.escalation import Escalation
from domain.models import Need
from domain.understanding import core
from tests.bot.conftest import all_text, buttons, last, press, resident_in


def _cases(stack) -> list[Escalation]:
    with stack.sessions() as session:
        rows = session.scalars(select(Escalation).order_by(Escalation.id)).all()
        session.expunge_all()
        return rows


def test_a_suspected_emergency_gets_the_guidance_the_question_and_a_case_to_check(stack, town, monkeypatch):
    # the model alarms on this on its own (no rule word); with "sure" out of reach it is only suspected
    monkeypatch.setattr(core, "ALARM_SURE", 99.0)
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "夫がずっと寝ていて起きてこない")
    stack.settle()
    guidance, question = (m["message"] for m in stack.sim.messages(resident)[-2:])
    assert guidance["text"].startswith("【命にかかわるときは、すぐに119番へ】")
    assert "#7119" in guidance["text"] and "サロン" not in guidance["text"]
    assert question["text"] == SAFETY_TEXT["ask_emergency"]
    labels = dict(buttons(question))
    assert {"はい", "いいえ"} <= set(labels) and labels["119に電話（救急）"] == "tel:119"
    (case,) = _cases(stack)
    assert case.reason == esc_rules.SAFETY_CHECK and case.urgency == "normal"
    assert "要確認" in all_text(last(stack, town.ids["asaka_coord"]))
    # はい: the same case becomes urgent, the guidance again
    press(stack, resident, "はい")
    stack.settle()
    assert last(stack, resident)["text"].startswith("【命にかかわるときは")
    (case,) = _cases(stack)
    assert case.urgency == "urgent"


def test_no_to_the_question_continues_with_the_need(stack, town, monkeypatch):
    monkeypatch.setattr(core, "ALARM_SURE", 99.0)
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "夫がずっと寝ていて起きてこない")
    stack.settle()
    press(stack, resident, "いいえ")
    stack.settle()
    texts = stack.sim.texts(resident)
    assert SAFETY_TEXT["not_urgent"] in texts[-3:]
    assert "【命にかかわる" not in texts[-1]  # on with the need: category buttons or the restatement


def test_fraud_in_progress_gets_the_fraud_answer_and_an_urgent_case(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "息子を名乗る人から電話があって、今から銀行でお金をおろして渡すことになってるの")
    stack.settle()
    answer = last(stack, resident)
    body = answer["text"]
    assert body.startswith("【それは詐欺かもしれません】")
    assert "電話はすぐに切って" in body and "ATMには行かない" in body and "キャッシュカード" in body
    assert "#9110" in body and "110番" in body and "188" in body
    assert "サロン" not in body and "119" not in body
    assert dict(buttons(answer))["#9110に相談（警察）"] == "tel:%239110"
    (case,) = _cases(stack)
    assert case.reason == esc_rules.CRISIS and case.urgency == "urgent"


def test_a_fallen_flower_pot_is_a_garden_need(stack, town):
    resident = resident_in(stack, "安積地区", "荒井")
    stack.sim.send_text(resident, "植木鉢が倒れちゃって、起こすのを手伝ってほしい")
    stack.settle()
    answer = last(stack, resident)["text"]
    assert "119" not in answer and "詐欺" not in answer
    assert "内容：庭の手入れ・草取り" in answer
    assert _cases(stack) == []
    with stack.sessions() as session:
        assert session.scalars(select(Need)).first() is None  # nothing urgent was opened


def test_numbers_come_from_configuration():
    from bot import dialogue
    from bot.handlers import BotSettings
    from domain.settings import Config
    from webhook import Services

    config = Config.from_env({"SASAEAI_ELDER_ABUSE_NUMBER": "024-924-0000"})
    services = Services.build(config.model_copy(update={"database_url": "sqlite://"}))
    try:
        numbers = services.bot_settings.safety_numbers
    finally:
        services.engine.dispose()
    message = dialogue.safety_answer("abuse", "crisis", numbers)
    assert "市の高齢者虐待の相談窓口：024-924-0000" in message["text"]
    assert "地域包括支援センター" in message["text"]
    assert dict(buttons(message))["虐待の相談窓口に電話"] == "tel:0249240000"
    # Nothing configured: the national lines, and the city's line is not shown.
    default = dialogue.safety_answer("abuse", "crisis", BotSettings().safety_numbers)
    assert "024-924-0000" not in default["text"] and "虐待の相談窓口に電話" not in dict(buttons(default))