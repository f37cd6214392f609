"""The conversation as declared (bot/dialogue/conversation.py), read as a graph; and conversations
stored by the version before named area states, carried over on load."""
from __future__ import annotations

import ast
import inspect
import json
import textwrap
import types

import pytest
from sqlalchemy import select

from bot.dialogue import conversation
from bot.dialogue.states import (AREA_FIX, AREA_FOR_NEED, AREA_HOME, AREA_INFO, IDLE, NEED_CATEGORY,
                                 NEED_CONFIRM, upgrade)
from bot.state import Conversation
from domain.models import Area, Person
from tests.bot.conftest import last
from tests.dialogue.conftest import consented_resident

STATES = set(conversation.STATES)


def _resolve(node: ast.AST, names: dict):
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, names)
        return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
    return None


def returned_states(fn, seen: set | None = None) -> set[str]:
    """The states a handler may return: the state names in its `return`s and in those of the
    bot functions it calls or names, read from their source."""
    seen = set() if seen is None else seen
    if not isinstance(fn, types.FunctionType) or fn in seen or not fn.__module__.startswith("bot."):
        return set()
    seen.add(fn)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            for part in ast.walk(node.value):
                value = _resolve(part, fn.__globals__)
                if isinstance(value, str) and value in STATES:
                    found.add(value)
        if isinstance(node, (ast.Name, ast.Attribute)):  # called, or kept to be called (a dict of steps)
            found |= returned_states(_resolve(node, fn.__globals__), seen)
    return found


def handlers_in(state: str) -> list:
    """Every handler an input can reach in this state, as the conversation declares them."""
    handlers = [*conversation.STATES[state].values(), *conversation.ANYWHERE.values(),
                *conversation.FALLBACK.values()]
    if state not in conversation.WRITING:
        handlers += [conversation.safety.safety_first, *(h for _words, h in conversation.COMMANDS)]
    return handlers


def graph() -> dict[str, set[str]]:
    edges = {}
    for state in STATES:
        nxt = set().union(*(returned_states(h) for h in handlers_in(state)))
        if state not in conversation.WRITING:
            nxt.add(IDLE)  # safety_first answers and leaves the conversation at the entry
        edges[state] = nxt
    return edges


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_reader_sees_the_transitions_of_the_flows():
    edges = graph()
    assert {AREA_HOME, AREA_FOR_NEED, AREA_INFO} <= edges[IDLE]
    assert AREA_FIX in edges[NEED_CONFIRM] and NEED_CATEGORY in edges[AREA_FOR_NEED]
    assert "esc.note" in edges[IDLE]  # a coordinator's 「メモを書く」 on a case card


def test_every_state_is_reachable_from_the_entry_and_has_a_way_out():
    edges = graph()
    assert conversation.ENTRY in STATES
    assert reachable(edges, conversation.ENTRY) == STATES
    for state in STATES:
        assert edges[state] - {state}, f"{state} has no way out"
        assert conversation.ENTRY in reachable(edges, state), f"{state} never gets back to the start"


def test_every_postback_verb_is_declared_once():
    own = {key for handlers in conversation.STATES.values() for key in handlers if key.startswith("pb:")}
    anywhere = set(conversation.ANYWHERE)
    context = {f"pb:{verb}" for verb in conversation.CONTEXT_VERBS}
    assert not (own & anywhere) and not (own & context) and not (anywhere & context)


@pytest.mark.parametrize("stored, expected", [
    (("area", {"area_purpose": "home", "after_area": "need", "pending_words": "買い物"}),
     (AREA_FOR_NEED, {"pending_words": "買い物"})),
    (("area", {"area_purpose": "home", "after_area": "menu"}), (AREA_HOME, {})),
    (("area", {"after_area": "menu"}), (AREA_HOME, {})),
    (("area", {"area_purpose": "fix", "draft": {"words": "x"}}), (AREA_FIX, {"draft": {"words": "x"}})),
    (("area", {"area_purpose": "info"}), (AREA_INFO, {})),
    (("area", {"area_purpose": "info.meals"}), (AREA_INFO, {"info_category": "meals"})),
    (("need.confirm", {"after_area": "menu", "draft": {"words": "x"}}), ("need.confirm", {"draft": {"words": "x"}})),
    ((AREA_FOR_NEED, {"pending_words": "買い物"}), (AREA_FOR_NEED, {"pending_words": "買い物"})),
    ((IDLE, {}), (IDLE, {})),
])
def test_old_state_names_and_flags_are_translated_on_load(stored, expected):
    assert upgrade(*stored) == expected


def test_a_conversation_stored_by_the_old_version_continues_after_the_upgrade(stack, city):
    """Asked for the area before a need (old: state "area" + after_area=need + pending_words):
    the district typed after the upgrade files the waiting words, as before."""
    user = consented_resident(stack)
    with stack.sessions() as session:
        convo = session.get(Conversation, user)
        convo.state = "area"
        convo.data = json.dumps({"area_purpose": "home", "after_area": "need",
                                 "pending_words": "買い物に行けないので手伝ってほしい"}, ensure_ascii=False)
        session.commit()
    stack.sim.send_text(user, "日和田")
    stack.settle()
    with stack.sessions() as session:
        person = session.scalars(select(Person).where(Person.line_user_id == user)).one()
        assert session.get(Area, person.area_id).code == "hiwada"
        stored = session.get(Conversation, user)
        assert stored.state in (NEED_CONFIRM, NEED_CATEGORY, "need.when")
        assert "買い物に行けない" in json.loads(stored.data)["draft"]["words"]
    assert "日和田" in last(stack, user)["text"] or "買い物" in last(stack, user)["text"]
