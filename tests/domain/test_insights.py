"""見える化's hours to first contact: a volunteer's acceptance or a coordinator's 対応します, whichever
came first; needs nobody contacted do not count. On SQLite and PostgreSQL (the lookup is written
per need so that its plan does not depend on the planner's statistics)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from domain import escalation as esc
from domain import insights, needs
from domain.areas import import_areas
from domain.db import make_engine, make_session_factory, transaction
from domain.models import Area, Match
from domain.scope import Scope
from domain_builders import AREAS, World
from test_models import NOW


def test_hours_to_first_contact_take_the_earlier_of_acceptance_and_acknowledgement(any_db_url):
    engine = make_engine(any_db_url)
    try:
        with transaction(make_session_factory(engine)) as s:
            import_areas(s, AREAS)
            s.flush()
            w = World(s, NOW, {a.code: a for a in s.scalars(select(Area))})
            volunteer, _ = w.volunteer()

            def need(hours_to_match=None, hours_to_ack=None, category="talk"):
                n = needs.create_need(s, person=w.person(), category=category, area=w.area("asaka-arai"),
                                      now=NOW, words="話し相手")
                if hours_to_match is not None:
                    s.add(Match(need_id=n.id, volunteer_id=volunteer.id, status="accepted", asked_at=NOW,
                                responded_at=NOW + timedelta(hours=hours_to_match), updated_at=NOW))
                if hours_to_ack is not None:
                    case, _ = esc.escalate(s, n, esc.NO_MATCH, NOW)
                    case.acknowledged_at = NOW + timedelta(hours=hours_to_ack)
                s.flush()

            need(hours_to_match=2)
            need(hours_to_ack=5)
            need(hours_to_match=9, hours_to_ack=3)   # the acknowledgement came first: 3
            need(hours_to_match=1, hours_to_ack=6)   # the acceptance came first: 1
            need()                                   # nobody yet: not counted
            district = w.area("asaka").id
            period = insights.Period.parse(None, None, (NOW + timedelta(days=1)).date())
            found = insights.compute(s, Scope(None, True, frozenset(), frozenset()), period)
            cell = found.cell(district, "talk")
            assert (cell.needs, cell.contact_count) == (5, 4)
            assert cell.mean_contact_hours == round((2 + 5 + 3 + 1) / 4, 1)
            assert found.total.mean_contact_hours == cell.mean_contact_hours
    finally:
        engine.dispose()
