"""Every new page answers a district coordinator, and its actions do what they say."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import outbox
from domain import escalation as esc
from domain.meetings.models import Meeting, MeetingMember
from domain.models import RESOURCE_ACTIVE, RESOURCE_INACTIVE, Match, Need, Offer, Resource
from domain.readings import Reading

PAGES = ["/console/resources/new", "/console/resources/candidates", "/console/resources/stale",
         "/console/resources/import", "/console/volunteers/approvals", "/console/volunteers/help",
         "/console/meetings", "/console/meetings/new", "/console/meetings?past=1", "/console/insights",
         "/console/export", "/console/review", "/console/review?reason=low", "/console/review?done=1"]


@pytest.mark.parametrize("path", PAGES)
def test_each_new_page_answers(browser, town2, path):
    browser.login(town2.ids["asaka_coord"])
    page = browser.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]


def test_own_rows_pages_answer(browser, town2):
    browser.login(town2.ids["asaka_coord"])
    a = town2.asaka
    for path in (f"/console/resources/{a.candidate}", f"/console/resources/{a.resource}",
                 f"/console/volunteers/{a.volunteer}", f"/console/meetings/{a.meeting}"):
        page = browser.get(path)
        assert page.status_code == 200, (path, page.get_data(as_text=True)[:300])
    text = browser.get(f"/console/resources/{a.candidate}").get_data(as_text=True)
    assert "毎週水曜" in text and "確認して掲載する" in text


def test_create_and_edit_a_resource(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    form = {"name": "日出山ふれあいサロン", "kind": "salon", "provider_type": "resident", "categories": ["salon", "talk"],
            "areas": [str(town2.areas["asaka-hideyama"])], "schedule": "毎月第2・第4火曜 13時半から15時",
            "venue": "日出山集会所", "phone": "024-123-4567", "fee": "1回100円", "eligibility": "どなたでも",
            "accessibility": "段差なし"}
    made = browser.post("/console/resources/new", form)
    assert made.status_code == 302
    with stack.sessions() as s:
        r = s.scalar(select(Resource).where(Resource.name == "日出山ふれあいサロン"))
        assert sorted(r.categories) == ["salon", "talk"] and r.fee == "1回100円" and r.status == RESOURCE_ACTIVE
        assert [(x.kind, x.weekdays, x.weeks) for x in r.schedule_rows] == [("monthly", 0b10, 0b1010)]
        assert {row.area_id for row in r.coverage_rows} == {town2.areas["asaka-hideyama"]}
        rid = r.id
    bad = browser.post(f"/console/resources/{rid}", {**form, "schedule": "そのうち"})
    assert bad.status_code == 400 and "日時が読めません" in bad.get_data(as_text=True)
    ok = browser.post(f"/console/resources/{rid}", {**form, "schedule": "毎週金曜 10:00〜11:00", "fee": "無料"})
    assert ok.status_code == 302
    with stack.sessions() as s:
        r = s.get(Resource, rid)
        assert r.fee == "無料" and [x.kind for x in r.schedule_rows] == ["weekly"]


def test_confirm_reject_deactivate(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    assert browser.post(f"/console/resources/{town2.asaka.candidate}/confirm").status_code == 302
    assert browser.post(f"/console/resources/{town2.asaka.resource}/deactivate").status_code == 302
    with stack.sessions() as s:
        assert s.get(Resource, town2.asaka.candidate).status == RESOURCE_ACTIVE
        assert s.get(Resource, town2.asaka.candidate).last_verified_on is not None
        assert s.get(Resource, town2.asaka.resource).status == RESOURCE_INACTIVE
    again = browser.post(f"/console/resources/{town2.asaka.candidate}/reject")
    assert "確認待ちではありません" in browser.get(again.headers["Location"]).get_data(as_text=True)


def test_stale_list_shows_never_verified(browser, town2):
    browser.login(town2.ids["asaka_coord"])
    page = browser.get("/console/resources/stale?months=6").get_data(as_text=True)
    assert "asakaサロン" in page and "tomitaサロン" not in page


def test_approve_and_decline_from_the_console(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    page = browser.get("/console/volunteers/approvals").get_data(as_text=True)
    assert "asaka担い手 花子" in page and "tomita担い手" not in page
    before = _pushes(stack)
    assert browser.post(f"/console/volunteers/approvals/{town2.asaka.match}/decline").status_code == 302
    with stack.sessions() as s:
        m = s.get(Match, town2.asaka.match)
        assert m.status == "declined" and m.approved_at is None
        assert s.get(Need, m.need_id).status == "escalated"
    assert _pushes(stack) == before + 1  # the volunteer is told
    again = browser.post(f"/console/volunteers/approvals/{town2.asaka.match}/approve")
    assert "確認待ちではありません" in browser.get(again.headers["Location"]).get_data(as_text=True)


def test_approve_releases_contacts(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    before = _pushes(stack)
    assert browser.post(f"/console/volunteers/approvals/{town2.asaka.match}/approve").status_code == 302
    with stack.sessions() as s:
        assert s.get(Match, town2.asaka.match).approved_at is not None
    assert _pushes(stack) == before + 2  # both sides learn the other's contact


def _pushes(stack) -> int:
    with stack.sessions() as s:
        return s.scalar(select(func.count()).select_from(outbox.OutboxMessage))


def test_offer_edit_pause_resume(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    base = f"/console/volunteers/{town2.asaka.volunteer}/offers/{town2.asaka.offer}"
    assert browser.post(base + "/pause").status_code == 302
    with stack.sessions() as s:
        assert s.get(Offer, town2.asaka.offer).paused
    browser.post(base + "/resume")
    done = browser.post(base, {"categories": ["shopping"], "areas": [str(town2.areas["asaka"])], "days": ["2", "4"],
                               "parts": ["2"], "car": "1"})
    assert done.status_code == 302
    with stack.sessions() as s:
        o = s.get(Offer, town2.asaka.offer)
        assert not o.paused and o.has_car and o.categories == ["shopping"]
        assert sorted(x.weekday for x in o.slot_rows) == [2, 4]


def test_meeting_members_agenda_minutes(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    mid = town2.asaka.meeting
    vol = town2.asaka.volunteer
    assert browser.post(f"/console/meetings/{mid}/members", {"person_id": str(vol)}).status_code == 302
    with stack.sessions() as s:
        assert s.get(MeetingMember, (mid, vol)) is not None
    browser.post(f"/console/meetings/{mid}/agenda", {"proposal_id": str(town2.asaka.proposal)})
    browser.post(f"/console/meetings/{mid}/minutes", {"note": "除雪の担い手を募ることにした"})
    browser.post(f"/console/meetings/{mid}/reminders", {"remind_days": "3", "remind_at": "10:00"})
    with stack.sessions() as s:
        m = s.get(Meeting, mid)
        assert [a.source for a in m.agenda] == ["proposal"]
        assert m.minutes_recorded_at is not None and "除雪" in m.minutes_note
        pending = [r for r in m.reminders if r.kind == "remind" and r.status == "pending"]
        assert [(r.day_offset, r.local_time.hour) for r in pending] == [(-3, 10)]
        assert s.get(esc.Proposal, town2.asaka.proposal).status == "on_agenda"
    browser.post(f"/console/meetings/{mid}/members/{vol}/remove")
    with stack.sessions() as s:
        assert s.get(MeetingMember, (mid, vol)) is None


def test_create_single_and_recurring_meetings(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    one = browser.post("/console/meetings/new", {"title": "臨時の協議体", "area": str(town2.areas["asaka"]),
                                                 "mode": "in_person", "date": "2026-12-16", "time": "14:00",
                                                 "duration": "90", "place": "安積公民館", "remind_days": "7,1",
                                                 "remind_at": "09:00", "agenda": "除雪\n見守り"})
    assert one.status_code == 302, one.get_data(as_text=True)[:500]
    series = browser.post("/console/meetings/new", {"title": "定例の協議体", "area": str(town2.areas["asaka"]),
                                                    "mode": "in_person", "recurring": "1", "rule": "毎月第3水曜",
                                                    "starts_on": "2026-12-01", "time": "14:00", "count": "3",
                                                    "remind_days": "7,1", "remind_at": "09:00"})
    assert series.status_code == 302, series.get_data(as_text=True)[:500]
    with stack.sessions() as s:
        titles = [m.title for m in s.scalars(select(Meeting).order_by(Meeting.starts_at))]
        assert titles.count("定例の協議体") == 3 and "臨時の協議体" in titles


def test_review_confirm_and_correct(browser, stack, town2):
    browser.login(town2.ids["asaka_coord"])
    page = browser.get("/console/review").get_data(as_text=True)
    assert "なんだか毎日さみしくて" in page
    browser.post(f"/console/review/{town2.asaka.reading}", {"category": "watch", "safety": "none"})
    with stack.sessions() as s:
        r = s.get(Reading, town2.asaka.reading)
        assert r.reviewed_category == "watch" and r.reviewed_at is not None


def test_insights_numbers(browser, town2):
    browser.login(town2.ids["asaka_coord"])
    page = browser.get("/console/insights?start=2026-01-01&end=2026-12-31").get_data(as_text=True)
    assert "chart.umd.min.js" in page and "insights-data" in page
    assert "安積地区" in page and "富田地区" not in page
