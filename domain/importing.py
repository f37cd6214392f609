"""Resources from municipal open data: 介護サービス事業所一覧 and 公共施設一覧.

Both the older layout of the 推奨データセット (都道府県コード又は市区町村コード, NO, 介護サービス
事業所名称, 実施サービス, 住所, 緯度, 経度 …) and the Digital Agency's 自治体標準オープンデータセット
(全国地方公共団体コード, ID, 名称, 名称_カナ, 所在地_連結表記 …) are read; columns are found by
name, with the variants municipalities actually publish. Files may be UTF-8 (with or without a
BOM) or cp932.

A file is imported whole or not at all: rows are written in the caller's transaction and any
fatal problem raises ImportFailed, so the caller's rollback leaves nothing behind. Rows that
cannot be used are skipped and reported one by one. Re-importing updates rows by source and
external id (municipality code + NO/ID) instead of adding them again.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from domain.geo import haversine_m, valid_lat_lon
from domain.models import CITY, DISTRICT, RESOURCE_ACTIVE, Area, Resource
from domain.resources import apply
from domain.schedule import Rule, ScheduleParseError, parse_rule, to_tokyo
from domain.textfile import EncodingError, read_text

CARE, FACILITY, AUTO = "care", "facility", "auto"
SOURCES = {CARE: "opendata:care", FACILITY: "opendata:facility"}

# Field -> the column names it goes by (compared after NFKC and without spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("全国地方公共団体コード", "都道府県コード又は市区町村コード", "市区町村コード",
             "地方公共団体コード", "団体コード"),
    "no": ("ID", "NO", "No", "番号", "整理番号", "施設ID"),
    "name": ("名称", "介護サービス事業所名称", "事業所名称", "事業所名", "施設名", "施設名称"),
    "kana": ("名称_カナ", "介護サービス事業所名称_カナ", "事業所名称_カナ", "名称カナ", "施設名カナ",
             "ふりがな", "フリガナ"),
    "service": ("実施サービス", "提供サービス", "サービスの種類", "サービス種類", "サービス種別",
                "介護サービスの種類", "施設分類", "施設種別", "種別", "分類", "種類", "カテゴリ"),
    "address": ("所在地_連結表記", "所在地_連結標記", "住所", "所在地", "住所_連結表記"),
    "address_extra": ("方書", "所在地_方書", "住所_方書"),
    "lat": ("緯度", "latitude"),
    "lon": ("経度", "longitude"),
    "phone": ("電話番号", "連絡先電話番号", "TEL"),
    "days": ("利用可能曜日", "開館曜日", "営業曜日"),
    "start": ("開始時間", "利用開始時間", "開館時間"),
    "end": ("終了時間", "利用終了時間", "閉館時間"),
    "days_note": ("利用可能日時特記事項", "利用可能曜日特記事項"),
    "url": ("URL", "ホームページ", "HP"),
    "accessibility": ("バリアフリー情報",),
    "provider": ("法人の名称", "団体名", "運営法人名", "運営主体"),
    "description": ("説明", "備考"),
}
_CARE_HINTS = ("介護サービス事業所名称", "実施サービス", "介護サービスの種類", "事業所番号",
               "介護保険事業所番号", "法人の名称")

# Service (or facility type) keyword -> resource kind, categories, provider type.
# The first keyword found decides the kind; every keyword found adds its categories.
# More specific keywords come first (夜間対応型訪問介護 before 訪問介護).
SERVICE_MAP: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("配食", "meal_delivery", ("meals", "watch"), "care"),
    ("地域包括支援センター", "consultation", ("paperwork", "watch", "other"), "government"),
    ("居宅介護支援", "consultation", ("paperwork",), "care"),
    ("シルバー人材", "silver_center", ("garden", "housework", "snow"), "other"),
    ("社会福祉協議会", "shakyo_service", ("paperwork", "watch", "other"), "shakyo"),
    ("定期巡回", "care_provider", ("watch", "housework"), "care"),
    ("夜間対応型訪問介護", "care_provider", ("watch", "housework"), "care"),
    ("訪問介護", "care_provider", ("housework", "shopping"), "care"),
    ("ホームヘルプ", "care_provider", ("housework", "shopping"), "care"),
    ("訪問型サービス", "care_provider", ("housework", "shopping"), "care"),
    ("訪問リハビリ", "care_provider", ("exercise",), "care"),
    ("訪問入浴", "care_provider", ("other",), "care"),
    ("訪問看護", "care_provider", ("other",), "care"),
    ("認知症対応型通所介護", "care_provider", ("salon", "exercise"), "care"),
    ("通所リハビリ", "care_provider", ("exercise",), "care"),
    ("デイケア", "care_provider", ("exercise",), "care"),
    ("通所介護", "care_provider", ("exercise", "salon"), "care"),
    ("デイサービス", "care_provider", ("exercise", "salon"), "care"),
    ("通所型サービス", "care_provider", ("exercise", "salon"), "care"),
    ("小規模多機能", "care_provider", ("housework", "exercise", "meals"), "care"),
    ("短期入所", "care_provider", ("other",), "care"),
    ("ショートステイ", "care_provider", ("other",), "care"),
    ("福祉用具", "care_provider", ("other",), "care"),
    ("福祉有償運送", "transport", ("outing",), "npo"),
    ("移送", "transport", ("outing",), "other"),
    ("外出支援", "transport", ("outing",), "other"),
    ("移動販売", "shop_delivery", ("shopping",), "private"),
    ("買い物", "shop_delivery", ("shopping",), "private"),
    ("公民館", "public_facility", ("salon", "exercise"), "government"),
    ("集会所", "public_facility", ("salon", "exercise"), "resident"),
    ("集会場", "public_facility", ("salon", "exercise"), "resident"),
    ("市民センター", "public_facility", ("salon", "exercise", "paperwork"), "government"),
    ("地域センター", "public_facility", ("salon", "exercise"), "government"),
    ("コミュニティセンター", "public_facility", ("salon", "exercise"), "government"),
    ("交流センター", "public_facility", ("salon", "exercise"), "government"),
    ("ふれあいセンター", "public_facility", ("salon", "exercise"), "government"),
    ("老人福祉センター", "public_facility", ("salon", "exercise"), "government"),
    ("老人憩の家", "public_facility", ("salon",), "government"),
    ("福祉センター", "public_facility", ("salon", "exercise"), "government"),
    ("体育館", "public_facility", ("exercise",), "government"),
    ("スポーツ", "public_facility", ("exercise",), "government"),
    ("公園", "public_facility", ("exercise",), "government"),
    ("図書館", "public_facility", ("salon", "digital"), "government"),
    ("保健センター", "public_facility", ("exercise", "paperwork"), "government"),
    ("保健所", "public_facility", ("exercise", "paperwork"), "government"),
    ("市役所", "public_facility", ("paperwork",), "government"),
    ("行政センター", "public_facility", ("paperwork",), "government"),
    ("支所", "public_facility", ("paperwork",), "government"),
)
# Services that are not life support in the community (people live there): reported, not imported.
OUT_OF_SCOPE = ("介護老人福祉施設", "特別養護老人ホーム", "介護老人保健施設", "介護医療院",
                "介護療養型医療施設", "認知症対応型共同生活介護", "グループホーム",
                "特定施設入居者生活介護", "有料老人ホーム", "サービス付き高齢者向け住宅",
                "居宅療養管理指導", "学校", "小学校", "中学校", "高等学校", "幼稚園", "保育所",
                "保育園", "消防", "警察", "交番", "駐車場", "駐輪場", "浄水場", "清掃工場",
                "下水", "墓地", "斎場", "火葬場")
# Kinds whose staff come to the resident: they serve the whole city, not just where they sit.
HOME_VISITING_KINDS = {"meal_delivery", "transport", "shop_delivery", "silver_center"}
HOME_VISITING_WORDS = ("訪問", "配食", "移送", "定期巡回", "夜間対応", "移動販売", "ホームヘルプ",
                       "福祉用具", "居宅介護支援")
MAX_SKIPPED_SHARE = 0.75  # more skipped than this: probably the wrong file or --kind


class ImportFailed(Exception):
    """The whole file is refused; nothing of it may stay in the database."""


@dataclass
class RowNote:
    line: int
    key: str
    name: str
    reason: str

    def __str__(self) -> str:
        label = f"{self.line}行目"
        if self.name:
            label += f" {self.name}"
        return f"{label}: {self.reason}"


@dataclass
class ImportReport:
    file: str
    kind: str = ""
    layout: str = ""
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[RowNote] = field(default_factory=list)
    warnings: list[RowNote] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        head = "（試行・書き込みなし）" if self.dry_run else ""
        return (f"{self.file}{head}: {self.rows}行 — 新規 {self.created}・更新 {self.updated}"
                f"・変更なし {self.unchanged}・スキップ {len(self.skipped)}"
                f"・注意 {len(self.warnings)} [{self.kind}/{self.layout}/{self.encoding}]")


def _norm(header: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", header or "")).lstrip("\ufeff")


def map_columns(headers: list[str]) -> dict[str, str]:
    """field -> the header found in the file."""
    normalised = {_norm(h): h for h in headers}
    found = {}
    for key, names in COLUMNS.items():
        for name in names:
            header = normalised.get(_norm(name))
            if header is not None:
                found[key] = header
                break
    return found


def detect_kind(headers: list[str]) -> str:
    names = {_norm(h) for h in headers}
    return CARE if any(_norm(h) in names for h in _CARE_HINTS) else FACILITY


def detect_layout(headers: list[str]) -> str:
    names = {_norm(h) for h in headers}
    if "全国地方公共団体コード" in names or "所在地_連結表記" in names or "所在地_連結標記" in names:
        return "digital"
    return "cio"


def classify(text: str) -> tuple[str, list[str], str] | None:
    """(kind, categories, provider type) for a service or facility text; None when unknown."""
    kind, provider, cats = None, "other", []
    t = unicodedata.normalize("NFKC", text)
    for keyword, k, categories, p in SERVICE_MAP:
        if keyword in t:
            if kind is None:
                kind, provider = k, p
            cats.extend(c for c in categories if c not in cats)
    if kind is None:
        return None
    return kind, cats, provider


def _clean(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _coordinate(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    return float(value)


def _time_text(value: str) -> str:
    value = _clean(value)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", value) or re.fullmatch(
        r"(\d{1,2})(\d{2})", value)
    return f"{int(match.group(1))}:{match.group(2)}" if match else value


def _schedule(days: str, start: str, end: str) -> Rule | None:
    days, start, end = _clean(days), _time_text(start), _time_text(end)
    if not days and not start:
        return None
    text = days or "毎日"
    if start:
        text += f" {start}" + (f"-{end}" if end else "")
    return parse_rule(text)


def _areas_for(session: Session, area_code: str | None) -> tuple[list[Area], Area | None, Area | None]:
    """(districts with centroids, the city, a fixed area from --area)."""
    fixed = None
    if area_code:
        fixed = session.scalar(select(Area).where(Area.code == area_code))
        if fixed is None:
            raise ImportFailed(f"地区コード {area_code} がありません")
    cities = list(session.scalars(select(Area).where(Area.layer == CITY)))
    districts = [a for a in session.scalars(select(Area).where(Area.layer == DISTRICT))
                 if valid_lat_lon(a.lat, a.lon)]
    if fixed is None and len(cities) != 1:
        raise ImportFailed("市 (city) が1つだけ登録されているか、--area で地区を指定してください"
                           if cities else "先に地区を読み込んでください (sasaeai areas import)")
    return districts, (cities[0] if len(cities) == 1 else None), fixed


def import_resources(session: Session, data: bytes, *, filename: str, now: datetime,
                     kind: str = AUTO, area_code: str | None = None,
                     dry_run: bool = False) -> ImportReport:
    """Import one file into the caller's transaction; a dry run rolls its own work back."""
    if dry_run:
        savepoint = session.begin_nested()
        try:
            report = _import(session, data, filename, now, kind, area_code)
        finally:
            savepoint.rollback()
        report.dry_run = True
        return report
    return _import(session, data, filename, now, kind, area_code)


