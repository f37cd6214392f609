"""The seeds' flow, as a story: a need noticed in a neighbourhood (第3層) that the district
(第2層) cannot meet is raised to the city (第1層) and waits on its 協議体's proposal list."""
from __future__ import annotations

from cli import main as sasaeai_cli
from domain import escalation as esc
from bot.messages.coordinator import COORDINATOR
from tests.bot.conftest import all_text, last
from tests.escalation.test_escalation import resident_in


def test_a_neighbourhood_need_the_district_cannot_meet_becomes_a_proposal_for_the_city(stack, town, monkeypatch, capsys):
    # In 日出山, a neighbourhood of 安積地区, Mrs Yamada writes that she has nobody to talk to.
    yamada = resident_in(stack, "安積地区", "日出山")
    stack.sim.send_text(yamada, "ひとりぐらしで、はなしあいてがほしいです")
    stack.settle()
    stack.sim.press(yamada, "はい")
    stack.settle()
    # 安積地区 has no 話し相手 volunteer and no resource for it: the district coordinator is told.
    assert "までにご連絡します" in last(stack, yamada)["text"]
    coordinator = town.ids["asaka_coord"]
    assert "話し相手" in all_text(last(stack, coordinator))

    # The coordinator takes the case and looks for someone or something to connect her with.
    stack.sim.press(coordinator, COORDINATOR["ack"])
    stack.settle()
    stack.sim.press(coordinator, COORDINATOR["connect"], stack.sim.messages(coordinator)[-2]["message"])
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["nothing_to_connect"]

    # Nothing in the district fits, so she raises it to 第1層 with a proposal.
    notice = next(m["message"] for m in reversed(stack.sim.messages(coordinator)) if m["message"]["type"] == "flex")
    stack.sim.press(coordinator, COORDINATOR["raise"], notice)
    stack.settle()
    stack.sim.send_text(coordinator, "日出山に話し相手の訪問ボランティアがいません。傾聴ボランティア養成講座を提案します。")
    stack.settle()
    assert last(stack, coordinator)["text"] == COORDINATOR["raised"]

    # The city's list, grouped by district and category, now carries it for the 協議体.
    with stack.sessions() as session:
        [(district, category, proposals)] = esc.proposals_by_district_and_category(session)
        assert (district.name, category) == ("安積地区", "talk")
        assert proposals[0].text.startswith("日出山に話し相手の訪問ボランティアがいません")
        case = session.get(esc.Escalation, proposals[0].escalation_id)
        assert case.status == "raised"
        entries = session.query(esc.AuditEntry).filter_by(escalation_id=case.id).order_by(esc.AuditEntry.id).all()
        actions = [e.action for e in entries if e.action != "contact_viewed"]
        assert actions == ["escalated", "acknowledged", "raised"]
        # The notice and the answer to 対応します showed the contact: both views are on record.
        assert [e.detail for e in entries if e.action == "contact_viewed"] == ["line", "line"]
    monkeypatch.setenv("DATABASE_URL", stack.config.database_url)
    assert sasaeai_cli(["escalations", "proposals"]) == 0
    printed = capsys.readouterr().out
    assert "■ 安積地区・話し相手（1件）" in printed and "傾聴ボランティア養成講座" in printed


def test_a_raised_proposal_goes_onto_the_next_city_council_agenda_once(stack, town):
    from datetime import timedelta

    from domain.db import transaction
    from domain import needs as need_rules
    from domain.meetings import core as meetings
    from domain.meetings.models import AgendaItem
    from domain.models import Person
    from sqlalchemy import select

    now = stack.clock.now()
    with transaction(stack.sessions) as s:
        coordinator = s.scalars(select(Person).where(Person.line_user_id == town.ids["asaka_coord"])).one()
        need = need_rules.create_need(s, person=None, category="talk", area=town.areas["asaka-hideyama"], now=now)
        case, _ = esc.escalate(s, need, esc.NO_MATCH, now)
        proposal = esc.raise_to_city(s, case.id, coordinator, "傾聴ボランティアの養成", now)
        assert esc.put_proposals_on_agendas(s, now) == 0  # no 第1層 meeting yet: it waits
    with transaction(stack.sessions) as s:
        city_coordinator = s.scalars(select(Person).where(Person.line_user_id == town.ids["city"])).one()
        meeting = meetings.create_meeting(
            s, layer="city", area_id=town.areas["koriyama"], title="第1層協議体", starts_at=now + timedelta(days=20),
            place="市役所", mode="in_person", organiser_id=city_coordinator.id, member_ids=[city_coordinator.id],
            now=now).meeting
    for _ in range(2):
        with transaction(stack.sessions) as s:
            esc.put_proposals_on_agendas(s, now)
    with stack.sessions() as s:
        items = list(s.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id,
                                                        AgendaItem.source == "proposal")))
        assert [(i.title, i.source_ref) for i in items] == [("資源開発の提案：安積地区・話し相手", str(proposal.id))]
        assert s.get(esc.Proposal, proposal.id).status == "on_agenda"
