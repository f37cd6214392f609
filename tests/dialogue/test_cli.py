"""The CLI speaks Japanese (flags and help may stay English) and lists are tables with headers."""
from __future__ import annotations

import re

import pytest

from cli import main
from domain import resources
from domain.areas import import_areas
from domain.db import transaction
from domain.models import Area
from domain.schedule import parse_rules
from tests.domain.domain_builders import AREAS

ENGLISH = re.compile(r"\b(no|not|is|has|requeued|parked|failed|attempts|due|database|revision|events?)\b", re.I)


@pytest.fixture
def cli_db(sqlite_url, sessions, clock, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setattr("cli.commands._common.configure_logging", lambda level="INFO": None)
    return sessions


def run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_empty_lists_and_refusals_are_said_in_japanese(cli_db, capsys):
    for argv, said in ((("events", "parked"), "止まっているイベントはありません"),
                       (("events", "retry", "7"), "イベント 7 は止まっているイベントではありません"),
                       (("outbox", "failed"), "送れなかったメッセージはありません"),
                       (("outbox", "retry", "7"), "メッセージ 7 は送信に失敗したメッセージではありません"),
                       (("escalations", "overdue"), "期限を過ぎた相談はありません"),
                       (("resources", "list"), "資源はありません"),
                       (("areas", "list"), "地区はまだありません")):
        _code, out = run(capsys, *argv)
        assert said in out, argv
        assert not ENGLISH.search(out), (argv, out)


def test_resources_list_has_a_header_row_and_an_area_column(cli_db, clock, capsys):
    with transaction(cli_db) as s:
        import_areas(s, AREAS)
        s.flush()
        arai = s.query(Area).filter_by(code="asaka-arai").one()
        resources.create_resource(s, clock.now(), categories=["exercise"], area_ids=[arai.id],
                                  rules=parse_rules("毎週水曜 10:00-11:30"), name="荒井いきいき百歳体操",
                                  kind="exercise_group", source="test")
    code, out = run(capsys, "resources", "list")
    header, rule, row = out.splitlines()[:3]
    assert code == 0 and header.split() == ["ID", "状態", "種類", "名前", "地区", "分類", "日時"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert "安積地区 荒井" in row and "公開中" in row and "体操・通いの場" in row and "運動・体操" in row
    assert "毎週水曜 10:00〜11:30" in row
    # The columns line up under the header, counting 漢字 as two columns.
    from cli.commands._common import display_width

    assert display_width(row[:row.index("安積地区")]) == display_width(header[:header.index("地区")])

    code, out = run(capsys, "areas", "list")
    assert out.splitlines()[0].split() == ["コード", "名前", "よみ", "階層"] and "第2層（地区）" in out


def test_db_upgrade_says_what_it_did(cli_db, capsys):
    code, out = run(capsys, "db", "upgrade")
    assert code == 0 and out.strip() == "データベースを最新の形にしました（リビジョン head）"
