"""A resident's whole life through the simulator, then erasure: nothing of them is left in any
column of any table, nor in the logs. The same for the retention purge and for withdrawn consent."""
from __future__ import annotations

from datetime import timedelta

import pytest
import structlog
from sqlalchemy import func, inspect, select, text

from bot.messages.coordinator import COORDINATOR
from bot.messages.resident import RESIDENT
from bot.messages.volunteer import VOLUNTEER
from domain import escalation as esc
from domain import resources
from domain.db import transaction
from domain.logs import configure_logging
from domain.models import Match, Need, Person, Resource
from scheduler import case_jobs as jobs
from tests.bot.conftest import all_text, last, press, resident_in
from tests.bot.conftest import town  # noqa: F401  (the same small 郡山市)

NAME = "山田 ハナ"
PHONE_TYPED, PHONE = "０２４－１２３－４５６７", "024-123-4567"
WORDS = "ひざがいたくて かいものにいけない"
SECOND_WORDS = "人に相談したい"
PLACE_WORDS = "水曜日ならうちのスペースを使っていいですよ"
NOTE = "山田さんに電話した。ひざの手術のあとで一人暮らし、娘さんは仙台"


def whole_life(stack, town) -> str:
    """Consent, a need, a phone, an accepted and approved volunteer, a coordinator's case with a
    note, an offer of a place (confirmed by the coordinator): return the resident's LINE id."""
    resident = resident_in(stack, "安積地区", "荒井", name=NAME)
    stack.sim.send_text(resident, WORDS)
    stack.settle()
    assert WORDS in last(stack, resident)["text"]
    press(stack, resident, "はい")
    stack.settle()
    press(stack, resident, "ほかの助けがほしい")
    stack.settle()
    stack.sim.send_text(resident, PHONE_TYPED)
    stack.settle()
    suzuki = town.ids["suzuki"]
    press(stack, suzuki, VOLUNTEER["accept"])
    stack.settle()
    coordinator = town.ids["asaka_coord"]
    press(stack, coordinator, COORDINATOR["approve"])
    stack.settle()
    assert NAME in last(stack, suzuki)["text"] and PHONE in last(stack, suzuki)["text"]

    # A second matter goes to the coordinator, who takes it and writes a note about her.
    stack.sim.send_text(resident, SECOND_WORDS)
    stack.settle()
    notice = next(m["message"] for m in reversed(stack.sim.messages(coordinator)) if m["message"]["type"] == "flex")
    press(stack, coordinator, COORDINATOR["ack"], notice)
    stack.settle()
    press(stack, coordinator, COORDINATOR["note"], notice)
    stack.settle()
    stack.sim.send_text(coordinator, NOTE)
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["noted"]

    # She offers a place; the coordinator confirms it.
    stack.sim.send_text(resident, PLACE_WORDS)
    stack.settle()
    assert last(stack, resident)["text"].startswith(RESIDENT["space_offer_thanks"])
    with transaction(stack.sessions) as s:
        place = s.scalars(select(Resource).where(Resource.source == "offer")).one()
        assert place.offered_by_id is not None and NAME in place.name
        resources.confirm_candidate(place, stack.clock.now())
    # And a second offer, still a candidate.
    stack.sim.send_text(resident, "土曜日ならうちの庭を使っていいです")
    stack.settle()
    with stack.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Resource).where(Resource.source == "offer")) == 2
        assert s.scalar(select(func.count()).select_from(esc.CaseNote)) == 1
    return resident


def every_value(stack) -> str:
    """Every column of every row of every table, as one text."""
    engine = stack.services.engine
    out = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                out.append(f"{table}: " + " | ".join("" if v is None else str(v) for v in row))
    return "\n".join(out)


def traces(line_id: str) -> list[str]:
    return [line_id, NAME, NAME.replace(" ", ""), PHONE, PHONE.replace("-", ""), PHONE_TYPED, WORDS,
            "ひざがいたくて", PLACE_WORDS, "うちの庭", NOTE, "娘さんは仙台"]


@pytest.fixture
def logs(capsys):
    configure_logging("DEBUG")
    yield capsys
    structlog.reset_defaults()
    import logging

    logging.basicConfig(force=True, level=logging.WARNING, handlers=[logging.NullHandler()])
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def assert_nothing_left(where: str, strings: list[str]) -> None:
    left = {s: where[max(0, where.find(s) - 120):where.find(s) + 60] for s in strings if s in where}
    assert not left, left


