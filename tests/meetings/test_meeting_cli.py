"""`sasaeai meetings …` and `sasaeai scheduler --once` (the CLI reads the wall clock: dates in 2030)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from meeting_builders import Council, tokyo
from cli import main
from domain.db import transaction
from domain import meetings as mtg


@pytest.fixture
def people(sqlite_url, sessions, clock, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    # The commands configure logging onto this test's captured stderr; keep that out of later tests.
    monkeypatch.setattr("cli.commands._common.configure_logging", lambda level="INFO": None)
    with transaction(sessions) as s:
        council = Council.build(s, clock.now())
        organiser = council.coordinator()
        members = council.members(3)
        return organiser.line_user_id, [m.line_user_id for m in members], members[0].id


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_create_list_change_answers_minutes_cancel(people, sessions, capsys):
    organiser, members, first_id = people
    code, out = run(capsys, "meetings", "create", "--layer", "district", "--area", "asaka",
                    "--title", "安積地区 第2層協議体", "--start", "2030-12-18 14:00", "--end", "16:00",
                    "--place", "安積公民館", "--organiser", organiser,
                    "--members", ",".join(members[:2] + [str(first_id)]), "--agenda", "サロンの報告",
                    "--remind", "7@09:00,2@10:00", "--remind-text", "資料をお持ちください")
    assert code == 0 and "会議 1 を作りました" in out and "2030年12月18日（水）14:00〜16:00" in out
    with sessions() as s:
        meeting = mtg.get_meeting(s, 1)
        assert len(meeting.member_ids) == 2  # the first member named twice counts once
        assert [(r.due_at, r.text) for r in meeting.reminders if r.kind == mtg.REMIND] == [
            (tokyo("2030-12-11 09:00"), "資料をお持ちください"),
            (tokyo("2030-12-16 10:00"), "資料をお持ちください")]

    code, out = run(capsys, "meetings", "list")
    assert code == 0 and "安積地区 第2層協議体" in out and "回答 0/2" in out

    code, out = run(capsys, "meetings", "change", "1", "--place", "富田公民館")
    assert code == 0 and "変更しました（place）" in out
    code, out = run(capsys, "meetings", "answers", "1")
    assert "未回答 2名" in out
    code, out = run(capsys, "meetings", "minutes", "1", "--note", "記録済み")
    assert code == 0 and "記録済み" in out
    code, out = run(capsys, "meetings", "cancel", "1", "--reason", "大雪")
    assert code == 0 and "中止にしました" in out
    code, out = run(capsys, "meetings", "cancel", "1")
    assert "すでに中止" in out

    code, out = run(capsys, "scheduler", "--once")
    # Only the cancellation: the change notice still pending was dropped with the meeting.
    assert code == 0 and "対象 1件、送信 1件" in out


def test_create_warns_of_a_holiday_and_refuses_bad_input(people, capsys):
    organiser, members, _ = people
    code, out = run(capsys, "meetings", "create", "--layer", "city", "--area", "koriyama",
                    "--title", "第1層協議体", "--start", "2030-01-14 14:00", "--organiser", organiser,
                    "--members", members[0])
    assert code == 0 and "祝日（成人の日）" in out
    code, out = run(capsys, "meetings", "create", "--layer", "city", "--area", "asaka",
                    "--title", "x", "--start", "2030-12-18 14:00")
    assert code == 1 and "district" in out
    code, out = run(capsys, "meetings", "create", "--layer", "district", "--area", "asaka",
                    "--title", "x", "--start", "2030-12-18 14:00", "--mode", "online")
    assert code == 1 and "URL" in out


def test_create_a_recurring_series(people, sessions, capsys):
    organiser, members, _ = people
    code, out = run(capsys, "meetings", "create", "--layer", "district", "--area", "asaka",
                    "--title", "安積地区 第2層協議体", "--start", "2030-10-01 14:00",
                    "--repeat", "毎月第3水曜 14:00", "--count", "6", "--organiser", organiser,
                    "--members", ",".join(members))
    assert code == 0 and "会議を6件作りました" in out
    with sessions() as s:
        starts = [m.starts_at for m in s.scalars(select(mtg.Meeting).order_by(mtg.Meeting.starts_at))]
    assert starts[0] == tokyo("2030-10-16 14:00") and starts[-1] == tokyo("2031-03-19 14:00")
    code, out = run(capsys, "meetings", "skip", "1", "2030-11-20")
    assert code == 0 and "お休み" in out
