"""Health endpoint for load balancers and operators."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from pos.web import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    checks = {}
    ok = True
    try:
        db().exec(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash
        checks["database"] = f"error: {exc.__class__.__name__}"
        ok = False
    return jsonify(status="ok" if ok else "error", **checks), (200 if ok else 503)