@pytest.fixture(params=["sqlite", "postgresql"])
def any_stack(request):
    return request.getfixturevalue("stack" if request.param == "sqlite" else "pg_stack")


def test_erasing_leaves_nothing_of_the_person_in_any_table_or_log(any_stack, logs):
    from tests.bot.conftest import build_town

    stack = any_stack
    town = build_town(stack)
    resident = whole_life(stack, town)
    before = every_value(stack)
    assert all(s in before for s in (resident, NAME, PHONE, WORDS, NOTE))  # the probe is real

    stack.sim.send_text(resident, "わたしのデータを消す")
    stack.settle()
    press(stack, resident, RESIDENT["delete_yes"])
    stack.settle()
    assert last(stack, resident)["text"] == RESIDENT["deleted"]

    assert_nothing_left(every_value(stack), traces(resident))
    assert_nothing_left(logs.readouterr().err, traces(resident))

    with stack.sessions() as s:
        # Counts stay, anonymous; the case she had open was closed with a reason.
        needs = s.scalars(select(Need).order_by(Need.id)).all()
        assert len(needs) >= 2 and all(n.person_id is None and n.words == "" for n in needs)
        assert s.scalar(select(func.count()).select_from(Match)) >= 1
        case = s.scalars(select(esc.Escalation)).one()
        assert (case.status, case.outcome) == ("resolved", esc.ERASED)
        actions = [a.action for a in s.scalars(select(esc.AuditEntry).order_by(esc.AuditEntry.id))]
        assert actions[-1] == "closed_erased" and "note" in actions
        assert s.scalar(select(func.count()).select_from(esc.CaseNote)) == 0
        # The confirmed place stays as a resource without what was hers; the candidate went.
        [place] = s.scalars(select(Resource).where(Resource.source == "offer")).all()
        assert (place.offered_by_id, place.description, place.address, place.lat) == (None, "", "", None)
        assert s.scalar(select(func.count()).select_from(Person).where(Person.line_user_id == resident)) == 0
    coordinator_text = last(stack, town.ids["asaka_coord"])["text"]
    assert coordinator_text.startswith("【終了】") and "消去" in coordinator_text


def test_the_retention_purge_erases_the_same(stack, town, logs):
    resident = whole_life(stack, town)
    stack.sim.unfollow(resident)
    stack.settle()
    deps = stack.services.job_deps()
    with transaction(stack.sessions) as s:
        assert jobs.purge_unfollowed(s, stack.clock.now() + timedelta(days=89), deps) == 0
    assert resident in every_value(stack)
    with transaction(stack.sessions) as s:
        assert jobs.purge_unfollowed(s, stack.clock.now() + timedelta(days=91), deps) == 1
    assert_nothing_left(every_value(stack), traces(resident))
    assert_nothing_left(logs.readouterr().err, traces(resident))


def test_withdrawing_consent_erases_what_consent_covered(stack, town, logs):
    resident = whole_life(stack, town)
    consent_card = next(m["message"] for m in stack.sim.messages(resident)
                        if m["message"].get("text", "").startswith("【個人情報について】"))
    press(stack, resident, RESIDENT["consent_no"], consent_card)
    stack.settle()
    assert RESIDENT["consent_withdrawn"] in last(stack, resident)["text"]

    # The LINE id stays (the bot still answers her); nothing that consent covered does.
    everything = every_value(stack)
    assert_nothing_left(everything, [t for t in traces(resident) if t != resident])
    assert_nothing_left(logs.readouterr().err, traces(resident))
    with stack.sessions() as s:
        person = s.scalars(select(Person).where(Person.line_user_id == resident)).one()
        assert (person.consent, person.display_name, person.phone, person.area_id) == ("withdrawn", "", None, None)
        assert not person.roles & {"resident", "volunteer"}
        assert s.scalar(select(func.count()).select_from(Need).where(Need.person_id == person.id)) == 0
        assert s.scalar(select(func.count()).select_from(Resource).where(Resource.offered_by_id == person.id)) == 0


def test_a_volunteer_erased_leaves_matches_as_counts_and_no_offer(stack, town):
    suzuki = town.ids["suzuki"]
    stack.sim.send_text(suzuki, "わたしのデータを消す")
    stack.settle()
    press(stack, suzuki, RESIDENT["delete_yes"])
    stack.settle()
    everything = every_value(stack)
    assert_nothing_left(everything, [suzuki, "鈴木 博", "090-1111-2222"])
