"""The OpenAPI document is valid, covers exactly the routes under /open311/, and the answers match its schemas."""
import re
from urllib.parse import quote

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from pos.services import open311
from pos.views.open311_openapi import document
from pos.workflow import Action, Stage
from tests.applicant_app import app, client  # noqa: F401

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _documented() -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document()["paths"].items() for method in item}


def _routed(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/open311/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, method) for method in rule.methods - IGNORED_METHODS}
    return routes


def test_the_document_is_valid_openapi_3():
    validate(document("http://localhost"))


def test_every_route_is_documented_and_every_documented_route_exists(app):
    routed, documented = _routed(app), _documented()
    assert routed, "no routes under /open311/"
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented paths that no route serves"


def test_the_document_is_served(client):
    response = client.get("/open311/v2/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document("http://localhost")


def _inline(schema, components):
    """The schema with its $refs replaced, for a plain JSON Schema validator."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(components[schema["$ref"].rsplit("/", 1)[1]], components)
        return {k: _inline(v, components) for k, v in schema.items() if k != "xml"}
    if isinstance(schema, list):
        return [_inline(v, components) for v in schema]
    return schema


def _check(response, path: str, method: str = "get"):
    doc = document()
    operation = doc["paths"][path][method]
    responses = operation["responses"]
    assert str(response.status_code) in responses, f"{path} {method}: {response.status_code} is not documented"
    schema = responses[str(response.status_code)]["content"]["application/json"]["schema"]
    OAS30Validator(_inline(schema, doc["components"]["schemas"])).validate(response.get_json())


@pytest.fixture
def data(session, world, client):
    _row, key = open311.create_client(session, "Проверка схем")
    created = client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": str(world.sub["pothole"].id), "description": "Яма",
        "lat": "50.1", "long": "127.1", "email": "a@example.ru"})
    answered = world.message(Stage.ANSWERED)
    rejected = world.submit()
    world.act("moderator", rejected, Action.REJECT, reason="б")
    return {"key": key, "created": created, "number": created.get_json()[0]["service_request_id"],
            "token": created.get_json()[0]["token"], "answered": answered, "code": str(world.sub["pothole"].id)}


def test_answers_match_the_documented_schemas(client, data):
    p = "/open311/v2"
    _check(data["created"], f"{p}/requests.{{format}}", "post")
    _check(client.get(f"{p}/discovery.json"), f"{p}/discovery.{{format}}")
    _check(client.get(f"{p}/services.json"), f"{p}/services.{{format}}")
    _check(client.get(f"{p}/services/{data['code']}.json"), f"{p}/services/{{service_code}}.{{format}}")
    _check(client.get(f"{p}/services/0.json"), f"{p}/services/{{service_code}}.{{format}}")
    listed = client.get(f"{p}/requests.json")
    assert len(listed.get_json()) == 3
    _check(listed, f"{p}/requests.{{format}}")
    _check(client.get(f"{p}/requests.json?status=nope"), f"{p}/requests.{{format}}")
    _check(client.get(f"{p}/requests.json?api_key=nope"), f"{p}/requests.{{format}}")
    _check(client.post(f"{p}/requests.json", data={"api_key": data["key"]}), f"{p}/requests.{{format}}", "post")
    _check(client.post(f"{p}/requests.json", data={}), f"{p}/requests.{{format}}", "post")
    for number in (data["number"], data["answered"].number, "ПОС-1999-000001"):
        _check(client.get(f"{p}/requests/{quote(number)}.json"), f"{p}/requests/{{service_request_id}}.{{format}}")
    _check(client.get(f"{p}/tokens/{data['token']}.json"), f"{p}/tokens/{{token}}.{{format}}")
    _check(client.get(f"{p}/tokens/none.json"), f"{p}/tokens/{{token}}.{{format}}")


# --- every answer the API gives is described ------------------------------------------------------------

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _concrete(path: str) -> str:
    return path.replace("{format}", "json").replace("{service_code}", "1").replace(
        "{service_request_id}", "ПОС-2026-000001").replace("{token}", "t")


def test_another_method_is_a_405_with_allow_as_documented(client, world):
    doc = document()
    documented = doc["components"]["responses"]["MethodNotAllowed"]
    assert "Allow" in documented["headers"]
    schema = _inline(documented["content"]["application/json"]["schema"], doc["components"]["schemas"])
    for path, item in doc["paths"].items():
        allowed = {m.upper() for m in item}
        for method in sorted(METHODS - allowed):
            response = client.open(quote(_concrete(path)), method=method)
            assert response.status_code == 405, (path, method)
            assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed | {"HEAD", "OPTIONS"}
            OAS30Validator(schema).validate(response.get_json())


def test_another_suffix_is_a_documented_404(client, world):
    doc = document()
    for path, item in doc["paths"].items():
        if "{format}" not in path:
            continue
        for method in item:
            assert "404" in item[method]["responses"], (path, method)
            response = client.open(quote(_concrete(path).replace(".json", ".yaml")), method=method.upper())
            _check(response, path, method)


def test_dates_are_date_time_and_the_rate_limit_is_described():
    doc = document()
    params = {p["name"]: p for p in doc["paths"]["/open311/v2/requests.{format}"]["get"]["parameters"]}
    assert params["start_date"]["schema"]["format"] == params["end_date"]["schema"]["format"] == "date-time"
    created = doc["paths"]["/open311/v2/requests.{format}"]["post"]["responses"]
    assert "Retry-After" in created["429"]["headers"]
