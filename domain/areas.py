"""The area tree: loading it from a file, walking it, and finding a resident's area."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.geo import haversine_m, valid_lat_lon
from domain.models import CITY, DISTRICT, LAYERS, NEIGHBOURHOOD, Area
from domain.textfile import read_text

PARENT_LAYER = {CITY: None, DISTRICT: CITY, NEIGHBOURHOOD: DISTRICT}


class AreaError(ValueError):
    pass


@dataclass
class AreaImportReport:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


def _flatten(items: Iterable[dict[str, Any]], parent: str | None, out: list[dict[str, Any]]) -> None:
    for item in items:
        row = {k: v for k, v in item.items() if k != "children"}
        if parent is not None and not row.get("parent"):
            row["parent"] = parent
        out.append(row)
        _flatten(item.get("children") or [], str(row.get("code", "")), out)


def read_area_file(path: str | Path) -> list[dict[str, Any]]:
    """Rows of code, name, layer, parent, kana, lat, lon from CSV or YAML (a list or a tree)."""
    path = Path(path)
    text = read_text(path.read_bytes())
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
        if isinstance(data, dict):
            data = data.get("areas", [data])
        rows: list[dict[str, Any]] = []
        _flatten(data or [], None, rows)
        return rows
    reader = csv.DictReader(io.StringIO(text))
    aliases = {"コード": "code", "名称": "name", "名前": "name", "階層": "layer", "層": "layer",
               "親コード": "parent", "parent_code": "parent", "よみ": "kana", "カナ": "kana",
               "緯度": "lat", "経度": "lon", "latitude": "lat", "longitude": "lon"}
    layer_words = {"第1層": CITY, "1": CITY, "第2層": DISTRICT, "2": DISTRICT, "第3層": NEIGHBOURHOOD,
                   "3": NEIGHBOURHOOD}
    rows = []
    for raw in reader:
        row = {aliases.get((k or "").strip(), (k or "").strip()): (v or "").strip()
               for k, v in raw.items()}
        row["layer"] = layer_words.get(row.get("layer", ""), row.get("layer", ""))
        rows.append(row)
    return rows


def import_areas(session: Session, rows: list[dict[str, Any]]) -> AreaImportReport:
    """Create or update areas by code; parents may appear later in the file than children."""
    report = AreaImportReport()
    existing = {a.code: a for a in session.scalars(select(Area))}
    seen: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows, start=1):
        code = str(row.get("code") or "").strip()
        name = str(row.get("name") or "").strip()
        layer = str(row.get("layer") or "").strip()
        if not code or not name:
            raise AreaError(f"{i}行目: コードと名称が必要です")
        if layer not in LAYERS:
            raise AreaError(f"{i}行目 ({code}): 階層は city / district / neighbourhood のどれかです: {layer!r}")
        if code in seen:
            raise AreaError(f"{i}行目: コード {code} が重複しています")
        seen[code] = row
    for code, row in seen.items():
        area = existing.get(code)
        if area is None:
            area = Area(code=code, name="", layer=row["layer"])
            session.add(area)
            existing[code] = area
            report.created += 1
        else:
            report.updated += 1
        area.name = str(row["name"]).strip()
        area.kana = str(row.get("kana") or "").strip()
        area.layer = str(row["layer"]).strip()
        area.sort_order = int(row.get("sort_order") or 0)
        lat, lon = _float(row.get("lat")), _float(row.get("lon"))
        if lat is not None or lon is not None:
            if not valid_lat_lon(lat, lon):
                raise AreaError(f"{code}: 緯度経度が正しくありません")
        area.lat, area.lon = lat, lon
    for code, row in seen.items():
        area = existing[code]
        parent_code = str(row.get("parent") or "").strip()
        want = PARENT_LAYER[area.layer]
        if want is None:
            if parent_code:
                raise AreaError(f"{code}: 市 (city) に親はありません")
            area.parent = None
            continue
        parent = existing.get(parent_code)
        if parent is None:
            raise AreaError(f"{code}: 親コード {parent_code!r} が見つかりません")
        if parent.layer != want:
            raise AreaError(f"{code}: {area.layer} の親は {want} でなければなりません")
        area.parent = parent
    session.flush()
    return report


def _float(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AreaError(f"数値ではありません: {value!r}") from None


# -- walking the tree ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaScope:
    """Where a need sits in the tree, precomputed for matching."""

    area_id: int
    layer: str
    neighbourhood_id: int | None
    district_id: int | None
    city_id: int | None
    district_area_ids: frozenset[int]   # the district and all its neighbourhoods
    names: dict[int, str]
    lat: float | None
    lon: float | None

    @property
    def candidate_area_ids(self) -> list[int]:
        ids = set(self.district_area_ids)
        for extra in (self.area_id, self.city_id):
            if extra is not None:
                ids.add(extra)
        return sorted(ids)

    def tier(self, area_id: int) -> int:
        """3 same neighbourhood, 2 same district, 1 city-wide, 0 elsewhere."""
        if self.neighbourhood_id is not None and area_id == self.neighbourhood_id:
            return 3
        if area_id in self.district_area_ids:
            return 2
        if area_id == self.city_id:
            return 1
        return 0


def area_scope(session: Session, area_id: int) -> AreaScope:
    """The area, its ancestors and its district's neighbourhoods, in one query."""
    parent = select(Area.parent_id).where(Area.id == area_id).scalar_subquery()
    grandparent = select(Area.parent_id).where(Area.id == parent).scalar_subquery()
    rows = {row.id: row for row in session.execute(
        select(Area.id, Area.name, Area.layer, Area.parent_id, Area.lat, Area.lon)
        .where((Area.id == area_id) | (Area.id == parent) | (Area.id == grandparent)
               | (Area.parent_id == area_id) | (Area.parent_id == parent)))}
    area = rows.get(area_id)
    if area is None:
        raise AreaError(f"no area {area_id}")
    chain = [area]
    while chain[-1].parent_id is not None and chain[-1].parent_id in rows and len(chain) < 4:
        chain.append(rows[chain[-1].parent_id])
    by_layer = {a.layer: a for a in chain}
    district = by_layer.get(DISTRICT)
    names = {a.id: a.name for a in chain}
    district_ids: set[int] = set()
    if district is not None:
        district_ids.add(district.id)
        for row in rows.values():
            if row.parent_id == district.id:
                district_ids.add(row.id)
                names[row.id] = row.name
    lat, lon = next(((a.lat, a.lon) for a in chain if valid_lat_lon(a.lat, a.lon)), (None, None))
    return AreaScope(
        area_id=area.id, layer=area.layer,
        neighbourhood_id=by_layer[NEIGHBOURHOOD].id if NEIGHBOURHOOD in by_layer else None,
        district_id=district.id if district else None,
        city_id=by_layer[CITY].id if CITY in by_layer else None,
        district_area_ids=frozenset(district_ids), names=names, lat=lat, lon=lon)


