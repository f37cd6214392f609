"""The inventory covers every text column; configuration is checked; files, logs and errors keep
nothing personal; old records are reduced; 開示 and the policy page."""
from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from datetime import timedelta

import pytest
import structlog
from sqlalchemy import ForeignKey, String, Text, select

from bot.messages.resident import RESIDENT
from domain import personal_data
from domain.db import make_engine
from domain.logs import configure_logging, error_summary
from domain.settings import Config, ConfigError
from migrations import load_all_models
from tests.bot.conftest import last, press
from tests.bot.conftest import town  # noqa: F401  (the same small 郡山市)
from tests.conftest import REPO_ROOT


# -- the inventory -------------------------------------------------------------------------------
def _must_be_classified(col) -> bool:
    if isinstance(col.type, (String, Text)):
        return True
    return any(fk.column.table.name == "people" for fk in col.foreign_keys)


def test_every_text_column_and_link_to_a_person_is_classified():
    metadata = load_all_models().metadata
    # APScheduler's job store (a job's name and trigger) is the scheduler's, not ours.
    tables = [t for t in metadata.sorted_tables if not t.name.startswith("apscheduler")]
    missing = [f"{t.name}.{c.name}" for t in tables for c in t.columns
               if _must_be_classified(c) and c.name not in personal_data.INVENTORY.get(t.name, {})]
    assert not missing, f"classify these in domain/personal_data.INVENTORY: {missing}"
    stale = [f"{t}.{c}" for t, cols in personal_data.INVENTORY.items() for c in cols
             if t not in metadata.tables or c not in metadata.tables[t].columns]
    assert not stale, f"no such columns: {stale}"


def test_a_new_unclassified_text_column_fails_the_check():
    from sqlalchemy import Column, MetaData, Table

    scratch = MetaData()
    table = Table("people", scratch, Column("id", String), Column("nickname", Text))
    assert [c.name for c in table.columns if _must_be_classified(c)
            and c.name not in personal_data.INVENTORY["people"]] == ["id", "nickname"]


# -- configuration -------------------------------------------------------------------------------
def test_a_bad_value_is_one_line_naming_the_variable():
    with pytest.raises(ConfigError) as err:
        Config.from_env({"SASAEAI_RETENTION_DAYS": "abc"})
    assert str(err.value).startswith("invalid configuration: SASAEAI_RETENTION_DAYS:")
    assert "\n" not in str(err.value) and "abc" not in str(err.value)
    for name, value in (("SASAEAI_EVENT_RETENTION_DAYS", "0"), ("SASAEAI_LOG_LEVEL", "LOUD"),
                        ("SASAEAI_BUSINESS_HOURS", "17:00-09:00"), ("SASAEAI_CONSOLE_URL", "javascript:x"),
                        ("SASAEAI_LINE_TIMEOUT", "-1"), ("DATABASE_URL", "mysql://x")):
        with pytest.raises(ConfigError, match=name):
            Config.from_env({name: value})


