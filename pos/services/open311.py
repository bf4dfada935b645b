"""Open311 GeoReport v2: services are the classifier's subcategories, service requests are messages.

What the API returns never holds the applicant's personal data (no name,
e-mail, phone or account). A message's content (description, address,
coordinates) is public once the moderator has accepted it; before that, and
when the moderator rejected it, only its status is public, except to the API
client that sent it.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Mapping, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from pos import clock, params
from pos.models import ApiClient, Category, HistoryEntry, Message, Organization, Subcategory
from pos.services import applicants
from pos.services.messages import Env
from pos.services import endings
from pos.workflow import DEFAULT_REGULATION, MAX_TEXT, Refused, Stage, rejection_reasons

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-24 00:00"
MAX_RANGE = timedelta(days=90)
MAX_RESULTS = 1000
MAX_MEDIA_URL = 1000
MIN_YEAR, MAX_YEAR = params.MIN_YEAR, params.MAX_YEAR
CLOSED = (Stage.ANSWERED, Stage.REJECTED, Stage.CLOSED)
UNPUBLISHED = (Stage.MODERATION, Stage.REJECTED)  # the moderator has not let the content through
MEDIA_PREFIX = "Фото или видео: "

# The services' field names → the API's parameter names, for errors.
PARAMETERS = {"text": "description", "address": "address_string", "latitude": "lat", "longitude": "long",
              "category_id": "service_code", "subcategory_id": "service_code", "full_name": "last_name",
              "files": "media_url", "organization_id": "api_key"}


class ApiError(Exception):
    """An error in the standard's shape: HTTP status and a description."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


# --- API clients ------------------------------------------------------------------------

def key_hash(key: str) -> str:
    # Keys are long random strings: a plain digest is enough, and it can be looked up by index.
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, name: str, organization_id: int | None = None) -> tuple[ApiClient, str]:
    """A new client and its key; only the key's hash is kept, so the key is shown this once."""
    client, key = new_client(session, name, organization_id)
    session.commit()
    return client, key


