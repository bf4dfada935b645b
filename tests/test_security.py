"""Sessions on the server, the secret key, limits on guessing, security headers, api_key out of the logs."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import select

from pos import create_app, sessions
from pos.config import InsecureConfiguration
from pos.limits import MESSAGES, OneTripMovingWindow
from pos.models import Message, Organization, User
from pos.security import MaskApiKeys, mask
from pos.services import accounts
from tests.background import ROOT, free_port, wait_until
from tests.staff_app import StaffApp
from tests.web_redis import app_config

COOKIE = "pos_session"


@pytest.fixture(scope="module")
def site() -> StaffApp:
    return StaffApp("security")


def fresh_app(site: StaffApp, **config):
    """An app over the module's database with a namespace of its own: its limit counts start at zero."""
    return create_app({"DATABASE_URL": site.url, "UPLOAD_DIR": site.uploads, "TESTING": True,
                       "WTF_CSRF_ENABLED": False, "SECRET_KEY": "security", **app_config(), **config})


def sign_in(app, login: str, password: str = "demo"):
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 303, response.status_code
    return client


def cookie_of(client) -> str:
    return client.get_cookie(COOKIE).value


def with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def opens_staff(client) -> bool:
    response = client.get("/staff/")
    return response.status_code == 200


def new_staff_user(site: StaffApp, login: str, password: str = "пароль-сотрудника") -> User:
    with site.session() as s:
        user = accounts.create_user(s, login, password, "Тестов Тест Тестович")
        moderator_grant = accounts.grant(s, user, "moderator")
        assert moderator_grant.id
        s.commit()
        return user


# --- sessions ---------------------------------------------------------------------------------------

def test_a_cookie_copied_before_signing_out_opens_nothing_afterwards(site):
    app = fresh_app(site)
    client = sign_in(app, "moderator")
    copied = cookie_of(client)
    assert opens_staff(with_cookie(app, copied))
    assert client.post("/logout").status_code == 303
    assert not opens_staff(client)
    stale = with_cookie(app, copied).get("/staff/")
    assert stale.status_code == 302 and "/login" in stale.location


def test_the_session_id_changes_at_sign_in(site):
    app = fresh_app(site)
    client = app.test_client()
    with client.session_transaction() as anonymous:  # a session from before sign-in (a CSRF token, say)
        anonymous["csrf_token"] = "x"
    before = cookie_of(client)
    client.post("/login", data={"login": "moderator", "password": "demo"})
    assert cookie_of(client) != before and opens_staff(client)
    assert not opens_staff(with_cookie(app, before))  # an id known before sign-in opens nothing


