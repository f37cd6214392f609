"""What the bot says to council (協議体) members and organisers, and the builders of meeting
cards, reminders, notices and tallies. All Japanese text for meetings is here.

Builders take meeting objects (anything with the Meeting attributes) and `now`, and return
LINE message dicts checked by messages.build. Postback data: ``v1|mtg|<action>|…`` (see
sasaeai/bot/meetings.py, which handles them and never trusts them).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Sequence

from domain.jp_calendar import weekday_name
from domain.clock import TOKYO
from bot.messages.build import Message, flex, postback, shorten, text, uri

VERB = "mtg"

COUNCIL = {
    # answers
    "attend": "出席",
    "absent": "欠席",
    "undecided": "未定",
    "opinion": "意見を送る",
    "none": "意見なし",
    "attend_display": "出席します",
    "absent_display": "欠席します",
    "undecided_display": "まだ分かりません",
    "opinion_display": "意見を送ります",
    "none_display": "意見はありません",
    "ack_attend": "「出席」で承りました。ありがとうございます。\n{when}、お待ちしております。",
    "ack_absent": "「欠席」で承りました。お知らせありがとうございます。",
    "ack_undecided": "「未定」で承りました。決まりましたら、もう一度ボタンを押してください。",
    "ack_opinion": "ご意見を、このトークに文字で送ってください（30分以内）。\n送っていただいた文章を、そのまま主催者にお届けします。",
    "ack_none": "「意見なし」で承りました。ありがとうございます。",
    "ack_changed": "（前の回答「{old}」から変更しました）",
    "opinion_saved": "ご意見を受け付けました。ありがとうございます。\n「{title}」の主催者にお届けします。",
    "refuse_not_member": "申し訳ありません。この会議の委員として登録されていないため、回答できません。\nお心当たりがない場合は、社会福祉協議会にお問い合わせください。",
    "refuse_closed": "申し訳ありません。この会議の回答の受付は終わりました。\n変更がある場合は、主催者に直接ご連絡ください。",
    "refuse_cancelled": "この会議は中止になりました。ご回答は不要です。",
    "refuse_not_allowed": "申し訳ありません。この会議の回答状況は、主催者と担当のコーディネーターだけが見られます。",
    "refuse_unknown": "このボタンは使えなくなりました。「会議の予定」と送ると、最新の予定をお見せします。",
    # lists
    "none_upcoming": "これからの協議体の会議の予定はありません。",
    "list_intro": "これからの会議の予定です（{n}件）。",
    "mine_intro": "あなたが委員の、これからの会議です。出欠をボタンでお知らせください。",
    "see_answers": "回答を見る",
    "your_answer": "あなたの回答：{answer}",
    "not_answered": "まだ回答していません",
    "organiser_badge": "主催",
    # reminders and notices
    "reminder_heading": "協議体の会議のお知らせ",
    "reminder_heading_days": "協議体の会議のお知らせ（{rel}）",
    "reminder_ask": "出欠をボタンでお知らせください。",
    "reminder_ask_written": "書面開催です。{deadline}までに、ご意見をお寄せください。",
    "digest": "{rel}{day}に、あなたが委員の協議体の会議があります。\n場所や出欠の回答は「確認する」を押してご覧ください。",
    "digest_button": "確認する",
    "digest_alt": "協議体の会議のお知らせ：{day}",
    "change_heading": "【変更】会議の{what}が変わりました",
    "change_ask": "ご都合が変わる場合は、もう一度出欠をお知らせください。",
    "cancel": "【中止】次の会議は中止になりました。\n\n{title}\n{when}{reason}\n\nご予定を空けていただいた方には申し訳ありません。",
    "cancel_reason": "\n理由：{reason}",
    "holiday": "【ご確認ください】次の会議は祝日（{name}）です。\n\n{title}\n{when}\n\n会場の予約や委員のご都合をご確認ください。日程を変える場合は「sasaeai meetings change {id} --start …」で変更できます。",
    "tally_heading": "【回答状況】{title}",
    "tally_none": "なし",
    "tally_unanswered": "未回答",
    "tally_unreachable": "届かない（ブロック中・LINE未登録）",
    "tally_footer": "届かない方には、お電話などでお知らせください。",
    "minutes": "【会議録のお願い】{title}（{day}）から{days}日たちました。\n会議録と活動内容報告書の記録をお願いします。第2層協議体の報告は第1層協議体に上げられます。\n\n記録がすんだら「sasaeai meetings minutes {id}」（またはコンソール）で記録済みにしてください。このお知らせは止まります。",
}

MODE_LABEL = {"in_person": "対面", "online": "オンライン", "hybrid": "ハイブリッド（会場とオンライン）",
              "written": "書面開催"}
FIELD_LABEL = {"starts_at": "日時", "ends_at": "終了時刻", "place": "場所", "mode": "開催方法",
               "url": "参加URL", "reply_deadline": "回答期限"}


# -- postback data (kept here so the scheduler never imports the bot) --------------------------
def data(action: str, *args: object) -> str:
    return "|".join(["v1", VERB, action, *(str(a) for a in args)])


def answer_data(meeting_id: int, choice: str) -> str:
    return data("ans", meeting_id, choice)


# -- formatting ------------------------------------------------------------------------------
def _local(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


def day_text(day: date) -> str:
    return f"{day.month}月{day.day}日（{weekday_name(day)}）"


def when_text(meeting: Any, with_year: bool = True) -> str:
    start, end = _local(meeting.starts_at), _local(meeting.ends_at)
    head = f"{start.year}年" if with_year else ""
    head += f"{day_text(start.date())}{start:%H:%M}"
    if end.date() == start.date():
        return f"{head}〜{end:%H:%M}"
    return f"{head}〜{day_text(end.date())}{end:%H:%M}"


def deadline_text(moment: datetime) -> str:
    local = _local(moment)
    return f"{day_text(local.date())}{local:%H:%M}"


def relative_day(day: date, now: datetime) -> str:
    delta = (day - _local(now).date()).days
    return {0: "きょう", 1: "あす", 2: "あさって"}.get(delta, f"{delta}日後" if 0 < delta <= 14 else "")


def choice_label(choice: str | None) -> str:
    return COUNCIL.get(choice or "", COUNCIL["not_answered"])


# -- the meeting card (a Flex bubble) ----------------------------------------------------------
def _row(label: str, value: str) -> dict[str, Any]:
    return {"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        {"type": "text", "text": label, "size": "sm", "color": "#777777", "flex": 2},
        {"type": "text", "text": shorten(value or "—", 400), "size": "md", "wrap": True, "flex": 7},
    ]}


def _button(action: dict[str, Any], primary: bool = False) -> dict[str, Any]:
    return {"type": "button", "style": "primary" if primary else "secondary", "height": "sm",
            "action": action}


def answer_buttons(meeting: Any) -> list[dict[str, Any]]:
    choices = ("opinion", "none") if meeting.mode == "written" else ("attend", "absent", "undecided")
    return [_button(postback(COUNCIL[c], answer_data(meeting.id, c), COUNCIL[f"{c}_display"]),
                    primary=i == 0) for i, c in enumerate(choices)]


def meeting_bubble(meeting: Any, now: datetime, *, heading: str, lines: Sequence[str] = (),
                   answers: bool = False, tally_button: bool = False,
                   show_answer: bool = False, current_answer: str | None = None,
                   agenda: Sequence[str] = ()) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "text", "text": shorten(meeting.title, 200), "weight": "bold", "size": "lg", "wrap": True},
        _row("日時", when_text(meeting)),
    ]
    if meeting.mode != "online":
        body.append(_row("場所", meeting.place))
    body.append(_row("方法", MODE_LABEL.get(meeting.mode, meeting.mode)))
    if meeting.mode == "written" and meeting.reply_deadline is not None:
        body.append(_row("期限", deadline_text(meeting.reply_deadline)))
    if agenda:
        body.append(_row("議題", "\n".join(f"・{shorten(a, 60)}" for a in agenda[:6])))
    for line in lines:
        body.append({"type": "text", "text": shorten(line, 500), "size": "sm", "wrap": True,
                     "color": "#444444"})
    if show_answer:
        body.append({"type": "text", "size": "sm", "color": "#1f6f43", "wrap": True,
                     "text": COUNCIL["your_answer"].format(answer=choice_label(current_answer))})
    footer: list[dict[str, Any]] = []
    if answers:
        buttons = answer_buttons(meeting)
        footer.append({"type": "box", "layout": "horizontal", "spacing": "sm", "contents": buttons})
    if meeting.url and meeting.mode in ("online", "hybrid"):
        footer.append(_button(uri("参加URLを開く", meeting.url)))
    if tally_button:
        footer.append(_button(postback(COUNCIL["see_answers"], data("tally", meeting.id))))
    bubble: dict[str, Any] = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": shorten(heading, 100), "weight": "bold", "color": "#1f6f43",
             "size": "sm", "wrap": True}]},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if footer:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}
    return bubble


def _agenda(meeting: Any) -> list[str]:
    return [item.title for item in getattr(meeting, "agenda", []) or []]


# -- reminders -------------------------------------------------------------------------------
def reminder_messages(meeting: Any, now: datetime, custom_text: str = "") -> list[Message]:
    """A members' reminder: the meeting card with answer buttons (and the organiser's text)."""
    rel = relative_day(_local(meeting.starts_at).date(), now)
    heading = (COUNCIL["reminder_heading_days"].format(rel=rel) if rel else COUNCIL["reminder_heading"])
    ask = (COUNCIL["reminder_ask_written"].format(deadline=deadline_text(meeting.reply_deadline))
           if meeting.mode == "written" and meeting.reply_deadline else COUNCIL["reminder_ask"])
    bubble = meeting_bubble(meeting, now, heading=heading, lines=[ask], answers=True,
                            agenda=_agenda(meeting))
    out: list[Message] = []
    if custom_text:
        out.append(text(custom_text))
    out.append(flex(f"{heading}：{meeting.title} {when_text(meeting, with_year=False)}", bubble))
    return out


def digest_messages(day: date, now: datetime) -> list[Message]:
    """One identical message for the members of many meetings on one day (see scheduler.jobs)."""
    rel = relative_day(day, now)
    body = COUNCIL["digest"].format(rel=f"{rel}、" if rel else "", day=day_text(day))
    bubble = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
            {"type": "text", "text": COUNCIL["reminder_heading"], "weight": "bold",
             "color": "#1f6f43", "size": "sm"},
            {"type": "text", "text": body, "wrap": True, "size": "md"}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            _button(postback(COUNCIL["digest_button"], data("mine")), primary=True)]},
    }
    return [flex(COUNCIL["digest_alt"].format(day=day_text(day)), bubble)]


def _show(field: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if field in ("starts_at", "ends_at", "reply_deadline"):
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        local = _local(moment)
        return f"{local.year}年{day_text(local.date())}{local:%H:%M}"
    if field == "mode":
        return MODE_LABEL.get(value, value)
    return str(value)


def change_messages(meeting: Any, detail_json: str, now: datetime) -> list[Message]:
    detail = json.loads(detail_json or "{}")
    what = "・".join(FIELD_LABEL.get(k, k) for k in detail if k != "ends_at" or "starts_at" not in detail)
    lines = [f"{FIELD_LABEL.get(k, k)}：{_show(k, old)} → {_show(k, new)}"
             for k, (old, new) in detail.items() if k != "ends_at" or "starts_at" not in detail]
    heading = COUNCIL["change_heading"].format(what=what or "内容")
    bubble = meeting_bubble(meeting, now, heading=heading, lines=[*lines, COUNCIL["change_ask"]],
                            answers=True, agenda=_agenda(meeting))
    return [flex(f"{heading}：{meeting.title}", bubble)]


def cancel_messages(meeting: Any, reason: str) -> list[Message]:
    return [text(COUNCIL["cancel"].format(
        title=meeting.title, when=when_text(meeting),
        reason=COUNCIL["cancel_reason"].format(reason=reason) if reason else ""))]


def holiday_messages(meeting: Any, name: str) -> list[Message]:
    return [text(COUNCIL["holiday"].format(name=name, title=meeting.title, when=when_text(meeting),
                                           id=meeting.id))]


def minutes_messages(meeting: Any, days: int) -> list[Message]:
    return [text(COUNCIL["minutes"].format(title=meeting.title, id=meeting.id, days=days,
                                           day=day_text(_local(meeting.starts_at).date())))]


def tally_text(tally: Any) -> str:
    meeting = tally.meeting
    lines = [COUNCIL["tally_heading"].format(title=meeting.title), when_text(meeting), ""]
    for choice, members in tally.by_choice.items():
        names = "、".join(m.name for m in members) or COUNCIL["tally_none"]
        lines.append(f"{choice_label(choice)} {len(members)}名：{names}")
        if choice == "opinion":
            lines.extend(f"　・{m.name}：{shorten(m.note, 200)}" for m in members if m.note)
    lines.append(f"{COUNCIL['tally_unanswered']} {len(tally.unanswered)}名："
                 + ("、".join(m.name for m in tally.unanswered) or COUNCIL["tally_none"]))
    if tally.unreachable:
        lines.append(f"{COUNCIL['tally_unreachable']} {len(tally.unreachable)}名："
                     + "、".join(m.name for m in tally.unreachable))
        lines.append("")
        lines.append(COUNCIL["tally_footer"])
    return "\n".join(lines)


def tally_messages(tally: Any) -> list[Message]:
    return [text(tally_text(tally))]


# -- replies to members --------------------------------------------------------------------------
def answer_ack(meeting: Any, choice: str, previous: str | None) -> list[Message]:
    body = COUNCIL[f"ack_{choice}"].format(when=when_text(meeting, with_year=False))
    if previous and previous != choice:
        body += "\n" + COUNCIL["ack_changed"].format(old=choice_label(previous))
    return [text(body)]


def meeting_list_messages(entries: Sequence[tuple[Any, bool, bool, str | None]], now: datetime,
                          intro_key: str = "list_intro") -> list[Message]:
    """A carousel of upcoming meetings: (meeting, is_member, can_see_answers, my answer)."""
    if not entries:
        return [text(COUNCIL["none_upcoming"])]
    bubbles = []
    for meeting, is_member, can_tally, answer in entries[:10]:
        rel = relative_day(_local(meeting.starts_at).date(), now)
        heading = ("【" + COUNCIL["organiser_badge"] + "】" if can_tally else "") + (
            f"{rel}の会議" if rel else "会議の予定")
        bubbles.append(meeting_bubble(meeting, now, heading=heading, answers=is_member,
                                      show_answer=is_member, current_answer=answer,
                                      tally_button=can_tally, agenda=_agenda(meeting)))
    intro = COUNCIL[intro_key].format(n=len(bubbles))
    return [text(intro), flex(intro, {"type": "carousel", "contents": bubbles})]
