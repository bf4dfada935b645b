"""The demo network: replies are recorded as JSON lines in a directory instead of being published.

`make run` and the tests use it: the seed's posts are of the network «demo», their replies land in
`POS_DEMO_PUBLISH_DIR/replies.jsonl` (default `instance/demo-network`). When the directory does not exist
the network counts as unreachable, and the publication fails with that reason (and is retried).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pos.adapters import AdapterError, Post


class DemoAdapter:
    network = "demo"

    def __init__(self, directory: str):
        self.directory = Path(directory)

    @classmethod
    def from_config(cls, cfg) -> "DemoAdapter":
        return cls(cfg.get("DEMO_PUBLISH_DIR") or "instance/demo-network")

    def fetch_posts(self) -> list[Post]:
        return []  # the demo posts come through the push endpoint and the seed

    def publish_reply(self, post_url: str, text: str) -> str:
        if not self.directory.is_dir():
            raise AdapterError(f"Демо-сеть недоступна: нет каталога {self.directory}.")
        reply = f"{post_url}#reply-{hashlib.sha256(text.encode()).hexdigest()[:10]}"
        with open(self.directory / "replies.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"post_url": post_url, "text": text, "reply_url": reply}, ensure_ascii=False) + "\n")
        return reply


def recorded(directory: str) -> list[dict]:
    """The replies the demo network has taken, in order."""
    path = Path(directory) / "replies.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
