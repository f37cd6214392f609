"""Rich menus in the simulator: refused like LINE refuses them, and shown on the chat page.

LINE's rules: width 800–2500 px, height ≥ 250, width/height ≥ 1.45, ≤ 20 areas inside the
image, chatBarText ≤ 14, name ≤ 300; the image is PNG or JPEG, ≤ 1 MB and exactly the menu's
size; an image is never replaced; a menu needs its image before it can be the default.
"""
from __future__ import annotations

import copy
import json
import re
import struct
import zlib
from pathlib import Path

import pytest
import requests

from linesim.validation import image_size

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC = REPO_ROOT.parent / "shared" / "line" / "messaging-api.yml"
RICH_MENU_ID = re.compile(r"^richmenu-[0-9a-f]{32}$")
UNKNOWN_ID = "richmenu-" + "0" * 32


def png(width: int, height: int) -> bytes:
    """A valid, tiny, single-colour PNG of any size (no Pillow needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + b"\xff\xff\xff" * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    """SOI, an APP0 segment and a baseline SOF0 with the frame size: enough for the header."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def menu(**changes) -> dict:
    body = {
        "size": {"width": 2500, "height": 843},
        "selected": False,
        "name": "テストメニュー",
        "chatBarText": "メニュー",
        "areas": [
            {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "postback", "label": "相談", "data": "v1|menu|ask",
                        "displayText": "相談"}},
            {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
             "action": {"type": "message", "label": "使い方", "text": "使い方"}},
        ],
    }
    body.update(changes)
    return body


def area(x=0, y=0, w=100, h=100, action=None) -> dict:
    return {"bounds": {"x": x, "y": y, "width": w, "height": h},
            "action": action or {"type": "postback", "data": "v1|menu|ask"}}


class Api:
    def __init__(self, sim):
        self.sim = sim
        self.headers = {"Authorization": f"Bearer {sim.token}"}

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.sim.http.request(method, self.sim.url + path, headers=headers, timeout=5,
                                     **kwargs)

    def create(self, body: dict) -> requests.Response:
        return self.call("POST", "/v2/bot/richmenu", json=body)

    def created(self, body: dict | None = None) -> str:
        response = self.create(body or menu())
        assert response.status_code == 200, response.text
        return response.json()["richMenuId"]

    def upload(self, rich_menu_id: str, data: bytes, content_type: str = "image/png"):
        return self.call("POST", f"/v2/bot/richmenu/{rich_menu_id}/content", data=data,
                         headers={"Content-Type": content_type})

    def ready(self, body: dict | None = None) -> str:
        """A menu with its image: can be made the default."""
        body = body or menu()
        rich_menu_id = self.created(body)
        assert self.upload(rich_menu_id, png(body["size"]["width"], body["size"]["height"])).ok
        return rich_menu_id


@pytest.fixture
def api(sim) -> Api:
    return Api(sim)


# --------------------------------------------------------------------------- creating

def test_a_valid_menu_is_created_listed_and_read_back(api):
    rich_menu_id = api.created()
    assert RICH_MENU_ID.match(rich_menu_id)
    got = api.call("GET", f"/v2/bot/richmenu/{rich_menu_id}")
    assert got.status_code == 200
    assert got.json() == {"richMenuId": rich_menu_id, **menu()}
    listed = api.call("GET", "/v2/bot/richmenu/list").json()
    assert listed == {"richmenus": [got.json()]}
    assert got.headers["x-line-request-id"]


