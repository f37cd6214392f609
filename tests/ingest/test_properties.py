"""Property tests (hypothesis): the webhook body parser, the postback codec, the text normaliser,
the recurrence parser and the time parser hold their promises for any input."""
from __future__ import annotations

import json
from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.inbox import MAX_DEPTH, MAX_ID, WebhookBodyError, parse_webhook_body
from bot.messages.postback import SEPARATOR, decode, encode
from bot.line_limits import MessageLimitError
from domain.meetings.recurrence import LAST, Rule, RuleError, occurrences, parse_rule
from domain.understanding.normalize import normalize
from domain.understanding.when import extract_when

# Derandomized: the suite stays deterministic; bench or a local run with more examples explores.
FAST = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
line_ids = st.binary(min_size=16, max_size=16).map(lambda b: "U" + b.hex())
# Text LINE could send: any characters but NUL and lone surrogates.
clean_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=200)


def line_event(n: int):
    return st.fixed_dictionaries({
        "type": st.sampled_from(["message", "follow", "unfollow", "postback", "somethingNew"]),
        "mode": st.sampled_from(["active", "standby"]),
        "timestamp": st.integers(0, 253_402_300_799_999),
        "source": st.fixed_dictionaries({"type": st.just("user"), "userId": line_ids}),
        "webhookEventId": st.just(f"01PROP{n:020d}"),
        "deliveryContext": st.fixed_dictionaries({"isRedelivery": st.booleans()}),
        "replyToken": clean_text.filter(lambda s: 0 < len(s) <= 255),
        "message": st.fixed_dictionaries({"type": st.just("text"), "id": clean_text,
                                          "text": clean_text}),
    })


def storable(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return "\\u0000" not in json.dumps(value)


# -- the webhook body parser -----------------------------------------------------------------------
@FAST
@given(st.binary(max_size=300))
def test_any_bytes_are_a_webhook_or_a_body_error(raw):
    try:
        destination, events = parse_webhook_body(raw)
    except WebhookBodyError:
        return
    assert isinstance(destination, str) and isinstance(events, list)


@FAST
@given(json_values, json_values)
def test_any_json_is_a_storable_webhook_or_a_body_error_naming_why(destination, events):
    raw = json.dumps({"destination": destination, "events": events}).encode()
    try:
        got_destination, got_events = parse_webhook_body(raw)
    except WebhookBodyError as exc:
        assert str(exc)
        return
    assert isinstance(got_destination, str) and len(got_destination) <= MAX_ID
    for event in got_events:
        assert isinstance(event["webhookEventId"], str) and 0 < len(event["webhookEventId"]) <= MAX_ID
        assert isinstance(event.get("source", {}) or {}, dict)
        assert storable(event)


@FAST
@given(st.lists(st.integers(0, 40), min_size=1, max_size=3).flatmap(
    lambda ns: st.tuples(*[line_event(n) for n in ns])))
def test_well_formed_line_events_come_back_unchanged(events):
    body = {"destination": "U" + "0" * 32, "events": list(events)}
    destination, parsed = parse_webhook_body(json.dumps(body, ensure_ascii=False).encode())
    assert (destination, parsed) == (body["destination"], list(events))


@FAST
@given(st.integers(1, 5000), st.sampled_from("[{"))
def test_any_nesting_is_parsed_or_refused_never_a_recursion_error(depth, bracket):
    closing = "]" if bracket == "[" else "}"
    inner = (bracket + ('"k":' if bracket == "{" else "")) * (depth - 1) + bracket + closing * depth
    if bracket == "{":
        inner = ('{"k":' * (depth - 1)) + "{}" + "}" * (depth - 1)
    raw = ('{"events":[{"type":"message","webhookEventId":"01N","extra":' + inner + "}]}").encode()
    try:
        parse_webhook_body(raw)
        assert depth + 3 <= MAX_DEPTH
    except WebhookBodyError as exc:
        assert "deeper" in str(exc) and depth + 3 > MAX_DEPTH


# -- the postback codec ----------------------------------------------------------------------------
no_bar = st.text(max_size=30).filter(lambda s: SEPARATOR not in s)


@FAST
@given(no_bar.filter(bool), st.lists(no_bar | st.integers(), max_size=6))
def test_a_postback_decodes_to_what_was_encoded(verb, args):
    try:
        data = encode(verb, *args)
    except MessageLimitError:
        assert len(SEPARATOR.join(["v1", verb, *map(str, args)]).encode()) > 300
        return
    assert decode(data) == (verb, [str(a) for a in args])


@FAST
@given(st.text(max_size=400))
def test_any_postback_data_decodes_to_ours_or_none(data):
    decoded = decode(data)
    assert decoded is None or (isinstance(decoded[0], str) and decoded[0] and isinstance(decoded[1], list))


# -- the text normaliser ---------------------------------------------------------------------------
@FAST
@given(st.text(max_size=200))
def test_normalising_is_idempotent_and_leaves_no_stray_spaces(text):
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once


# -- the recurrence parser -------------------------------------------------------------------------
rules = st.builds(
    lambda freq, interval, weekday, nth, at: Rule(freq, interval, weekday, nth if freq == "monthly" else None, at),
    st.sampled_from(["monthly", "weekly"]), st.sampled_from([1, 2]), st.integers(0, 6),
    st.sampled_from([1, 2, 3, 4, 5, LAST]), st.builds(time, st.integers(0, 23), st.integers(0, 59)))


@FAST
@given(rules)
def test_a_rule_reads_back_from_its_own_description(rule):
    assert parse_rule(rule.describe()) == rule


@FAST
@given(st.text(max_size=40))
def test_any_text_is_a_rule_or_a_rule_error(text):
    try:
        rule = parse_rule(text)
    except RuleError:
        return
    assert 0 <= rule.weekday <= 6 and rule.interval in (1, 2)


@FAST
@given(rules, st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(0, 400))
def test_occurrences_fall_on_the_weekday_in_order_within_the_bounds(rule, start, days):
    until = start + timedelta(days=days)
    dates = list(occurrences(rule, start, until=until))
    assert all(start <= d <= until and d.weekday() == rule.weekday for d in dates)
    assert dates == sorted(set(dates))


# -- the time parser -------------------------------------------------------------------------------
when_words = st.lists(st.sampled_from(
    ["明日", "あした", "来週", "再来週", "火曜", "水よう", "午前", "午後", "朝", "夕方", "10時", "３時半",
     "15日", "12月3日", "毎週", "月曜日", "今日", "週末", "の", "に", "ごろ", " ", "買い物", "病院"]), max_size=6)


@FAST
@given(st.one_of(st.text(max_size=80), when_words.map("".join)), st.dates(date(2020, 1, 1), date(2040, 12, 31)))
def test_the_time_parser_never_fails_and_says_only_real_times(text, today):
    when = extract_when(normalize(text), today)
    if when is None:
        return
    assert when.text
    assert when.weekday is None or 0 <= when.weekday <= 6
    assert when.hour is None or 0 <= when.hour <= 23
    if when.date is not None:
        assert today - timedelta(days=1) <= when.date <= today + timedelta(days=400)
        # a single day is that weekday; a recurring one (「明日から毎週月曜」) keeps its start date
        assert when.weekday is None or when.recurring is not None or when.date.weekday() == when.weekday
