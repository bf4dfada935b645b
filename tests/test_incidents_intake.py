"""Intake of public posts: the push endpoint (key, fields, duplicates, 1,000 posts), the VK adapter on
recorded responses, the file import."""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlmodel import func, select

from pos.adapters import AdapterError
from pos.adapters import vk
from pos.models import ApiClient, HistoryEntry, Message, PublicPost
from pos.services import incidents, open311
from pos.workflow import Stage
from tests.applicant_app import app, client  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
URL = "/api/incidents/v1/posts"


def recorded(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def post(n=1, **fields):
    return {"network": "vk", "url": f"https://vk.com/wall-1_{n}", "author": f"user{n}",
            "text": "Огромная яма на дороге у остановки, машины пробивают колёса",
            "published_at": "2026-12-01T10:00:00+09:00", **fields}


@pytest.fixture
def key(session, world):
    _client, key = open311.create_client(session, "Мониторинг соцсетей")
    return key


def push(client, key, posts, **headers):
    return client.post(URL, json={"posts": posts}, headers={"X-Api-Key": key, **headers} if key else headers)


# --- the push endpoint ----------------------------------------------------------------

def test_no_key_is_401_and_a_bad_key_403_and_nothing_written(client, session, key):
    assert push(client, None, [post()]).status_code == 401
    bad = push(client, "wrong", [post()])
    assert bad.status_code == 403 and "ключ API" in bad.get_json()["error"]["description"]
    revoked = session.exec(select(ApiClient)).first()
    revoked.is_active = False
    session.commit()
    assert push(client, key, [post()]).status_code == 403
    assert session.exec(select(func.count()).select_from(PublicPost)).one() == 0


def test_a_post_becomes_an_incident_in_moderation(client, session, key):
    body = push(client, key, [post(place="г. Благовещенск, ул. Ленина, 5",
                                   pictures=["https://sun9-1.userapi.com/x.jpg"])]).get_json()
    assert body["created"] == 1 and body["results"][0]["status"] == "created"
    incident = session.get(Message, body["results"][0]["incident_id"])
    assert (incident.kind, incident.source, incident.stage) == ("incident", "internet", Stage.MODERATION)
    assert incident.applicant_id is None and incident.address == "г. Благовещенск, ул. Ленина, 5"
    assert incident.number == body["results"][0]["incident_number"]
    [row] = incidents.posts_of(session, incident.id)
    assert (row.author_handle, row.pictures) == ("user1", ["https://sun9-1.userapi.com/x.jpg"])
    assert row.published_at.replace(tzinfo=timezone.utc) == datetime(2026, 12, 1, 1, tzinfo=timezone.utc)


def test_a_missing_field_is_refused_in_russian_for_that_post_only(client, session, key):
    posts = [post(1), {k: v for k, v in post(2).items() if k != "text"}, post(3, published_at="вчера"),
             post(4, url="ftp://x"), "не объект"]
    response = push(client, key, posts)
    body = response.get_json()
    assert response.status_code == 200 and (body["created"], body["error"]) == (1, 4)
    errors = {r["index"]: r.get("errors", []) for r in body["results"]}
    assert errors[1] == ["Не заполнено поле «text» (текст)."]
    assert "ISO 8601" in errors[2][0] and "http://" in errors[3][0] and "объектом JSON" in errors[4][0]
    assert session.exec(select(func.count()).select_from(PublicPost)).one() == 1


@pytest.mark.parametrize("published_at", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-05:00",
                                          "1900-01-01T00:00:00", "2101-01-01T00:00:00+00:00", 1e300,
                                          99999999999, -62135596800, True, ["2026-12-01"]])
def test_a_publication_time_out_of_range_is_refused_for_that_post(client, session, key, published_at):
    """The moment is read as every other one of a request (pos.params): 2000–2100, never an overflow (a 500)."""
    response = push(client, key, [post(1, published_at=published_at), post(2)])
    body = response.get_json()
    assert response.status_code == 200 and (body["created"], body["error"]) == (1, 1)
    assert "published_at" in body["results"][0]["errors"][0] and "2000" in body["results"][0]["errors"][0]
    assert session.exec(select(func.count()).select_from(PublicPost)).one() == 1


