"""The clock of background work: the outbox relay every few seconds, the deadline sweep and the
postponement check and the opening of votes every few minutes, the digest once a day, the monthly rating's draft and publication.

Several tickers (one per worker) may run: each periodic task takes a Redis lock
for its period, so the cluster runs it once. Run alone with `python -m jobs.ticker`
next to plain `rq worker` processes.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from zoneinfo import ZoneInfo

from pos import clock, queue

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.ns = cfg["QUEUE_NAMESPACE"]

    def _lock(self, conn, name: str, seconds: float) -> bool:
        return bool(conn.set(f"{self.ns}:lock:{name}", "1", nx=True, px=max(int(seconds * 1000), 100)))

    def tick(self) -> None:
        """One beat; a failure (Redis or the database away) is logged and the next beat tries again."""
        from jobs import relay, runtime

        try:
            conn = runtime.redis()
            if conn is None:
                return
            if self._lock(conn, "relay", float(self.cfg["TICK_SECONDS"]) * 0.8):
                relay.run()
            if self._lock(conn, "sweep", float(self.cfg["SWEEP_SECONDS"])):
                self.enqueue_periodic(conn)
            self.maybe_digest(conn)
            self.maybe_rating(conn)
            self.maybe_fetch_posts(conn)
        except Exception as exc:  # keep ticking: the outbox keeps the work
            log.warning("tick failed: %s: %s", exc.__class__.__name__, exc)

    def enqueue_periodic(self, conn) -> None:
        q = queue.queue(self.cfg, queue.DEFAULT, conn)
        beat = int(time.time())
        q.enqueue_call("jobs.sweep.run", timeout=3600, result_ttl=3600, description="deadline sweep",
                       job_id=f"{self.ns}-sweep-{beat}")
        q.enqueue_call("jobs.postponed.run", timeout=3600, result_ttl=3600, description="postponed messages back",
                       job_id=f"{self.ns}-postponed-{beat}")
        q.enqueue_call("jobs.votes.run", timeout=600, result_ttl=3600, description="votes and polls opened",
                       job_id=f"{self.ns}-votes-{beat}")

    def maybe_digest(self, conn) -> None:
        now = clock.now()
        local = now.astimezone(ZoneInfo(self.cfg["TIMEZONE"]))
        if local.hour < int(self.cfg["DIGEST_HOUR"]):
            return
        day = local.strftime("%d.%m.%Y")
        if conn.set(f"{self.ns}:digest:{local.date().isoformat()}", "1", nx=True, ex=3 * 24 * 3600):
            queue.queue(self.cfg, queue.DEFAULT, conn).enqueue_call(
                "jobs.digest.run", args=(now.isoformat(), day), timeout=3600, description=f"digest {day}",
                job_id=f"{self.ns}-digest-{local.date().isoformat()}")

    def maybe_rating(self, conn) -> None:
        """The rating's draft (from the 1st) and its automatic publication (the 15th): each step once per month
        in the cluster; the key lapses after an hour, so a step that failed is tried again."""
        from jobs import rating

        local = clock.now().astimezone(ZoneInfo(self.cfg["TIMEZONE"]))
        month, publish = rating.due(local, int(self.cfg.get("RATING_PUBLISH_HOUR", 9)))
        name = f"{month:%Y-%m}-{'publish' if publish else 'draft'}"
        if conn.set(f"{self.ns}:rating:{name}", "1", nx=True, ex=3600):
            queue.queue(self.cfg, queue.DEFAULT, conn).enqueue_call(
                "jobs.rating.run", timeout=3600, result_ttl=3600, description=f"rating {name}",
                job_id=f"{self.ns}-rating-{name}-{int(time.time())}")

    def maybe_fetch_posts(self, conn) -> None:
        """Public posts from VK every POS_VK_FETCH_MINUTES, once in the cluster, when a token and keywords are set."""
        from jobs import incidents

        if not incidents.enabled(self.cfg):
            return
        period = float(self.cfg.get("VK_FETCH_MINUTES", 10)) * 60
        if self._lock(conn, "vk-fetch", period):
            queue.queue(self.cfg, queue.DEFAULT, conn).enqueue_call(
                "jobs.incidents.fetch_vk", timeout=600, result_ttl=3600, description="VK posts",
                job_id=f"{self.ns}-vk-fetch-{int(time.time())}")

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.tick()
            stop.wait(max(0.0, float(self.cfg["TICK_SECONDS"]) - (time.monotonic() - started)))


def main() -> None:
    from jobs import runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Ticker(runtime.config()).run(stop)


if __name__ == "__main__":
    main()
