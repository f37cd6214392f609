"""Safety first (issue 10): emergency and crisis signals answered before anything else."""
from __future__ import annotations

from typing import Any


from bot import cases as escalation_bot
from bot.messages.build import Action, text, uri
from bot.messages.resident import RESIDENT, SAFETY_ANSWERS, SAFETY_CALLS, SAFETY_TEXT

from bot.dialogue.states import IDLE
from bot.dialogue.core import Input, Turn, pb, _keep_reading, URGENT_CATEGORY_CONFIDENCE
from bot.dialogue import resident as resident_flow
from domain.settings import national_safety_numbers


# -- safety first (issue 10) ---------------------------------------------------------------------
SAFETY_CHECK = "safety_check"  # turn.data key: a suspected signal waiting for the resident's answer


def numbers_of(turn: Turn) -> dict[str, str]:
    """The deployment's safety numbers (BotSettings.safety_numbers, from Config)."""
    settings = turn.ctx.settings
    return settings.safety_numbers if settings is not None else national_safety_numbers()


def _tel(number: str) -> str:
    return "tel:" + number.replace("#", "%23").replace("-", "")


def safety_guidance(signal: str | None, level: str, numbers: dict[str, str],
                    extra: str = "") -> tuple[str, list[Action]]:
    """The family's guidance and its tel: buttons (an emergency is never answered with a resource)."""
    family = signal if signal in SAFETY_ANSWERS else ("medical" if level == "emergency" else "despair")
    lines = []
    for line, needs in SAFETY_ANSWERS[family]:
        # a key "-x" means: only when number x is not configured
        if any(bool(numbers.get(k[1:])) if k.startswith("-") else not numbers.get(k) for k in needs):
            continue
        lines.append(line.format(**numbers))
    if extra:
        lines.append(extra)
    calls: list[Action] = []
    for label, key in SAFETY_CALLS[family]:
        if numbers.get(key):
            calls.append(uri(label.format(n=numbers[key]), _tel(numbers[key])))
    return "\n".join(lines), calls


def safety_answer(signal: str | None, level: str, numbers: dict[str, str], extra: str = "") -> dict[str, Any]:
    body, calls = safety_guidance(signal, level, numbers, extra)
    return text(body, calls or None)


def safety_first(turn: Turn, inp: Input) -> bool:
    """Emergency or crisis signals get their family's answer before anything. Sure: an urgent
    case at once. Only suspected: the answer anyway, one question (はい/いいえ) and a 要確認
    case; いいえ continues with the need."""
    understood = turn.understand(inp.text)
    if understood.safety == "none":
        return False
    # The case keeps the need's category only when it is clearly read; otherwise it is shown as
    # 緊急 with the words (「夫が倒れて動かない」 is not スマホ・機器 because of 動かない).
    category = understood.category if understood.confidence >= URGENT_CATEGORY_CONFIDENCE else "other"
    _keep_reading(turn, understood)
    if understood.suspected:
        told = escalation_bot.escalate_safety(turn, inp.text, understood.safety, category,
                                              suspected=True)
        turn.data[SAFETY_CHECK] = {"words": inp.text[:4000], "level": understood.safety,
                                   "signal": understood.signal, "category": category,
                                   "need_id": turn.data.pop("safety_need_id", None)}
        ask = SAFETY_TEXT["ask_emergency" if understood.safety == "emergency" else "ask_crisis"]
        body, calls = safety_guidance(understood.signal, understood.safety, numbers_of(turn),
                                      SAFETY_TEXT["check_told"] if told else "")
        # the buttons sit under the last message only: the question carries the tel: ones too
        buttons = [pb(SAFETY_TEXT["yes"], "safe", "yes"), pb(SAFETY_TEXT["no"], "safe", "no"), *calls]
        turn.say(text(body), text(ask, buttons))
        return True
    told = escalation_bot.escalate_safety(turn, inp.text, understood.safety, category)
    turn.say(safety_answer(understood.signal, understood.safety, numbers_of(turn),
                           SAFETY_TEXT["coordinator_told"] if told else ""))
    return True


def on_safety_answer(turn: Turn, inp: Input) -> str:
    """The answer to 「いま命にかかわる状態ですか」/「だれかに危ないことをされていますか」."""
    pending = turn.data.pop(SAFETY_CHECK, None)
    if not pending:
        turn.say(text(RESIDENT["stale_button"]))
        return IDLE
    if (inp.args[0] if inp.args else "") == "yes":
        escalation_bot.escalate_safety(turn, pending["words"], pending["level"], pending.get("category") or "other",
                                       need_id=pending.get("need_id"))
        turn.say(safety_answer(pending.get("signal"), pending["level"], numbers_of(turn), SAFETY_TEXT["confirmed"]))
        return IDLE
    turn.say(text(SAFETY_TEXT["not_urgent"]))
    return resident_flow.on_idle_text(turn, Input("text", text=pending["words"]))


