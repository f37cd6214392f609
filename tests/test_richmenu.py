"""The residents' rich menu: its definition, its image, and `sasaeai richmenu deploy` against
the LINE simulator over real HTTP."""
from __future__ import annotations

import json

import pytest

from linesim.client import SimulatorClient
from linesim.server import create_app
from linesim.serving import serve_in_thread
from linesim.validation import image_size, validate_richmenu
from bot import postbacks, richmenu
from cli import main as cli_main
from bot.line_api import LineApi
from cli.commands.richmenu import DeployError, deploy

TOKEN = "richmenu-test-token"
ITEMS = ["ask", "help", "info", "person", "mine", "usage"]
LINE_IMAGE_MAX_BYTES = 1024 * 1024


@pytest.fixture(scope="module")
def _server():
    server = serve_in_thread(create_app("richmenu-test-secret", TOKEN))
    yield server
    server.shutdown()


@pytest.fixture
def sim(_server) -> SimulatorClient:
    client = SimulatorClient(_server.url)
    client.reset()
    yield client
    client.close()


def run(sim: SimulatorClient, **kwargs):
    messages: list[str] = []
    result = deploy(LineApi(sim.base_url, TOKEN), say=messages.append, **kwargs)
    return result, messages


def writes(sim: SimulatorClient, after: int = 0) -> list[tuple[str, str, int]]:
    return [(r["method"], r["path"], r["status"]) for r in sim.requests_log()
            if r["seq"] > after and r["method"] != "GET"]


def last_seq(sim: SimulatorClient) -> int:
    log = sim.requests_log()
    return log[-1]["seq"] if log else 0


# --------------------------------------------------------------------------- the definition

def test_six_areas_each_send_a_menu_postback_that_decodes():
    areas = richmenu.definition()["areas"]
    assert len(areas) == 6
    decoded = [postbacks.decode(a["action"]["data"]) for a in areas]
    assert decoded == [("menu", [item]) for item in ITEMS]
    for a in areas:
        action = a["action"]
        assert action["type"] == "postback"
        assert action["data"] == postbacks.encode("menu", postbacks.decode(action["data"])[1][0])
        assert action["displayText"] == action["label"] and len(action["label"]) <= 20
    labels = [a["action"]["label"] for a in areas]
    assert labels == ["困りごとを相談", "手伝いたい（担い手）", "地域の情報", "人に相談したい",
                      "わたしの登録", "使い方"]


def test_the_areas_tile_the_whole_image_without_overlap():
    menu = richmenu.definition()
    width, height = menu["size"]["width"], menu["size"]["height"]
    assert (width, height) in ((2500, 1686), (2500, 843))
    rects = [(a["bounds"]["x"], a["bounds"]["y"], a["bounds"]["x"] + a["bounds"]["width"],
              a["bounds"]["y"] + a["bounds"]["height"]) for a in menu["areas"]]
    for i, (x0, y0, x1, y1) in enumerate(rects):
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        for (u0, v0, u1, v1) in rects[i + 1:]:
            assert x1 <= u0 or u1 <= x0 or y1 <= v0 or v1 <= y0, "areas overlap"
    assert sum(a["bounds"]["width"] * a["bounds"]["height"] for a in menu["areas"]) == width * height


def test_the_definition_passes_lines_rules():
    menu = richmenu.definition()
    assert validate_richmenu(menu) == []
    assert len(menu["chatBarText"]) <= 14 and len(menu["name"]) <= 300


def test_the_committed_image_matches_the_definition_and_is_under_1_mb():
    data = richmenu.image_bytes()
    menu = richmenu.definition()
    assert len(data) <= LINE_IMAGE_MAX_BYTES
    assert image_size(data) == ("image/png", menu["size"]["width"], menu["size"]["height"])
    assert richmenu.image_digest(data) in menu["name"]  # a new image makes a new menu


# --------------------------------------------------------------------------- deploy

def test_deploy_creates_uploads_and_sets_the_default(sim):
    result, said = run(sim)
    assert result.created and result.uploaded and result.set_default and not result.deleted
    rich_menu_id = result.rich_menu_id
    assert [w[:2] for w in writes(sim)] == [
        ("POST", "/v2/bot/richmenu"),
        ("POST", f"/v2/bot/richmenu/{rich_menu_id}/content"),
        ("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}"),
    ]
    assert all(status == 200 for _, _, status in writes(sim))
    overview = sim.richmenus()
    assert overview["defaultRichMenuId"] == rich_menu_id
    [stored] = overview["richmenus"]
    assert stored["hasImage"]
    assert {k: v for k, v in stored.items() if k not in ("richMenuId", "hasImage")} == \
        richmenu.definition()
    assert any("default" in line for line in said)


