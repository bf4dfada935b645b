"""Open311 GeoReport v2 under /open311/v2/: JSON or XML by the suffix, errors in the standard's shape."""
from __future__ import annotations

import json
import re
from functools import wraps
from xml.etree.ElementTree import Element, SubElement, tostring

import click
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlmodel import Session

from pos.services import admin_audit, open311
from pos.views.open311_openapi import document
from pos.web import csrf, db, env

bp = Blueprint("open311", __name__, url_prefix="/open311/v2", cli_group=None)
csrf.exempt(bp)  # API clients authenticate with api_key, not with a browser session

FORMAT = "<any(json, xml):format>"
# XML element names for the items of a list.
ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
         "services": "service", "service_requests": "request", "errors": "error"}
# Characters XML 1.0 cannot carry (a pasted text may hold them): left out of the XML answers.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
HTTP_ERRORS = {
    400: "Неверный запрос: тело или параметры не разобраны.",
    404: "Нет такого ресурса. Адреса API оканчиваются на .json или .xml; описание — /open311/v2/openapi.json.",
    405: "Этот метод для этого ресурса не поддерживается.",
    413: "Запрос слишком большой.",
    429: "Слишком много запросов с этим ключом API. Повторите позже (см. заголовок Retry-After).",
    500: "Внутренняя ошибка сервера. Повторите запрос позже.",
}


# --- rendering -------------------------------------------------------------------------------

def _xml_into(parent: Element, tag: str, value) -> None:
    element = SubElement(parent, tag)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_into(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml_into(element, ITEMS.get(tag, "item"), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))


def to_xml(root: str, payload) -> bytes:
    element = Element(root)
    if isinstance(payload, list):
        for item in payload:
            _xml_into(element, ITEMS[root], item)
    else:
        for key, item in payload.items():
            _xml_into(element, key, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="unicode").encode()


def render(payload, fmt: str, root: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, payload), status, content_type="text/xml; charset=utf-8")
    return Response(json.dumps(payload, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def error_response(code: int, description: str, fmt: str | None = None) -> Response:
    fmt = fmt or ("xml" if request.path.endswith(".xml") else "json")
    return render([{"code": code, "description": description}], fmt, "errors", code)


def http_error(code: int, title: str) -> Response:
    """Errors raised outside the views (no such route, wrong method, too large): the standard's shape too."""
    return error_response(code, HTTP_ERRORS.get(code, title))


def endpoint(root: str):
    """A view returns its payload; this renders it in the asked format and turns `ApiError` into an error."""
    def decorate(view):
        @wraps(view)
        def wrapped(format: str, **kwargs):
            try:
                payload = view(**kwargs)
            except open311.ApiError as exc:
                return error_response(exc.code, exc.description, format)
            response = render(payload, format, root)
            if request.method == "GET":
                response.headers["Access-Control-Allow-Origin"] = "*"  # public data, for dashboards
            return response
        return wrapped
    return decorate


def _reader():
    return open311.client_for_key(db(), request.args.get("api_key"), required=False)


def _posted() -> dict:
    data = request.form.to_dict()
    if not data and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            data = {k: "" if v is None else str(v) for k, v in body.items()}
    return data


# --- routes -------------------------------------------------------------------------------------

@bp.get(f"/discovery.{FORMAT}")
@endpoint("discovery")
def discovery():
    return open311.discovery(url_for("open311.discovery", format="json", _external=True).rsplit("/", 1)[0])


@bp.get(f"/services.{FORMAT}")
@endpoint("services")
def services():
    return open311.services(db())


@bp.get(f"/services/<service_code>.{FORMAT}")
@endpoint("service_definition")
def service_definition(service_code: str):
    return open311.service_definition(db(), service_code)


@bp.get(f"/requests.{FORMAT}")
@endpoint("service_requests")
def requests_list():
    return open311.find_requests(db(), env(), request.args, _reader())


@bp.post(f"/requests.{FORMAT}")
@endpoint("service_requests")
def requests_create():
    return open311.create_request(db(), env(), _posted())


@bp.get(f"/requests/<service_request_id>.{FORMAT}")
@endpoint("service_requests")
def request_one(service_request_id: str):
    return open311.get_request(db(), env(), service_request_id, _reader())


@bp.get(f"/tokens/<token>.{FORMAT}")
@endpoint("service_requests")
def token(token: str):
    return open311.by_token(db(), token)


@bp.get("/openapi.json")
def openapi():
    response = jsonify(document(request.url_root.rstrip("/")))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- issuing keys ----------------------------------------------------------------------------------

@bp.cli.command("create-api-client")
@click.option("--name", required=True, help="Who uses the key (an app, a website, a dashboard).")
@click.option("--organization", "organization_id", type=int,
              help="Address every request of this client to this organization (its website, say).")
def create_api_client(name: str, organization_id: int | None):
    """Issue an Open311 API key; prints it once (only its hash is stored)."""
    with Session(current_app.extensions["pos.engine"], expire_on_commit=False) as session:
        try:
            client, key = open311.new_client(session, name, organization_id)
            admin_audit.record(session, None, "api_client", client.id, "create",
                               f"Выдан ключ клиенту API «{client.name}»",
                               new={"name": client.name, "organization_id": organization_id})
            session.commit()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Клиент API {client.id} «{client.name}» создан. Ключ (показывается один раз):")
    click.echo(key)
