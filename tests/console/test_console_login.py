"""LINE Login into the console: who gets in, what the session cookie is, how a session ends."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import requests
from sqlalchemy import select

from domain import escalation as esc
from domain import staff
from domain.db import transaction
from domain.people import find_by_line_id
from linesim.login import read_id_token, sign_id_token
from tests.conftest import TEST_LOGIN_CHANNEL_ID, TEST_LOGIN_SECRET


def test_a_coordinator_logs_in_with_line_and_sees_their_cases(browser, console_town):
    landed = browser.login(console_town.ids["asaka_coord"])
    assert landed.status_code == 302 and landed.headers["Location"].endswith("/console/")
    cookie = next(c for c in landed.headers.getlist("Set-Cookie") if c.startswith("sasaeai_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http here; behind HTTPS (SASAEAI_CONSOLE_URL https://…) it is set
    home = browser.get("/console/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200 and "わたしの相談" in page and "買い物" in page
    assert "雪かき" not in page  # 富田地区's case is not 安積's
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert header in home.headers
    assert home.headers["Cache-Control"] == "no-store"


def test_the_authorize_request_uses_pkce_state_nonce_and_the_openid_profile_scopes(browser, console_town):
    start = browser.get("/console/login/line")
    params = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    assert params["response_type"] == "code" and params["client_id"] == TEST_LOGIN_CHANNEL_ID
    assert params["scope"] == "openid profile" and params["code_challenge_method"] == "S256"
    assert params["state"] and params["nonce"] and len(params["code_challenge"]) >= 43
    assert params["redirect_uri"].endswith("/console/login/callback")


def test_someone_who_is_not_a_coordinator_is_refused(browser, console_town, stack):
    refused = browser.login(console_town.ids["resident_x"])
    assert refused.status_code == 403
    assert "コーディネーターとして登録されていません" in refused.get_data(as_text=True)
    assert browser.get("/console/").status_code == 302
    with stack.sessions() as s:
        assert s.scalar(select(esc.AuditEntry).where(esc.AuditEntry.action == "console_login_refused")) is not None


def test_a_forged_state_or_a_replayed_code_gets_no_session(browser, console_town, stack):
    start = browser.get("/console/login/line")
    params = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    chosen = requests.post(stack.sim_server.url + "/oauth2/v2.1/authorize",
                           data={**params, "userId": console_town.ids["asaka_coord"]}, allow_redirects=False)
    back = dict(parse_qsl(urlsplit(chosen.headers["Location"]).query))
    forged = browser.get(f"/console/login/callback?code={back['code']}&state=forged")
    assert forged.status_code == 400
    assert browser.get("/console/").status_code == 302


def test_an_id_token_signed_with_another_secret_or_for_another_channel_is_refused(app, stack):
    from console.auth import verify_id_token
    from joserfc.errors import JoseError

    now = int(stack.clock.now().timestamp())
    claims = {"iss": "https://access.line.me", "sub": "U" + "0" * 32, "aud": TEST_LOGIN_CHANNEL_ID,
              "exp": now + 600, "iat": now, "nonce": "n1"}
    with app.test_request_context("/console/login/callback"):
        assert verify_id_token(sign_id_token(claims, TEST_LOGIN_SECRET), "n1")["sub"] == claims["sub"]
        for bad_token, nonce in ((sign_id_token(claims, "another-secret"), "n1"),
                                 (sign_id_token({**claims, "aud": "999"}, TEST_LOGIN_SECRET), "n1"),
                                 (sign_id_token({**claims, "exp": now - 3600}, TEST_LOGIN_SECRET), "n1"),
                                 (sign_id_token({**claims, "iss": "https://evil"}, TEST_LOGIN_SECRET), "n1"),
                                 (sign_id_token(claims, TEST_LOGIN_SECRET), "another-nonce")):
            try:
                verify_id_token(bad_token, nonce)
            except JoseError:
                continue
            raise AssertionError("a bad ID token was accepted")


def test_the_simulator_token_is_a_real_hs256_jwt_for_the_channel(console_town, browser, stack):
    start = browser.get("/console/login/line")
    params = dict(parse_qsl(urlsplit(start.headers["Location"]).query))
    chosen = requests.post(stack.sim_server.url + "/oauth2/v2.1/authorize",
                           data={**params, "userId": console_town.ids["asaka_coord"]}, allow_redirects=False)
    code = dict(parse_qsl(urlsplit(chosen.headers["Location"]).query))["code"]
    no_verifier = requests.post(stack.sim_server.url + "/oauth2/v2.1/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": params["redirect_uri"],
        "client_id": TEST_LOGIN_CHANNEL_ID, "client_secret": TEST_LOGIN_SECRET, "code_verifier": "wrong" * 10})
    assert no_verifier.status_code == 400 and no_verifier.json()["error"] == "invalid_grant"


def test_remove_ends_the_console_session_at_once(browser, console_town, stack):
    from cli.commands.coordinators import remove_coordinator_now

    browser.login(console_town.ids["asaka_coord"])
    assert browser.get("/console/").status_code == 200
    with transaction(stack.sessions) as s:
        assert remove_coordinator_now(s, console_town.ids["asaka_coord"], stack.clock.now()) == 1
    after = browser.get("/console/")
    assert after.status_code == 302 and "/console/login" in after.headers["Location"]
    with stack.sessions() as s:
        person = find_by_line_id(s, console_town.ids["asaka_coord"])
        assert not person.has_role("coordinator") and staff.active_sessions(s, person) == 0
    # And the LINE login no longer lets them in.
    assert browser.login(console_town.ids["asaka_coord"]).status_code == 403


def test_an_idle_session_ends(browser, console_town, stack):
    browser.login(console_town.ids["asaka_coord"])
    assert browser.get("/console/").status_code == 200
    stack.clock.advance(minutes=29)
    assert browser.get("/console/cases").status_code == 200
    stack.clock.advance(minutes=31)
    assert browser.get("/console/").status_code == 302


def test_logout_needs_the_csrf_token_and_ends_the_session(browser, console_town):
    browser.login(console_town.ids["asaka_coord"])
    assert browser.post("/console/logout", with_csrf=False).status_code == 400
    assert browser.post("/console/logout").status_code == 302
    assert browser.get("/console/").status_code == 302


def test_the_simulator_verify_endpoint_reads_its_own_tokens(stack):
    token = sign_id_token({"aud": TEST_LOGIN_CHANNEL_ID, "exp": int(stack.clock.now().timestamp()) + 60,
                           "sub": "U1"}, TEST_LOGIN_SECRET)
    assert read_id_token(token, TEST_LOGIN_SECRET)["sub"] == "U1"
    ok = requests.post(stack.sim_server.url + "/oauth2/v2.1/verify",
                       data={"id_token": token, "client_id": TEST_LOGIN_CHANNEL_ID})
    assert ok.status_code == 200 and ok.json()["sub"] == "U1"
    wrong = requests.post(stack.sim_server.url + "/oauth2/v2.1/verify", data={"id_token": token, "client_id": "1"})
    assert wrong.status_code == 400
