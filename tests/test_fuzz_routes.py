"""Hypothesis-driven requests against every route of the app (enumerated from app.url_map), as each role and
anonymously: path values, query strings, form fields and JSON bodies from ids of real rows, ids past 64 bits,
dates out of range, tampered page cursors, free text with NUL, line breaks, bidirectional overrides and lone
surrogates, reserved url_for names. No answer is a 5xx, and a refused request (4xx) writes nothing. Half the
requests carry a real API key, and the incidents' push endpoint (not in the Open311 document) gets a
hypothesis run of its own over the shape of its posts.

It runs on the seeded demo database of its own (real commits, like a server's).
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select
from werkzeug.routing import AnyConverter, IntegerConverter
from wtforms.fields.core import UnboundField

from pos.forms.staff import FORMS, FilterForm
from pos.models import (AnswerTemplate, ApiClient, Applicant, ApprovalStep, Attachment, Category, HistoryEntry,
                        Message, Notification, Organization, OutboxEvent, PublicPost, RoleGrant, Subcategory, User)
from pos.models.votes import Vote, VoteOption, VoteParticipation, VoteQuestion
from pos.services import open311
from pos.workflow import Action
from tests.staff_app import StaffApp

ROLES = ["moderator", "zhkh.coordinator", "zhkh.executor", "zhkh.minister", "zhkh.curator", "analyst", "admin",
         "zhkh.publisher", "citizen", None]  # None: anonymous
# A deeper run: POS_FUZZ_EXAMPLES=1000 pytest tests/test_fuzz_*.py
EXAMPLES_PER_ROLE = int(os.environ.get("POS_FUZZ_EXAMPLES", "110"))
# Routes that change who the client is: each such request gets a client of its own.
SESSION_ROUTES = ("/login", "/logout", "/role", "/register")
REQUESTS = {"count": 0, "refused": 0}


@pytest.fixture(scope="module")
def fuzz_app() -> StaffApp:
    # Sign-in limits have their own tests; here hundreds of sign-ins come from one address.
    return StaffApp("fuzz_routes", RATELIMIT_ENABLED=False)


@pytest.fixture(scope="module")
def api_key(fuzz_app) -> str:
    """A real key: half the requests carry it, so what the API routes do with a body is fuzzed too."""
    with fuzz_app.session() as s:
        key = open311.create_client(s, "Фазз")[1]
        s.commit()
        return key


@pytest.fixture(scope="module", autouse=True)
def _report():
    REQUESTS.update(count=0, refused=0)
    yield
    print(f"\nfuzz over every route: {REQUESTS['count']} requests ({REQUESTS['refused']} refused with a 4xx)")


# --- what a request may carry ----------------------------------------------------------------------------

HUGE = ["9223372036854775808", str(2**64), str(2**31), "2147483647", "-1", "0", "1e30", "Infinity", "NaN", "1.5",
        " 1", "١٢", "1_0", "0x1f", "+3", "00000000000000000000001"]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-12-01", "1999-12-31", "2100-12-31", "2101-01-01",
         "2026-12-01T10:00:00", "2026-12-01T10:00:00+09:00", "2026-12-01 10:00:00 09:00", "10000-01-01", "завтра"]
ODD = ["\x00", "\r\n", "\n", "\u202e", "\u2066", "\u200f", "\ud800", "\udfff", "\x1f", "\x7f", "\x85", "%", "&", "=",
       "#", "/", "..", "../", "\\", "<script>", "'", '"', "ПОС-", "\ufeff", "\U0001F600", " "]
RESERVED = ["_method", "_external", "_anchor", "_scheme"]
PATHS = ["/staff/\r\nX-Evil: 1", "/\\evil.example", "//evil.example", "/staff/?q=1", "/staff/\x7f", "javascript:1"]


def _cursor(final, due, message_id) -> str:
    raw = json.dumps([final, due, message_id], allow_nan=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _text():
    return st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=8)), max_size=6).map("".join)


def _values(ids: list[int]):
    cursors = st.builds(_cursor, st.sampled_from([0, 1, 2, -1, "x", 1.5, None]),
                        st.sampled_from(DATES + [5, None, "2026-12-01T00:00:00+00:00"]),
                        st.one_of(st.sampled_from(ids), st.sampled_from([float("inf"), 1e30, 2**63, -5, "1", True])))
    return st.one_of(st.sampled_from([str(i) for i in ids]), st.integers(-3, 60).map(str), st.sampled_from(HUGE),
                     st.sampled_from(DATES), st.sampled_from(PATHS), cursors, st.sampled_from([a.value for a in Action]),
                     _text(), st.just(""), st.text(min_size=300, max_size=600))


def _post():
    """A pushed public post (/api/incidents/v1/posts): its fields with any value a JSON body may carry."""
    scalar = st.one_of(_text(), st.sampled_from(DATES + HUGE), st.integers(), st.just(10**400),
                       st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                       st.just("https://vk.com/wall-1_1"), st.just("vk"))
    fields = ["network", "url", "text", "published_at", "author", "place", "latitude", "longitude", "pictures"]
    return st.dictionaries(st.sampled_from(fields), st.one_of(scalar, st.lists(scalar, max_size=3)), max_size=9)


def _form_fields(form) -> list[str]:
    return [name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)]


def _field_names() -> list[str]:
    names = set(_form_fields(FilterForm))
    for action, form in FORMS.items():
        names |= {f"{action.value}-{name}" for name in _form_fields(form)}
        if hasattr(form, "agreeing"):
            names |= {f"{action.value}-agreeing-{i}" for i in range(6)}
    names |= {"after", "before", "page", "back", "next", "action", "q", "api_key", "service_request_id",
              "service_code", "start_date", "end_date", "status", "description", "address_string", "lat", "long",
              "email", "phone", "first_name", "last_name", "media_url", "login", "password", "password_confirm",
              "kind", "full_name", "org_name", "inn", "ogrn", "contact_person", "consent", "text", "address",
              "latitude", "longitude", "category_id", "subcategory_id", "rating", "comment", "refresh", "role",
              "remind-text", "csrf_token"}
    return sorted(names) + RESERVED


def _encode(pairs) -> bytes:
    """A form body as a crafted client sends it: lone surrogates go out as their (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}"
                    for k, v in pairs).encode()


