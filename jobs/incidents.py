"""The periodic intake of public posts from VK (the ticker runs it every POS_VK_FETCH_MINUTES when
POS_VK_TOKEN and POS_VK_KEYWORDS are set); a run that finds known posts writes nothing (idempotent by URL)."""
from __future__ import annotations

import logging

from sqlmodel import Session

from jobs import runtime
from pos.adapters import Adapter, AdapterError
from pos.services import incidents
from pos.services.messages import Env

log = logging.getLogger(__name__)


def take_in(session: Session, env: Env, adapter: Adapter, cfg) -> dict[str, int]:
    posts = [p.as_dict() for p in adapter.fetch_posts()]
    results = incidents.intake(session, env, posts, window_hours=float(cfg["INCIDENT_WINDOW_HOURS"]),
                               threshold=float(cfg["INCIDENT_SIMILARITY"]))
    return {status: sum(r.status == status for r in results) for status in ("created", "duplicate", "error")}


def enabled(cfg) -> bool:
    return bool(cfg.get("VK_TOKEN") and cfg.get("VK_KEYWORDS"))


def fetch_vk() -> dict[str, int]:
    """RQ job: one search per keyword in VK, the new posts taken in."""
    from pos.adapters.vk import VkAdapter
    cfg = runtime.config()
    try:
        with runtime.session() as session:
            counts = take_in(session, runtime.env(), VkAdapter.from_config(cfg), cfg)
    except AdapterError as exc:
        log.warning("VK intake failed: %s", exc)
        raise
    log.info("VK intake: %s", counts)
    return counts
