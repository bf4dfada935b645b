"""Staff: an incident's posts, the moderator's merge and split, the public answer's publication by hand."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from pos import params
from pos.auth import current_actor, staff_required
from pos.models import Message, User
from pos.services import incidents, messages, personal_data, public_reply
from pos.services import inbox as inbox_service
from pos.views.staff import bp, targeted
from pos.web import db, env
from pos.workflow import Role, Stage

# The incident's own history entries, in the past tense (the history shows them with the workflow's).
PAST = {**incidents.PAST, **public_reply.PAST}


def author_visible(session, actor, message: Message) -> bool:
    """The author's public handle is personal data once linked to a person: shown exactly as an applicant's
    identity is (the one rule, `pos.services.personal_data`)."""
    return personal_data.sees_identity(session, actor, message.id)


def incident_context(message: Message) -> dict:
    """What the card shows of an incident; {} for an official message."""
    if message.kind != incidents.INCIDENT:
        return {}
    session = db()
    actor = current_actor()
    reply = public_reply.reply_of(session, message.id)
    posts = incidents.posts_of(session, message.id)
    moderating = actor.has(Role.MODERATOR) and message.stage == Stage.MODERATION
    return dict(posts=posts, show_handles=author_visible(session, actor, message), can_merge=moderating,
                can_move_out=moderating and len(posts) > 1, reply=reply,
                reply_status=public_reply.STATUS_LABELS.get(reply.status, reply.status) if reply else "",
                can_mark=bool(reply) and reply.status in (public_reply.PENDING, public_reply.FAILED)
                and public_reply.may_mark(session, current_user, message))


def _incident_or_404(message_id: int) -> Message:
    message = db().get(Message, message_id)
    if message is None or message.kind != incidents.INCIDENT or not inbox_service.can_view(
            db(), current_actor(), message_id):
        abort(404)
    return message


def _done(message_id: int, text: str, *, error: bool = False):
    from pos.views.staff_message import _render
    if targeted("card"):
        fresh = db().get(Message, message_id)
        return _render(fresh, 422 if error else 200, **({"conflict": text} if error else {"notice": text}))
    flash(text, "error" if error else "success")
    return redirect(url_for("staff.message", message_id=message_id), 303)


@bp.post("/messages/<int:message_id>/merge")
@staff_required
def incident_merge(message_id: int):
    incident = _incident_or_404(message_id)
    other = (request.form.get("other_number") or "").strip()[:32]
    try:
        incidents.merge(db(), env(), current_user, incident.id, other,
                        expected_version=params.id_or_none(request.form.get("version")))
    except PermissionError as exc:
        abort(403, str(exc))
    except (LookupError, ValueError, messages.Conflict) as exc:
        db().rollback()
        return _done(message_id, str(exc), error=True)
    return _done(message_id, f"Инцидент {other} присоединён: его публикации теперь здесь.")


@bp.post("/messages/<int:message_id>/posts/<int:post_id>/move-out")
@staff_required
def incident_move_out(message_id: int, post_id: int):
    incident = _incident_or_404(message_id)
    try:
        new = incidents.move_out(db(), env(), current_user, incident.id, post_id)
    except PermissionError as exc:
        abort(403, str(exc))
    except (LookupError, ValueError) as exc:
        return _done(message_id, str(exc), error=True)
    return _done(message_id, f"Публикация выделена в отдельный инцидент {new.number}.")


@bp.post("/messages/<int:message_id>/reply/manual")
@staff_required
def incident_reply_manual(message_id: int):
    incident = _incident_or_404(message_id)
    try:
        public_reply.mark_published(db(), current_user, incident.id, request.form.get("reply_url", "")[:600])
    except PermissionError as exc:
        abort(403, str(exc))
    except (LookupError, ValueError) as exc:
        return _done(message_id, str(exc), error=True)
    return _done(message_id, "Отмечено: ответ опубликован вручную.")
