"""The coordinator's own commands on LINE: 相談の一覧, 期限切れ, コンソールを開く.

They come from the coordinators' rich menu (postbacks ``v1|coord|list`` and ``v1|coord|overdue``)
or are typed. Only someone holding the coordinator role gets an answer; anyone else typing the
same words carries on as usual (a resident's 「相談の一覧」 is not a command for them).
"""
from __future__ import annotations

import unicodedata
from typing import Any

from bot.messages.build import Message, postback, shorten, text, uri
from bot.messages.coordinator import CONSOLE_WORDS, COORDINATOR, OPEN_CASES_WORDS, OVERDUE_WORDS
from bot.messages.postback import encode
from domain import cases
from domain.categories import label as category_label
from domain.labels import local_datetime_label
from domain.models import COORDINATOR as COORDINATOR_ROLE, Person
from domain.people import find_by_line_id
from domain.scope import scope_of

VERB = "coord"
SHOWN = 10  # cases listed in one message; the console has the rest


def _words(message: str) -> str:
    return "".join(unicodedata.normalize("NFKC", message or "").split())


def handle_text(ctx: Any, person: Person | None, message: str) -> str | None:
    """Answer a coordinator's typed command; None when the text is not one (or not a coordinator)."""
    if person is None or not person.has_role(COORDINATOR_ROLE):
        return None
    words = _words(message)
    if words in OPEN_CASES_WORDS:
        return _cases(ctx, person, overdue=False)
    if words in OVERDUE_WORDS:
        return _cases(ctx, person, overdue=True)
    if words in CONSOLE_WORDS:
        return _console(ctx)
    return None


def on_coordinator_postback(ctx: Any, args: list[str]) -> str:
    person = find_by_line_id(ctx.session, ctx.user_id) if ctx.user_id else None
    if person is None or not person.has_role(COORDINATOR_ROLE):
        ctx.reply(text(COORDINATOR["not_coordinator"]))
        return "coord:refused"
    action = args[0] if args else ""
    if action == "overdue":
        return _cases(ctx, person, overdue=True)
    if action == "console":
        return _console(ctx)
    return _cases(ctx, person, overdue=False)


def _cases(ctx: Any, person: Person, overdue: bool) -> str:
    scope = scope_of(ctx.session, person)
    if overdue:
        rows = cases.list_cases(ctx.session, scope, cases.CaseFilters(overdue=True), ctx.now).rows
    else:
        rows = cases.my_open_cases(ctx.session, scope, person, ctx.now)
    ctx.reply(cases_message(rows, ctx.now, overdue, getattr(ctx, "console_url", None)))
    return "coord:overdue" if overdue else "coord:list"


def cases_message(rows: list[cases.CaseRow], now, overdue: bool, console_url: str | None) -> Message:
    if not rows:
        return text(COORDINATOR["overdue_none" if overdue else "open_cases_none"])
    lines = [COORDINATOR["overdue_intro" if overdue else "open_cases_intro"].format(count=len(rows))]
    for n, row in enumerate(rows[:SHOWN], start=1):
        lines.append(COORDINATOR["case_line"].format(
            n=n, category=category_label(row.category), area=row.district, due=local_datetime_label(row.deadline),
            flag=COORDINATOR["overdue_flag"] if row.overdue else ""))
        if row.words:
            lines.append("　" + shorten(row.words, 40))
    buttons = [postback(shorten(f"{n}. {category_label(row.category)}", 20), encode("esc", "card", row.id))
               for n, row in enumerate(rows[:SHOWN], start=1)]
    if console_url:
        buttons.append(uri(COORDINATOR["console_link"], console_url.rstrip("/") + "/"))
    return text("\n".join(lines), buttons[:13])


def _console(ctx: Any) -> str:
    url = getattr(ctx, "console_url", None)
    if not url:
        ctx.reply(text(COORDINATOR["console_not_set"]))
    else:
        ctx.reply(text(COORDINATOR["console_link"] + "\n" + url.rstrip("/") + "/",
                       [uri(COORDINATOR["console_link"], url.rstrip("/") + "/")]))
    return "coord:console"