def _multipart(pairs, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "fuzz-7MA4YWxkTrZu0gW"
    chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="{quote(k.encode("utf-8", "surrogatepass"))}"'
              f'\r\n\r\n'.encode() + v.encode("utf-8", "surrogatepass") + b"\r\n" for k, v in pairs]
    for field in ("files", "prepare_answer-files", "agree-files", "send_for_approval-files"):
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename*=UTF-8''"
                      f"{quote(filename.encode('utf-8', 'surrogatepass'), safe='')}\r\n"
                      f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


FILE_CONTENTS = [b"%PDF-1.4\n%%EOF\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 20, b"PK\x03\x04" + b"\0" * 30, b"", b"MZ\x90\x00"]


# --- the app: routes, rows, what counts as written ---------------------------------------------------------

def _routes(app) -> list[tuple[str, str, object]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, rule))
    return routes


def _path(rule, draw, ids) -> str:
    """The rule's path with drawn values, raw (url_for would refuse what a converter does not take). Werkzeug
    keeps a rule's parts in `_trace`: (False, text) or (True, argument), the host part before a «|»."""
    parts = []
    for is_dynamic, data in rule._trace:
        if not is_dynamic:
            parts.append(data)
            continue
        converter = rule._converters[data]
        if isinstance(converter, AnyConverter):
            value = draw(st.one_of(st.sampled_from(sorted(converter.items)), st.sampled_from(["yaml", "JSON", ""])))
        elif isinstance(converter, IntegerConverter):
            value = draw(st.one_of(st.sampled_from([str(i) for i in ids]), st.sampled_from(HUGE[:4] + ["0"])))
        elif data == "action":
            value = draw(st.one_of(st.sampled_from([a.value for a in Action] + ["remind", "template"]), _text()))
        else:
            value = draw(_text())
        parts.append(quote(value.encode("utf-8", "surrogatepass"), safe=""))
    path = "".join(parts)
    return path.split("|", 1)[1] if "|" in path else path


def _ids(fuzz_app: StaffApp) -> list[int]:
    with fuzz_app.session() as s:
        ids = set()
        for model in (Message, Attachment, Organization, User, OutboxEvent, Vote, VoteOption, VoteQuestion,
                      Category, Subcategory, AnswerTemplate, ApiClient, RoleGrant, PublicPost):
            ids |= set(s.exec(select(model.id).order_by(model.id.desc()).limit(15)).all())
        return sorted(ids)


