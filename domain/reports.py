"""Reports for the 第2層 協議体: one district over a period, as .xlsx (openpyxl) or CSV (UTF-8 with BOM).

No name, phone number or resident's words in any sheet: needs are counted or listed by date,
neighbourhood, category and status only, and proposal texts have identifiers removed. The one
exception is the contact sheet (連絡先), for a coordinator's own district only, asked for
explicitly and written to the audit trail by the caller (console/reports_views.py).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import escalation as esc
from domain import insights
from domain.categories import label as category_label
from domain.clock import TOKYO
from domain.meetings.models import (
    ABSENT, ATTEND, NO_OPINION, OPINION, UNDECIDED, Meeting, MeetingAnswer, MeetingMember,
)
from domain.models import RESOURCE_ACTIVE, RESOURCE_CANDIDATE, Area, Need, Person, Resource, ResourceCoverage
from domain.readings import scrub
from domain.scope import Scope

# The report's words (Japanese, in one place).
JA = {
    "title": "第2層 協議体 報告 {district}（{period}）",
    "made": "作成 {at}",
    "needs": "困りごと（分野別）",
    "resources": "社会資源（分野別）",
    "unmet": "未解決の困りごと（匿名）",
    "proposals": "資源開発の提案",
    "attendance": "会議の出欠",
    "contacts": "連絡先（取扱注意）",
    "needs_headers": ["分野", "困りごとの件数", "うち未解決", "社会資源の数", "担い手の数", "1件あたり資源",
                      "1件あたり担い手", "初回連絡まで（時間・平均）", "資源開発の提案"],
    "resources_headers": ["分野", "掲載中の資源", "うち住民主体", "確認待ちの候補"],
    "unmet_headers": ["受付日", "地域", "分野", "状態", "経過日数"],
    "proposals_headers": ["提出日", "地区", "分野", "提案", "状態"],
    "attendance_headers": ["会議", "日時", "形式", "委員", "出席", "欠席", "未定", "意見あり", "意見なし", "未回答"],
    "contacts_headers": ["受付日", "地域", "分野", "状態", "お名前", "電話"],
    "total": "合計",
    "status": {"received": "受付", "suggested": "資源を紹介", "asking": "担い手に依頼中", "matched": "担い手決定",
               "resolved": "解決", "escalated": "コーディネーターへ", "cancelled": "取り下げ"},
    "proposal_status": {"proposed": "提案中", "on_agenda": "議題に掲載", "adopted": "採択", "closed": "終了"},
    "mode": {"in_person": "対面", "online": "オンライン", "hybrid": "ハイブリッド", "written": "書面開催"},
}
SHEETS = ("needs", "resources", "unmet", "proposals", "attendance")
MAX_LISTED = 50_000


@dataclass
class Sheet:
    key: str
    name: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)


@dataclass
class Report:
    title: str
    made: str
    sheets: list[Sheet]

    def sheet(self, key: str) -> Sheet:
        return next(s for s in self.sheets if s.key == key)


def _local(moment: datetime | None) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d") if moment else ""


def _subtree(session: Session, district_id: int) -> list[int]:
    to_district, _d, _c = insights.district_map(session)
    return [a for a, d in to_district.items() if d == district_id]


def build(session: Session, scope: Scope, district: Area, period: insights.Period, now: datetime, *,
          contacts: bool = False) -> Report:
    """The report of one district in scope (the caller checked it) over a period."""
    data = insights.compute(session, scope, period, district_id=district.id)
    areas = _subtree(session, district.id)
    start, end = period.start_utc, period.end_utc
    sheets: list[Sheet] = []

    needs = Sheet("needs", JA["needs"], JA["needs_headers"], widths=[22, 14, 12, 14, 12, 14, 14, 26, 16])
    for cat in data.categories:
        c = data.by_category[cat]
        needs.rows.append([category_label(cat), c.needs, c.unmet, c.resources, c.volunteers,
                           c.resources_per_need, c.volunteers_per_need, c.mean_contact_hours, c.proposals])
    t = data.total
    needs.rows.append([JA["total"], t.needs, t.unmet, t.resources, t.volunteers, t.resources_per_need,
                       t.volunteers_per_need, t.mean_contact_hours, t.proposals])
    sheets.append(needs)

    resources = Sheet("resources", JA["resources"], JA["resources_headers"], widths=[22, 14, 14, 16])
    serving = select(ResourceCoverage.resource_id).where(ResourceCoverage.area_id.in_(areas))
    counts: dict[tuple[str, str, bool], int] = {}
    # Grouped by the column itself: PostgreSQL refuses a GROUP BY on an expression with a bound
    # parameter (each bind is a new parameter, so the SELECT's is not the GROUP BY's).
    for cat, status, provider_type, count in session.execute(
            select(ResourceCoverage.category, Resource.status, Resource.provider_type,
                   func.count(func.distinct(Resource.id)))
            .join(Resource, Resource.id == ResourceCoverage.resource_id)
            .where(Resource.id.in_(serving), ResourceCoverage.area_id.in_(areas),
                   Resource.status.in_((RESOURCE_ACTIVE, RESOURCE_CANDIDATE)))
            .group_by(ResourceCoverage.category, Resource.status, Resource.provider_type)):
        key = (cat, status, provider_type == "resident")
        counts[key] = counts.get(key, 0) + count
    for cat in data.categories:
        active = counts.get((cat, RESOURCE_ACTIVE, True), 0) + counts.get((cat, RESOURCE_ACTIVE, False), 0)
        resources.rows.append([category_label(cat), active, counts.get((cat, RESOURCE_ACTIVE, True), 0),
                               counts.get((cat, RESOURCE_CANDIDATE, True), 0)
                               + counts.get((cat, RESOURCE_CANDIDATE, False), 0)])
    sheets.append(resources)

    unmet = Sheet("unmet", JA["unmet"], JA["unmet_headers"], widths=[12, 24, 22, 18, 10])
    names = {a.id: a.name for a in session.scalars(select(Area).where(Area.id.in_(areas)))}
    rows = session.execute(
        select(Need.created_at, Need.area_id, Need.category, Need.status)
        .where(Need.area_id.in_(areas), Need.created_at >= start, Need.created_at < end,
               Need.status.in_(insights.UNMET_STATUSES))
        .order_by(Need.created_at, Need.id).limit(MAX_LISTED))
    for created, area_id, cat, status in rows:
        unmet.rows.append([_local(created), names.get(area_id, ""), category_label(cat),
                           JA["status"].get(status, status), max(0, (now - created).days)])
    sheets.append(unmet)

    proposals = Sheet("proposals", JA["proposals"], JA["proposals_headers"], widths=[12, 16, 22, 60, 12])
    for proposal in session.scalars(select(esc.Proposal).where(
            esc.Proposal.district_id == district.id, esc.Proposal.raised_at >= start,
            esc.Proposal.raised_at < end).order_by(esc.Proposal.raised_at, esc.Proposal.id)):
        proposals.rows.append([_local(proposal.raised_at), district.name, category_label(proposal.category),
                               scrub(proposal.text), JA["proposal_status"].get(proposal.status, proposal.status)])
    sheets.append(proposals)

    attendance = Sheet("attendance", JA["attendance"], JA["attendance_headers"],
                       widths=[30, 18, 12, 8, 8, 8, 8, 10, 10, 8])
    meetings = list(session.scalars(select(Meeting).where(
        Meeting.area_id == district.id, Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at, Meeting.id)))
    ids = [m.id for m in meetings]
    members = dict(session.execute(select(MeetingMember.meeting_id, func.count())
                                   .where(MeetingMember.meeting_id.in_(ids)).group_by(MeetingMember.meeting_id))
                   .all()) if ids else {}
    answers: dict[tuple[int, str], int] = {}
    if ids:
        for mid, choice, count in session.execute(
                select(MeetingAnswer.meeting_id, MeetingAnswer.choice, func.count())
                .where(MeetingAnswer.meeting_id.in_(ids)).group_by(MeetingAnswer.meeting_id, MeetingAnswer.choice)):
            answers[(mid, choice)] = count
    for m in meetings:
        n = members.get(m.id, 0)
        given = sum(answers.get((m.id, c), 0) for c in (ATTEND, ABSENT, UNDECIDED, OPINION, NO_OPINION))
        attendance.rows.append([m.title, m.starts_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"),
                                JA["mode"].get(m.mode, m.mode), n, answers.get((m.id, ATTEND), 0),
                                answers.get((m.id, ABSENT), 0), answers.get((m.id, UNDECIDED), 0),
                                answers.get((m.id, OPINION), 0), answers.get((m.id, NO_OPINION), 0),
                                max(0, n - given)])
    sheets.append(attendance)

    if contacts:
        sheet = Sheet("contacts", JA["contacts"], JA["contacts_headers"], widths=[12, 24, 22, 18, 20, 16])
        for created, area_id, cat, status, name, phone in session.execute(
                select(Need.created_at, Need.area_id, Need.category, Need.status, Person.display_name, Person.phone)
                .join(Person, Person.id == Need.person_id)
                .where(Need.area_id.in_(areas), Need.created_at >= start, Need.created_at < end,
                       Need.status.in_(insights.UNMET_STATUSES))
                .order_by(Need.created_at, Need.id).limit(MAX_LISTED)):
            sheet.rows.append([_local(created), names.get(area_id, ""), category_label(cat),
                               JA["status"].get(status, status), name or "", phone or ""])
        sheets.append(sheet)

    return Report(JA["title"].format(district=district.name, period=period.label()),
                  JA["made"].format(at=now.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")), sheets)


def to_xlsx(report: Report) -> bytes:
    """One workbook: a sheet per table, a title row, Japanese headers, column widths, frozen headers."""
    book = Workbook(write_only=True)
    bold, header_fill = Font(bold=True), PatternFill("solid", fgColor="E8F1EC")
    from openpyxl.cell import WriteOnlyCell

    for sheet in report.sheets:
        ws = book.create_sheet(sheet.name[:31])
        for i, width in enumerate(sheet.widths or [16] * len(sheet.headers), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A4"
        title = WriteOnlyCell(ws, value=report.title)
        title.font = Font(bold=True, size=14)
        ws.append([title])
        ws.append([report.made])
        headers = []
        for h in sheet.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font, cell.fill = bold, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            headers.append(cell)
        ws.append(headers)
        for row in sheet.rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(report: Report, key: str) -> bytes:
    """One sheet as CSV in UTF-8 with a BOM (Excel opens it as Japanese), CRLF line ends."""
    sheet = report.sheet(key)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([report.title])
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
