"""Area names as people type them (domain/areas.py), without the dialogue around them."""
from __future__ import annotations

import pytest

from domain.areas import areas_named_in, find_areas_by_name, fold, import_areas, kana_row
from domain.models import Area
from tests.dialogue.conftest import MORE_DISTRICTS, READINGS
from tests.domain.domain_builders import AREAS


@pytest.fixture
def db(sessions):
    with sessions() as session:
        rows = [dict(row, kana=READINGS.get(row["code"], "")) for row in AREAS]
        rows += [{"code": c, "name": n, "kana": k, "layer": "district", "parent": "koriyama", "lat": la, "lon": lo}
                 for c, n, k, la, lo in MORE_DISTRICTS]
        import_areas(session, rows)
        session.flush()
        yield session


@pytest.mark.parametrize("typed, code", [
    ("日和田地区", "hiwada"), ("日和田", "hiwada"), ("ひわだ", "hiwada"), ("ヒワダ", "hiwada"),
    ("ひわだちく", "hiwada"), ("ひわた", "hiwada"), ("日和田地く", "hiwada"), ("  日和田　", "hiwada"),
    ("荒井", "asaka-arai"), ("あらい", "asaka-arai"), ("ひでやま", "asaka-hideyama"),
    ("いしむしろ", "ishizumi"), ("いしむしる", "ishizumi"),
])
def test_a_typed_name_finds_its_area(db, typed, code):
    assert [a.code for a in find_areas_by_name(db, typed)][:1] == [code]


def test_an_exact_name_wins_over_near_ones_and_nonsense_finds_nothing(db):
    assert [a.code for a in find_areas_by_name(db, "あさか")] == ["asaka"]
    assert find_areas_by_name(db, "ぱぴぷぺぽ") == [] and find_areas_by_name(db, "") == []
    assert find_areas_by_name(db, "あ" * 100) == []


def test_kana_rows_and_names_inside_a_sentence(db):
    rows = {a.code: kana_row(a) for a in db.query(Area).filter(Area.layer == "district")}
    assert (rows["asaka"], rows["kikuta"], rows["tomita"], rows["hiwada"]) == ("あ", "か", "た", "は")
    assert fold("ヒワダ 地区！") == "ひわだ地区"
    assert [a.code for a in areas_named_in(db, "日和田に住んでいます。かいものにいけない")] == ["hiwada"]
