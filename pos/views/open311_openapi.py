"""The OpenAPI 3 description of the Open311 GeoReport v2 API (tests keep it in step with the routes)."""
from __future__ import annotations

from pos.services.applicants import MAX_ADDRESS
from pos.services.open311 import MAX_MEDIA_URL, MAX_RANGE, MAX_RESULTS, MAX_YEAR, MIN_YEAR
from pos.workflow import MAX_TEXT


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str, xml_root: str, xml_item: str) -> dict:
    return {"type": "array", "items": {**_ref(name), "xml": {"name": xml_item}}, "xml": {"name": xml_root, "wrapped": True}}


def _ok(description: str, schema: dict) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": schema}, "text/xml": {"schema": schema}}}


ERROR_TEXTS = {400: "Неверные параметры запроса", 403: "Не передан или неверен api_key",
               404: "Не найдено (в том числе адрес с суффиксом, отличным от .json и .xml)",
               405: "Метод не поддерживается для этого адреса", 413: "Запрос слишком большой",
               429: "Слишком много запросов с этим ключом API"}
# What an error answer carries besides its body.
ERROR_HEADERS = {
    405: {"Allow": {"description": "Методы, которые этот адрес поддерживает.", "required": True,
                    "schema": {"type": "string", "example": "GET, HEAD, OPTIONS"}}},
    429: {"Retry-After": {"description": "Через сколько секунд можно повторить запрос.", "required": False,
                          "schema": {"type": "integer", "minimum": 0}}},
}
CORS = {"Access-Control-Allow-Origin": {"description": "Открытые данные: читать может любой сайт.",
                                        "schema": {"type": "string", "enum": ["*"]}}}


def _error(code: int) -> dict:
    response = _ok(ERROR_TEXTS[code], _array("Error", "errors", "error"))
    if code in ERROR_HEADERS:
        response["headers"] = ERROR_HEADERS[code]
    return response


def _errors(*codes: int) -> dict:
    """Error answers of an operation; every address ending in {format} also answers 404 for another suffix."""
    return {str(code): _error(code) for code in sorted({404, *codes})}


def _read(description: str, schema: dict) -> dict:
    return {**_ok(description, schema), "headers": CORS}


def _query(name: str, description: str, example: str | None = None, fmt: str | None = None) -> dict:
    # An empty filter is no filter (a form that leaves a field blank still sends it).
    param = {"name": name, "in": "query", "required": False, "allowEmptyValue": True, "description": description,
             "schema": {"type": "string"}}
    if fmt:
        param["schema"]["format"] = fmt
    if example:
        param["example"] = example
    return param


FORMAT = {"name": "format", "in": "path", "required": True, "description": "Формат ответа: json или xml.",
          "schema": {"type": "string", "enum": ["json", "xml"]}}
API_KEY_READ = _query("api_key", "Необязательно. Клиенту, отправившему сообщение, его содержание видно и до "
                                 "модерации.")

SCHEMAS = {
    "Service": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type", "group"],
        "properties": {
            "service_code": {"type": "string", "description": "Код подкатегории классификатора."},
            "service_name": {"type": "string", "description": "Подкатегория."},
            "description": {"type": "string"},
            "metadata": {"type": "boolean", "description": "Всегда false: дополнительных атрибутов нет."},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string", "description": "Категория классификатора."},
        },
    },
    "ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {"service_code": {"type": "string"},
                       "attributes": {"type": "array", "items": {"type": "object"}, "maxItems": 0}},
        "xml": {"name": "service_definition"},
    },
    "ServiceRequest": {
        "type": "object",
        "description": "Сообщение. Персональных данных заявителя нет. Описание, адрес и координаты публикуются "
                       "после того, как модератор принял сообщение.",
        "required": ["service_request_id", "status", "requested_datetime", "expected_datetime"],
        "properties": {
            "service_request_id": {"type": "string", "example": "ПОС-2026-000123"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": {"type": "string", "description": "Опубликованный ответ (для закрытых сообщений), "
                                                              "причина отклонения или срок отложенного рассмотрения."},
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string"},
            "agency_responsible": {"type": "string", "description": "Организация, рассматривающая сообщение."},
            "service_notice": {"type": "string"},
            "requested_datetime": {"type": "string", "format": "date-time"},
            "updated_datetime": {"type": "string", "format": "date-time"},
            "expected_datetime": {"type": "string", "format": "date-time", "nullable": True,
                                  "description": "Срок ответа, пока он идёт; пусто, когда ответ дан, сообщение "
                                                 "отклонено или рассмотрение отложено (дата — в status_notes)."},
            "address": {"type": "string"},
            "lat": {"type": "number", "nullable": True},
            "long": {"type": "number", "nullable": True},
        },
    },
    "CreatedRequest": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"},
                       "service_notice": {"type": "string"},
                       "account_id": {"type": "string", "nullable": True}},
    },
    "Token": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
    "Error": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
    "Discovery": {
        "type": "object",
        "required": ["changeset", "endpoints"],
        "properties": {
            "changeset": {"type": "string"}, "contact": {"type": "string"}, "key_service": {"type": "string"},
            "endpoints": {"type": "array", "xml": {"wrapped": True}, "items": {
                "type": "object", "xml": {"name": "endpoint"},
                "required": ["specification", "url", "type", "formats"],
                "properties": {"specification": {"type": "string"}, "url": {"type": "string"},
                               "changeset": {"type": "string"}, "type": {"type": "string"},
                               "formats": {"type": "array", "items": {"type": "string", "xml": {"name": "format"}},
                                           "xml": {"wrapped": True}}}}},
        },
        "xml": {"name": "discovery"},
    },
}