def ancestors(session: Session, area: Area) -> list[Area]:
    """The area itself, then its parent, then the city."""
    chain = [area]
    while chain[-1].parent_id is not None and len(chain) < 4:
        chain.append(session.get(Area, chain[-1].parent_id))
    return chain


def district_of(session: Session, area: Area) -> Area | None:
    return next((a for a in ancestors(session, area) if a.layer == DISTRICT), None)


def by_code(session: Session, code: str) -> Area | None:
    return session.scalar(select(Area).where(Area.code == code))


def children(session: Session, area_id: int | None) -> list[Area]:
    """Areas under a parent, for buttons; None gives the cities."""
    stmt = select(Area).order_by(Area.sort_order, Area.kana, Area.code)
    stmt = stmt.where(Area.parent_id.is_(None) if area_id is None else Area.parent_id == area_id)
    return list(session.scalars(stmt))


def nearest_area(session: Session, lat: float, lon: float,
                 layer: str = NEIGHBOURHOOD) -> Area | None:
    """The area whose centroid is nearest to a LINE location message (falls back to districts)."""
    if not valid_lat_lon(lat, lon):
        return None
    for wanted in (layer, DISTRICT) if layer != DISTRICT else (DISTRICT,):
        rows = session.scalars(select(Area).where(
            Area.layer == wanted, Area.lat.is_not(None), Area.lon.is_not(None))).all()
        if rows:
            return min(rows, key=lambda a: haversine_m(lat, lon, a.lat, a.lon))
    return None


def locate(session: Session, lat: float, lon: float) -> tuple[Area | None, float | None]:
    """The district or neighbourhood whose centroid is nearest, and how far it is (metres).

    Districts count too: in a city where only some districts list their neighbourhoods, a
    point in a district without them belongs to that district, not to a far neighbourhood.
    """
    if not valid_lat_lon(lat, lon):
        return None, None
    rows = session.scalars(select(Area).where(
        Area.layer.in_((DISTRICT, NEIGHBOURHOOD)), Area.lat.is_not(None), Area.lon.is_not(None))).all()
    if not rows:
        return None, None
    best = min(rows, key=lambda a: (haversine_m(lat, lon, a.lat, a.lon), a.layer != NEIGHBOURHOOD))
    return best, haversine_m(lat, lon, best.lat, best.lon)


