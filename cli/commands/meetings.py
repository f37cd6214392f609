"""`sasaeai meetings`: council (協議体) meetings — create, list, change, cancel, answers, minutes.

Times are typed in Asia/Tokyo ("2026-12-16 14:00"). Members and organisers are LINE user ids
(U…) or person ids (digits). Notices (change, cancellation, holiday) and reminders are sent by
the `sasaeai scheduler` process within a minute, through the outbox.
"""
from __future__ import annotations

import argparse
import functools
import sys
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from bot.messages.council import MODE_LABEL, day_text, tally_text, when_text
from cli.commands._common import table, unit_of_work
from domain import meetings as mtg
from domain.areas import by_code
from domain.clock import TOKYO, SystemClock
from domain.meetings import ReminderSpec
from domain.models import Area, Person
from domain.people import find_by_line_id


def _parse_local(value: str) -> datetime:
    text = value.strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=TOKYO)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"日時は「2026-12-16 14:00」の形で書いてください: {value!r}")


def _reminders(value: str):
    """'7@09:00,1@09:00' → ReminderSpecs (days before @ local time)."""
    specs = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        days, _, at = part.partition("@")
        hour, _, minute = (at or "09:00").partition(":")
        try:
            specs.append(ReminderSpec(int(days), time(int(hour), int(minute or 0))))
        except ValueError:
            raise argparse.ArgumentTypeError(f"リマインダーは「7@09:00,1@09:00」の形で: {value!r}") from None
    return specs


def _person(session, token: str):
    token = token.strip()
    person = session.get(Person, int(token)) if token.isdigit() else find_by_line_id(session, token)
    if person is None:
        raise SystemExit(f"見つかりません: {token}（LINEユーザーID U… か、人のID）")
    return person


def _end_of(start: datetime, value: str | None, minutes: int) -> datetime:
    start = start.astimezone(TOKYO)
    if not value:
        return start + timedelta(minutes=minutes)
    if len(value) <= 5 and ":" in value:
        hour, minute = value.split(":")
        return start.replace(hour=int(hour), minute=int(minute))
    return _parse_local(value)


def _print_warnings(warnings) -> None:
    for w in warnings:
        print(f"⚠ 会議 {w.meeting_id}: {w.day.year}年{day_text(w.day)} は祝日（{w.name}）です。"
              "主催者にLINEでもお知らせします。")


def _now() -> datetime:
    return SystemClock().now()


def run_create(args) -> int:
    now = _now()
    with unit_of_work() as session:
        area = by_code(session, args.area)
        if area is None:
            raise SystemExit(f"地区コードが見つかりません: {args.area}")
        organiser = _person(session, args.organiser) if args.organiser else None
        members = [_person(session, t).id for t in (args.members or "").split(",") if t.strip()]
        common = dict(layer=args.layer, area_id=area.id, title=args.title, now=now,
                      place=args.place, mode=args.mode, url=args.url or "",
                      organiser_id=organiser.id if organiser else None, member_ids=members)
        if args.repeat:
            result = mtg.create_series(session, rule=args.repeat, starts_on=args.start.date(),
                                       count=args.count, until=args.until,
                                       duration_minutes=args.minutes, **common)
            print(f"繰り返し {result.series.id}（{result.series.rule}）: 会議を{len(result.created)}件作りました")
            for meeting in result.created:
                print(f"  {meeting.id}\t{when_text(meeting)}")
            _print_warnings(result.warnings)
            return 0
        start = args.start
        reminders = args.remind
        if args.remind_text:
            reminders = [mtg.ReminderSpec(r.days_before, r.at, args.remind_text) for r in
                         (reminders or [mtg.ReminderSpec(d, t) for d, t in mtg.DEFAULT_REMINDERS])]
        result = mtg.create_meeting(
            session, starts_at=start, ends_at=_end_of(start, args.end, args.minutes),
            reply_deadline=args.reply_deadline, agenda=args.agenda or (),
            reminders=reminders, **common)
        print(f"会議 {result.meeting.id} を作りました: {result.meeting.title} {when_text(result.meeting)}")
        _print_warnings(result.warnings)
    return 0


