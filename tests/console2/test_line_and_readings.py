"""The LINE side of issue 15: a resident's place offer keeps the weekday and time said and reaches the
coordinator; 見送る on the approval card; the bot's readings kept, erased with the person, and
exported for training without identifiers."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages import postback as postbacks
from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from cli import main as cli_main
from domain import matches as match_rules
from domain import needs as need_rules
from domain import people, readings
from domain.db import transaction
from domain.models import Match, Need, Person
from domain.readings import Reading
from domain.resources import candidates, rules_of
from tests.bot.conftest import all_text, last, press, resident_in, town  # noqa: F401


def test_a_place_offer_keeps_the_weekday_and_time_and_the_coordinator_is_told(stack, town):
    user = resident_in(stack, "安積地区", "荒井", name="大槻 トメ")
    stack.sim.send_text(user, "水曜日の午後1時から4時なら、うちの座敷を使ってもいいですよ")
    stack.settle()
    with stack.sessions() as s:
        [candidate] = candidates(s)
        [rule] = rules_of(candidate)
        assert rule.describe() == "毎週水曜 13:00〜16:00"
    told = all_text(last(stack, town.ids["asaka_coord"]))
    assert "【場所の申し出】" in told and "毎週水曜 13:00〜16:00" in told and "座敷" in told


def test_mise_okuru_on_the_line_approval_card(stack, town):
    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        resident = town.person(s, "res", "山田 ハナ", "asaka-arai", "024-1")
        suzuki = s.scalar(select(Person).where(Person.line_user_id == town.ids["suzuki"]))
        need = need_rules.create_need(s, person=resident, category="shopping", area=town.areas["asaka-arai"], now=now)
        [match] = match_rules.ask_volunteers(s, need, [suzuki.id], now)
        match_rules.accept_match(s, match.id, now)
        match_id = match.id
    from bot.messages import cards

    card = cards.approval_card(match_id, "鈴木 博", "買い物", "安積地区 荒井", "いつでも")
    assert COORDINATOR["decline"] in all_text(card) or "見送る" in str(card)
    stack.sim.send_postback(town.ids["asaka_coord"], postbacks.encode("m", "apd", match_id))
    stack.settle()
    # the volunteer is thanked; the need goes on to the next volunteers (else to a case)
    assert last(stack, town.ids["asaka_coord"])["text"] in (
        COORDINATOR["rejected_case"], COORDINATOR["rejected_asking"].format(count=1))
    assert last(stack, town.ids["suzuki"])["text"].startswith(VOLUNTEER["not_approved"].split("{")[0])
    with stack.sessions() as s:
        assert s.get(Match, match_id).status == "declined"
        assert s.get(Need, s.get(Match, match_id).need_id).status in ("asking", "escalated")


def test_readings_are_kept_marked_when_the_resident_corrects_and_erased_with_the_person(stack, town):
    user = resident_in(stack, "安積地区", "荒井", name="山田 ハナ")
    stack.sim.send_text(user, "かいものにいけない")
    stack.settle()
    for label in (RESIDENT["fix_category"], "話し相手", RESIDENT["confirm_yes"]):
        press(stack, user, label)
        stack.settle()
    with stack.sessions() as s:
        [reading] = s.scalars(select(Reading)).all()
        assert reading.category == "shopping" and reading.words == "かいものにいけない"
        assert reading.corrected and reading.resident_category == "talk" and reading.need_id is not None
        person = people.find_by_line_id(s, user)
        people.erase_person(s, person)
        s.commit()
        assert s.scalars(select(Reading)).all() == []


def test_export_corrections_removes_identifiers_and_keeps_only_consenting_residents(stack, town, monkeypatch,
                                                                                  capsys):
    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        yes = town.person(s, "yes", "山田 ハナ", "asaka-arai", "024-1")
        no = town.person(s, "no", "佐藤 一郎", "asaka-arai")
        reviewer = people.find_by_line_id(s, town.ids["asaka_coord"])
        r1 = readings.record(s, person=yes, words="山田ハナです。電話は024-555-1234、電球を替えてほしい", category="other",
                             safety="none", confidence=0.2, now=now)
        r2 = readings.record(s, person=no, words="佐藤です。庭の草取りをお願い", category="garden", safety="none",
                             confidence=0.3, now=now)
        r3 = readings.record(s, person=yes, words="まだ確かめていない", category="talk", safety="none",
                             confidence=0.1, now=now)
        readings.review(r1, reviewer, now, category="housework", safety="none")
        readings.review(r2, reviewer, now)
        people.record_consent(no, False, now)
        del r3
    with stack.sessions() as s:
        rows = readings.export_corrections(s)
    assert [(r.category, r.safety, r.note) for r in rows] == [("housework", "none", "console:corrected")]
    assert "山田" not in rows[0].text and "ハナ" not in rows[0].text and "024" not in rows[0].text
    assert "電球を替えてほしい" in rows[0].text
    monkeypatch.setenv("DATABASE_URL", stack.config.database_url)
    assert cli_main(["understand", "export-corrections"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "text\tcategory\tsafety\tsignal\tnote" and len(out) == 2
    assert out[1].split("\t")[1:] == ["housework", "none", "", "console:corrected"]