def import_file(session: Session, path: str | Path, **kwargs) -> ImportReport:
    path = Path(path)
    return import_resources(session, path.read_bytes(), filename=path.name, **kwargs)


def _import(session: Session, data: bytes, filename: str, now: datetime, kind: str,
            area_code: str | None) -> ImportReport:
    from domain.textfile import detect_encoding

    report = ImportReport(file=filename)
    try:
        report.encoding = detect_encoding(data)
        text = read_text(data)
    except EncodingError as exc:
        raise ImportFailed(str(exc)) from None
    reader = csv.reader(io.StringIO(text))
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFailed("空のファイルです") from None
    columns = map_columns(headers)
    report.layout = detect_layout(headers)
    report.kind = detect_kind(headers) if kind == AUTO else kind
    if report.kind not in SOURCES:
        raise ImportFailed(f"種類は care / facility / auto のどれかです: {kind}")
    for needed, label in (("name", "名称"), ("no", "NO または ID")):
        if needed not in columns:
            raise ImportFailed(f"列「{label}」が見つかりません（見出し: {', '.join(headers[:8])} …）")
    source = SOURCES[report.kind]
    districts, city, fixed = _areas_for(session, area_code)
    index = {h: i for i, h in enumerate(headers)}

    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append((line, {key: (values[index[h]] if index[h] < len(values) else "")
                            for key, h in columns.items()}))
    report.rows = len(rows)
    if not rows:
        raise ImportFailed("データ行がありません")

    existing = {r.external_id: r for r in session.scalars(
        select(Resource).where(Resource.source == source)
        .options(selectinload(Resource.category_rows), selectinload(Resource.area_rows),
                 selectinload(Resource.schedule_rows)))}
    seen: set[str] = set()
    today = to_tokyo(now).date()
    for line, row in rows:
        name = _clean(row.get("name"))[:200]
        code, no = _clean(row.get("code")), _clean(row.get("no"))
        key = f"{code}-{no}" if code else no
        note = lambda reason: RowNote(line, key, name, reason)  # noqa: E731
        if not name:
            report.skipped.append(note("名称がありません"))
            continue
        if not no:
            report.skipped.append(note("NO / ID がありません（再読み込みで重複するため）"))
            continue
        if key in seen:
            report.skipped.append(note(f"ID {key} がファイル内で重複しています"))
            continue
        seen.add(key)
        try:
            lat, lon = _coordinate(row.get("lat", "")), _coordinate(row.get("lon", ""))
        except ValueError:
            report.skipped.append(note(f"緯度経度が数値ではありません: {row.get('lat')}, {row.get('lon')}"))
            continue
        if (lat is None) != (lon is None):
            report.skipped.append(note("緯度と経度の片方しかありません"))
            continue
        if lat is not None and not (20 <= lat <= 46 and 122 <= lon <= 154):
            if 20 <= lon <= 46 and 122 <= lat <= 154:
                lat, lon = lon, lat
                report.warnings.append(note("緯度と経度が逆だったので入れ替えました"))
            else:
                report.skipped.append(note(f"緯度経度が日本の範囲外です: {lat}, {lon}"))
                continue
        service = _clean(row.get("service"))
        label = service if report.kind == CARE and service else f"{service} {name}"
        classified = classify(label)
        out_of_scope = any(word in label for word in OUT_OF_SCOPE)
        if out_of_scope and (classified is None or report.kind == FACILITY):
            report.skipped.append(note(f"対象外のサービスです: {service or name}"))
            continue
        if classified is None:
            report.skipped.append(note(f"不明なサービスです: {service or '（種別なし）'}"))
            continue
        res_kind, categories, provider_type = classified
        rules: list[Rule] = []
        try:
            rule = _schedule(row.get("days", ""), row.get("start", ""), row.get("end", ""))
            if rule is not None:
                rules.append(rule)
        except ScheduleParseError as exc:
            report.warnings.append(note(f"利用可能日時が読めないので省きました: {exc}"))
        if fixed is not None:
            area_ids = [fixed.id]
        elif res_kind in HOME_VISITING_KINDS or any(w in service for w in HOME_VISITING_WORDS):
            area_ids = [city.id]
        elif lat is not None and districts:
            area_ids = [min(districts, key=lambda a: haversine_m(lat, lon, a.lat, a.lon)).id]
        else:
            area_ids = [city.id]
        address = " ".join(p for p in (_clean(row.get("address")), _clean(row.get("address_extra")))
                           if p)
        description = " ".join(p for p in (service, _clean(row.get("description")),
                                           _clean(row.get("days_note"))) if p)
        values = dict(
            name=name, kana=_clean(row.get("kana"))[:200], kind=res_kind,
            provider_type=provider_type, provider_name=_clean(row.get("provider"))[:200],
            description=description[:2000], venue=_venue(name, res_kind), address=address[:300],
            lat=lat, lon=lon, phone=_clean(row.get("phone"))[:40], url=_clean(row.get("url"))[:500],
            accessibility=_clean(row.get("accessibility"))[:2000], source=source,
            external_id=key[:100], source_file=filename[:300])
        resource = existing.get(key)
        if resource is None:
            resource = Resource(created_at=now, updated_at=now, status=RESOURCE_ACTIVE)
            apply(resource, now, categories=categories, area_ids=area_ids, rules=rules,
                  last_verified_on=today, **values)
            session.add(resource)
            existing[key] = resource
            report.created += 1
            continue
        before = _snapshot(resource)
        apply(resource, now, categories=categories, area_ids=area_ids, rules=rules, **values)
        if _snapshot(resource) == before:
            report.unchanged += 1
        else:
            report.updated += 1
        resource.last_verified_on = today
    if report.rows and len(report.skipped) > report.rows * MAX_SKIPPED_SHARE:
        raise ImportFailed(
            f"{report.rows}行中{len(report.skipped)}行が使えません。ファイルか --kind が違う"
            f"のではありませんか。最初の問題: {report.skipped[0]}")
    session.flush()
    return report


def _snapshot(resource: Resource) -> tuple:
    return (tuple(getattr(resource, f) for f in (
        "name", "kana", "kind", "provider_type", "provider_name", "description", "venue",
        "address", "lat", "lon", "phone", "url", "accessibility")),
        tuple(sorted(resource.categories)), tuple(sorted(r.area_id for r in resource.area_rows)),
        tuple((r.kind, r.weekdays, r.weeks, r.start_time, r.end_time) for r in resource.schedule_rows))


def _venue(name: str, kind: str) -> str:
    return name if kind == "public_facility" else ""


def list_resources(session: Session, *, kind: str | None = None, status: str | None = None,
                   limit: int = 100) -> Iterable[Resource]:
    stmt = select(Resource).order_by(Resource.id).limit(limit)
    if kind:
        stmt = stmt.where(Resource.kind == kind)
    if status:
        stmt = stmt.where(Resource.status == status)
    return session.scalars(stmt)