# -- names typed by a person ---------------------------------------------------------------------
# The first kana of an area's reading puts it in one row of the 五十音 (あ行, か行 …), so a long
# list of districts can be searched the way a paper index is.
KANA_ROWS: tuple[tuple[str, str], ...] = (
    ("あ", "あいうえおぁぃぅぇぉゔ"), ("か", "かきくけこがぎぐげご"), ("さ", "さしすせそざじずぜぞ"),
    ("た", "たちつてとだぢづでどっ"), ("な", "なにぬねの"), ("は", "はひふへほばびぶべぼぱぴぷぺぽ"),
    ("ま", "まみむめも"), ("や", "やゆよゃゅょ"), ("ら", "らりるれろ"), ("わ", "わをん"),
)
OTHER_ROW = "他"
# Words people add to or leave off an area's name.
_SUFFIXES = ("地区", "ちく", "地域", "ちいき", "町内会", "自治会", "行政区")
_PUNCT = re.compile(r"[\s　。、，,．.！!？?「」『』（）()・\-ー－〜~]")


def to_hiragana(value: str) -> str:
    """Katakana folded to hiragana (ア→あ); everything else as it is."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in value)


def fold(value: str) -> str:
    """The form names are compared in: NFKC, hiragana, no spaces or punctuation, lower case."""
    return _PUNCT.sub("", to_hiragana(unicodedata.normalize("NFKC", value or ""))).lower()


def kana_row(area: Area) -> str:
    """あ, か, さ … (the row of the first kana of the reading), or 他 when there is no reading."""
    first = fold(area.kana)[:1]
    return next((row for row, members in KANA_ROWS if first and first in members), OTHER_ROW)


def _strip_suffix(value: str) -> str:
    for suffix in _SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)]
    return value


def name_forms(area: Area) -> set[str]:
    """Every way the area may be typed: 日和田地区, 日和田, ひわだちく, ひわだ."""
    forms = set()
    for value in (area.name, area.kana):
        folded = fold(value)
        if folded:
            forms.update({folded, _strip_suffix(folded)})
    return {f for f in forms if f}


def _distance_at_most(a: str, b: str, limit: int) -> int | None:
    """Levenshtein distance when it is at most `limit`, else None (cheap early exit)."""
    if abs(len(a) - len(b)) > limit:
        return None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return None
        previous = current
    return previous[-1] if previous[-1] <= limit else None


def find_areas_by_name(session: Session, typed: str, limit: int = 10) -> list[Area]:
    """Districts and neighbourhoods the text names: the exact name or reading first, with or
    without 地区, then a small typo (one letter for short names, two for long ones)."""
    wanted = _strip_suffix(fold(typed))
    if not wanted or len(wanted) > 40:
        return []
    areas = session.scalars(select(Area).where(Area.layer.in_((DISTRICT, NEIGHBOURHOOD)))
                            .order_by(Area.sort_order, Area.kana, Area.code)).all()
    scored: list[tuple[int, int, Area]] = []
    for order, area in enumerate(areas):
        forms = name_forms(area)
        if wanted in forms:
            scored.append((0, order, area))
            continue
        allowed = 1 if len(wanted) <= 5 else 2
        if len(wanted) >= 3:
            best = min((d for f in forms if len(f) >= 3
                        for d in [_distance_at_most(wanted, f, allowed)] if d is not None), default=None)
            if best is not None:
                scored.append((best, order, area))
    scored.sort(key=lambda e: (e[0], e[1]))
    if scored and scored[0][0] == 0:
        scored = [e for e in scored if e[0] == 0]
    return [area for _d, _o, area in scored[:limit]]


def areas_named_in(session: Session, text: str) -> list[Area]:
    """Areas whose name (2 characters or more) appears in a longer text: 「日和田で買い物に困って」."""
    folded = fold(text)
    if not folded:
        return []
    found = []
    for area in session.scalars(select(Area).where(Area.layer.in_((DISTRICT, NEIGHBOURHOOD)))
                                .order_by(Area.sort_order, Area.kana, Area.code)):
        forms = [f for f in name_forms(area) if len(f) >= 2]
        if any(f in folded for f in forms):
            found.append((max(len(f) for f in forms if f in folded), area))
    found.sort(key=lambda e: -e[0])
    return [area for _n, area in found]


def without_area_names(text: str, areas: Iterable[Area]) -> str:
    """The text with these areas' names (and a particle after them) taken out, so that the rest
    is read alone: 「あらいでかいもの」 would otherwise read as でかい."""
    folded = fold(text)
    for area in areas:
        for form in sorted(name_forms(area), key=len, reverse=True):
            if len(form) >= 2:
                folded = re.sub(re.escape(form) + r"(?:から|まで|で|に|の|は|へ|です)?", "、", folded)
    return folded