TOO_MANY_AREAS = [area(x=i * 100) for i in range(21)]
BAD_MENUS = [
    ("width under 800", {"size": {"width": 799, "height": 250}}, "size.width"),
    ("width over 2500", {"size": {"width": 2501, "height": 843}}, "size.width"),
    ("height under 250", {"size": {"width": 800, "height": 249}}, "size.height"),
    ("aspect ratio under 1.45", {"size": {"width": 1000, "height": 700}}, "size"),
    ("size missing", {"size": None}, "size"),
    ("21 areas", {"areas": TOO_MANY_AREAS}, "areas"),
    ("area beyond the right edge", {"areas": [area(x=2400, w=101)]}, "areas[0].bounds"),
    ("area beyond the bottom edge", {"areas": [area(y=800, h=44)]}, "areas[0].bounds"),
    ("negative x", {"areas": [area(x=-1)]}, "areas[0].bounds.x"),
    ("zero width", {"areas": [area(w=0)]}, "areas[0].bounds.width"),
    ("unknown action type", {"areas": [area(action={"type": "teleport"})]}, "areas[0].action.type"),
    ("camera is for quick replies only", {"areas": [area(action={"type": "camera", "label": "c"})]},
     "areas[0].action.type"),
    ("postback without data", {"areas": [area(action={"type": "postback"})]},
     "areas[0].action.data"),
    ("label of 21", {"areas": [area(action={"type": "message", "label": "あ" * 21, "text": "x"})]},
     "areas[0].action.label"),
    ("postback data of 301", {"areas": [area(action={"type": "postback", "data": "d" * 301})]},
     "areas[0].action.data"),
    ("chatBarText of 15", {"chatBarText": "メ" * 15}, "chatBarText"),
    ("name of 301", {"name": "n" * 301}, "name"),
    ("name missing", {"name": None}, "name"),
    ("selected missing", {"selected": None}, "selected"),
    ("selected not boolean", {"selected": "yes"}, "selected"),
]


@pytest.mark.parametrize("changes, prop", [(c, p) for _, c, p in BAD_MENUS],
                         ids=[name for name, _, _ in BAD_MENUS])
def test_a_bad_menu_is_refused_like_line_and_nothing_is_created(api, changes, prop):
    body = {k: v for k, v in menu(**changes).items() if v is not None}
    for path in ("/v2/bot/richmenu", "/v2/bot/richmenu/validate"):
        response = api.call("POST", path, json=body)
        assert response.status_code == 400, response.text
        error = response.json()
        assert re.match(r"^The request body has \d+ error\(s\)$", error["message"])
        assert prop in [d["property"] for d in error["details"]], error
    assert api.call("GET", "/v2/bot/richmenu/list").json() == {"richmenus": []}


def test_limits_are_inclusive(api):
    twenty = [area(x=i * 125, w=125) for i in range(20)]
    body = menu(size={"width": 2500, "height": 250}, chatBarText="メ" * 14, name="n" * 300,
                areas=twenty)
    assert api.create(body).status_code == 200
    assert api.create(menu(size={"width": 800, "height": 551}, areas=[])).status_code == 200  # 1.45


def test_richmenuswitch_is_allowed_in_a_rich_menu(api):
    action = {"type": "richmenuswitch", "richMenuAliasId": "page-2", "data": "v1|menu|page2"}
    assert api.create(menu(areas=[area(action=action)])).status_code == 200
    del action["richMenuAliasId"]
    assert api.create(menu(areas=[area(action=action)])).status_code == 400


def test_validate_answers_200_and_creates_nothing(api):
    response = api.call("POST", "/v2/bot/richmenu/validate", json=menu())
    assert response.status_code == 200 and response.json() == {}
    assert api.call("GET", "/v2/bot/richmenu/list").json() == {"richmenus": []}