def _written(fuzz_app: StaffApp) -> tuple:
    with fuzz_app.session() as s:
        counted = tuple(s.exec(select(func.count()).select_from(m)).one()
                        for m in (Message, HistoryEntry, Attachment, ApprovalStep, OutboxEvent, Notification, User,
                                  Applicant, ApiClient, PublicPost, VoteParticipation, Vote, VoteOption))
        versions = s.exec(select(func.sum(Message.version))).one()
        read = s.exec(select(func.count()).select_from(Notification).where(Notification.read_at.is_not(None))).one()
    uploads = sum(1 for _ in Path(fuzz_app.uploads).rglob("*"))
    return counted + (versions, read, uploads)


class Clients:
    """A signed-in client per role, kept; a request that may sign it out or switch its role gets its own."""

    def __init__(self, fuzz_app: StaffApp):
        self.fuzz_app, self.cached = fuzz_app, {}

    def _signed_in(self, login):
        client = self.fuzz_app.app.test_client()
        if login is not None:
            response = client.post("/login", data={"login": login, "password": "demo"})
            if response.status_code == 429:  # a sign-in limit the fuzz itself reached: not this example's
                reject()
            assert response.status_code == 303, (login, response.status_code)
        return client

    def get(self, login, fresh: bool):
        if fresh:
            return self._signed_in(login)
        if login not in self.cached:
            self.cached[login] = self._signed_in(login)
        return self.cached[login]


@pytest.mark.parametrize("login", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_no_route_answers_a_5xx_and_refusals_write_nothing(fuzz_app, api_key, login):
    app = fuzz_app.app
    routes = _routes(app)
    assert len(routes) > 20
    ids = _ids(fuzz_app)
    names, values = _field_names(), _values(ids)
    clients = Clients(fuzz_app)

    @settings(max_examples=EXAMPLES_PER_ROLE, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        method, rule_text, rule = data.draw(st.sampled_from(routes), label="route")
        path = _path(rule, data.draw, ids)
        query = data.draw(st.lists(st.tuples(st.sampled_from(names), values), max_size=4), label="query")
        url = path + ("?" + _encode(query).decode() if query else "")
        kwargs = {}
        if method != "GET":
            body = data.draw(st.lists(st.tuples(st.sampled_from(names), values), max_size=8), label="form")
            kind = data.draw(st.sampled_from(["form", "multipart", "json"]), label="body")
            if kind == "form":
                kwargs = dict(data=_encode(body), content_type="application/x-www-form-urlencoded")
            elif kind == "multipart":
                raw, content_type = _multipart(body, data.draw(_text(), label="filename"),
                                               data.draw(st.sampled_from(FILE_CONTENTS), label="file"))
                kwargs = dict(data=raw, content_type=content_type)
            else:
                payload = {k: v for k, v in body}
                if data.draw(st.booleans(), label="posts"):
                    payload["posts"] = data.draw(st.lists(_post(), max_size=3), label="posts")
                kwargs = dict(data=json.dumps(payload, ensure_ascii=True), content_type="application/json")
        if data.draw(st.booleans(), label="key"):
            kwargs["headers"] = {"X-Api-Key": api_key}
        client = clients.get(login, fresh=rule_text in SESSION_ROUTES)
        before = _written(fuzz_app)
        response = client.open(url, method=method, **kwargs)
        REQUESTS["count"] += 1
        assert response.status_code < 500, (method, url, kwargs.get("data", b"")[:300])
        if 400 <= response.status_code < 500:
            REQUESTS["refused"] += 1
            assert _written(fuzz_app) == before, ("a refused request wrote", method, url, response.status_code)

    run()


JSON_APIS = ("/api/incidents/v1/posts",)  # JSON bodies (Open311's POST is fuzzed from its OpenAPI document)


def test_the_incident_push_api_answers_no_5xx_whatever_its_posts_hold(fuzz_app, api_key):
    """The push endpoint is not in the Open311 document: hypothesis over its body's shape, with a real key
    (a publication time of the year 1 or a latitude of 400 digits was a 500 here)."""
    client = fuzz_app.app.test_client()
    assert {rule.rule for rule in fuzz_app.app.url_map.iter_rules()} >= set(JSON_APIS)
    before = REQUESTS["count"]

    @settings(max_examples=EXAMPLES_PER_ROLE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_post(), min_size=1, max_size=4))
    def run(posts):
        response = client.post(JSON_APIS[0], data=json.dumps({"posts": posts}, ensure_ascii=True),
                               content_type="application/json", headers={"X-Api-Key": api_key})
        REQUESTS["count"] += 1
        assert response.status_code == 200, (posts, response.get_data(as_text=True)[:300])
        body = response.get_json()
        assert body["created"] + body["duplicate"] + body["error"] == len(posts)

    run()
    assert REQUESTS["count"] - before == EXAMPLES_PER_ROLE
