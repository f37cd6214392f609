"""What every flow of the dialogue shares: the input, the turn, buttons, the menu and consent prompts."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

import structlog
from sqlalchemy.orm import Session

from bot import notify, postbacks
from domain.clock import TOKYO
from domain import readings
from domain.categories import CATEGORIES, CATEGORY_CODES
from domain.models import Match, Need, Person
from domain.understanding import understand
from bot.messages.build import Action, postback, text
from bot.messages.resident import RESIDENT

from bot.dialogue.states import IDLE

log = structlog.get_logger("bot.dialogue")



MENU_WORDS = {"メニュー", "めにゅー", "menu", "最初", "はじめ", "もどる", "戻る"}
DELETE_WORDS = {"わたしのデータを消す", "私のデータを消す", "データを消す", "データを消して", "退会"}
SHOW_DATA_WORDS = {"わたしのデータを見る", "私のデータを見る", "わたしのでーたをみる", "データを見る", "データを見せて"}
POLICY_WORDS = {"プライバシー", "ぷらいばしー", "個人情報", "プライバシーポリシー"}
PERSON_WORDS = {"人に相談したい", "ひとにそうだんしたい", "人と話したい"}
USAGE_WORDS = {"使い方", "つかいかた", "ヘルプ", "help"}
SHOWN_WORDS = 60  # the resident's words are shortened to this in restatements
URGENT_CATEGORY_CONFIDENCE = 0.6  # below this an urgent case is filed as 緊急, not as a category


@dataclass
class Input:
    kind: str  # text | postback | location
    text: str = ""
    verb: str = ""
    args: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None

    @property
    def key(self) -> str:
        return f"pb:{self.verb}" if self.kind == "postback" else self.kind


@dataclass
class Turn:
    """One input from one person: the event context, the person, and the dialogue so far."""

    ctx: Any  # handlers.EventContext
    person: Person
    data: dict[str, Any]
    state: str = ""  # the state this input arrived in (set by conversation.step)
    _understood: tuple[str, Any] | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        return self.ctx.session

    @property
    def now(self):
        return self.ctx.now

    def say(self, *messages: dict[str, Any]) -> None:
        self.ctx.reply(*messages)

    def understand(self, text_: str):
        """What the text means (computed once per turn: safety and the need both ask)."""
        if self._understood is None or self._understood[0] != text_:
            self._understood = (text_, understand(text_, self.now.astimezone(TOKYO).date()))
        return self._understood[1]

    def arg_int(self, inp: Input, index: int) -> int | None:
        try:
            return int(inp.args[index])
        except (IndexError, ValueError):
            return None


Handler = Callable[[Turn, Input], str]

# Below this the reader's category is a guess: the person is asked which need it is, and a
# word typed where the bot asked for something else (an area) is not taken for a need.
NEED_CONFIDENCE = 0.3


def names_a_need(understood) -> bool:
    return understood.category != "other" and understood.confidence >= NEED_CONFIDENCE


# -- small pieces --------------------------------------------------------------------------------
def pb(label: str, verb: str, *args: object, display: str | None = None) -> Action:
    return postback(label, postbacks.encode(verb, *args), display_text=display)


def menu_message(person: Person, lead: str | None = None) -> dict[str, Any]:
    items = [pb(RESIDENT["menu_ask"], "menu", "ask"), pb(RESIDENT["menu_help"], "menu", "help"),
             pb(RESIDENT["menu_info"], "menu", "info"), pb(RESIDENT["menu_person"], "menu", "person"),
             pb(RESIDENT["menu_mine"], "menu", "mine"), pb(RESIDENT["menu_usage"], "menu", "usage")]
    if not person.consented:
        items.insert(0, pb(RESIDENT["consent_yes"], "consent", "yes"))
    return text(lead or RESIDENT["menu"], items)


def consent_message(settings: Any = None) -> dict[str, Any]:
    """The privacy notice with 同意する / 同意しない; the full policy's link when it is served."""
    url = getattr(settings, "privacy_url", "") if settings is not None else ""
    body = RESIDENT["privacy_notice"] + ("\n" + RESIDENT["privacy_link"].format(url=url) if url else "")
    return text(body, [pb(RESIDENT["consent_yes"], "consent", "yes"),
                       pb(RESIDENT["consent_no"], "consent", "no")])


def category_buttons() -> list[Action]:
    codes = [c for c in CATEGORY_CODES if c != "other"]
    return [pb(CATEGORIES[c].short, "cat", c) for c in codes][:13]


def when_buttons() -> list[Action]:
    labels = {"today": RESIDENT["when_today"], "tomorrow": RESIDENT["when_tomorrow"],
              "this_week": RESIDENT["when_this_week"], "next_week": RESIDENT["when_next_week"],
              "any": RESIDENT["when_any"]}
    return [pb(label, "when", code) for code, label in labels.items()]


area_name = notify.area_name


def normalise_command(value: str) -> str:
    return re.sub(r"[\s　。、！!？?]", "", unicodedata.normalize("NFKC", value)).lower()


def _need_of(turn: Turn, need_id: int | None) -> Need | None:
    """The need named by a postback, only if it is this person's own."""
    if need_id is None:
        return None
    need = turn.session.get(Need, need_id)
    if need is None or need.person_id != turn.person.id:
        log.warning("postback.refused", reason="need_not_own", person_id=turn.person.id, need_id=need_id)
        return None
    return need


def _match_of(turn: Turn, match_id: int | None) -> Match | None:
    """The match named by a postback, only if this person is its volunteer."""
    if match_id is None:
        return None
    match = turn.session.get(Match, match_id)
    if match is None or match.volunteer_id != turn.person.id:
        log.warning("postback.refused", reason="match_not_own", person_id=turn.person.id, match_id=match_id)
        return None
    return match


# -- menu and consent ----------------------------------------------------------------------------
def show_menu(turn: Turn, inp: Input | None = None, lead: str | None = None) -> str:
    turn.data.clear()
    turn.say(menu_message(turn.person, lead))
    return IDLE


def needs_consent(turn: Turn) -> bool:
    if turn.person.consented:
        return False
    turn.say(text(RESIDENT["consent_needed"]), consent_message(turn.ctx.settings))
    return True


def _keep_reading(turn: Turn, understood):
    """What the reader made of the message, for the coordinators' review (domain.readings)."""
    return readings.record(turn.session, person=turn.person, words=understood.text, category=understood.category,
                           safety=understood.safety, confidence=understood.confidence, now=turn.now,
                           signals=understood.safety_signals)


