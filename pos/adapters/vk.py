"""VK: public posts from the VK API's `wall.get` / `newsfeed.search` responses, replies by `wall.createComment`.

Configured by POS_VK_TOKEN (a service or user token) and POS_VK_KEYWORDS (comma-separated; each is one
`newsfeed.search` query); the periodic job `jobs.incidents.fetch_vk` runs it. `parse_response()` is pure
and is what the tests check on recorded responses (tests/fixtures/vk_*.json): a post, a repost (its text
and pictures are the original's under the reposter's words), a deleted post (left out), a post with a place
(`geo`), a malformed response (AdapterError). The network itself is only reached through `transport`.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Callable

from pos.adapters import AdapterError, Post

API = "https://api.vk.com/method/"
VERSION = "5.199"
Transport = Callable[[str, dict], dict]


def _http(method: str, params: dict) -> dict:  # pragma: no cover - the live network, never in the tests
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(API + method, data=data, timeout=20) as response:
        return json.loads(response.read().decode("utf-8"))


def _handle(author_id, names: dict[int, str]) -> str:
    try:
        author_id = int(author_id)
    except (TypeError, ValueError):
        return ""
    return names.get(author_id) or (f"id{author_id}" if author_id > 0 else f"club{-author_id}")


def _photos(item: dict) -> list[str]:
    urls = []
    for attachment in item.get("attachments") or []:
        if not isinstance(attachment, dict) or attachment.get("type") != "photo":
            continue
        sizes = [s for s in (attachment.get("photo") or {}).get("sizes") or [] if isinstance(s, dict) and s.get("url")]
        if sizes:
            urls.append(max(sizes, key=lambda s: (s.get("width") or 0) * (s.get("height") or 0))["url"])
    return urls


def _place(item: dict) -> tuple[str, float | None, float | None]:
    geo = item.get("geo")
    if not isinstance(geo, dict):
        return "", None, None
    lat = lon = None
    coordinates = geo.get("coordinates")
    if isinstance(coordinates, str) and len(coordinates.split()) == 2:
        try:
            lat, lon = (float(x) for x in coordinates.split())
        except ValueError:
            lat = lon = None
    place = geo.get("place") if isinstance(geo.get("place"), dict) else {}
    words = [str(place.get(k) or "").strip() for k in ("city", "address", "title")]
    text = ", ".join(dict.fromkeys(w for w in words if w))
    return text[:500], lat, lon


def _deleted(item: dict) -> bool:
    return bool(item.get("is_deleted") or item.get("deleted") or item.get("deleted_reason"))


def parse_response(payload) -> tuple[list[Post], int]:
    """The posts of one response and how many items were left out (deleted, or without what a post needs)."""
    if not isinstance(payload, dict):
        raise AdapterError("Неверный ответ VK API: ожидался объект JSON.")
    if isinstance(payload.get("error"), dict):
        error = payload["error"]
        raise AdapterError(f"VK API вернул ошибку {error.get('error_code', '?')}: {error.get('error_msg', '')}")
    body = payload.get("response")
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise AdapterError("Неверный ответ VK API: нет списка response.items.")
    names = {}
    for profile in body.get("profiles") or []:
        if isinstance(profile, dict) and profile.get("id") and profile.get("screen_name"):
            names[int(profile["id"])] = str(profile["screen_name"])
    for group in body.get("groups") or []:
        if isinstance(group, dict) and group.get("id") and group.get("screen_name"):
            names[-int(group["id"])] = str(group["screen_name"])
    posts, skipped = [], 0
    for item in items:
        try:
            post = _post(item, names)
        except (KeyError, TypeError, ValueError, OverflowError):
            post = None
        if post is None:
            skipped += 1
        else:
            posts.append(post)
    return posts, skipped


def _post(item, names) -> Post | None:
    if not isinstance(item, dict) or _deleted(item):
        return None
    owner_id, post_id = int(item["owner_id"]), int(item["id"])
    published = datetime.fromtimestamp(int(item["date"]), tz=timezone.utc)
    text = str(item.get("text") or "").strip()
    pictures = _photos(item)
    place, lat, lon = _place(item)
    for original in item.get("copy_history") or []:  # a repost: the problem is in the original
        if isinstance(original, dict) and not _deleted(original):
            text = "\n\n".join(t for t in (text, str(original.get("text") or "").strip()) if t)
            pictures += _photos(original)
            if not place:
                place, lat, lon = _place(original)
    if not text:
        return None
    return Post(network="vk", url=f"https://vk.com/wall{owner_id}_{post_id}", text=text[:4000],
                published_at=published, author_handle=_handle(item.get("from_id", owner_id), names)[:200],
                place=place, latitude=lat, longitude=lon, pictures=tuple(pictures[:20]))


class VkAdapter:
    network = "vk"

    def __init__(self, token: str, keywords: list[str], transport: Transport = _http):
        self.token, self.keywords, self.transport = token, keywords, transport

    @classmethod
    def from_config(cls, cfg) -> "VkAdapter":
        keywords = [k.strip() for k in str(cfg.get("VK_KEYWORDS") or "").split(",") if k.strip()]
        return cls(str(cfg.get("VK_TOKEN") or ""), keywords)

    def _call(self, method: str, params: dict) -> dict:
        if not self.token:
            raise AdapterError("Не задан токен VK (POS_VK_TOKEN).")
        try:
            return self.transport(method, {**params, "access_token": self.token, "v": VERSION})
        except AdapterError:
            raise
        except (OSError, ValueError) as exc:
            raise AdapterError(f"VK API недоступен: {exc.__class__.__name__}: {exc}") from None

    def fetch_posts(self) -> list[Post]:
        posts = []
        for keyword in self.keywords:
            found, _skipped = parse_response(self._call("newsfeed.search", {"q": keyword, "count": 100,
                                                                             "extended": 1}))
            posts += found
        return list({p.url: p for p in posts}.values())

    def publish_reply(self, post_url: str, text: str) -> str:
        tail = post_url.rsplit("/wall", 1)[-1]
        try:
            owner_id, post_id = (int(x) for x in tail.split("_", 1))
        except ValueError:
            raise AdapterError(f"Адрес поста VK не разобран: {post_url}") from None
        payload = self._call("wall.createComment", {"owner_id": owner_id, "post_id": post_id, "message": text})
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            raise AdapterError(f"VK API вернул ошибку {payload['error'].get('error_code', '?')}: "
                               f"{payload['error'].get('error_msg', '')}")
        comment = (payload.get("response") or {}).get("comment_id") if isinstance(payload, dict) else None
        if not comment:
            raise AdapterError("Неверный ответ VK API на wall.createComment.")
        return f"https://vk.com/wall{owner_id}_{post_id}?reply={comment}"
