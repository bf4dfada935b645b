"""Message services: submit a message, apply a workflow action; one transaction each."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from pos import clock
from pos import workflow as wf
from pos.deadlines import MAX_POSTPONE_DAYS
from pos.models import ApprovalStep, Attachment, HistoryEntry, Message, User
from pos.models.message import place_of
from pos.params import id_or_none
from pos.services import facts, files, outbox, public_reply
from pos.services.directory import DbDirectory, actor_for, kept_policy


class Conflict(Exception):
    """Someone else changed the message first; nothing of this action was saved."""

    def __init__(self, text: str, change: str | None = None):
        super().__init__(text)
        self.change = change  # the change that came first, in words (pos.services.messages.last_change)


@dataclass(frozen=True)
class Env:
    """What the services need from the configuration."""
    timezone: str = "Asia/Yakutsk"
    upload_dir: str = "instance/uploads"
    max_postpone_days: int = MAX_POSTPONE_DAYS


@dataclass
class Done:
    message: Message
    history: HistoryEntry
    outcome: wf.Outcome
    new_message: Message | None = None
    outbox_ids: list[int] = field(default_factory=list)


def directory(session: Session, env: Env, *, subcategory_id=None,
              classified: tuple[int, int] | None = None) -> DbDirectory:
    """`subcategory_id`: a new message's (as its form gives it), so that its organization's look-up says whether
    it is accelerated there too; `classified`: its subcategory and category, already found active
    (pos.services.directory.DbDirectory)."""
    return DbDirectory(session, clock.now(), kept_policy(session, env.timezone, env.max_postpone_days),
                       subcategory_id=id_or_none(subcategory_id), classified=classified)


def _numbered_insert(postgresql: bool):
    """A message's INSERT that takes its id and writes the number made of it, ПОС-YYYY-NNNNNN (the year's
    prefix a parameter, the id at least six digits), in the same row, returning both: one statement instead of
    two, and no UPDATE after it (that would index the row's search words and number a second time). The id:
    PostgreSQL's from the column's sequence (never given twice); SQLite's the largest plus one (the table has no
    AUTOINCREMENT), safe because every transaction there holds the write lock from its first statement
    (`BEGIN IMMEDIATE`, pos.db) until its commit."""
    table = Message.__table__
    if postgresql:
        n = select(func.nextval(func.pg_get_serial_sequence("message", "id")).label("id")).subquery("n")
        as_text = cast(n.c.id, String)
        digits = func.lpad(as_text, func.greatest(6, func.length(as_text)), "0")
    else:
        n = select((func.coalesce(select(func.max(table.c.id)).scalar_subquery(), 0) + 1).label("id")).subquery("n")
        digits = func.printf("%06d", n.c.id)
    rest = [c for c in table.columns if c.key not in ("id", "number")]
    rows = select(n.c.id, bindparam("number_prefix", type_=String) + digits,
                  *[bindparam(c.key, type_=c.type) for c in rest])
    return (insert(table).from_select(["id", "number", *[c.key for c in rest]], rows)
            .returning(table.c.id, table.c.number))


_NUMBERED = {True: _numbered_insert(True), False: _numbered_insert(False)}  # built once: by PostgreSQL or not
_VALUES = [c.key for c in Message.__table__.columns if c.key not in ("id", "number")]  # what the INSERT is given


def _insert_numbered(session: Session, message: Message) -> None:
    """Write the new `message` as a plain row (`_NUMBERED`) and make the object the persistent one of that row,
    as if loaded: the ORM's flush of a fifty-column object cost more than the statement itself."""
    place_of(message)  # what the ORM's before_insert listener does
    values = {key: getattr(message, key) for key in _VALUES}
    values["number_prefix"] = f"ПОС-{message.received_at.year}-"
    statement = _NUMBERED[session.get_bind().dialect.name == "postgresql"]
    message.id, message.number = session.execute(statement, values).one()
    make_transient_to_detached(message)
    session.add(message)


def steps_of(session: Session, message_id: int) -> list[ApprovalStep]:
    return list(session.exec(select(ApprovalStep).where(ApprovalStep.message_id == message_id)
                             .order_by(ApprovalStep.round, ApprovalStep.position)))


def _history(session: Session, message: Message, outcome: wf.Outcome, actor_id: int | None, now) -> HistoryEntry:
    entry = HistoryEntry(**_entry_row(message, outcome, actor_id, now))
    session.add(entry)
    session.flush()
    return entry


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _attach(session: Session, env: Env, message: Message, checked, kind: str, user_id: int | None, now) -> list[Attachment]:
    rows = []
    for upload, mime in checked:
        stored = files.store(env.upload_dir, upload, mime)
        row = Attachment(message_id=message.id, kind=kind, filename=stored.filename, content_type=stored.content_type,
                         size=stored.size, sha256=stored.sha256, storage_key=stored.storage_key,
                         uploaded_by_id=user_id, created_at=now)
        session.add(row)
        rows.append(row)
    return rows


def _create(session: Session, env: Env, ctx: DbDirectory, fields: dict, *, source: str, api_client_id: int | None,
            actor_id: int | None, checked=(), api_token: str | None = None,
            form_token: str | None = None) -> tuple[Message, int, list]:
    """The new message, the id of its history entry, its outbox rows (the caller commits)."""
    initial, outcome = wf.submit(fields, ctx)
    message = Message(**initial, source=source, api_client_id=api_client_id, api_token=api_token,
                      form_token=form_token or None)
    _insert_numbered(session, message)  # before the rows that refer to it
    _attach(session, env, message, checked, "applicant", actor_id, ctx.now)
    entry_id = facts.record_new(session, message, _entry_row(message, outcome, actor_id, ctx.now))
    rows = outbox.write_events(session, message_id=message.id, history_id=entry_id, events=outcome.events,
                               now=ctx.now)
    return message, entry_id, rows