def test_a_coordinate_too_large_for_a_float_is_refused_for_that_post(client, session, key):
    raw = json.dumps({"posts": [post(1), post(2)]}).replace('"author": "user1"', '"latitude": 1' + "0" * 400)
    response = client.post(URL, data=raw, headers={"X-Api-Key": key, "Content-Type": "application/json"})
    body = response.get_json()
    assert response.status_code == 200 and (body["created"], body["error"]) == (1, 1)
    assert "latitude" in body["results"][0]["errors"][0]


def test_a_body_that_is_no_list_of_posts_is_400(client, key):
    response = client.post(URL, data="не json", headers={"X-Api-Key": key, "Content-Type": "application/json"})
    assert response.status_code == 400 and "posts" in response.get_json()["error"]["description"]


def test_the_same_url_twice_is_one_post(client, session, key):
    first = push(client, key, [post(1)]).get_json()
    again = push(client, key, [post(1), post(1)]).get_json()
    assert again["duplicate"] == 2 and again["created"] == 0
    assert {r["incident_id"] for r in again["results"]} == {first["results"][0]["incident_id"]}
    assert session.exec(select(func.count()).select_from(PublicPost)).one() == 1


def test_a_thousand_posts_in_one_request(client, session, key):
    topics = ["яма на дороге улица {i}", "не вывозят мусор двор {i}", "нет горячей воды дом {i}"]
    posts = [post(i, text=f"Проблема номер {i}: " + topics[i % 3].format(i=i) + f" слово{i} другое{i}",
                  place=f"ул. Улица{i}") for i in range(1000)]
    response = push(client, key, posts)
    body = response.get_json()
    assert response.status_code == 200 and body["created"] == 1000
    assert session.exec(select(func.count()).select_from(PublicPost)).one() == 1000
    too_many = push(client, key, posts + [post(5000)])
    assert too_many.status_code == 400 and "1000" in too_many.get_json()["error"]["description"]


def test_a_post_about_the_same_problem_joins_the_incident_with_history(client, session, key):
    push(client, key, [post(1)])
    body = push(client, key, [post(2, text="Когда заделают яму у остановки? Вчера пробил колесо",
                                   published_at="2026-12-01T15:00:00+09:00")]).get_json()
    incident_id = body["results"][0]["incident_id"]
    assert len(incidents.posts_of(session, incident_id)) == 2
    entry = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == incident_id,
                                                    HistoryEntry.action == incidents.POST_ADDED)).one()
    assert entry.details["post_id"]


# --- the VK adapter on recorded responses ----------------------------------------------

def test_vk_post_with_photos_and_the_author_screen_name():
    [p], skipped = vk.parse_response(recorded("vk_post.json"))
    assert skipped == 0
    assert p.url == "https://vk.com/wall-172000111_4512" and p.network == "vk"
    assert p.author_handle == "gorky_resident" and "мусор" in p.text
    assert p.pictures == ("https://sun9-1.userapi.com/x.jpg",)  # the largest size, links left out
    assert p.published_at == datetime.fromtimestamp(1796104800, tz=timezone.utc)


def test_vk_repost_carries_the_original_text_and_pictures():
    [p], _ = vk.parse_response(recorded("vk_repost.json"))
    assert p.url == "https://vk.com/wall400500600_77"
    assert p.text.startswith("Поддерживаю") and "не вывозят мусор" in p.text
    assert p.pictures == ("https://sun9-1.userapi.com/orig.jpg",) and p.author_handle == "id400500600"


def test_vk_deleted_post_is_left_out():
    posts, skipped = vk.parse_response(recorded("vk_deleted.json"))
    assert [p.url for p in posts] == ["https://vk.com/wall-172000111_901"] and skipped == 1


def test_vk_post_with_a_place():
    [p], _ = vk.parse_response(recorded("vk_place.json"))
    assert p.place == "Благовещенск, ул. Ленина, 140"
    assert (p.latitude, p.longitude) == (50.2796, 127.5405)


