"""Open311 GeoReport v2: every endpoint in JSON and XML, every error in the standard's shape, nothing written
on bad input, no personal data out, and a round trip from POST to a closed request with the answer."""
from datetime import timedelta
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from sqlmodel import select

from pos import clock
from pos.models import ApiClient, Applicant, Message
from pos.services import open311
from pos.workflow import MAX_TEXT, Action, Stage
from tests.applicant_app import app, client, counts  # noqa: F401

BASE = "/open311/v2"
PERSONAL = ("Секретов", "Аркадий", "arkady@secret.example", "+79149998877", "9149998877")


@pytest.fixture
def key(session, world):
    _client, key = open311.create_client(session, "Мобильное приложение «Город»")
    return key


@pytest.fixture
def post(client, world, key):
    """`post(fmt="json", **fields)`: a POST requests call with good defaults, any field replaced or left out."""
    def _post(fmt="json", *, api_key=key, **fields):
        data = {"api_key": api_key, "service_code": str(world.sub["pothole"].id), "description": "Яма у остановки",
                "address_string": "г. Благовещенск, ул. Ленина, 1", **fields}
        return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})
    return _post


def xml(response) -> ElementTree.Element:
    assert response.headers["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.data)


def error_of(response, fmt="json") -> tuple[int, str]:
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        error = root.find("error")
        return int(error.findtext("code")), error.findtext("description")
    body = response.get_json()
    assert isinstance(body, list) and set(body[0]) == {"code", "description"}
    return body[0]["code"], body[0]["description"]


# --- discovery and services ------------------------------------------------------------------------

def test_discovery_in_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://localhost/open311/v2" and endpoint["specification"].endswith("GeoReport_v2")
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["application/json", "text/xml"]


def test_services_are_subcategories_grouped_by_category(client, world):
    services = client.get(f"{BASE}/services.json").get_json()
    pothole = next(s for s in services if s["service_code"] == str(world.sub["pothole"].id))
    assert pothole == {"service_code": str(world.sub["pothole"].id), "service_name": "Ямы и выбоины на дороге",
                       "description": "Дороги: Ямы и выбоины на дороге", "metadata": False, "type": "realtime",
                       "keywords": "", "group": "Дороги"}
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    first = root.find("service")
    assert first.findtext("metadata") == "false" and first.findtext("group")


def test_inactive_subcategories_are_not_services(client, session, world):
    sub = world.sub["snow"]
    sub.is_active = False
    session.add(sub)
    session.commit()
    codes = {s["service_code"] for s in client.get(f"{BASE}/services.json").get_json()}
    assert str(sub.id) not in codes and str(world.sub["pothole"].id) in codes
    assert client.get(f"{BASE}/services/{sub.id}.json").status_code == 404


def test_service_definition_and_unknown_service(client, world):
    code = str(world.sub["pothole"].id)
    assert client.get(f"{BASE}/services/{code}.json").get_json() == {"service_code": code, "attributes": []}
    root = xml(client.get(f"{BASE}/services/{code}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == code
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/services/999999.{fmt}")
        assert response.status_code == 404
        assert error_of(response, fmt) == (404, "Услуга с кодом «999999» не найдена.")


# --- POST requests -----------------------------------------------------------------------------------

def test_post_creates_a_message_with_a_contact_and_no_login(client, session, world, key, post):
    response = post(first_name="Аркадий", last_name="Секретов", email="arkady@secret.example",
                    phone="+7 914 999-88-77", lat="50.2906", long="127.5272",
                    media_url="https://photos.example/yama.jpg")
    assert response.status_code == 200, response.get_data(as_text=True)
    (created,) = response.get_json()
    message = session.exec(select(Message).where(Message.number == created["service_request_id"])).one()
    assert created["token"] == message.api_token and created["account_id"] is None
    assert created["service_notice"].startswith("Сообщение зарегистрировано, ответ будет дан до ")
    assert (message.source, message.stage, message.subcategory_id) == ("api", Stage.MODERATION,
                                                                       world.sub["pothole"].id)
    assert message.api_client_id == session.exec(select(ApiClient)).first().id
    assert message.text == "Яма у остановки\n\nФото или видео: https://photos.example/yama.jpg"
    assert (message.latitude, message.longitude) == (50.2906, 127.5272)
    author = session.get(Applicant, message.applicant_id)
    assert (author.user_id, author.full_name, author.email, author.phone) == (
        None, "Секретов Аркадий", "arkady@secret.example", "+79149998877")
    assert not any(word in response.get_data(as_text=True) for word in PERSONAL)


def test_post_in_xml_and_without_contact(client, session, key, post):
    response = post(fmt="xml", address_string=None, lat="50.25", long="127.53")
    root = xml(response)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert message.applicant_id is None and message.address == "" and root.findtext("request/token")


def test_client_of_an_organization_addresses_its_requests_there(client, session, world, post):
    _c, org_key = open311.create_client(session, "Сайт УГХ", world.org["C"].id)
    (created,) = post(api_key=org_key).get_json()
    message = session.exec(select(Message).where(Message.number == created["service_request_id"])).one()
    assert message.organization_id == world.org["C"].id


def test_the_key_is_kept_only_as_a_hash(session, world):
    client_row, key = open311.create_client(session, "Дашборд")
    assert key not in client_row.key_hash and len(key) >= 40
    assert open311.client_for_key(session, key, required=True).id == client_row.id


@pytest.mark.parametrize("fields, code, words", [
    ({"api_key": None}, 403, "Не передан api_key"),
    ({"api_key": "неверный-ключ"}, 403, "Неверный или отозванный api_key."),
    ({"service_code": None}, 400, "service_code: укажите код услуги"),
    ({"service_code": "999999"}, 400, "service_code: неизвестная услуга «999999»"),
    ({"service_code": "дороги"}, 400, "service_code: неизвестная услуга"),
    ({"description": None}, 400, "description: Заполните поле «Текст сообщения»."),
    ({"description": "   "}, 400, "description: Заполните поле «Текст сообщения»."),
    ({"description": "я" * (MAX_TEXT + 1)}, 400, f"description: текст длиннее {MAX_TEXT} символов"),
    ({"description": "я" * (MAX_TEXT - 10), "media_url": "https://x.example/1.jpg"}, 400, "с учётом media_url"),
    ({"address_string": None}, 400, "Укажите место: address_string или обе координаты lat и long."),
    ({"address_string": None, "lat": "50.1"}, 400, "long: Укажите обе координаты"),
    ({"lat": "120", "long": "10"}, 400, "lat: Широта должна быть от −90 до 90 градусов."),
    ({"lat": "abc", "long": "10"}, 400, "lat: Широта: введите число"),
    ({"address_string": "д" * 501}, 400, "address_string: Адрес длиннее 500 символов."),
    ({"email": "не-почта"}, 400, "email: Адрес электронной почты указан неверно"),
    ({"phone": "12"}, 400, "phone: Номер телефона указан неверно"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url: нужна ссылка http:// или https://"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_post_gets_a_standard_error_and_writes_nothing(client, session, key, fields, code, words, fmt, post):
    before = counts(session)
    response = post(fmt=fmt, **fields)
    assert response.status_code == code
    got_code, description = error_of(response, fmt)
    assert got_code == code and words in description, description
    assert counts(session) == before


def test_a_revoked_key_is_refused(client, session, world, post):
    row, key = open311.create_client(session, "Старое приложение")
    row.is_active = False
    session.add(row)
    session.commit()
    before = counts(session)
    assert error_of(post(api_key=key)) == (403, "Неверный или отозванный api_key.")
    assert counts(session) == before


def test_post_accepts_a_json_body(client, session, world, key):
    response = client.post(f"{BASE}/requests.json", json={
        "api_key": key, "service_code": world.sub["heating"].id, "description": "Холодные батареи",
        "lat": 50.26, "long": 127.54})
    assert response.status_code == 200
    number = response.get_json()[0]["service_request_id"]
    assert session.exec(select(Message).where(Message.number == number)).one().text == "Холодные батареи"


# --- reading requests ------------------------------------------------------------------------------

def _number(response) -> str:
    return response.get_json()[0]["service_request_id"]


def test_request_lifecycle_round_trip_to_closed_with_the_answer(client, session, world, key, post):
    number = _number(post(first_name="Аркадий", email="arkady@secret.example"))
    (open_,) = client.get(f"{BASE}/requests/{quote(number)}.json").get_json()
    assert open_["status"] == "open" and open_["status_notes"] == ""
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert open_["expected_datetime"] == clock.as_utc(message.answer_due_at).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Yakutsk")).isoformat(timespec="seconds")
    with clock.frozen(clock.now() + timedelta(hours=3)):
        world.act("moderator", message, Action.ACCEPT)
        world.act("a.coordinator", message, Action.ASSIGN_EXECUTOR, executor_id=world.uid("a.executor"))
        world.act("a.executor", message, Action.PREPARE_ANSWER,
                  **world.answer_params(answer_text="Яму заделали 25.11."))
        world.act("a.approver", message, Action.APPROVE)
    (closed,) = client.get(f"{BASE}/requests/{quote(number)}.json").get_json()
    assert (closed["status"], closed["status_notes"]) == ("closed", "Яму заделали 25.11.")
    assert closed["agency_responsible"] == "Министерство транспорта"
    assert closed["updated_datetime"] > closed["requested_datetime"]
    root = xml(client.get(f"{BASE}/requests/{quote(number)}.xml"))
    assert root.findtext("request/status") == "closed" and root.findtext("request/status_notes") == "Яму заделали 25.11."
    listed = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert number in {r["service_request_id"] for r in listed}


def test_content_is_public_after_moderation_and_to_its_own_client_before(client, session, world, key, post):
    number = _number(post(description="Текст до модерации", lat="50.1", long="127.1"))
    (public,) = client.get(f"{BASE}/requests/{quote(number)}.json").get_json()
    assert (public["description"], public["address"], public["lat"]) == ("", "", None)
    (own,) = client.get(f"{BASE}/requests/{quote(number)}.json?api_key={key}").get_json()
    assert own["description"] == "Текст до модерации" and own["lat"] == 50.1
    _other, other_key = open311.create_client(session, "Другой клиент")
    (other,) = client.get(f"{BASE}/requests/{quote(number)}.json?api_key={other_key}").get_json()
    assert other["description"] == ""
    message = session.exec(select(Message).where(Message.number == number)).one()
    world.act("moderator", message, Action.ACCEPT)
    (accepted,) = client.get(f"{BASE}/requests/{quote(number)}.json").get_json()
    assert accepted["description"] == "Текст до модерации" and accepted["address"] == "г. Благовещенск, ул. Ленина, 1"
    bad_key = client.get(f"{BASE}/requests/{quote(number)}.json?api_key=wrong")
    assert error_of(bad_key) == (403, "Неверный или отозванный api_key.")


def test_rejected_request_is_closed_with_the_reason_and_its_text_withheld(client, world):
    message = world.submit(text="Оскорбительный текст")
    world.act("moderator", message, Action.REJECT, reason="а")
    (row,) = client.get(f"{BASE}/requests/{quote(message.number)}.json").get_json()
    assert row["status"] == "closed" and row["status_notes"].startswith("Отклонено модератором: в сообщении содержатся")
    assert row["description"] == ""
    assert row["expected_datetime"] is None  # rejected: no deadline runs


@pytest.mark.parametrize("org, insulted", [("A", "ИОГВ и организаций"), ("city", "Администрации и учреждений"),
                                           (None, "ИОГВ и организаций")])  # unrouted: the platform's default
def test_a_rejection_reason_is_in_the_words_of_the_jurisdiction(client, world, org, insulted):
    message = world.submit(sub=None, org=org, text="Текст")
    world.act("moderator", message, Action.REJECT, reason="д")
    (row,) = client.get(f"{BASE}/requests/{quote(message.number)}.json").get_json()
    assert row["status_notes"].endswith(f"оскорбления в адрес {insulted}")


def test_expected_datetime_only_while_the_answer_deadline_runs(client, world):
    running = world.message(Stage.EXECUTION)
    postponed = world.message(Stage.POSTPONED)
    answered = world.message(Stage.ANSWERED)
    rows = {r["service_request_id"]: r for r in client.get(f"{BASE}/requests.json?status=open,closed").get_json()}
    assert rows[running.number]["expected_datetime"]
    assert rows[answered.number]["expected_datetime"] is None
    # Postponed: the control date is the postponement's, told in the notes; no stale answer deadline.
    postponed = world.reload(postponed)
    assert rows[postponed.number]["expected_datetime"] is None
    assert rows[postponed.number]["status_notes"].startswith(f"Рассмотрение отложено до {postponed.postponed_until:%d.%m.%Y}")
    root = xml(client.get(f"{BASE}/requests/{quote(answered.number)}.xml"))
    assert not root.findtext("request/expected_datetime")


def test_xml_stays_well_formed_with_control_characters_in_the_text(client, world):
    message = world.message(Stage.COORDINATION)
    message.text = "Яма\x0b у\x1f дома"  # written past every cleaning (an import, an old row)
    world.session.add(message)
    world.session.commit()
    root = xml(client.get(f"{BASE}/requests/{quote(message.number)}.xml"))
    assert root.findtext("request/description") == "Яма у дома"
    assert client.get(f"{BASE}/requests/{quote(message.number)}.json").get_json()[0]["description"] == "Яма\x0b у\x1f дома"


def test_control_characters_are_dropped_on_the_way_in(client, session, post):
    number = _number(post(description="Яма\x00 у\x07 дома", address_string="ул.\x00 Мира", first_name="Ан\x00на",
                          email="anna\x00@example.ru"))
    message = session.exec(select(Message).where(Message.number == number)).one()
    assert (message.text, message.address) == ("Яма у дома", "ул. Мира")
    author = session.get(Applicant, message.applicant_id)
    assert (author.full_name, author.email) == ("Анна", "anna@example.ru")


def test_postponed_request_is_open_with_its_date(client, world):
    message = world.message(Stage.POSTPONED)
    (row,) = client.get(f"{BASE}/requests/{quote(message.number)}.json").get_json()
    assert row["status"] == "open"
    assert row["status_notes"].startswith(f"Рассмотрение отложено до {message.postponed_until:%d.%m.%Y}.")


def test_no_personal_data_anywhere(client, session, world, key, post):
    post(first_name="Аркадий", last_name="Секретов", email="arkady@secret.example",
         phone="+79149998877")
    applicant = world.applicants["citizen"]
    world.message(Stage.ANSWERED)
    bodies = [client.get(f"{BASE}/requests.{fmt}?api_key={key}").get_data(as_text=True) for fmt in ("json", "xml")]
    for body in bodies:
        assert not any(word in body for word in PERSONAL + (applicant.full_name, applicant.email)), body
        for field in ("email", "first_name", "last_name", "phone", "account_id", "applicant"):
            assert f'"{field}"' not in body and f"<{field}>" not in body


def test_requests_filters(client, session, world, key, post):
    roads = post()
    heating = post(service_code=str(world.sub["heating"].id))
    a, b = _number(roads), _number(heating)
    listed = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").get_json()}
    assert {a, b} <= listed
    by_ids = client.get(f"{BASE}/requests.json?service_request_id={quote(a)},{quote(b)},ПОС-1999-000001").get_json()
    assert {r["service_request_id"] for r in by_ids} == {a, b}
    by_code = client.get(f"{BASE}/requests.json?service_code={world.sub['heating'].id}").get_json()
    assert {r["service_request_id"] for r in by_code} == {b}
    assert {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=open").get_json()} >= {a, b}
    assert not {a, b} & {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=closed").get_json()}
    assert {a, b} <= {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=open,closed").get_json()}
    now = clock.now()
    day = lambda d: quote((now + timedelta(days=d)).isoformat())  # noqa: E731
    assert {a, b} <= {r["service_request_id"] for r in
                      client.get(f"{BASE}/requests.json?start_date={day(-1)}&end_date={day(1)}").get_json()}
    assert client.get(f"{BASE}/requests.json?start_date={day(1)}").get_json() == []
    assert client.get(f"{BASE}/requests.json?end_date={day(-1)}").get_json() == []
    # An unescaped "+09:00" arrives as " 09:00": still read as the offset.
    local = (now - timedelta(hours=1)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Yakutsk"))
    loose = local.isoformat(timespec="seconds").replace("+", " ")
    assert {a, b} <= {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?start_date={loose}").get_json()}
    root = xml(client.get(f"{BASE}/requests.xml?service_code={world.sub['heating'].id}"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [b]


@pytest.mark.parametrize("query, words", [
    ("start_date=вчера", "start_date: неверная дата"),
    ("end_date=2026-13-01", "end_date: неверная дата"),
    ("start_date=2026-03-01&end_date=2026-01-01", "start_date позже end_date"),
    ("start_date=2026-01-01&end_date=2026-06-01", "не может быть длиннее 90 дней"),
    ("start_date=1900-01-01", "start_date: дата вне допустимого диапазона"),
    ("end_date=9999-12-31T00:00:00", "end_date: дата вне допустимого диапазона"),
    ("service_code=999999", "service_code: неизвестная услуга «999999»"),
    ("status=pending", "status: допустимые значения — open, closed"),
    ("api_key=wrong", "Неверный или отозванный api_key."),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_requests_query_gets_a_standard_error(client, query, words, fmt):
    response = client.get(f"{BASE}/requests.{fmt}?{query}")
    code = 403 if "api_key" in query else 400
    assert response.status_code == code
    got, description = error_of(response, fmt)
    assert got == code and words in description, description


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_and_token_are_not_found(client, fmt):
    for path, words in ((f"requests/{quote('ПОС-2026-999999')}", "Сообщение «ПОС-2026-999999» не найдено."),
                        ("tokens/no-such-token", "Такого токена нет.")):
        response = client.get(f"{BASE}/{path}.{fmt}")
        assert response.status_code == 404 and error_of(response, fmt) == (404, words)


def test_token_resolves_to_the_request_in_both_formats(client, key, post):
    created = post().get_json()[0]
    assert client.get(f"{BASE}/tokens/{created['token']}.json").get_json() == [
        {"service_request_id": created["service_request_id"], "token": created["token"]}]
    root = xml(client.get(f"{BASE}/tokens/{created['token']}.xml"))
    assert root.findtext("request/service_request_id") == created["service_request_id"]


@pytest.mark.parametrize("path, method, code", [
    ("/open311/v2/nothing.json", "get", 404),
    ("/open311/v2/services.csv", "get", 404),
    ("/open311/v2/services.xml", "post", 405),
    ("/open311/v2/requests.json", "put", 405),
])
def test_unrouted_calls_answer_in_the_standards_shape(client, path, method, code):
    response = getattr(client, method)(path)
    assert response.status_code == code
    fmt = "xml" if path.endswith(".xml") else "json"
    assert error_of(response, fmt)[0] == code


def test_get_responses_allow_dashboards_in_browsers(client):
    assert client.get(f"{BASE}/services.json").headers["Access-Control-Allow-Origin"] == "*"


def test_create_api_client_command_prints_the_key_once(database_url, engine, tmp_path):
    from sqlmodel import Session

    from pos import create_app
    # Its own app: the command writes through its own connection, outside any test transaction.
    app = create_app({"DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path), "TESTING": True})
    result = app.test_cli_runner().invoke(args=["create-api-client", "--name", "Тестовый клиент CLI"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    with Session(engine) as s:
        row = s.exec(select(ApiClient).where(ApiClient.name == "Тестовый клиент CLI")).one()
        try:
            assert row.key_hash == open311.key_hash(key) and key not in row.key_hash
        finally:  # the command commits outside the test's transaction
            s.delete(row)
            s.commit()
    bad = app.test_cli_runner().invoke(args=["create-api-client", "--name", "X", "--organization", "999999"])
    assert bad.exit_code != 0 and "Организация 999999 не найдена." in bad.output
