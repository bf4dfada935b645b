"""Incidents: public internet posts (clause 2.2.2) taken in, grouped, merged and split.

The design: an incident IS a message — a row of `message` with kind «incident» and source «internet»
(«интернет» on every page) — so it passes moderation, coordination, execution, agreement and approval with
the same service calls (`pos.services.messages.act`), the same history, facts, inboxes and reminders, on its
own clock (`pos.deadlines.DEFAULT_INCIDENT_RULES`: the public answer within 8 working hours, the stages in
working hours; set with `set-stage-deadline --kind incident`, the same `set_stage_rule` service as the stage
deadlines). It has no applicant; the posts it is made of are rows of `public_post` (network, URL unique,
author's handle, text, time, place, pictures), and its approved answer becomes a `public_reply` that the
network's adapter publishes (`pos.services.public_reply`). The moderator may also close it as
«не требует ответа» (`Action.CLOSE_NO_ANSWER`, incidents only).

Posts come in through `intake()` from the push endpoint (`pos.views.incidents`), the VK adapter's periodic
job (`jobs.incidents`) and `flask import-posts`: each post is checked on its own (a Russian message per
post), a URL already known is a duplicate (nothing written), a new post joins the active incident of the
same problem (`pos.incident_grouping`) or becomes a new incident. One call is one transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from pos import incident_grouping as grouping
from pos import params
from pos.models import HistoryEntry, Message, PublicPost, User
from pos.services import outbox
from pos.services.messages import Conflict, Env, _create, directory
from pos.workflow import ACTIVE_STAGES, Role, Stage

INCIDENT, INTERNET = "incident", "internet"
# History entries of an incident that are not workflow actions (they change no stage).
POST_ADDED, MERGED, MERGED_INTO, POST_MOVED_OUT, POST_MOVED_IN = (
    "incident_post_added", "incident_merged", "incident_merged_into", "incident_post_moved_out",
    "incident_post_moved_in")
PAST = {POST_ADDED: "Добавлена публикация", MERGED: "Присоединён инцидент", MERGED_INTO: "Объединён с инцидентом",
        POST_MOVED_OUT: "Публикация выделена в отдельный инцидент", POST_MOVED_IN: "Инцидент выделен из другого"}
MAX_POSTS = 1000
_NETWORK = re.compile(r"^[a-z0-9_-]{1,32}$")
_URL = re.compile(r"^https?://[^\s]{3,490}$")


@dataclass
class PostResult:
    index: int
    url: str
    status: str  # created | duplicate | error
    incident_id: int | None = None
    incident_number: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = {"index": self.index, "url": self.url, "status": self.status}
        if self.incident_id is not None:
            out.update(incident_id=self.incident_id, incident_number=self.incident_number)
        if self.errors:
            out["errors"] = self.errors
        return out


def _str(raw: dict, name: str, label: str, errors: list, *, required: bool, limit: int) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            errors.append(f"Не заполнено поле «{name}» ({label}).")
        return ""
    if not isinstance(value, str):
        errors.append(f"Поле «{name}» ({label}) должно быть строкой.")
        return ""
    value = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", value).strip()
    if required and not value:
        errors.append(f"Не заполнено поле «{name}» ({label}).")
    if len(value) > limit:
        errors.append(f"Поле «{name}» ({label}) длиннее {limit} символов.")
    return value


def _when(value, tz: ZoneInfo, errors: list) -> datetime | None:
    """The publication time: ISO 8601 (the installation's zone when it has no offset) or seconds since the
    epoch, read as every moment of a request is (pos.params: the years 2000–2100, aware)."""
    if value in (None, ""):
        errors.append("Не заполнено поле «published_at» (время публикации).")
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = datetime.fromtimestamp(value, tz=timezone.utc)
        return params.parse_moment(value, default_tz=tz)
    except (ValueError, OverflowError, OSError):  # params.BadValue is a ValueError
        errors.append(f"Поле «published_at» (время публикации): ожидается дата и время ISO 8601 "
                      f"в {params.MIN_YEAR}–{params.MAX_YEAR} годах, например 2026-12-01T10:30:00+09:00.")
        return None


def _coordinate(raw: dict, name: str, bound: float, errors: list) -> float | None:
    value = raw.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of hundreds of digits
        number = None
    if number is None or not -bound <= number <= bound or isinstance(value, bool):
        errors.append(f"Поле «{name}»: число от −{bound:g} до {bound:g}.")
        return None
    return number


def check_post(raw, tz: ZoneInfo) -> tuple[dict | None, list[str]]:
    """One pushed post, validated: its fields for `public_post`, or the Russian reasons it is refused."""
    if not isinstance(raw, dict):
        return None, ["Публикация должна быть объектом JSON."]
    errors: list[str] = []
    network = _str(raw, "network", "сеть", errors, required=True, limit=32).casefold()
    if network and not _NETWORK.match(network):
        errors.append("Поле «network» (сеть): латинские буквы, цифры, «-» и «_», например vk.")
    url = _str(raw, "url", "адрес публикации", errors, required=True, limit=500)
    if url and not _URL.match(url):
        errors.append("Поле «url» (адрес публикации): ожидается адрес http:// или https://.")
    text = _str(raw, "text", "текст", errors, required=True, limit=4000)
    author = _str(raw, "author", "автор", errors, required=False, limit=200)
    place = _str(raw, "place", "место", errors, required=False, limit=500)
    published = _when(raw.get("published_at"), tz, errors)
    lat, lon = _coordinate(raw, "latitude", 90, errors), _coordinate(raw, "longitude", 180, errors)
    pictures = raw.get("pictures") or []
    if not isinstance(pictures, list) or len(pictures) > 20 or not all(
            isinstance(p, str) and _URL.match(p) for p in pictures):
        errors.append("Поле «pictures» (изображения): список из не более чем 20 адресов http(s).")
        pictures = []
    if errors:
        return None, errors
    return {"network": network, "url": url, "text": text, "author_handle": author, "place": place,
            "published_at": published, "latitude": lat, "longitude": lon, "pictures": pictures}, []


def _candidates(session: Session, start: datetime, end: datetime) -> list[grouping.Candidate]:
    """The posts of active incidents published from `start` to `end`: what new posts may join."""
    rows = session.exec(
        select(PublicPost.incident_id, PublicPost.lemmas, PublicPost.place, PublicPost.published_at)
        .join(Message, Message.id == PublicPost.incident_id)
        .where(PublicPost.published_at >= start, PublicPost.published_at <= end,
               Message.stage.in_([s.value for s in ACTIVE_STAGES]))).all()
    return [grouping.Candidate(i, tuple(lem or ()), place or "", _utc(at)) for i, lem, place, at in rows]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _note(session: Session, incident: Message, action: str, now, actor_id: int | None, **details) -> HistoryEntry:
    entry = HistoryEntry(message_id=incident.id, at=now, actor_id=actor_id, action=action,
                         from_stage=incident.stage, to_stage=incident.stage, from_org_id=incident.organization_id,
                         to_org_id=incident.organization_id, details=details)
    session.add(entry)
    return entry


def _new_incident(session: Session, env: Env, ctx, fields: dict) -> tuple[Message, list]:
    incident, _entry, rows = _create(session, env, ctx, {"text": fields["text"], "address": fields["place"],
                                                         "latitude": fields["latitude"],
                                                         "longitude": fields["longitude"], "kind": INCIDENT},
                                     source=INTERNET, api_client_id=None, actor_id=None)
    return incident, rows


def intake(session: Session, env: Env, raw_posts, *, window_hours: float = grouping.DEFAULT_WINDOW_HOURS,
           threshold: float = grouping.DEFAULT_SIMILARITY) -> list[PostResult]:
    """Take posts in, in one transaction: per post «created» (with its incident), «duplicate» or «error»."""
    if not isinstance(raw_posts, list):
        raise ValueError("Ожидается список публикаций (posts).")
    if len(raw_posts) > MAX_POSTS:
        raise ValueError(f"Не более {MAX_POSTS} публикаций за один запрос.")
    tz = ZoneInfo(env.timezone)
    ctx = directory(session, env)
    window = timedelta(hours=window_hours)
    results: list[PostResult] = []
    outbox_rows: list = []
    seen: set[str] = set()
    checked = [check_post(raw, tz) for raw in raw_posts]
    urls = [fields["url"] for fields, _e in checked if fields]
    moments = [fields["published_at"] for fields, _e in checked if fields]
    pool = grouping.Pool(_candidates(session, min(moments) - window, max(moments) + window) if moments else ())
    known = set()
    for chunk in range(0, len(urls), 500):
        known |= set(session.exec(select(PublicPost.url).where(PublicPost.url.in_(urls[chunk:chunk + 500]))))
    try:
        for index, (fields, errors) in enumerate(checked):
            url = fields["url"] if fields else str((raw_posts[index] or {}).get("url", "") if isinstance(
                raw_posts[index], dict) else "")[:500]
            if errors:
                results.append(PostResult(index, url, "error", errors=errors))
                continue
            if url in known or url in seen:
                incident_id = session.exec(select(PublicPost.incident_id).where(PublicPost.url == url)).first()
                results.append(PostResult(index, url, "duplicate", incident_id,
                                          session.get(Message, incident_id).number if incident_id else None))
                continue
            seen.add(url)
            post_lemmas = grouping.text_lemmas(fields["text"])
            target = grouping.best_incident(post_lemmas, fields["place"], fields["published_at"],
                                            pool.sharing(post_lemmas), window=window, threshold=threshold)
            if target is None:
                incident, rows = _new_incident(session, env, ctx, fields)
                outbox_rows += rows
            else:
                incident = session.get(Message, target)
                if not incident.address and fields["place"]:
                    incident.address = fields["place"][:500]
                flag_modified(incident, "stage")  # a concurrent action sees the change
            post = PublicPost(**fields, lemmas=post_lemmas, received_at=ctx.now, incident_id=incident.id)
            session.add(post)
            session.flush()
            pool.add(grouping.Candidate(incident.id, tuple(post_lemmas), fields["place"], fields["published_at"]))
            if target is not None:
                _note(session, incident, POST_ADDED, ctx.now, None, post_id=post.id)
            results.append(PostResult(index, url, "created", incident.id, incident.number))
        session.commit()
    except Exception:
        session.rollback()
        raise
    outbox.dispatch([r.id for r in outbox_rows])
    return results


# --- the moderator's merge and split --------------------------------------------------

def posts_of(session: Session, incident_id: int) -> list[PublicPost]:
    return list(session.exec(select(PublicPost).where(PublicPost.incident_id == incident_id)
                             .order_by(PublicPost.published_at, PublicPost.id)))


def _moderator(session: Session, user: User) -> None:
    from pos.services.directory import grants_for
    if not any(g.role == Role.MODERATOR for g in grants_for(session, user.id)):
        raise PermissionError("Объединять инциденты и выделять публикации может только модератор.")


def _incident(session: Session, incident_id: int, *, moderation: bool = True) -> Message:
    incident = session.get(Message, incident_id)
    if incident is None or incident.kind != INCIDENT:
        raise LookupError("Инцидент не найден.")
    if moderation and incident.stage != Stage.MODERATION:
        raise ValueError(f"Инцидент {incident.number} уже прошёл модерацию: объединять и разделять можно "
                         "только на этапе модерации.")
    return incident


def merge(session: Session, env: Env, user: User, incident_id: int, other_number: str,
          expected_version: int | None = None) -> Message:
    """The moderator joins another incident (by its number) to this one: its posts move here, it is closed."""
    _moderator(session, user)
    incident = _incident(session, incident_id)
    if expected_version is not None and str(expected_version) != str(incident.version):
        raise Conflict("Инцидент изменён другим пользователем. Карточка обновлена.")
    other = session.exec(select(Message).where(Message.number == (other_number or "").strip())).first()
    if other is None or other.kind != INCIDENT:
        raise LookupError(f"Инцидент «{other_number}» не найден.")
    if other.id == incident.id:
        raise ValueError("Выберите другой инцидент: это он и есть.")
    _incident(session, other.id)
    ctx = directory(session, env)
    moved = posts_of(session, other.id)
    for post in moved:
        post.incident_id = incident.id
        session.add(post)
    _note(session, incident, MERGED, ctx.now, user.id, other_id=other.id, other_number=other.number,
          post_ids=[p.id for p in moved])
    from pos.services.messages import act
    session.flush()
    flag_modified(incident, "stage")
    session.commit()
    # The emptied incident ends as needing no answer, with its own history saying where its posts went.
    act(session, env, user, other.id, "close_no_answer",
        {"comment": f"Объединён с инцидентом {incident.number}: публикации перенесены туда."})
    _note(session, other, MERGED_INTO, ctx.now, user.id, other_id=incident.id, other_number=incident.number)
    session.commit()
    return incident


def move_out(session: Session, env: Env, user: User, incident_id: int, post_id: int) -> Message:
    """The moderator takes a post out of an incident: it becomes a new incident of its own."""
    _moderator(session, user)
    incident = _incident(session, incident_id)
    post = session.get(PublicPost, post_id)
    if post is None or post.incident_id != incident.id:
        raise LookupError("Публикация не найдена в этом инциденте.")
    if len(posts_of(session, incident.id)) < 2:
        raise ValueError("В инциденте одна публикация: выделять нечего.")
    ctx = directory(session, env)
    try:
        new, rows = _new_incident(session, env, ctx, {"text": post.text, "place": post.place,
                                                      "latitude": post.latitude, "longitude": post.longitude})
        post.incident_id = new.id
        session.add(post)
        _note(session, incident, POST_MOVED_OUT, ctx.now, user.id, post_id=post.id, other_id=new.id,
              other_number=new.number)
        _note(session, new, POST_MOVED_IN, ctx.now, user.id, post_id=post.id, other_id=incident.id,
              other_number=incident.number)
        flag_modified(incident, "stage")
        session.commit()
    except Exception:
        session.rollback()
        raise
    outbox.dispatch([r.id for r in rows])
    return new