POST_FIELDS = {
    "api_key": {"type": "string", "minLength": 1,
                "description": "Ключ клиента API (выдаёт оператор: create-api-client)."},
    "service_code": {"type": "string", "pattern": r"^\s*[0-9]+\s*$", "description": "Код услуги из services.json."},
    "description": {"type": "string", "maxLength": MAX_TEXT, "pattern": r"\S", "description": "Текст сообщения."},
    "address_string": {"type": "string", "maxLength": MAX_ADDRESS,
                       "description": "Адрес; обязателен, если не переданы lat и long (обе координаты или ни одной)."},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "long": {"type": "number", "minimum": -180, "maximum": 180},
    "email": {"type": "string", "format": "email"},
    "first_name": {"type": "string"},
    "last_name": {"type": "string"},
    "phone": {"type": "string"},
    "media_url": {"type": "string", "maxLength": MAX_MEDIA_URL,
                  "description": "Ссылка на фото или видео; сохраняется в тексте сообщения, файл не загружается."},
}


def document(server_url: str = "") -> dict:
    requests_filters = [
        _query("service_request_id", "Номера сообщений через запятую; отменяет остальные фильтры.",
               "ПОС-2026-000123,ПОС-2026-000124"),
        _query("service_code", "Код услуги (или несколько через запятую)."),
        _query("start_date", f"Начало периода (ISO 8601, {MIN_YEAR}–{MAX_YEAR} годы; без смещения — по местному "
                             f"времени). Период — не длиннее {MAX_RANGE.days} дней; без дат — последние "
                             f"{MAX_RANGE.days} дней.", "2026-11-01T00:00:00+09:00", "date-time"),
        _query("end_date", "Конец периода (ISO 8601).", "2026-11-30T23:59:59+09:00", "date-time"),
        _query("status", "open, closed или оба через запятую.", "open"),
        API_KEY_READ,
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "ПОС — Open311 GeoReport v2",
            "version": "2",
            "description": "Сообщения о проблемах платформы обратной связи по стандарту Open311 GeoReport v2. "
                           "Формат ответа задаётся суффиксом .json или .xml. Ошибки — в форме стандарта: "
                           "[{\"code\": 400, \"description\": \"…\"}]. Передавая контакты заявителя, клиент "
                           "подтверждает, что получил его согласие на обработку персональных данных. "
                           f"Список сообщений — не более {MAX_RESULTS} за запрос. Адрес с суффиксом, отличным от .json и "
                           ".xml, — ошибка 404; другой метод, чем описанный у адреса, — ошибка 405 с заголовком "
                           "Allow (components.responses.MethodNotAllowed); частые отправки с одним ключом — 429 "
                           "с заголовком Retry-After.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": {
            "/open311/v2/discovery.{format}": {"get": {
                "operationId": "discovery", "summary": "Сведения об API", "parameters": [FORMAT],
                "responses": {"200": _read("Описание точки доступа", _ref("Discovery")), **_errors()}}},
            "/open311/v2/services.{format}": {"get": {
                "operationId": "services", "summary": "Услуги: подкатегории классификатора", "parameters": [FORMAT],
                "responses": {"200": _read("Список услуг", _array("Service", "services", "service")), **_errors()}}},
            "/open311/v2/services/{service_code}.{format}": {"get": {
                "operationId": "serviceDefinition", "summary": "Описание услуги",
                "parameters": [{"name": "service_code", "in": "path", "required": True, "schema": {"type": "string"}},
                               FORMAT],
                "responses": {"200": _read("Атрибуты услуги", _ref("ServiceDefinition")), **_errors()}}},
            "/open311/v2/requests.{format}": {
                "get": {
                    "operationId": "requests", "summary": "Сообщения", "parameters": [FORMAT, *requests_filters],
                    "responses": {"200": _read("Сообщения, новые первыми",
                                               _array("ServiceRequest", "service_requests", "request")),
                                  **_errors(400, 403)}},
                "post": {
                    "operationId": "createRequest", "summary": "Подать сообщение", "parameters": [FORMAT],
                    "requestBody": {"required": True, "content": {
                        "application/x-www-form-urlencoded": {"schema": {
                            "type": "object", "required": ["api_key", "service_code", "description"],
                            "properties": POST_FIELDS}},
                        "application/json": {"schema": {
                            "type": "object", "required": ["api_key", "service_code", "description"],
                            "properties": POST_FIELDS}}}},
                    "responses": {"200": _ok("Сообщение зарегистрировано",
                                             _array("CreatedRequest", "service_requests", "request")),
                                  **_errors(400, 403, 413, 429)}},
            },
            "/open311/v2/requests/{service_request_id}.{format}": {"get": {
                "operationId": "request", "summary": "Одно сообщение",
                "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                                "schema": {"type": "string"}, "example": "ПОС-2026-000123"}, FORMAT, API_KEY_READ],
                "responses": {"200": _read("Сообщение", _array("ServiceRequest", "service_requests", "request")),
                              **_errors(403)}}},
            "/open311/v2/tokens/{token}.{format}": {"get": {
                "operationId": "token", "summary": "Номер сообщения по токену",
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                               FORMAT],
                "responses": {"200": _read("Номер сообщения", _array("Token", "service_requests", "request")),
                              **_errors()}}},
            "/open311/v2/openapi.json": {"get": {
                "operationId": "openapi", "summary": "Это описание API (OpenAPI 3)",
                "responses": {"200": {"description": "Документ OpenAPI", "headers": CORS,
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": SCHEMAS, "responses": {
            # Any other method on an address of the API: its own answer, with the methods it takes.
            "MethodNotAllowed": _error(405),
            "TooManyRequests": _error(429)}},
    }