def test_a_body_that_is_not_json_is_400(api):
    response = api.call("POST", "/v2/bot/richmenu", data=b"{nope",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["details"][0]["message"] == "Invalid JSON"


def test_rich_menu_calls_need_the_token_and_take_no_retry_key(api, sim):
    assert sim.http.get(sim.url + "/v2/bot/richmenu/list", timeout=5).status_code == 401
    response = api.call("POST", "/v2/bot/richmenu", json=menu(),
                        headers={"X-Line-Retry-Key": "1f8c9a40-8f49-4a0b-9b2f-3a4c6f1b2d3e"})
    assert response.status_code == 400
    assert response.json()["message"] == "The retry key cannot be specified for this endpoint"


# --------------------------------------------------------------------------- images

def test_an_image_of_the_menus_size_is_stored_and_served_back(api):
    rich_menu_id = api.created()
    image = png(2500, 843)
    response = api.upload(rich_menu_id, image)
    assert response.status_code == 200 and response.json() == {}
    got = api.call("GET", f"/v2/bot/richmenu/{rich_menu_id}/content")
    assert got.status_code == 200 and got.content == image
    assert got.headers["Content-Type"] == "image/png"


def test_a_jpeg_is_accepted_too(api):
    rich_menu_id = api.created(menu(size={"width": 1200, "height": 405}, areas=[]))
    response = api.upload(rich_menu_id, jpeg_header(1200, 405), "image/jpeg")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("width, height", [(2500, 1686), (2499, 843), (1250, 421)])
def test_an_image_of_another_size_is_400(api, width, height):
    rich_menu_id = api.created()
    response = api.upload(rich_menu_id, png(width, height))
    assert response.status_code == 400
    assert f"({width}x{height})" in response.json()["message"]
    assert api.call("GET", f"/v2/bot/richmenu/{rich_menu_id}/content").status_code == 404


def test_an_image_over_1_mb_is_400(api):
    rich_menu_id = api.created()
    big = png(2500, 843) + b"\x00" * (1024 * 1024)  # trailing bytes after IEND: still too big
    response = api.upload(rich_menu_id, big)
    assert response.status_code == 400 and "1 MB" in response.json()["message"]


@pytest.mark.parametrize("content_type", ["image/gif", "application/octet-stream", "text/plain"])
def test_other_media_types_are_415(api, content_type):
    rich_menu_id = api.created()
    response = api.upload(rich_menu_id, png(2500, 843), content_type)
    assert response.status_code == 415 and response.json() == {"message": "Unsupported media type"}


def test_a_body_that_is_not_the_declared_image_type_is_400(api):
    rich_menu_id = api.created()
    assert api.upload(rich_menu_id, b"not an image at all").status_code == 400
    assert api.upload(rich_menu_id, png(2500, 843), "image/jpeg").status_code == 400


def test_an_image_is_never_replaced(api):
    rich_menu_id = api.ready()
    response = api.upload(rich_menu_id, png(2500, 843))
    assert response.status_code == 400
    assert response.json() == {"message": "An image has already been uploaded to the richmenu"}


def test_the_image_header_reader():
    assert image_size(png(2500, 1686)) == ("image/png", 2500, 1686)
    assert image_size(jpeg_header(800, 270)) == ("image/jpeg", 800, 270)
    assert image_size(b"GIF89a") is None


# --------------------------------------------------------------------------- not found

@pytest.mark.parametrize("method, path", [
    ("GET", f"/v2/bot/richmenu/{UNKNOWN_ID}"),
    ("DELETE", f"/v2/bot/richmenu/{UNKNOWN_ID}"),
    ("GET", f"/v2/bot/richmenu/{UNKNOWN_ID}/content"),
    ("POST", f"/v2/bot/richmenu/{UNKNOWN_ID}/content"),
    ("POST", f"/v2/bot/user/all/richmenu/{UNKNOWN_ID}"),
    ("POST", f"/v2/bot/user/U{'1' * 32}/richmenu/{UNKNOWN_ID}"),
])
def test_an_unknown_rich_menu_id_is_404(api, method, path):
    kwargs = {"data": png(2500, 843), "headers": {"Content-Type": "image/png"}} if method == "POST" else {}
    response = api.call(method, path, **kwargs)
    assert response.status_code == 404 and response.json() == {"message": "Not found"}


def test_a_deleted_menu_is_gone(api):
    rich_menu_id = api.ready()
    assert api.call("DELETE", f"/v2/bot/richmenu/{rich_menu_id}").status_code == 200
    assert api.call("GET", f"/v2/bot/richmenu/{rich_menu_id}").status_code == 404
    assert api.call("GET", f"/v2/bot/richmenu/{rich_menu_id}/content").status_code == 404


# --------------------------------------------------------------------------- default and links

def test_a_menu_without_its_image_cannot_be_the_default(api):
    rich_menu_id = api.created()
    response = api.call("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}")
    assert response.status_code == 400
    assert response.json() == {"message": "must upload richmenu image before applying it to user"}
    assert api.call("GET", "/v2/bot/user/all/richmenu").status_code == 404


def test_the_default_menu_is_set_read_and_cancelled(api):
    assert api.call("GET", "/v2/bot/user/all/richmenu").json() == {"message": "no default richmenu"}
    rich_menu_id = api.ready()
    assert api.call("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}").status_code == 200
    assert api.call("GET", "/v2/bot/user/all/richmenu").json() == {"richMenuId": rich_menu_id}
    assert api.call("DELETE", "/v2/bot/user/all/richmenu").status_code == 200
    assert api.call("GET", "/v2/bot/user/all/richmenu").status_code == 404


def test_deleting_the_default_menu_leaves_no_default(api):
    rich_menu_id = api.ready()
    api.call("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}")
    api.call("DELETE", f"/v2/bot/richmenu/{rich_menu_id}")
    assert api.call("GET", "/v2/bot/user/all/richmenu").status_code == 404


def test_the_chat_page_gets_the_default_menu_and_a_linked_one_wins(api, sim):
    user = sim.friend("山田")
    assert sim.client.user_richmenu(user) == {"richMenu": None, "source": None, "imageUrl": None}
    default = api.ready(menu(selected=True, chatBarText="ひらく"))
    api.call("POST", f"/v2/bot/user/all/richmenu/{default}")
    shown = sim.client.user_richmenu(user)
    assert shown["source"] == "default" and shown["richMenu"]["richMenuId"] == default
    assert shown["richMenu"]["chatBarText"] == "ひらく" and shown["richMenu"]["selected"] is True
    image = sim.http.get(sim.url + shown["imageUrl"], timeout=5)  # no token: the page's own route
    assert image.status_code == 200 and image.content == png(2500, 843)

    personal = api.ready(menu(name="個別"))
    assert api.call("POST", f"/v2/bot/user/{user}/richmenu/{personal}").status_code == 200
    assert api.call("GET", f"/v2/bot/user/{user}/richmenu").json() == {"richMenuId": personal}
    assert sim.client.user_richmenu(user)["richMenu"]["richMenuId"] == personal
    assert sim.client.user_richmenu(user)["source"] == "user"
    assert api.call("DELETE", f"/v2/bot/user/{user}/richmenu").status_code == 200
    assert api.call("GET", f"/v2/bot/user/{user}/richmenu").status_code == 404
    assert sim.client.user_richmenu(user)["richMenu"]["richMenuId"] == default
    overview = sim.client.richmenus()
    assert overview["defaultRichMenuId"] == default
    assert {m["richMenuId"]: m["hasImage"] for m in overview["richmenus"]} == {default: True,
                                                                               personal: True}


def test_a_reset_forgets_rich_menus(api, sim):
    rich_menu_id = api.ready()
    api.call("POST", f"/v2/bot/user/all/richmenu/{rich_menu_id}")
    sim.client.reset()
    assert api.call("GET", "/v2/bot/richmenu/list").json() == {"richmenus": []}
    assert sim.client.richmenus()["defaultRichMenuId"] is None


def test_rich_menu_faults_can_be_injected(api, sim):
    sim.client.set_fault("status", "richmenu", status=500, times=1)
    assert api.create(menu()).status_code == 500
    assert api.create(menu()).status_code == 200


def test_the_chat_page_has_the_rich_menu_markup(sim):
    page = sim.http.get(sim.url + "/", timeout=5).text
    assert 'class="richmenu"' in page and 'class="rm-bar"' in page
    script = sim.http.get(sim.url + "/static/app.js", timeout=5).text
    assert "/richmenu`" in script and "chatBarText" in script


# --------------------------------------------------------------------------- against LINE's spec

@pytest.mark.skipif(not SPEC.exists(), reason=f"LINE's OpenAPI file is not available at {SPEC}")
def test_requests_and_responses_fit_lines_openapi(api):
    """What the simulator accepts, the spec accepts; what it answers, the spec describes."""
    from openapi_core import OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    openapi = OpenAPI.from_file_path(str(SPEC))
    body = menu()
    prepared = requests.Request("POST", "https://api.line.me/v2/bot/richmenu",
                                data=json.dumps(body),
                                headers={"Authorization": "Bearer t",
                                         "Content-Type": "application/json"}).prepare()
    openapi.validate_request(RequestsOpenAPIRequest(prepared))
    # The spec's own limits (name ≤ 300, chatBarText ≤ 14) agree with the simulator's.
    for changes in ({"name": "n" * 301}, {"chatBarText": "メ" * 15}):
        bad = copy.deepcopy(body) | changes
        prepared = requests.Request("POST", "https://api.line.me/v2/bot/richmenu",
                                    data=json.dumps(bad),
                                    headers={"Authorization": "Bearer t",
                                             "Content-Type": "application/json"}).prepare()
        with pytest.raises(Exception):
            openapi.validate_request(RequestsOpenAPIRequest(prepared))
        assert api.create(bad).status_code == 400

    rich_menu_id = api.ready()
    for path in (f"/v2/bot/richmenu/{rich_menu_id}", "/v2/bot/richmenu/list"):
        response = api.call("GET", path)
        line_request = requests.Request("GET", "https://api.line.me" + path,
                                        headers={"Authorization": "Bearer t"}).prepare()
        openapi.validate_response(RequestsOpenAPIRequest(line_request),
                                  RequestsOpenAPIResponse(response))