def _entry_row(message: Message, outcome: wf.Outcome, actor_id: int | None, now) -> dict:
    """A history entry's values."""
    return {"message_id": message.id, "at": now, "actor_id": actor_id, "action": outcome.action,
            "from_stage": outcome.from_stage, "to_stage": outcome.to_stage, "from_org_id": outcome.from_org_id,
            "to_org_id": outcome.to_org_id, "details": _jsonable(outcome.details)}


def submit_message(session: Session, env: Env, fields: dict, *, uploads: list[files.Upload] = (),
                   source: str = "web", api_client_id: int | None = None, user_id: int | None = None,
                   api_token: str | None = None, form_token: str | None = None,
                   classified: tuple[int, int] | None = None) -> Message:
    """Register a new message: validate everything, then write it, its files and its history at once.
    `form_token` is the sending form's own (unique): the same form sent twice fails the second time.
    `classified`: the fields' subcategory and category as the caller has just found them, both active."""
    ctx = directory(session, env, subcategory_id=fields.get("subcategory_id"), classified=classified)
    checked = files.check(list(uploads))
    try:
        message, _entry, rows = _create(session, env, ctx, fields, source=source, api_client_id=api_client_id,
                                        actor_id=user_id, checked=checked, api_token=api_token,
                                        form_token=form_token)
        session.commit()
    except Exception:
        session.rollback()
        raise
    outbox.dispatch([r.id for r in rows])
    return message


RECOMPUTED = "deadlines_recomputed"  # the history action of pos.services.deadlines.recompute
# History entries of what changes a message (and its version). Others, a curator's reminder
# say, change nothing and must not be named as the change that caused a conflict.
_CHANGES_PAST = {**{str(a): past for a, past in wf.ACTION_PAST.items()}, RECOMPUTED: "Сроки пересчитаны"}


def last_change(session: Session, env: Env, message: Message) -> str | None:
    """The latest change of the message in words: «what» — who, when (None: no change recorded)."""
    last = session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id,
                                                   HistoryEntry.action.in_(list(_CHANGES_PAST)))
                        .order_by(HistoryEntry.id.desc())).first()
    if last is None:
        return None
    who = session.get(User, last.actor_id).full_name if last.actor_id else "Система"
    at = last.at.astimezone(ZoneInfo(env.timezone))
    # Who, what, when, without a gendered verb: «выполнил(а)» reads as a form to fill in.
    return f"«{_CHANGES_PAST[last.action]}» — {who}, {at:%d.%m.%Y %H:%M}"


def _conflict_text(session: Session, env: Env, message: Message) -> str:
    change = last_change(session, env, message)
    if change is None:
        return "Сообщение изменено другим пользователем. Карточка обновлена."
    return (f"Пока вы работали с карточкой, сообщение изменилось: {change}. "
            f"Ваше действие не выполнено; карточка обновлена, введённый текст сохранён в форме.")


def act(session: Session, env: Env, user: User | None, message_id: int, action: wf.Action | str,
        params: dict | None = None, *, expected_version: int | None = None,
        uploads: list[files.Upload] = ()) -> Done:
    """Apply one workflow action in one transaction.

    Raises `wf.NotAllowed` / `wf.Invalid` (nothing changed) or `Conflict` when the
    message changed since the user saw it (`expected_version`) or while we worked.
    """
    action = wf.Action(action)
    message = session.get(Message, message_id)
    if message is None:
        raise LookupError("Сообщение не найдено.")
    if expected_version is not None and str(expected_version) != str(message.version):
        raise Conflict(_conflict_text(session, env, message), last_change(session, env, message))
    ctx = directory(session, env)
    actor = actor_for(session, user) if user is not None else wf.SYSTEM
    steps = steps_of(session, message.id)
    checked = files.check(list(uploads))
    if checked and action not in (wf.Action.PREPARE_ANSWER, wf.Action.SEND_FOR_APPROVAL, wf.Action.AGREE):
        raise wf.Invalid("К этому действию нельзя приложить документы.", "files")
    try:
        outcome = wf.apply(action, actor, message, steps, params or {}, ctx)
        # Every action bumps the version, even one that leaves the row as it was (a repeated
        # message): a concurrent action then fails its version check instead of doubling up.
        flag_modified(message, "stage")
        for step in outcome.new_steps:
            session.add(step)
        entry = _history(session, message, outcome, actor.user_id, ctx.now)
        facts.record(session, message, entry, ctx.deadlines)
        _attach(session, env, message, checked, "answer", actor.user_id, ctx.now)
        rows = outbox.write_events(session, message_id=message.id, history_id=entry.id,
                                   events=outcome.events, now=ctx.now)
        if any(e.kind == public_reply.EVENT for e in outcome.events):
            public_reply.open_reply(session, message, ctx.now)  # an incident's answer, published where its posts were
        new_message = None
        if outcome.new_message is not None:
            new_message, _e, more = _create(session, env, ctx, outcome.new_message, source=message.source,
                                            api_client_id=None, actor_id=actor.user_id,
                                            form_token=(params or {}).get("form_token"))
            entry.details = {**entry.details, "repeat_id": new_message.id, "repeat_number": new_message.number}
            rows += more
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        fresh = session.get(Message, message_id)
        session.refresh(fresh)
        raise Conflict(_conflict_text(session, env, fresh), last_change(session, env, fresh)) from None
    except Exception:
        session.rollback()
        raise
    ids = [r.id for r in rows]
    outbox.dispatch(ids)
    return Done(message, entry, outcome, new_message, ids)