def test_the_cookie_holds_only_a_random_id(site):
    app = fresh_app(site)
    value = cookie_of(sign_in(app, "moderator"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", value)  # no data, no signature to forge


def test_deactivation_ends_every_session_of_the_user(site):
    app = fresh_app(site)
    user = new_staff_user(site, "sec.deactivated")
    first, second = sign_in(app, user.login, "пароль-сотрудника"), sign_in(app, user.login, "пароль-сотрудника")
    other = sign_in(app, "moderator")
    assert opens_staff(first) and opens_staff(second)
    with site.session() as s:
        accounts.deactivate(s, s.get(User, user.id))
    assert not opens_staff(first) and not opens_staff(second)
    assert opens_staff(other)  # somebody else's session goes on
    refused = app.test_client().post("/login", data={"login": user.login, "password": "пароль-сотрудника"})
    assert refused.status_code == 401


def test_a_new_password_ends_every_session_and_the_new_one_works(site):
    app = fresh_app(site)
    user = new_staff_user(site, "sec.password")
    first = sign_in(app, user.login, "пароль-сотрудника")
    with site.session() as s:
        accounts.set_password(s, s.get(User, user.id), "новый-пароль-сотрудника")
    assert not opens_staff(first)
    assert app.test_client().post("/login", data={"login": user.login, "password": "пароль-сотрудника"}
                                  ).status_code == 401
    assert opens_staff(sign_in(app, user.login, "новый-пароль-сотрудника"))


def test_idle_timeout_ends_a_session_nobody_used(site, monkeypatch):
    app = fresh_app(site)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    now = [time.time()]
    monkeypatch.setattr(sessions, "wall_time", lambda: now[0])
    client = sign_in(app, "moderator")
    now[0] += idle - 5
    assert opens_staff(client)  # in time: and the clock restarts from this request
    now[0] += idle - 5
    assert opens_staff(client)
    now[0] += idle + 5
    response = client.get("/staff/", follow_redirects=True)
    assert "/login" in response.request.path
    assert "Сеанс завершён" in response.get_data(as_text=True)
    assert not opens_staff(client)


def test_a_page_that_changes_nothing_stores_no_session(site, monkeypatch):
    # The last request is written down once a minute at most: pages in between write nothing to Redis.
    app = fresh_app(site)
    now = [time.time()]
    monkeypatch.setattr(sessions, "wall_time", lambda: now[0])
    client = sign_in(app, "moderator")
    assert opens_staff(client)  # the first page keeps its form's CSRF token in the session
    stored = []
    upsert = sessions.PosSessionInterface._upsert_session
    monkeypatch.setattr(sessions.PosSessionInterface, "_upsert_session",
                        lambda self, *args: stored.append(1) or upsert(self, *args))
    for _ in range(3):
        now[0] += 5
        assert opens_staff(client)
    assert stored == []
    now[0] += sessions.SEEN_STEP
    assert opens_staff(client) and stored == [1]  # and the idle time counts from this request
    now[0] += app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    assert opens_staff(client)


def test_absolute_timeout_ends_even_a_busy_session(site, monkeypatch):
    app = fresh_app(site)
    idle, longest = app.config["SESSION_IDLE_MINUTES"] * 60, app.config["SESSION_MAX_HOURS"] * 3600
    now = [time.time()]
    monkeypatch.setattr(sessions, "wall_time", lambda: now[0])
    client = sign_in(app, "moderator")
    started = now[0]
    while now[0] + idle / 2 < started + longest:
        now[0] += idle / 2
        assert opens_staff(client)
    now[0] = started + longest + 1
    assert not opens_staff(client)


def test_timeouts_are_settings(site, monkeypatch):
    app = fresh_app(site, SESSION_IDLE_MINUTES=1)
    now = [time.time()]
    monkeypatch.setattr(sessions, "wall_time", lambda: now[0])
    client = sign_in(app, "moderator")
    now[0] += 61
    assert not opens_staff(client)


def test_without_redis_sign_in_answers_503_and_the_public_parts_work(site):
    app = fresh_app(site, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = app.test_client()
    for response in (client.get("/login"), client.post("/login", data={"login": "moderator", "password": "demo"}),
                     client.get("/staff/"), client.get("/register")):
        assert response.status_code == 503
        assert "Вход временно недоступен" in response.get_data(as_text=True)
    assert client.get("/health").status_code == 200
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/favicon.ico").status_code == 200


# --- the secret key --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", "dev-only-change-me", "short"])
def test_the_app_refuses_to_start_without_a_real_key(site, key):
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY"):
        create_app({"DATABASE_URL": site.url, "SECRET_KEY": key, **app_config()})


def test_a_real_key_starts(site):
    app = create_app({"DATABASE_URL": site.url, "SECRET_KEY": "x" * 40, **app_config()})
    assert app.secret_key == "x" * 40


def _flask(tmp_path, **env_extra):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(POS_INSTANCE_DIR=str(tmp_path / "instance"), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
               **env_extra)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "routes"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_outside_make_run_no_key_means_no_start_and_says_how_to_set_one(tmp_path):
    result = _flask(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "secrets.token_hex" in result.stderr


def test_make_runs_key_in_the_instance_folder_is_used(tmp_path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("a" * 64 + "\n")
    result = _flask(tmp_path)
    assert result.returncode == 0, result.stderr
    makefile = (ROOT / "Makefile").read_text()
    assert "secrets.token_hex(32)" in makefile and "secret_key" in makefile


# --- limits on guessing ----------------------------------------------------------------------------

def _login(client, login: str, password: str):
    return client.post("/login", data={"login": login, "password": password})


def test_the_sixth_wrong_password_for_a_login_within_a_minute_is_refused(site):
    app = fresh_app(site)
    client = app.test_client()
    for _ in range(5):
        assert _login(client, "zhkh.executor", "не тот").status_code == 401
    refused = _login(client, "zhkh.executor", "не тот")
    assert refused.status_code == 429
    assert MESSAGES["login"] in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    # The right password is refused too for now; another login from the same address is not.
    assert _login(client, "zhkh.executor", "demo").status_code == 429
    assert _login(client, " ZHKH.Executor ", "demo").status_code == 429  # the same login, as the form reads it
    assert _login(client, "zhkh.curator", "demo").status_code == 303


def _change_password(client, current: str, new: str = "Новый-пароль-надёжный-7"):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                   "new_password_confirm": new})


def test_wrong_current_passwords_in_change_password_count_as_failed_sign_ins(site):
    """«Сменить пароль» checks the current password: a copied session must not guess it without a limit.
    Its failures and the sign-in's share the login's count."""
    app = fresh_app(site)
    client = sign_in(app, "zhkh.head2")
    assert _change_password(client, "demo", "12345678").status_code == 400  # a weak new one: not a guess
    for _ in range(5):
        response = _change_password(client, "не тот")
        assert response.status_code == 400 and "Текущий пароль указан неверно" in response.get_data(as_text=True)
    refused = _change_password(client, "demo")
    assert refused.status_code == 429 and MESSAGES["password"] in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    assert _login(app.test_client(), "zhkh.head2", "не тот").status_code == 429
    # Another person is not held up.
    assert _change_password(sign_in(app, "zhkh.head1"), "не тот").status_code == 400


def test_an_app_built_later_with_other_limits_leaves_this_apps_limits_alone(site):
    """Each app has its limiter: the fuzz tests' app (limits off) once switched them off for every app."""
    app = fresh_app(site)
    fresh_app(site, RATELIMIT_ENABLED=False)
    client = app.test_client()
    for _ in range(5):
        assert _login(client, "zhkh.executor", "не тот").status_code == 401
    assert _login(client, "zhkh.executor", "не тот").status_code == 429


def test_failed_attempts_from_one_address_are_limited_across_logins(site):
    app = fresh_app(site)
    client = app.test_client()
    for n in range(10):
        assert _login(client, f"nobody{n}", "не тот").status_code == 401
    refused = _login(client, "moderator", "demo")
    assert refused.status_code == 429 and MESSAGES["login"] in refused.get_data(as_text=True)
    # Another address is not held up.
    other = app.test_client()
    response = other.post("/login", data={"login": "moderator", "password": "demo"},
                          environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 303


def test_successful_sign_ins_do_not_count(site):
    app = fresh_app(site)
    for _ in range(12):
        sign_in(app, "moderator")


def test_registration_is_limited_per_address(site):
    app = fresh_app(site)
    client = app.test_client()
    for _ in range(5):
        assert client.post("/register", data={"kind": "citizen"}).status_code == 400
    refused = client.post("/register", data={"kind": "citizen"})
    assert refused.status_code == 429 and MESSAGES["register"] in refused.get_data(as_text=True)
    assert client.get("/register").status_code == 200  # reading the form is not limited


def test_the_embedded_form_is_limited_per_address(site):
    app = fresh_app(site)
    with site.session() as s:
        org_id = s.exec(select(Organization.id).where(Organization.is_active)).first()
    client = app.test_client()
    for _ in range(5):
        assert client.post(f"/embed/{org_id}", data={}).status_code == 400
    refused = client.post(f"/embed/{org_id}", data={})
    assert refused.status_code == 429 and MESSAGES["embed"] in refused.get_data(as_text=True)
    assert "frame-ancestors" in refused.headers["Content-Security-Policy"]


def test_open311_post_requests_are_limited_per_api_key_in_its_error_format(site):
    app = fresh_app(site)
    client = app.test_client()
    for _ in range(30):
        assert client.post("/open311/v2/requests.json", data={"api_key": "key-one"}).status_code != 429
    refused = client.post("/open311/v2/requests.json", data={"api_key": "key-one"})
    assert refused.status_code == 429
    assert refused.get_json() == [{"code": 429, "description": MESSAGES["open311"]}]
    xml = client.post("/open311/v2/requests.xml", data={"api_key": "key-one"})
    assert xml.status_code == 429 and b"<errors><error><code>429</code>" in xml.data
    assert client.post("/open311/v2/requests.json", data={"api_key": "key-two"}).status_code != 429


def test_an_open311_post_counts_each_limit_in_one_redis_round_trip_and_its_headers_read_none(site, monkeypatch):
    """The hit and the window its X-RateLimit headers tell come back together (pos.limits.OneTripMovingWindow):
    one round trip per limit (the default: a minute's and an hour's), the headers what Redis holds."""
    import redis
    app = fresh_app(site)
    limiter = app.extensions["pos.limiter"]
    trips, hits, hit = [], [], OneTripMovingWindow.hit
    monkeypatch.setattr(OneTripMovingWindow, "hit", lambda self, item, *ids, **k: hits.append((item, ids)) or
                        hit(self, item, *ids, **k))
    pipelined, single = redis.client.Pipeline.execute, redis.Redis.execute_command
    monkeypatch.setattr(redis.client.Pipeline, "execute",
                        lambda self, *a, **k: trips.append("pipeline") or pipelined(self, *a, **k))
    monkeypatch.setattr(redis.Redis, "execute_command", lambda self, *a, **k: trips.append(a[0]) or single(self, *a, **k))
    client = app.test_client()
    for i in range(1, 4):
        trips.clear(), hits.clear()
        response = client.post("/open311/v2/requests.json", data={"api_key": "key-one"})
        assert response.status_code == 403 and trips == ["pipeline", "pipeline"]
        assert response.headers["X-RateLimit-Limit"] == "30" and response.headers["X-RateLimit-Remaining"] == str(30 - i)
        reset = int(response.headers["X-RateLimit-Reset"])
        assert time.time() + 59 <= reset <= time.time() + 62
        item, identifiers = hits[0]  # the minute's limit comes first (the library sorts them)
        stats = MovingWindowRateLimiter.get_window_stats(limiter.limiter, item, *identifiers)  # asked afresh
        assert stats.remaining == 30 - i and int(stats.reset_time + 1) == reset


def test_the_incidents_push_endpoint_is_limited_per_api_key_in_its_error_format(site):
    app = fresh_app(site, INCIDENTS_PUSH_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/api/incidents/v1/posts", headers={"X-Api-Key": "key-one"}, json={}).status_code != 429
    refused = client.post("/api/incidents/v1/posts", headers={"X-Api-Key": "key-one"}, json={})
    assert refused.status_code == 429 and refused.headers.get("Retry-After")
    assert refused.get_json() == {"error": {"code": 429, "description": MESSAGES["incidents"]}}
    assert client.post("/api/incidents/v1/posts", headers={"X-Api-Key": "key-two"}, json={}).status_code != 429


def test_limits_are_settings(site):
    app = fresh_app(site, LOGIN_LIMIT_PER_LOGIN="2 per minute")
    client = app.test_client()
    for _ in range(2):
        assert _login(client, "zhkh.head1", "не тот").status_code == 401
    assert _login(client, "zhkh.head1", "не тот").status_code == 429


# --- headers and pages ---------------------------------------------------------------------------

class _Inline(HTMLParser):
    """Collects what a strict CSP would block in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        for name, _value in attrs:
            if name == "style" or name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{tag}[{name}]")
        if tag == "a" and any((value or "").strip().lower().startswith("javascript:") for _, value in attrs):
            self.found.append("javascript: link")


def _inline_in(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


def _pages(site: StaffApp, app) -> list[tuple[str, object, str]]:
    """(who, client, path) for the main pages of every role."""
    with site.session() as s:
        messages = s.exec(select(Message)).all()
    by_stage = {}
    for message in messages:
        by_stage.setdefault(message.stage, message.id)
    any_message = messages[0].id
    citizen_message = next(m.id for m in messages if m.applicant_id is not None)
    anonymous = app.test_client()
    with site.session() as s:
        org_id = s.exec(select(Organization.id).where(Organization.is_active)).first()
    pages = [("anonymous", anonymous, path) for path in ("/login", "/register", f"/embed/{org_id}", "/nowhere")]
    for login in ("moderator", "zhkh.coordinator", "zhkh.executor", "zhkh.head1", "zhkh.minister", "zhkh.curator",
                  "analyst", "admin"):
        client = sign_in(app, login)
        pages += [(login, client, "/staff/"), (login, client, "/staff/notifications")]
        pages += [(login, client, f"/staff/messages/{mid}") for mid in {*by_stage.values(), any_message}]
    admin = sign_in(app, "admin")
    pages += [("admin", admin, "/staff/outbox"), ("admin", admin, "/staff/admin/access")]
    moderator = sign_in(app, "moderator")
    pages.append(("moderator", moderator, "/staff/?pick=all"))
    pages.append(("admin", admin, "/staff/outbox"))
    with site.session() as s:
        first_org = s.exec(select(Organization.id).where(Organization.parent_id.is_not(None))).first()
        root_org = s.exec(select(Organization.id).where(Organization.parent_id.is_(None))).first()
        admin_id = s.exec(select(User.id).where(User.login == "admin")).one()
    pages += [("admin", admin, f"/staff/admin{path}") for path in (
        "/", "/organizations", "/organizations/new", f"/organizations/{first_org}", f"/organizations/{root_org}",
        "/users", "/users/new", f"/users/{admin_id}", "/classifier", "/classifier/categories/1",
        "/classifier/subcategories/1", "/deadlines", f"/deadlines?jurisdiction={root_org}", "/templates",
        "/templates/1", "/api-clients", "/changes")]
    citizen = sign_in(app, "citizen")
    pages += [("citizen", citizen, path) for path in
              ("/my/messages", "/my/messages/new", f"/my/messages/{citizen_message}", "/my/notifications")]
    # Votes and polls in every state (the seed's): the organizer's, the analyst's, the applicant's, the embed.
    from pos.models.votes import Vote
    with site.session() as s:
        held = s.exec(select(Vote).order_by(Vote.id)).all()
    organizer, analyst = sign_in(app, "zhkh.publisher"), sign_in(app, "analyst")
    pages += [("zhkh.publisher", organizer, path) for path in
              ("/staff/votes", "/staff/votes/new?kind=vote", "/staff/votes/new?kind=poll")]
    for vote in held:
        pages += [("zhkh.publisher", organizer, f"/staff/votes/{vote.id}"),
                  ("zhkh.publisher", organizer, f"/staff/votes/{vote.id}/edit"),
                  ("analyst", analyst, f"/staff/votes/{vote.id}"),
                  ("citizen", citizen, f"/votes/{vote.id}"), ("anonymous", anonymous, f"/embed/votes/{vote.id}")]
    pages.append(("citizen", citizen, "/votes"))
    # Every page of a signed-in person names them in its header: «Сменить пароль» too, and the analytics.
    pages += [("citizen", citizen, "/account/password"), ("moderator", moderator, "/account/password"),
              ("zhkh.publisher", organizer, "/account/password")]
    pages += [("analyst", analyst, f"/staff/analytics/{name}")
              for name in ("summary", "problems", "deadlines", "satisfaction")]
    pages += [("analyst", analyst, "/staff/rating")]
    return pages


def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(site):
    app = fresh_app(site)
    seen = 0
    requests = [(who, client, path, {}) for who, client, path in _pages(site, app)]
    # The same pages as htmx asks for them: the fragments swapped in must be as clean.
    requests += [(who, client, path, {"HX-Request": "true"}) for who, client, path, _ in requests]
    for who, client, path, headers in requests:
        response = client.get(path, headers=headers)
        if response.status_code in (302, 303):
            continue
        csp = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (who, path)
        assert "default-src 'self'" in csp and "script-src" in csp and "style-src" in csp or "script-src 'none'" in csp
        if response.mimetype == "text/html":
            assert _inline_in(response.get_data(as_text=True)) == [], (who, path)
            seen += 1
    assert seen >= 80
    # htmx is told not to insert its indicator <style> nor to evaluate anything.
    page = app.test_client().get("/login").get_data(as_text=True)
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']+)'", page).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert config["allowScriptTags"] is False
    # What htmx swaps in is bound at once: with a settle delay, a select changed within it did nothing.
    assert config["defaultSettleDelay"] == 0


def test_the_inline_scanner_finds_what_a_strict_csp_blocks():
    assert _inline_in('<p style="x">') == ["p[style]"]
    assert _inline_in("<style>p{}</style><script>alert(1)</script>") == ["<style>", "inline <script>"]
    assert _inline_in('<button onclick="x()" hx-on:click="y">') == ["button[onclick]", "button[hx-on:click]"]
    assert _inline_in('<script src="/static/x.js"></script>') == []


def test_the_embedded_form_keeps_its_frame_ancestors(site):
    app = fresh_app(site, EMBED_FRAME_ANCESTORS="https://city.example")
    with site.session() as s:
        org_id = s.exec(select(Organization.id).where(Organization.is_active)).first()
    response = app.test_client().get(f"/embed/{org_id}")
    assert "frame-ancestors https://city.example" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    staff = app.test_client().get("/login")
    assert staff.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_pages_with_personal_data_are_not_stored_and_static_files_are_cached_long(site):
    app = fresh_app(site)
    for who, client, path in _pages(site, app):
        if who == "anonymous" and path == "/nowhere":
            continue
        response = client.get(path)
        assert "no-store" in response.headers.get("Cache-Control", ""), (who, path)
    static = app.test_client().get("/static/pos.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert static.cache_control.max_age >= 30 * 24 * 3600


def test_favicon_answers_and_is_linked_and_cached_long(site):
    app = fresh_app(site)
    client = app.test_client()
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"
    assert response.cache_control.max_age >= 30 * 24 * 3600
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(href).status_code == 200


# --- the servers: no version in Server, no api_key in the access log -------------------------------

def test_api_keys_are_masked_in_log_records():
    assert mask('"GET /open311/v2/requests.json?api_key=SECRET&x=1 HTTP/1.1"') == \
        '"GET /open311/v2/requests.json?api_key=***&x=1 HTTP/1.1"'
    assert mask("/r.json?a=1&API%5FKEY=SECRET") == "/r.json?a=1&API%5FKEY=***"
    werkzeug = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [%s] "%s" %s %s',
                                 ("127.0.0.1", "now", "GET /x?api_key=SECRET HTTP/1.1", "200", "-"), None)
    MaskApiKeys().filter(werkzeug)
    assert "SECRET" not in werkzeug.getMessage() and "api_key=***" in werkzeug.getMessage()
    gunicorn = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" %(q)s',
                                 ({"r": "GET /x?api_key=SECRET HTTP/1.1", "q": "api_key=SECRET", "s": 200},), None)
    MaskApiKeys().filter(gunicorn)
    assert gunicorn.getMessage() == '"GET /x?api_key=*** HTTP/1.1" api_key=***'
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, MaskApiKeys) for f in logging.getLogger(name).filters)


def _serve(site: StaffApp, tmp_path, command: list[str], port: int):
    env = {**os.environ, "DATABASE_URL": site.url, "UPLOAD_DIR": site.uploads, "SECRET_KEY": "s" * 40,
           "POS_INSTANCE_DIR": str(tmp_path), **{k: v for k, v in app_config().items() if k == "REDIS_URL"},
           "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "server.log"
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)

    def up():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
        except (urllib.error.URLError, OSError):
            return None
    try:
        wait_until(up, 30, 0.2, what="the server")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/open311/v2/requests.json?api_key=TOPSECRET", timeout=5)
        except urllib.error.HTTPError as exc:
            headers = exc.headers
        else:
            raise AssertionError("a bad key must be refused")
        time.sleep(0.3)
        return headers, log.read_text()
    finally:
        proc.terminate()
        proc.wait(15)


def test_werkzeugs_server_shows_no_version_and_logs_no_key(site, tmp_path):
    port = free_port()
    headers, log = _serve(site, tmp_path, [sys.executable, "-c", "from pos import create_app; "
                                           f"create_app().run(host='127.0.0.1', port={port})"], port)
    assert "Werkzeug" not in headers.get("Server", "") and "Python" not in headers.get("Server", "")
    assert len(headers.get_all("Server")) == 1
    assert "TOPSECRET" not in log and "api_key=***" in log


def test_gunicorn_shows_no_version_and_logs_no_key(site, tmp_path):
    port = free_port()
    headers, log = _serve(site, tmp_path, [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                           "--workers", "1", "--access-logfile", "-", "app:app"], port)
    assert "/" not in headers.get("Server", "")  # "gunicorn", no version
    assert "TOPSECRET" not in log and "api_key=***" in log


def test_the_deactivate_user_command_ends_the_sessions(site):
    app = fresh_app(site)
    user = new_staff_user(site, "sec.command")
    client = sign_in(app, user.login, "пароль-сотрудника")
    result = app.test_cli_runner().invoke(args=["deactivate-user", "--login", "SEC.Command"])
    assert result.exit_code == 0 and "деактивирован" in result.output, result.output
    assert not opens_staff(client)
    missing = app.test_cli_runner().invoke(args=["deactivate-user", "--login", "nobody.at.all"])
    assert missing.exit_code != 0 and "не найден" in missing.output