def test_the_command_says_it_in_one_line_without_a_traceback(tmp_path):
    env = {**os.environ, "SASAEAI_RETENTION_DAYS": "abc", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    done = subprocess.run([sys.executable, "-m", "cli", "db", "upgrade"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "SASAEAI_RETENTION_DAYS" in done.stderr
    assert "Traceback" not in done.stderr


def test_secrets_never_show_and_callers_keep_plain_access():
    config = Config(line_channel_secret="s3cret-value", line_channel_access_token="t0ken-value",
                    database_url="postgresql://app:pa55word@db/sasaeai", pseudonym_key="k3y-value")
    shown = repr(config) + str(config)
    for secret in ("s3cret-value", "t0ken-value", "pa55word", "k3y-value"):
        assert secret not in shown
    assert (config.line_channel_secret, config.line_channel_access_token) == ("s3cret-value", "t0ken-value")
    env = Config.from_env({"LINE_CHANNEL_SECRET": "abc", "SASAEAI_EVENT_RETENTION_DAYS": "7"}, retention_days=5)
    assert (env.line_channel_secret, env.event_retention_days, env.retention_days) == ("abc", 7, 5)
    assert Config.from_env({}).event_retention_days == 30


def test_the_sqlite_file_is_the_owners_alone(tmp_path):
    path = tmp_path / "instance" / "db.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_in_memory_database_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


# -- logs and errors -----------------------------------------------------------------------------
def test_library_loggers_go_through_the_same_pipeline_and_redaction(capsys):
    configure_logging("DEBUG")
    try:
        for name in ("werkzeug", "gunicorn.error", "sqlalchemy.engine", "apscheduler.scheduler", "alembic", "flask"):
            logging.getLogger(name).warning("user U%s phone 024-123-4567 from 192.168.1.20 at /x?code=abc",
                                            "0123456789abcdef0123456789abcdef")
    finally:
        structlog.reset_defaults()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert {r["logger"] for r in lines} >= {"werkzeug", "gunicorn.error", "apscheduler.scheduler", "alembic"}
    out = json.dumps(lines, ensure_ascii=False)
    for secret in ("0123456789abcdef0123456789abcdef", "024-123-4567", "192.168.1.20", "code=abc"):
        assert secret not in out


def test_timestamps_are_never_taken_for_phone_numbers(capsys, monkeypatch):
    """A fraction of a second beginning with 0 (".052196") once came out as "[phone]"."""
    from datetime import datetime, timezone

    class At052196:
        @staticmethod
        def now(tz=None):
            return datetime(2026, 11, 30, 16, 54, 52, 52196, tzinfo=timezone.utc)

    monkeypatch.setattr("structlog.processors.datetime.datetime", At052196, raising=False)
    configure_logging("INFO")
    try:
        structlog.get_logger("t").info("webhook.stored", note="call 024-123-4567")
    finally:
        structlog.reset_defaults()
    line = next(json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{"))
    assert line["timestamp"] == "2026-11-30T16:54:52.052196Z"
    assert line["note"] == "call [phone]"  # values are still scrubbed


def test_errors_keep_type_and_place_not_values(capsys):
    try:
        {"山田": 1}["090-0000-1111"]
    except KeyError as exc:
        summary = error_summary(exc)
    assert summary.startswith("KeyError at tests/privacy/") and "090" not in summary
    configure_logging("INFO")
    try:
        try:
            raise ValueError("山田 ハナ 090-0000-1111")
        except ValueError:
            structlog.get_logger("t").exception("boom")
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert "ValueError at tests/privacy/" in err and "山田" not in err


def test_the_engine_hides_bound_parameters(sqlite_url):
    from sqlalchemy import text

    engine = make_engine(sqlite_url)
    with pytest.raises(Exception) as err, engine.begin() as connection:
        connection.execute(text("INSERT INTO people (id, line_user_id) VALUES (:a, :b)"),
                           {"a": "not-an-id", "b": "U-山田ハナ"})
    engine.dispose()
    assert "山田" not in str(err.value)


# -- retention by age ----------------------------------------------------------------------------
def test_old_events_and_sent_bodies_are_reduced_and_parked_ones_redacted(stack):
    from bot import inbox
    from bot.outbox import OutboxMessage

    user = stack.new_user("佐藤 一郎")
    stack.settle()
    stack.sim.send_text(user, "ぬすまれたかもしれない通帳のこと")
    stack.settle()
    from bot.state import Conversation

    with stack.sessions.begin() as s:  # a dialogue left half-way, holding a draft
        s.get(Conversation, user).data = json.dumps({"draft": {"words": "通帳のありかの下書き"}}, ensure_ascii=False)
    with stack.sessions.begin() as s:  # a parked event, as the worker leaves it
        event = s.scalars(select(inbox.InboundEvent).order_by(inbox.InboundEvent.id.desc())).first()
        parked = inbox.InboundEvent(webhook_event_id="parked-1", event_type="message", source_key=f"user:{user}",
                                    payload=json.dumps({"type": "message", "source": {"type": "user", "userId": user},
                                                        "message": {"type": "text", "text": "年金の通帳がない"}},
                                                       ensure_ascii=False),
                                    received_at=event.received_at, available_at=event.received_at, status=inbox.PARKED)
        s.add(parked)
        s.flush()
        inbox.redact_parked(parked)
    deps = stack.services.job_deps()
    from scheduler import case_jobs as jobs

    with stack.sessions.begin() as s:
        report = jobs.reduce_old_records(s, stack.clock.now() + timedelta(days=29), deps)
        assert (report.messages, report.events) == (0, 0)
        kept = s.scalars(select(inbox.InboundEvent).where(inbox.InboundEvent.webhook_event_id == "parked-1")).one()
        assert "年金" not in kept.payload and user in kept.payload  # who, to retry; not the words
    with stack.sessions.begin() as s:
        report = jobs.reduce_old_records(s, stack.clock.now() + timedelta(days=31), deps)
        assert report.messages >= 2 and report.events >= 2
    with stack.sessions() as s:
        bodies = " ".join(m.messages + (m.to_user or "") for m in s.scalars(select(OutboxMessage)))
        payloads = " ".join(e.payload + e.source_key for e in s.scalars(select(inbox.InboundEvent)))
        payloads += " ".join(c.data for c in s.scalars(select(Conversation)))
    assert user not in bodies + payloads and "佐藤" not in bodies + payloads and "通帳" not in bodies + payloads
    assert RESIDENT["privacy_notice"][:10] not in bodies


# -- 開示 and the policy ------------------------------------------------------------------------
def test_my_data_is_shown_on_line(stack, town):
    user = stack.new_user("田中 ミチ")
    stack.settle()
    stack.sim.send_text(user, "わたしのデータを見る")
    stack.settle()
    assert last(stack, user)["text"].startswith(RESIDENT["held_none"])
    press(stack, user, "同意する")
    stack.settle()
    press(stack, user, "安積地区")
    stack.settle()
    press(stack, user, "荒井")
    stack.settle()
    stack.sim.send_text(user, "わたしのデータを見る")
    stack.settle()
    shown = last(stack, user)["text"]
    assert "田中 ミチ" in shown and "安積地区" in shown and "同意済み" in shown


def test_the_notice_links_the_full_policy_served_at_privacy(stack):
    from webhook import create_app, privacy_url

    assert privacy_url("https://sasaeai.example.jp/console") == "https://sasaeai.example.jp/privacy"
    assert privacy_url("", "https://bot.example.jp/") == "https://bot.example.jp/privacy"
    assert privacy_url("", "") == ""
    client = create_app(services=stack.services).test_client()
    page = client.get("/privacy")
    assert page.status_code == 200 and "text/html" in page.content_type
    body = page.get_data(as_text=True)
    for must in ("LINEに登録している名前", "電話番号", "担い手さん", "コーディネーター", "90日", "30日",
                 "わたしのデータを見る", "わたしのデータを消す"):
        assert must in body
    notice = RESIDENT["privacy_notice"]
    for must in ("LINEの名前", "電話番号", "コーディネーター", "担い手さん", "期間", "わたしのデータを見る",
                 "わたしのデータを消す", "プライバシー"):
        assert must in notice
    user = stack.new_user()
    stack.settle()
    stack.sim.send_text(user, "プライバシー")
    stack.settle()
    assert "90日" in last(stack, user)["text"]


def test_the_notice_carries_the_link_when_the_app_has_a_public_address(stack):
    from dataclasses import replace

    from bot.handlers import BotSettings
    from domain.settings import Config
    from webhook import Services

    config = Config.from_env({}, line_channel_secret="x", database_url=stack.config.database_url,
                             public_url="https://bot.example.jp")
    services = Services.build(config, clock=stack.clock, engine=stack.services.engine)
    settings = services.bot_settings
    services.line_api.close()
    assert settings.privacy_url == "https://bot.example.jp/privacy"
    from bot import dialogue

    notice = dialogue.consent_message(replace(BotSettings(), privacy_url=settings.privacy_url))["text"]
    assert notice.startswith(RESIDENT["privacy_notice"]) and notice.endswith("https://bot.example.jp/privacy")


# -- dead letters: parked events and failed messages -----------------------------------------------
def test_a_parked_event_keeps_who_and_which_button_not_the_words_and_the_coordinator_got_them(stack, town):
    from bot import inbox
    from bot.worker import EventWorker
    from domain.models import Need

    with stack.sessions.begin() as s:
        town.person(s, "kimura", "木村 トメ", "asaka-arai")
    user = town.ids["kimura"]

    def broken(session, raw, now):
        raise RuntimeError(f"cannot handle {raw.get('message', {}).get('text')}")

    worker = EventWorker(stack.sessions, stack.clock, broken, max_attempts=1,
                         on_parked=stack.services.event_worker()._on_parked)
    stack.sim.send_text(user, "しょうがくきんの書類がわからない")
    worker.run_until_idle()
    with stack.sessions() as s:
        parked = s.scalars(select(inbox.InboundEvent).where(inbox.InboundEvent.status == inbox.PARKED)).one()
        assert user in parked.payload and "しょうがくきん" not in parked.payload
        assert parked.last_error.startswith("RuntimeError at tests/privacy/") and "しょうがくきん" not in parked.last_error
        # The fail-safe hook had the words first: the coordinator's case holds them (with consent).
        assert s.scalars(select(Need.words)).all() == ["しょうがくきんの書類がわからない"]


def test_a_failed_message_keeps_its_kind_and_buttons_not_its_texts(stack):
    from bot import outbox
    from bot.outbox import OutboxMessage

    user = stack.new_user()
    stack.settle()
    stack.sim.set_fault("status", "push", status=400)  # LINE refuses it: failed for good
    with stack.sessions.begin() as s:
        outbox.enqueue_push(s, user_id=user, now=stack.clock.now(), messages=[{
            "type": "text", "text": "山田 ハナさん 024-123-4567",
            "quickReply": {"items": [{"type": "action", "action": {
                "type": "postback", "label": "はい", "data": "v1|m|acc|7"}}]}}])
    stack.settle()
    with stack.sessions() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).one()
    assert "山田" not in failed.messages and "024-123-4567" not in failed.messages
    body = json.loads(failed.messages)
    assert body[0]["type"] == "text" and "v1|m|acc|7" in failed.messages and failed.to_user == user