def new_client(session: Session, name: str, organization_id: int | None = None) -> tuple[ApiClient, str]:
    """`create_client` without the commit (the administrator's page records the change in the same one)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValueError("Укажите название клиента API.")
    if organization_id is not None and session.get(Organization, organization_id) is None:
        raise ValueError(f"Организация {organization_id} не найдена.")
    key = secrets.token_urlsafe(32)
    client = ApiClient(name=name[:200], key_hash=key_hash(key), organization_id=organization_id,
                       created_at=clock.now())
    session.add(client)
    session.flush()
    return client, key


_CLIENT_BY_KEY = select(ApiClient).where(ApiClient.key_hash == bindparam("key_hash"))  # built once


def client_for_key(session: Session, key: str | None, *, required: bool) -> ApiClient | None:
    if not key:
        if required:
            raise ApiError(403, "Не передан api_key: ключ API обязателен для этого запроса.")
        return None
    return _active(session.exec(_CLIENT_BY_KEY, params={"key_hash": key_hash(key)}).first())


def _active(client):
    """An ApiClient or a PostingClient of an active key; else refused."""
    if client is None or not client.is_active:
        raise ApiError(403, "Неверный или отозванный api_key.")
    return client


class PostingClient(NamedTuple):
    """What a POST needs of its API client."""
    id: int
    organization_id: int | None
    is_active: bool


class Service(NamedTuple):
    """A service (a subcategory) a POST names, with its category."""
    subcategory_id: int
    category_id: int


# A POST's key and the service it names, in one statement (every POST needs both); no row: no such key. The
# tables' own columns, not the models: no ORM objects to build (they cost more than the statement), no ORM execution.
_client, _sub, _category = ApiClient.__table__.c, Subcategory.__table__.c, Category.__table__.c
_CLIENT_AND_SERVICE = (select(_client.id, _client.organization_id, _client.is_active, _sub.id, _sub.is_active,
                              _category.id, _category.is_active).select_from(ApiClient.__table__)
                       .outerjoin(Subcategory.__table__, _sub.id == bindparam("sub_id"))
                       .outerjoin(Category.__table__, _category.id == _sub.category_id)
                       .where(_client.key_hash == bindparam("key_hash")))


def _client_and_service(session: Session, key: str | None, code: str) -> tuple[PostingClient, Service | None]:
    """The client of the key (refused as `client_for_key` refuses it) and the service of the code (None: no
    such active service), asked together when the code can name one."""
    sub_id = params.id_or_none(code)
    if not key or sub_id is None:
        client = client_for_key(session, key, required=True)
        return PostingClient(client.id, client.organization_id, client.is_active), None
    row = session.execute(_CLIENT_AND_SERVICE, {"key_hash": key_hash(key), "sub_id": sub_id}).first()
    if row is None:
        _active(None)
    client_id, org_id, client_active, found_sub, sub_active, category_id, category_active = row
    client = _active(PostingClient(client_id, org_id, client_active))
    if found_sub is None or category_id is None or not sub_active or not category_active:
        return client, None
    return client, Service(found_sub, category_id)


# --- services ----------------------------------------------------------------------------

def _service(sub: Subcategory, category: Category) -> dict:
    return {"service_code": str(sub.id), "service_name": sub.name, "description": f"{category.name}: {sub.name}",
            "metadata": False, "type": "realtime", "keywords": "", "group": category.name}


def services(session: Session) -> list[dict]:
    rows = session.exec(select(Subcategory, Category).join(Category, Category.id == Subcategory.category_id)
                        .where(Subcategory.is_active, Category.is_active)
                        .order_by(Category.name, Subcategory.name)).all()
    return [_service(sub, cat) for sub, cat in rows]


_SERVICE = (select(Subcategory, Category).join(Category, Category.id == Subcategory.category_id)
            .where(Subcategory.id == bindparam("sub_id")))


def _subcategory(session: Session, code: str | None) -> tuple[Subcategory, Category] | None:
    sub_id = params.id_or_none(code)
    if sub_id is None:
        return None
    # One statement for both (the session keeps them: the workflow's checks of the classification read them
    # again without asking the database).
    found = session.exec(_SERVICE, params={"sub_id": sub_id}).first()
    if found is None or not found[0].is_active or not found[1].is_active:
        return None
    return found[0], found[1]


def service_definition(session: Session, code: str) -> dict:
    if _subcategory(session, code) is None:
        raise ApiError(404, f"Услуга с кодом «{code}» не найдена.")
    # No service has extra attributes (metadata is false for all): the definition is empty.
    return {"service_code": code, "attributes": []}


# --- reading requests ---------------------------------------------------------------------

def _regulation(names: "_Names", org_id: int | None) -> str:
    org = names.get(Organization, org_id)
    root = names.get(Organization, org.root_id or org.id) if org is not None else None
    return root.regulation if root is not None and root.regulation else DEFAULT_REGULATION


def _status_notes(message: Message, names: "_Names") -> str:
    if message.stage == Stage.ANSWERED:
        return message.answer_text
    if message.stage == Stage.REJECTED:
        # In the words of the message's jurisdiction's regulation (clause 3.3, 1).
        reason = rejection_reasons(_regulation(names, message.organization_id)).get(message.rejection_reason or "", "")
        return f"Отклонено модератором: {reason}" if reason else "Отклонено модератором"
    if message.stage == Stage.POSTPONED and message.postponed_until:
        return f"Рассмотрение отложено до {message.postponed_until:%d.%m.%Y}. {message.answer_text}".strip()
    return ""


def _iso(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return clock.as_utc(moment).astimezone(tz).isoformat(timespec="seconds") if moment else None


class _Names:
    """Subcategory, category and organization names, loaded once per response."""

    def __init__(self, session: Session):
        self.session = session
        self._cache: dict[tuple[type, int], object] = {}

    def get(self, model, pk):
        if pk is None:
            return None
        key = (model, pk)
        if key not in self._cache:
            self._cache[key] = self.session.get(model, pk)
        return self._cache[key]


def _request(message: Message, updated: datetime | None, names: _Names, tz: ZoneInfo,
             client: ApiClient | None) -> dict:
    public = message.stage not in UNPUBLISHED or (client is not None and message.api_client_id == client.id)
    sub = names.get(Subcategory, message.subcategory_id)
    org = names.get(Organization, message.organization_id)
    return {
        "service_request_id": message.number,
        "status": "closed" if message.stage in CLOSED else "open",
        "status_notes": _status_notes(message, names),
        "service_name": sub.name if sub else "",
        "service_code": str(sub.id) if sub else "",
        "description": message.text if public else "",
        "agency_responsible": org.name if org else "",
        "service_notice": "",
        "requested_datetime": _iso(message.received_at, tz),
        "updated_datetime": _iso(updated or message.received_at, tz),
        # The answer deadline only while it runs: none once answered, rejected or postponed (status_notes says).
        "expected_datetime": _iso(message.answer_due_at, tz) if endings.is_running(message) else None,
        "address": message.address if public else "",
        "lat": message.latitude if public else None,
        "long": message.longitude if public else None,
    }


def _serialize(session: Session, rows: list[Message], env: Env, client: ApiClient | None) -> list[dict]:
    updated = {}
    if rows:
        updated = dict(session.exec(select(HistoryEntry.message_id, func.max(HistoryEntry.at))
                                    .where(HistoryEntry.message_id.in_([m.id for m in rows]))
                                    .group_by(HistoryEntry.message_id)).all())
    names, tz = _Names(session), ZoneInfo(env.timezone)
    return [_request(m, updated.get(m.id), names, tz, client) for m in rows]


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _when(value: str | None, name: str, tz: ZoneInfo) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    if "T" in value and " " in value:
        value = value.replace(" ", "+", 1)  # an unescaped "+09:00" arrives as " 09:00"
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name}: неверная дата; нужен формат ISO 8601, например 2026-11-01T00:00:00+09:00.") \
            from None
    try:
        return params.parse_moment(value, default_tz=tz)  # without an offset: the installation's time
    except params.BadValue:
        raise ApiError(400, f"{name}: дата вне допустимого диапазона ({MIN_YEAR}–{MAX_YEAR} годы).") from None


FILTERS = ("service_request_id", "service_code", "start_date", "end_date", "status", "api_key")


def find_requests(session: Session, env: Env, args: Mapping, client: ApiClient | None) -> list[dict]:
    """GET requests: by ids (which overrides every other filter), or by service, dates and status.

    Every filter given is checked, the overridden ones too: a wrong one is the client's mistake either way."""
    for name in FILTERS:
        if len(getattr(args, "getlist", lambda _n: [])(name)) > 1:
            raise ApiError(400, f"{name}: параметр указан несколько раз; укажите его один раз "
                                f"(несколько значений — через запятую).")
    ids = _split(args.get("service_request_id"))
    if len(ids) > MAX_RESULTS:
        raise ApiError(400, f"service_request_id: не более {MAX_RESULTS} номеров за один запрос.")
    tz = ZoneInfo(env.timezone)
    start, end = _when(args.get("start_date"), "start_date", tz), _when(args.get("end_date"), "end_date", tz)
    if start and end and start > end:
        raise ApiError(400, "start_date позже end_date: укажите начало периода раньше его конца.")
    if start and end and end - start > MAX_RANGE:
        raise ApiError(400, f"Период от start_date до end_date не может быть длиннее {MAX_RANGE.days} дней.")
    codes = _split(args.get("service_code"))
    for code in codes:
        if _subcategory(session, code) is None:
            raise ApiError(400, f"service_code: неизвестная услуга «{code}». Список услуг: services.json.")
    statuses = {s.lower() for s in _split(args.get("status"))}
    if statuses - {"open", "closed"}:
        raise ApiError(400, "status: допустимые значения — open, closed (можно через запятую).")
    # Incidents (public internet posts) are not service requests: they stay out of the API, their posts'
    # authors above all (pos.services.incidents).
    query = select(Message).where(Message.number.is_not(None), Message.kind == "message")
    if ids:
        query = query.where(Message.number.in_(ids))
    else:
        if start is None:
            start = (end or clock.now()) - MAX_RANGE
        if end is None and args.get("start_date"):
            end = start + MAX_RANGE
        query = query.where(Message.received_at >= start)
        if end is not None:
            query = query.where(Message.received_at <= end)
        if codes:
            query = query.where(Message.subcategory_id.in_([params.parse_id(c) for c in codes]))
        if statuses == {"open"}:
            query = query.where(Message.stage.not_in(list(CLOSED)))
        elif statuses == {"closed"}:
            query = query.where(Message.stage.in_(list(CLOSED)))
    rows = session.exec(query.order_by(Message.received_at.desc(), Message.id.desc()).limit(MAX_RESULTS)).all()
    return _serialize(session, list(rows), env, client)


