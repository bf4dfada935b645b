"""Social networks behind one interface: an adapter fetches public posts and publishes a reply where one was.

A new network is a new module with a class that has `network`, `fetch_posts()` and `publish_reply()`, named in
`ADAPTERS`; the push endpoint and the file import need no adapter to take posts in (the monitoring system
names the network), but a reply is published only through the network's adapter (`POS_INCIDENT_PUBLISHERS`
maps a network to an adapter, `vk=vk,demo=demo` by default). Without one the publication fails with the
reason, and an operator publishes it by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class AdapterError(Exception):
    """The network refused or could not be reached; the message is shown to the operator as the reason."""


@dataclass(frozen=True)
class Post:
    """A public post as every adapter hands it in (the fields of pos.models.PublicPost)."""
    network: str
    url: str
    text: str
    published_at: datetime
    author_handle: str = ""
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    pictures: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"network": self.network, "url": self.url, "text": self.text,
                "published_at": self.published_at.isoformat(), "author": self.author_handle,
                "place": self.place, "latitude": self.latitude, "longitude": self.longitude,
                "pictures": list(self.pictures)}


class Adapter(Protocol):
    network: str

    def fetch_posts(self) -> list[Post]:
        """New public posts matching the configured keywords."""

    def publish_reply(self, post_url: str, text: str) -> str:
        """Publish `text` as a reply to the post; returns the reply's public URL. Raises AdapterError."""


ADAPTERS = {"vk": "pos.adapters.vk:VkAdapter", "demo": "pos.adapters.demo:DemoAdapter"}


def publisher_names(cfg) -> dict[str, str]:
    """{network: adapter name} from POS_INCIDENT_PUBLISHERS («vk=vk,demo=demo»)."""
    pairs = [p.split("=", 1) for p in str(cfg.get("INCIDENT_PUBLISHERS", "vk=vk,demo=demo")).split(",") if "=" in p]
    return {k.strip(): v.strip() for k, v in pairs}


def adapter(name: str, cfg) -> Adapter:
    import importlib
    target = ADAPTERS.get(name)
    if target is None:
        raise AdapterError(f"Нет адаптера «{name}».")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls).from_config(cfg)


def publisher_for(network: str, cfg) -> Adapter:
    name = publisher_names(cfg).get(network)
    if name is None:
        raise AdapterError(f"Для сети «{network}» не настроена публикация ответов (POS_INCIDENT_PUBLISHERS): "
                           "опубликуйте ответ вручную и отметьте это на странице инцидента.")
    return adapter(name, cfg)