def run_list(args) -> int:
    with unit_of_work() as session:
        area = by_code(session, args.area) if args.area else None
        rows = mtg.list_meetings(session, _now(), area_id=area.id if area else None,
                                 include_past=args.all, limit=args.limit)
        if not rows:
            print("会議はありません")
        table_rows = []
        for m in rows:
            members = session.scalar(select(func.count()).select_from(mtg.MeetingMember)
                                     .where(mtg.MeetingMember.meeting_id == m.id))
            answered = session.scalar(select(func.count()).select_from(mtg.MeetingAnswer)
                                      .where(mtg.MeetingAnswer.meeting_id == m.id))
            code = session.get(Area, m.area_id).code
            flags = []
            if m.cancelled:
                flags.append("中止")
            if m.holiday_name:
                flags.append(f"祝日:{m.holiday_name}")
            if m.minutes_recorded_at:
                flags.append("会議録済")
            table_rows.append([m.id, when_text(m), LAYER_LABELS.get(m.layer, m.layer), code, m.title,
                               MODE_LABEL.get(m.mode, m.mode), m.place or "-", f"回答 {answered}/{members}",
                               " ".join(flags)])
    if table_rows:
        print(table(["ID", "日時", "層", "地区", "会議", "方法", "場所", "出欠", "メモ"], table_rows))
    return 0


LAYER_LABELS = {"city": "第1層", "district": "第2層", "neighbourhood": "第3層"}


def run_change(args) -> int:
    with unit_of_work() as session:
        meeting = mtg.get_meeting(session, args.meeting_id)
        start = args.start
        end = _end_of(start or meeting.starts_at, args.end, 0) if args.end else None
        result = mtg.change_meeting(session, meeting, _now(), starts_at=start, ends_at=end,
                                    place=args.place, mode=args.mode, url=args.url,
                                    reply_deadline=args.reply_deadline, title=args.title)
        if not result.changes:
            print("変更はありません")
            return 0
        print(f"会議 {meeting.id} を変更しました（{', '.join(result.changes)}）: {when_text(meeting)}"
              " — 委員に変更のお知らせを送ります")
        _print_warnings(result.warnings)
    return 0


def run_cancel(args) -> int:
    with unit_of_work() as session:
        meeting = mtg.get_meeting(session, args.meeting_id)
        done = mtg.cancel_meeting(session, meeting, _now(), args.reason or "")
        print(f"会議 {meeting.id} を中止にしました — 委員に中止のお知らせを送ります" if done
              else f"会議 {meeting.id} はすでに中止です")
    return 0


def run_answers(args) -> int:
    with unit_of_work() as session:
        print(tally_text(mtg.tally(session, mtg.get_meeting(session, args.meeting_id))))
    return 0


def run_minutes(args) -> int:
    with unit_of_work() as session:
        meeting = mtg.get_meeting(session, args.meeting_id)
        mtg.mark_minutes(session, meeting, _now(), args.note or "")
        print(f"会議 {meeting.id} の会議録・活動報告を記録済みにしました（お知らせは止まります）")
    return 0


def run_skip(args) -> int:
    with unit_of_work() as session:
        series = session.get(mtg.MeetingSeries, args.series_id)
        if series is None:
            raise mtg.NotFound(f"繰り返し {args.series_id} は見つかりません")
        meeting = mtg.skip_occurrence(session, series, args.date, _now(), args.note or "")
        print(f"{args.date} をお休みにしました" + (f"（会議 {meeting.id} は中止）" if meeting else ""))
    return 0


def run_move(args) -> int:
    with unit_of_work() as session:
        series = session.get(mtg.MeetingSeries, args.series_id)
        if series is None:
            raise mtg.NotFound(f"繰り返し {args.series_id} は見つかりません")
        meeting = mtg.move_occurrence(session, series, args.date, args.start, _now(), note=args.note or "")
        print(f"{args.date} の回を {args.start:%Y-%m-%d %H:%M} に移しました"
              + (f"（会議 {meeting.id} を変更）" if meeting else ""))
    return 0