@pytest.mark.parametrize("name, words", [("vk_malformed.json", "response.items"), ("vk_error.json", "ошибку 5")])
def test_vk_malformed_or_error_response_is_an_adapter_error(name, words):
    with pytest.raises(AdapterError, match=words):
        vk.parse_response(recorded(name))
    with pytest.raises(AdapterError, match="объект JSON"):
        vk.parse_response(["not", "a", "dict"])


def test_vk_adapter_fetches_by_keyword_and_publishes_a_comment():
    calls = []

    def transport(method, params):
        calls.append((method, params))
        return recorded("vk_post.json") if method == "newsfeed.search" else recorded("vk_create_comment.json")

    adapter = vk.VkAdapter("token", ["мусор", "свалка"], transport)
    assert [p.url for p in adapter.fetch_posts()] == ["https://vk.com/wall-172000111_4512"]  # once, not twice
    assert [c[1]["q"] for c in calls] == ["мусор", "свалка"] and calls[0][1]["access_token"] == "token"
    url = adapter.publish_reply("https://vk.com/wall-172000111_4512", "Мусор вывезен.")
    assert url == "https://vk.com/wall-172000111_4512?reply=9911"
    assert calls[-1][1]["owner_id"] == -172000111 and calls[-1][1]["post_id"] == 4512
    with pytest.raises(AdapterError, match="POS_VK_TOKEN"):
        vk.VkAdapter("", ["мусор"], transport).fetch_posts()


def test_vk_job_takes_the_fetched_posts_in(session, env, world):
    from jobs import incidents as job
    adapter = vk.VkAdapter("token", ["мусор"], lambda m, p: recorded("vk_post.json"))
    first = job.take_in(session, env, adapter, {"INCIDENT_WINDOW_HOURS": 72, "INCIDENT_SIMILARITY": 0.3})
    again = job.take_in(session, env, adapter, {"INCIDENT_WINDOW_HOURS": 72, "INCIDENT_SIMILARITY": 0.3})
    assert (first["created"], again["duplicate"]) == (1, 1)


# --- the file import --------------------------------------------------------------------

def test_import_posts_from_a_json_lines_file(fresh_database, tmp_path):
    from tests.test_seed_cli import make_app
    app = make_app(fresh_database, tmp_path)
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join([json.dumps(post(1), ensure_ascii=False), "", "{не json",
                               json.dumps(post(2, text=""), ensure_ascii=False)]), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-posts", str(path)])
    assert result.exit_code == 0, result.output
    assert "создано: 1" in result.output and "строка 3: не JSON" in result.output
    assert "строка 4: Не заполнено поле «text»" in result.output
    again = app.test_cli_runner().invoke(args=["import-posts", str(path)])
    assert "уже были: 1" in again.output
    missing = app.test_cli_runner().invoke(args=["import-posts", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0


def test_the_ticker_schedules_the_vk_intake_once_per_period_when_configured(monkeypatch):
    from jobs import ticker
    from pos import queue

    class Conn:
        def __init__(self):
            self.keys = set()

        def set(self, key, value, nx=False, px=None, ex=None):
            if nx and key in self.keys:
                return False
            self.keys.add(key)
            return True

    calls = []

    class Queue:
        def enqueue_call(self, func, **kwargs):
            calls.append(func)

    monkeypatch.setattr(queue, "queue", lambda cfg, name, conn: Queue())
    conn = Conn()
    cfg = {"QUEUE_NAMESPACE": "t", "VK_TOKEN": "", "VK_KEYWORDS": "мусор", "VK_FETCH_MINUTES": 10}
    ticker.Ticker(cfg).maybe_fetch_posts(conn)
    assert calls == []  # no token: nothing to fetch
    cfg["VK_TOKEN"] = "token"
    for _ in range(3):
        ticker.Ticker(cfg).maybe_fetch_posts(conn)
    assert calls == ["jobs.incidents.fetch_vk"]
