"""Council meetings on LINE: answers (出席/欠席/未定, 書面: 意見), my meetings, the tally.

Postbacks (``v1|mtg|…``, built in messages/council.py):
  ans|<meeting_id>|<choice>   answer; only a member of that meeting, only before it starts
  mine                        the member's upcoming meetings with answer buttons (from a digest)
  list                        「会議の予定」: meetings I organise or attend; organisers get 回答を見る
  tally|<meeting_id>          the answers so far; only the organiser or the area's coordinator
Nothing in the data is trusted: every id is checked against the person pressing the button.

Text: handle_text(ctx, person, text) answers 「会議の予定」 and takes the opinion after 意見を送る; the
text-message handler calls it first and carries on when it returns None.
"""
from __future__ import annotations

import unicodedata

from domain import meetings as mtg
from domain.models import COORDINATOR, Person
from domain.people import can_see_area, find_by_line_id
from bot.messages import council
from bot.messages.build import text

# What a coordinator or member types to see their meetings (after NFKC, spaces removed).
LIST_WORDS = frozenset({"会議の予定", "会議", "かいぎ", "かいぎのよてい", "協議体", "きょうぎたい",
                        "会議予定", "協議体の予定"})


def _person(ctx) -> Person | None:
    return find_by_line_id(ctx.session, ctx.user_id) if ctx.user_id else None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


def _refuse(ctx, key: str, outcome: str) -> str:
    ctx.reply(text(council.COUNCIL[key]))
    return outcome


def on_meeting_postback(ctx, args: list[str]) -> str:
    action, rest = (args[0], args[1:]) if args else ("", [])
    handler = {"ans": _answer, "mine": _mine, "list": _list, "tally": _tally}.get(action)
    if handler is None:
        return _refuse(ctx, "refuse_unknown", "mtg:unknown")
    return handler(ctx, rest)


def _answer(ctx, args: list[str]) -> str:
    meeting_id = _int(args[0]) if len(args) == 2 else None
    choice = args[1] if len(args) == 2 else ""
    person = _person(ctx)
    if meeting_id is None or person is None or choice not in mtg.CHOICES:
        return _refuse(ctx, "refuse_not_member", "mtg:ans:refused")
    previous = mtg.answer_of(ctx.session, meeting_id, person.id)
    previous_choice = previous.choice if previous else None
    try:
        mtg.record_answer(ctx.session, meeting_id, person.id, choice, ctx.now)
    except mtg.NotAMember:
        return _refuse(ctx, "refuse_not_member", "mtg:ans:not_member")
    except mtg.MeetingCancelled:
        return _refuse(ctx, "refuse_cancelled", "mtg:ans:cancelled")
    except mtg.AnswersClosed:
        return _refuse(ctx, "refuse_closed", "mtg:ans:closed")
    except mtg.MeetingError:
        return _refuse(ctx, "refuse_unknown", "mtg:ans:invalid")
    meeting = mtg.get_meeting(ctx.session, meeting_id)
    ctx.reply(*council.answer_ack(meeting, choice, previous_choice))
    return f"mtg:ans:{choice}"


def _entries(ctx, person: Person, members_only: bool):
    entries = []
    for meeting, is_member, is_organiser in mtg.upcoming_for_person(ctx.session, person.id, ctx.now):
        if members_only and not is_member:
            continue
        answer = mtg.answer_of(ctx.session, meeting.id, person.id) if is_member else None
        entries.append((meeting, is_member, is_organiser, answer.choice if answer else None))
    return entries


def _mine(ctx, _args: list[str]) -> str:
    person = _person(ctx)
    entries = _entries(ctx, person, members_only=True) if person else []
    ctx.reply(*council.meeting_list_messages(entries, ctx.now, intro_key="mine_intro"))
    return "mtg:mine"


def _list(ctx, _args: list[str]) -> str:
    person = _person(ctx)
    entries = _entries(ctx, person, members_only=False) if person else []
    ctx.reply(*council.meeting_list_messages(entries, ctx.now))
    return "mtg:list"


def may_see_answers(session, person: Person, meeting) -> bool:
    """The organiser, or a coordinator whose area covers the meeting's area."""
    if meeting.organiser_id == person.id:
        return True
    return person.has_role(COORDINATOR) and can_see_area(session, person, meeting.area_id)


def _tally(ctx, args: list[str]) -> str:
    meeting_id = _int(args[0]) if args else None
    person = _person(ctx)
    meeting = ctx.session.get(mtg.Meeting, meeting_id) if meeting_id is not None else None
    if person is None or meeting is None or not may_see_answers(ctx.session, person, meeting):
        return _refuse(ctx, "refuse_not_allowed", "mtg:tally:refused")
    ctx.reply(*council.tally_messages(mtg.tally(ctx.session, meeting)))
    return "mtg:tally"


def handle_text(ctx, person: Person | None, message: str) -> str | None:
    """「会議の予定」, or the opinion after 意見を送る; None when the text is not for meetings.
    ``person``: the writer, as the dialogue already found them."""
    words = "".join(unicodedata.normalize("NFKC", message or "").split())
    if words in LIST_WORDS or words.rstrip("はをがー？?") in LIST_WORDS:
        return _list(ctx, [])
    if person is None:
        return None
    answer = mtg.take_opinion_text(ctx.session, person.id, message, ctx.now)
    if answer is None:
        return None
    meeting = mtg.get_meeting(ctx.session, answer.meeting_id)
    ctx.reply(text(council.COUNCIL["opinion_saved"].format(title=meeting.title)))
    return "mtg:opinion"
