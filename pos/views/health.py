"""Health endpoint for load balancers and operators: the database, Redis, the outbox backlog."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from pos import clock, queue
from pos.services import outbox
from pos.web import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 while the database answers (Redis down or a backlog only degrade: actions still succeed
    and their notifications wait in the outbox); 503 when the database is down."""
    config = current_app.config
    checks: dict = {}
    status = "ok"
    try:
        db().exec(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash
        checks["database"] = f"error: {exc.__class__.__name__}"
        status = "error"
    url = queue.redis_url(config)
    if url is None:
        checks["redis"] = "error: the embedded Redis is not running (start the worker)"
        status = "degraded" if status == "ok" else status
    else:
        try:
            queue.connect(url).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
            status = "degraded" if status == "ok" else status
    if checks["database"] == "ok":
        try:
            age = outbox.oldest_unsent_age(db(), clock.now())
            counts = outbox.status_counts(db())
            db().rollback()
            checks["outbox_oldest_unsent_seconds"] = None if age is None else round(age, 1)
            checks["outbox_failed"] = counts.get("failed", 0)
            if age is not None and age > float(config["OUTBOX_MAX_AGE"]):
                status = "degraded" if status == "ok" else status
        except Exception as exc:
            checks["outbox"] = f"error: {exc.__class__.__name__}"
    return jsonify(status=status, **checks), (503 if status == "error" else 200)
