"""The small 郡山市 of tests/bot, grown to 21 districts with readings, so that the district list
is searched by kana row as in the real city (38 districts)."""
from __future__ import annotations

import pytest

from domain.areas import import_areas
from domain.db import transaction
from domain.models import Area
from tests.bot.conftest import Town, build_town, press, town  # noqa: F401  (the small 郡山市)
from tests.bot.conftest import consented_resident, resident_in  # noqa: F401
from tests.domain.domain_builders import AREAS

READINGS = {"koriyama": "こおりやまし", "asaka": "あさかちく", "asaka-arai": "あらい",
            "asaka-hideyama": "ひでやま", "tomita": "とみたちく", "tomita-1": "とみたまち",
            "nishita": "にしたちく"}
# code, name, reading, lat, lon: more districts, spread over the kana rows.
MORE_DISTRICTS = [
    ("hiwada", "日和田地区", "ひわだちく", 37.4530, 140.3850),
    ("akagi", "赤木地区", "あかぎちく", 37.4100, 140.3860),
    ("atami", "熱海地区", "あたみちく", 37.4850, 140.2150),
    ("ose", "逢瀬地区", "おうせちく", 37.4000, 140.2500),
    ("ishizumi", "石筵地区", "いしむしろちく", 37.5200, 140.2400),
    ("ikenodai", "池ノ台地区", "いけのだいちく", 37.3950, 140.3700),
    ("amidamachi", "阿弥陀町地区", "あみだまちちく", 37.3900, 140.3500),
    ("asahi", "朝日地区", "あさひちく", 37.4050, 140.3650),
    ("aoki", "青木地区", "あおきちく", 37.4200, 140.3900),
    ("aizawa", "相沢地区", "あいざわちく", 37.4300, 140.3400),
    ("arakawa", "荒川地区", "あらかわちく", 37.3700, 140.3800),
    ("kikuta", "喜久田地区", "きくたちく", 37.4450, 140.3300),
    ("aino", "愛野地区", "あいのちく", 37.4310, 140.3410),
    ("aoi", "葵地区", "あおいちく", 37.4210, 140.3910),
    ("akashi", "明石地区", "あかしちく", 37.4110, 140.3870),
    ("akane", "茜地区", "あかねちく", 37.4120, 140.3880),
    ("akita", "明田地区", "あきたちく", 37.4130, 140.3890),
    ("akiyama", "秋山地区", "あきやまちく", 37.4140, 140.3900),
]


def grow(stack, town: Town) -> Town:
    rows = [dict(row, kana=READINGS.get(row["code"], "")) for row in AREAS]
    rows += [{"code": code, "name": name, "kana": kana, "layer": "district", "parent": "koriyama",
              "lat": lat, "lon": lon} for code, name, kana, lat, lon in MORE_DISTRICTS]
    with transaction(stack.sessions) as s:
        import_areas(s, rows)
        s.flush()
        town.areas = {a.code: a.id for a in s.query(Area)}
    return town


@pytest.fixture
def city(stack) -> Town:  # noqa: F811
    return grow(stack, build_town(stack))
