"""Another district's coordinator: every new page and action on 安積's rows is 404 (audited) and
changes nothing; exports of 富田 never hold 安積's data; the contact sheet only for one's own district."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from domain import escalation as esc
from domain.meetings.models import Meeting, MeetingMember
from domain.models import Match, Offer, Resource
from domain.readings import Reading


def audits(stack, action: str = "out_of_scope") -> int:
    with stack.sessions() as s:
        return s.scalar(select(func.count()).select_from(esc.AuditEntry).where(esc.AuditEntry.action == action))


def snapshot(stack, t) -> tuple:
    a = t.asaka
    with stack.sessions() as s:
        return (s.get(Resource, a.candidate).status, s.get(Resource, a.resource).status,
                s.get(Resource, a.resource).name, s.get(Offer, a.offer).paused, s.get(Match, a.match).status,
                s.get(Match, a.match).approved_at, s.get(Meeting, a.meeting).minutes_recorded_at,
                s.scalar(select(func.count()).select_from(MeetingMember)), s.get(Reading, a.reading).reviewed_at,
                len(s.get(Meeting, a.meeting).agenda), s.get(Meeting, a.meeting).status)


def pages(t):
    a = t.asaka
    return [f"/console/resources/{a.candidate}", f"/console/resources/{a.resource}",
            f"/console/volunteers/{a.volunteer}", f"/console/meetings/{a.meeting}",
            f"/console/insights?district={t.areas['asaka']}",
            f"/console/export/report.xlsx?district={t.areas['asaka']}",
            f"/console/export/needs.csv?district={t.areas['asaka']}",
            f"/console/export/unmet.csv?district={t.areas['asaka']}"]


def actions(t):
    a = t.asaka
    form = {"name": "乗っ取り", "kind": "salon", "categories": ["salon"], "areas": [str(t.areas["tomita"])],
            "schedule": "毎週月曜"}
    return [
        (f"/console/resources/{a.resource}", form),
        (f"/console/resources/{a.candidate}/confirm", {}),
        (f"/console/resources/{a.candidate}/reject", {}),
        (f"/console/resources/{a.resource}/deactivate", {}),
        (f"/console/resources/{a.resource}/verify", {}),
        (f"/console/volunteers/{a.volunteer}/offers/{a.offer}/pause", {}),
        (f"/console/volunteers/{a.volunteer}/offers/{a.offer}", {"categories": ["shopping"],
                                                                 "areas": [str(t.areas["tomita"])], "days": ["1"]}),
        (f"/console/volunteers/approvals/{a.match}/approve", {}),
        (f"/console/volunteers/approvals/{a.match}/decline", {}),
        (f"/console/meetings/{a.meeting}", {"title": "x", "place": "よそ"}),
        (f"/console/meetings/{a.meeting}/cancel", {}),
        (f"/console/meetings/{a.meeting}/members", {"person_id": str(t.tomita.volunteer)}),
        (f"/console/meetings/{a.meeting}/members/{t.asaka.volunteer}/remove", {}),
        (f"/console/meetings/{a.meeting}/reminders", {"remind_days": "2"}),
        (f"/console/meetings/{a.meeting}/agenda", {"title": "よその議題"}),
        (f"/console/meetings/{a.meeting}/minutes", {"note": "x"}),
        (f"/console/review/{a.reading}", {"confirm": "1"}),
        # my own rows, pointed at 安積's areas, people or proposals
        ("/console/resources/new", {**form, "areas": [str(t.areas["asaka-arai"])]}),
        (f"/console/resources/{t.tomita.resource}", {**form, "areas": [str(t.areas["asaka"])]}),
        (f"/console/meetings/{t.tomita.meeting}/members", {"person_id": str(t.asaka.volunteer)}),
        (f"/console/meetings/{t.tomita.meeting}/agenda", {"proposal_id": str(t.asaka.proposal)}),
        ("/console/meetings/new", {"title": "x", "area": str(t.areas["asaka"]), "date": "2026-12-20", "time": "10:00"}),
    ]


def test_another_districts_pages_are_404_and_audited(browser, stack, town2):
    browser.login(town2.ids["tomita_coord"])
    for path in pages(town2):
        before = audits(stack)
        response = browser.get(path)
        assert response.status_code == 404, path
        assert "asaka" not in response.get_data(as_text=True).lower() or path.startswith("/console/insights")
        assert audits(stack) == before + 1, path


def test_another_districts_actions_are_404_and_change_nothing(browser, stack, town2):
    browser.login(town2.ids["tomita_coord"])
    if town2.asaka.volunteer:  # 安積's volunteer is a member, so that "remove" has something to remove
        with stack.sessions() as s:
            s.add(MeetingMember(meeting_id=town2.asaka.meeting, person_id=town2.asaka.volunteer))
            s.commit()
    before = snapshot(stack, town2)
    for path, form in actions(town2):
        response = browser.post(path, form)
        assert response.status_code == 404, path
    assert snapshot(stack, town2) == before


def test_lists_show_only_my_district(browser, town2):
    browser.login(town2.ids["tomita_coord"])
    for path, mine, theirs in [
            ("/console/resources/candidates", "tomitaさんの座敷", "asakaさんの座敷"),
            ("/console/resources/stale", "tomitaサロン", "asakaサロン"),
            ("/console/volunteers/approvals", "tomita担い手", "asaka担い手"),
            ("/console/meetings", "tomita 第2層協議体", "asaka 第2層協議体"),
            ("/console/review", "tomita", "asaka"),
            ("/console/insights", "富田地区", "安積地区"),
            ("/console/export", "富田地区", "安積地区")]:
        text = browser.get(path).get_data(as_text=True)
        if path != "/console/review":
            assert mine in text, path
        assert theirs not in text, path


def _xlsx(browser, district: int, contacts: bool = False):
    url = f"/console/export/report.xlsx?district={district}&start=2026-01-01&end=2026-12-31"
    response = browser.get(url + ("&contacts=1" if contacts else ""))
    return response, (load_workbook(io.BytesIO(response.data)) if response.status_code == 200 else None)


def all_cells(book) -> str:
    return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
                     if v is not None)


def test_exports_hold_no_name_phone_or_other_district(browser, stack, town2):
    browser.login(town2.ids["tomita_coord"])
    response, book = _xlsx(browser, town2.areas["tomita"])
    assert response.status_code == 200
    text = all_cells(book)
    for secret in ("tomita住民", "024-999-0000", "090-0000-1111", "tomita担い手", "佐藤", "024-333-4444",
                   "asaka", "安積", "山田", "024-111-2222", "電球を替えて", "雪かきが"):
        assert secret not in text, secret
    for sheet in ("needs", "resources", "unmet", "proposals", "attendance"):
        csv = browser.get(f"/console/export/{sheet}.csv?district={town2.areas['tomita']}&start=2026-01-01"
                          f"&end=2026-12-31")
        assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
        body = csv.data.decode("utf-8-sig")
        for secret in ("tomita住民", "024-999-0000", "安積", "山田"):
            assert secret not in body, (sheet, secret)


def test_the_contact_sheet_only_for_my_district_and_audited(browser, other_browser, stack, town2):
    browser.login(town2.ids["tomita_coord"])
    before = audits(stack, "export_contacts")
    response, book = _xlsx(browser, town2.areas["tomita"], contacts=True)
    assert response.status_code == 200
    assert "連絡先（取扱注意）" in book.sheetnames
    assert "024-999-0000" in all_cells(book)
    assert audits(stack, "export_contacts") == before + 1
    refused, _ = _xlsx(browser, town2.areas["asaka"], contacts=True)
    assert refused.status_code == 404
    assert browser.get(f"/console/export/contacts.csv?district={town2.areas['tomita']}").status_code == 404
    # The city coordinator sees every district's figures, but no district's contact sheet.
    other_browser.login(town2.ids["city"])
    city, _ = _xlsx(other_browser, town2.areas["tomita"], contacts=True)
    assert city.status_code == 404
    figures, _book = _xlsx(other_browser, town2.areas["asaka"])
    assert figures.status_code == 200


@pytest.mark.parametrize("who", ["resident_x"])
def test_someone_not_a_coordinator_cannot_log_in_to_the_new_pages(browser, town2, who):
    browser.login(town2.ids[who])
    assert browser.get("/console/insights").status_code in (302, 401, 403)