def get_request(session: Session, env: Env, request_id: str, client: ApiClient | None) -> list[dict]:
    message = session.exec(select(Message).where(Message.number == request_id, Message.kind == "message")).first()
    if message is None:
        raise ApiError(404, f"Сообщение «{request_id}» не найдено.")
    return _serialize(session, [message], env, client)


def by_token(session: Session, token: str) -> list[dict]:
    message = session.exec(select(Message).where(Message.api_token == token)).first() if token else None
    if message is None:
        raise ApiError(404, "Такого токена нет.")
    return [{"service_request_id": message.number, "token": token}]


# --- creating a request ------------------------------------------------------------------------

def _media_line(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > MAX_MEDIA_URL or not re.fullmatch(r"https?://[^\s<>\"]+", url):
        raise ApiError(400, f"media_url: нужна ссылка http:// или https:// не длиннее {MAX_MEDIA_URL} символов.")
    return f"\n\n{MEDIA_PREFIX}{url}"


def create_request(session: Session, env: Env, form: Mapping) -> list[dict]:
    """POST requests: check everything, then write the author's contact row and the message at once."""
    code = (form.get("service_code") or "").strip()
    client, found = _client_and_service(session, form.get("api_key"), code)
    if not code:
        raise ApiError(400, "service_code: укажите код услуги (список: services.json).")
    if found is None:
        raise ApiError(400, f"service_code: неизвестная услуга «{code}». Список услуг: services.json.")
    has_point = bool(form.get("lat") or form.get("long"))
    if not (form.get("address_string") or "").strip() and not has_point:
        raise ApiError(400, "Укажите место: address_string или обе координаты lat и long.")
    media = _media_line(form.get("media_url"))
    description = applicants.plain(form.get("description")).strip()
    if len(description) + len(media) > MAX_TEXT:
        raise ApiError(400, f"description: текст длиннее {MAX_TEXT - len(media)} символов"
                            f"{' (с учётом media_url)' if media else ''}.")
    token = secrets.token_urlsafe(12)
    try:
        fields = applicants.message_fields({"text": description + media if description else "",
                                            "address": form.get("address_string"), "latitude": form.get("lat"),
                                            "longitude": form.get("long")})
        fields.update(category_id=found.category_id, subcategory_id=found.subcategory_id)
        if client.organization_id is not None:
            fields["organization_id"] = client.organization_id
        contact = applicants.contact_applicant(form, consent_version=applicants.API_CONSENT_VERSION,
                                               require_email=False)
        message = applicants.send(session, env, fields, source="api", contact=contact, api_client_id=client.id,
                                  api_token=token, classified=found)
    except Refused as exc:
        raise ApiError(400, f"{PARAMETERS.get(exc.field, exc.field or 'запрос')}: {exc}") from None
    due = clock.as_utc(message.answer_due_at).astimezone(ZoneInfo(env.timezone))
    return [{"service_request_id": message.number, "token": token,
             "service_notice": f"Сообщение зарегистрировано, ответ будет дан до {due:%d.%m.%Y}.",
             "account_id": None}]


def discovery(endpoint_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": "Оператор платформы обратной связи (ПОС)",
        "key_service": "Ключ API выдаёт оператор платформы по заявке организации или разработчика.",
        "endpoints": [{"specification": SPECIFICATION, "url": endpoint_url, "changeset": CHANGESET,
                       "type": "production", "formats": ["application/json", "text/xml"]}],
    }