def _reporting_errors(run):
    """A refused change (unknown meeting, past start …) prints the reason and exits 1."""
    @functools.wraps(run)
    def wrapped(args) -> int:
        try:
            return run(args)
        except mtg.MeetingError as exc:
            print(f"エラー: {exc}", file=sys.stderr)
            return 1
    return wrapped


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip().replace("/", "-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は 2026-12-16 の形で: {value!r}") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser("meetings", help="council (協議体) meetings and their reminders")
    sub = parser.add_subparsers(dest="meetings_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="create a meeting (or a recurring series with --repeat)")
    create.add_argument("--layer", required=True, choices=("city", "district", "neighbourhood"))
    create.add_argument("--area", required=True, help="area code")
    create.add_argument("--title", required=True)
    create.add_argument("--start", required=True, type=_parse_local, help='"2026-12-16 14:00" (Tokyo)')
    create.add_argument("--end", help='"16:00" or "2026-12-16 16:00" (default: --minutes after the start)')
    create.add_argument("--minutes", type=int, default=120, help="length in minutes (default 120)")
    create.add_argument("--place", default="")
    create.add_argument("--mode", default="in_person", choices=("in_person", "online", "hybrid", "written"))
    create.add_argument("--url", help="online/hybrid: the meeting URL")
    create.add_argument("--reply-deadline", type=_parse_local, help="written: answers until (Tokyo)")
    create.add_argument("--organiser", help="LINE user id or person id")
    create.add_argument("--members", help="comma-separated LINE user ids or person ids")
    create.add_argument("--agenda", action="append", help="an agenda item (repeatable)")
    create.add_argument("--remind", type=_reminders, help='members\' reminders, default "7@09:00,1@09:00"')
    create.add_argument("--remind-text", help="a line sent before each reminder card (e.g. 資料をお持ちください)")
    create.add_argument("--repeat", help='"毎月第3水曜 14:00", "隔月第2火曜 10:00", "毎週木曜 10:00"')
    create.add_argument("--count", type=int, help="with --repeat: number of meetings")
    create.add_argument("--until", type=_date, help="with --repeat: last date")
    create.set_defaults(func=_reporting_errors(run_create))

    listing = sub.add_parser("list", help="list upcoming meetings")
    listing.add_argument("--area", help="area code")
    listing.add_argument("--all", action="store_true", help="include past meetings")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=_reporting_errors(run_list))

    change = sub.add_parser("change", help="change time/place/mode (members get a notice)")
    change.add_argument("meeting_id", type=int)
    change.add_argument("--start", type=_parse_local)
    change.add_argument("--end")
    change.add_argument("--place")
    change.add_argument("--mode", choices=("in_person", "online", "hybrid", "written"))
    change.add_argument("--url")
    change.add_argument("--reply-deadline", type=_parse_local)
    change.add_argument("--title")
    change.set_defaults(func=_reporting_errors(run_change))

    cancel = sub.add_parser("cancel", help="cancel a meeting (members get a notice)")
    cancel.add_argument("meeting_id", type=int)
    cancel.add_argument("--reason")
    cancel.set_defaults(func=_reporting_errors(run_cancel))

    answers = sub.add_parser("answers", help="who answered what (出席/欠席/未定, 未回答, 届かない)")
    answers.add_argument("meeting_id", type=int)
    answers.set_defaults(func=_reporting_errors(run_answers))

    minutes = sub.add_parser("minutes", help="mark the minutes (会議録) and activity report recorded")
    minutes.add_argument("meeting_id", type=int)
    minutes.add_argument("--note")
    minutes.set_defaults(func=_reporting_errors(run_minutes))

    skip = sub.add_parser("skip", help="skip one date of a recurring series")
    skip.add_argument("series_id", type=int)
    skip.add_argument("date", type=_date)
    skip.add_argument("--note")
    skip.set_defaults(func=_reporting_errors(run_skip))

    move = sub.add_parser("move", help="move one date of a recurring series")
    move.add_argument("series_id", type=int)
    move.add_argument("date", type=_date)
    move.add_argument("--start", required=True, type=_parse_local)
    move.add_argument("--note")
    move.set_defaults(func=_reporting_errors(run_move))
