"""What a job needs, set up once per process: the configuration, the database, the clock, Redis."""
from __future__ import annotations

import os
from datetime import datetime, timezone

from sqlmodel import Session

from pos import clock, queue
from pos.db import make_engine
from pos.deadlines import MAX_POSTPONE_DAYS
from pos.services import outbox
from pos.services.messages import Env

_config: dict | None = None


def config() -> dict:
    """The configuration from the environment (the worker's processes share it)."""
    global _config
    if _config is None:
        _config = queue.config_dict()
        # The worker may have started the embedded Redis and published its address.
        _config["REDIS_URL"] = os.environ.get("REDIS_URL", _config["REDIS_URL"])
        setup(_config)
    return _config


def setup(cfg: dict) -> None:
    """The clock file, and the dispatcher: what a job's own actions write goes to RQ right away."""
    clock.configure(cfg.get("CLOCK_FILE", ""))

    def dispatch(ids: list[int]) -> None:
        url = queue.redis_url(cfg)
        if url:
            queue.enqueue_outbox(cfg, queue.connect(url), [(i, "notify") for i in ids])

    outbox.set_dispatcher(dispatch)


def use(cfg: dict) -> None:
    """Run jobs in this process with this configuration (tests, the bench)."""
    global _config
    _config = cfg
    setup(_config)


def session() -> Session:
    return Session(make_engine(config()["DATABASE_URL"]), expire_on_commit=False)


def env() -> Env:
    cfg = config()
    return Env(timezone=cfg["TIMEZONE"], upload_dir=cfg["UPLOAD_DIR"], 
               max_postpone_days=int(cfg.get("MAX_POSTPONE_DAYS") or MAX_POSTPONE_DAYS))


def redis(*, worker: bool = False):
    """The Redis client, or None when there is no Redis to talk to (embedded server not started)."""
    url = queue.redis_url(config())
    return queue.connect(url, worker=worker) if url else None


def wall_now() -> datetime:
    """Real time, for leases and hand-offs: the platform's clock may be moved by tests, these may not."""
    return datetime.now(timezone.utc)
