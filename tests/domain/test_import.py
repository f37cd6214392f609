"""Open-data import: both layouts, both encodings, broken rows reported, all or nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.db import transaction
from domain import importing
from domain.importing import ImportFailed, import_file, import_resources
from domain.models import Resource
from domain.resources import rules_of

DATA = Path(__file__).resolve().parent.parent / "data" / "opendata"


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Resource))


def _by_name(session, name) -> Resource:
    return session.scalar(select(Resource).where(Resource.name == name))


def test_care_services_in_the_old_layout_in_cp932(world):
    report = import_file(world.session, DATA / "care_cio_cp932.csv", now=world.now)
    assert (report.kind, report.layout, report.encoding) == ("care", "cio", "cp932")
    assert (report.rows, report.created) == (9, 4)
    reasons = {note.line: note.reason for note in report.skipped}
    assert reasons[5].startswith("名称がありません")
    assert reasons[6].startswith("緯度経度が数値ではありません")
    assert reasons[7] == "不明なサービスです: 美容室"
    assert reasons[8] == "対象外のサービスです: 介護老人福祉施設"
    assert "重複" in reasons[9]
    day = _by_name(world.session, "デイサービスあさか")
    assert (day.kind, day.provider_type, day.external_id) == ("care_provider", "care", "072036-1")
    assert sorted(day.categories) == ["exercise", "salon"]
    assert [r.describe() for r in rules_of(day)] == ["毎週月〜土曜 8:30〜17:00"]
    assert [a.area_id for a in day.area_rows] == [world.area("asaka").id]   # nearest district
    helper = _by_name(world.session, "ヘルパーステーション富田")
    assert sorted(helper.categories) == ["housework", "shopping"]
    assert [a.area_id for a in helper.area_rows] == [world.area("koriyama").id]  # visits: city-wide
    meals = _by_name(world.session, "まごころ配食センター")
    assert meals.kind == "meal_delivery" and "meals" in meals.categories


def test_facilities_in_the_digital_agency_layout_with_bom(world):
    report = import_file(world.session, DATA / "facility_digital_bom.csv", now=world.now)
    assert (report.kind, report.layout, report.encoding) == ("facility", "digital", "utf-8-sig")
    assert report.created == 4
    hall = _by_name(world.session, "荒井公民館")
    assert (hall.address, hall.venue, hall.kana) == ("福島県郡山市安積町荒井〇〇", "荒井公民館",
                                                     "アライコウミンカン")
    assert hall.accessibility == "車いす用トイレあり・スロープあり"
    assert sorted(hall.categories) == ["exercise", "salon"]
    swapped = _by_name(world.session, "富田ふれあいセンター")
    assert (swapped.lat, swapped.lon) == (37.4110, 140.3310)
    assert any("逆" in w.reason for w in report.warnings)
    skipped = {n.name: n.reason for n in report.skipped}
    assert skipped["郡山市立〇〇小学校"].startswith("対象外")
    assert skipped["名前だけの施設"].startswith("緯度経度が日本の範囲外")


def test_other_layout_and_encoding_combinations(world):
    care = import_file(world.session, DATA / "care_digital_utf8.csv", now=world.now)
    assert (care.kind, care.layout, care.encoding, care.created) == ("care", "digital", "utf-8", 3)
    assert _by_name(world.session, "郡山市地域包括支援センター安積").kind == "consultation"
    facility = import_file(world.session, DATA / "facility_cio_utf8.csv", now=world.now)
    assert (facility.kind, facility.layout, facility.created) == ("facility", "cio", 2)
    gym = _by_name(world.session, "郡山市総合体育館")
    assert gym.categories == ["exercise"] and gym.accessibility == "エレベーターあり"


def test_dry_run_writes_nothing(world):
    report = import_file(world.session, DATA / "care_cio_cp932.csv", now=world.now, dry_run=True)
    assert report.dry_run and report.created == 4
    assert _count(world.session) == 0


def test_reimport_updates_instead_of_duplicating(world):
    import_file(world.session, DATA / "care_digital_utf8.csv", now=world.now)
    data = (DATA / "care_digital_utf8.csv").read_bytes().decode("utf-8")
    changed = data.replace("024-900-2001", "024-999-9999")
    again = import_resources(world.session, changed.encode("cp932"), filename="next-month.csv",
                             now=world.now)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert _count(world.session) == 3
    assert _by_name(world.session, "あさひデイサービス").phone == "024-999-9999"


def test_a_fatal_error_leaves_nothing_half_imported(sessions, world, monkeypatch):
    world.session.commit()
    real_apply = importing.apply
    calls = []

    def failing_apply(resource, now, **kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_apply(resource, now, **kwargs)

    monkeypatch.setattr(importing, "apply", failing_apply)
    with pytest.raises(RuntimeError):
        with transaction(sessions) as s:
            import_file(s, DATA / "care_cio_cp932.csv", now=world.now)
    with sessions() as s:
        assert _count(s) == 0


def test_a_file_that_is_mostly_broken_is_refused_whole(sessions, world):
    world.session.commit()
    header = "全国地方公共団体コード,ID,名称,サービスの種類,緯度,経度\n"
    rows = "072036,1,よい事業所,通所介護,37.35,140.36\n" + "".join(
        f"072036,{i},だめ{i},わからない,37.35,140.36\n" for i in range(2, 7))
    with pytest.raises(ImportFailed, match="6行中5行"):
        with transaction(sessions) as s:
            import_resources(s, (header + rows).encode(), filename="x.csv", now=world.now)
    with sessions() as s:
        assert _count(s) == 0


@pytest.mark.parametrize("content, message", [
    (b"", "空のファイル"),
    ("名称,住所\nなにか,どこか\n".encode(), "NO または ID"),
    (b"\x82\xa0\xff\xfe\xfa", "文字コード"),
])
def test_unreadable_files_are_refused(world, content, message):
    with pytest.raises(ImportFailed, match=message):
        import_resources(world.session, content, filename="bad.csv", now=world.now)


def test_an_unknown_area_code_is_refused(world):
    with pytest.raises(ImportFailed, match="nowhere"):
        import_file(world.session, DATA / "care_digital_utf8.csv", now=world.now, area_code="nowhere")


def test_the_area_option_puts_every_row_in_that_area(world):
    import_file(world.session, DATA / "care_digital_utf8.csv", now=world.now, area_code="tomita")
    areas = {a.area_id for r in world.session.scalars(select(Resource)) for a in r.area_rows}
    assert areas == {world.area("tomita").id}