def test_deploying_twice_changes_nothing_the_second_time(sim):
    first, _ = run(sim)
    seq = last_seq(sim)
    second, said = run(sim)
    assert second.rich_menu_id == first.rich_menu_id and not second.changed
    assert writes(sim, after=seq) == []
    assert len(sim.richmenus()["richmenus"]) == 1
    assert said == [f"rich menu {first.rich_menu_id} is already the default: nothing to do"]


def test_a_new_image_makes_a_new_menu_and_retires_the_old_one(sim):
    old, _ = run(sim)
    new_image = richmenu.image_bytes() + b"\x00"  # trailing bytes: another hash, same header
    new, _ = run(sim, image=new_image)
    assert new.created and new.rich_menu_id != old.rich_menu_id
    assert new.deleted == [old.rich_menu_id]
    overview = sim.richmenus()
    assert overview["defaultRichMenuId"] == new.rich_menu_id
    assert [m["richMenuId"] for m in overview["richmenus"]] == [new.rich_menu_id]


def test_keep_old_leaves_older_menus_and_other_menus_are_never_touched(sim, _server):
    import requests

    other = dict(richmenu.definition(), name="町内会の別メニュー")
    created = requests.post(f"{_server.url}/v2/bot/richmenu", json=other, timeout=5,
                            headers={"Authorization": f"Bearer {TOKEN}"})
    other_id = created.json()["richMenuId"]
    old, _ = run(sim)
    new, _ = run(sim, image=richmenu.image_bytes() + b"\x00", keep_old=True)
    ids = {m["richMenuId"] for m in sim.richmenus()["richmenus"]}
    assert ids == {other_id, old.rich_menu_id, new.rich_menu_id} and not new.deleted
    newest, _ = run(sim, image=richmenu.image_bytes() + b"\x00\x00")
    assert set(newest.deleted) == {old.rich_menu_id, new.rich_menu_id}
    assert {m["richMenuId"] for m in sim.richmenus()["richmenus"]} == {other_id,
                                                                       newest.rich_menu_id}


def test_an_identical_menu_that_is_not_the_default_is_reused(sim, _server):
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}"}
    rich_menu_id = requests.post(f"{_server.url}/v2/bot/richmenu", json=richmenu.definition(),
                                 headers=headers, timeout=5).json()["richMenuId"]
    result, _ = run(sim)
    assert result.rich_menu_id == rich_menu_id and not result.created
    assert result.uploaded and result.set_default
    assert sim.richmenus()["defaultRichMenuId"] == rich_menu_id


def test_a_failed_upload_leaves_no_menu_behind(sim):
    with pytest.raises(DeployError, match="upload rich menu image: LINE answered 400"):
        run(sim, image=b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)  # not a readable PNG
    assert sim.richmenus() == {"defaultRichMenuId": None, "userLinks": {}, "richmenus": []}


def test_a_platform_error_is_reported_not_raised_raw(sim):
    sim.set_fault("status", "richmenu", status=500, times=1)
    with pytest.raises(DeployError, match="list rich menus: LINE answered 500"):
        run(sim)
    sim.clear_faults()
    result, _ = run(sim)
    assert result.created


# --------------------------------------------------------------------------- the command

def test_the_command_deploys_against_the_configured_base_url(sim, monkeypatch, capsys):
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("LINE_API_BASE_URL", sim.base_url)
    assert cli_main(["richmenu", "deploy"]) == 0
    assert "default rich menu" in capsys.readouterr().out
    assert cli_main(["richmenu", "deploy"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "wrong-token")
    assert cli_main(["richmenu", "deploy"]) == 1
    assert "401" in capsys.readouterr().err


def test_dry_run_prints_the_json_and_sends_nothing(sim, monkeypatch, capsys):
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    assert cli_main(["richmenu", "deploy", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == richmenu.definition()
    assert sim.requests_log() == []


def test_the_blob_client_goes_to_api_data_against_real_line():
    """Configuration(host=…) would send the image to api.line.me; LINE takes it on api-data."""
    line = LineApi("https://api.line.me", "t")
    assert line._api.api_client.configuration.host == "https://api.line.me"
    assert line._blob.api_client.configuration.host is None  # the SDK's per-operation api-data host
    sim_blob = LineApi("http://127.0.0.1:8081", "t")._blob
    assert sim_blob.api_client.configuration.host == "http://127.0.0.1:8081"
