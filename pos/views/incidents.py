"""The push endpoint of public posts (a monitoring system sends them) under /api/incidents/v1/."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request

from pos.services import incidents, open311
from pos.web import csrf, db, env

bp = Blueprint("incidents_api", __name__, url_prefix="/api/incidents/v1", cli_group=None)
csrf.exempt(bp)  # the client authenticates with its API key, not with a browser session


def _json(payload, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def error(status: int, description: str) -> Response:
    return _json({"error": {"code": status, "description": description}}, status)


@bp.post("/posts")
def push_posts():
    """Body: {"posts": [{network, url, author, text, published_at, place, latitude, longitude, pictures}, …]}
    (up to 1000); the key in `X-Api-Key` (or `api_key`). 200 with a result per post: created (with its
    incident), duplicate (the URL is known: nothing written) or error (the reasons in Russian)."""
    key = request.headers.get("X-Api-Key") or request.args.get("api_key")
    if not key:
        return error(401, "Не передан ключ API (заголовок X-Api-Key).")
    try:
        open311.client_for_key(db(), key, required=True)
    except open311.ApiError:
        return error(403, "Неверный или отозванный ключ API.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("posts"), list):
        return error(400, "Ожидается JSON вида {\"posts\": [ … ]}.")
    cfg = current_app.config
    try:
        results = incidents.intake(db(), env(), body["posts"], window_hours=float(cfg["INCIDENT_WINDOW_HOURS"]),
                                   threshold=float(cfg["INCIDENT_SIMILARITY"]))
    except ValueError as exc:
        return error(400, str(exc))
    counts = {status: sum(r.status == status for r in results) for status in ("created", "duplicate", "error")}
    return _json({**counts, "results": [r.as_dict() for r in results]})
