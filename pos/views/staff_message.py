"""Staff: the message page, every workflow action form, attachment downloads."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlmodel import select

from pos import params
from pos import workflow as wf
from pos.auth import current_actor, staff_required
from pos.forms.staff import FORMS, ActionForm, AnswerForm, ReminderForm
from pos.models import Applicant, ApprovalStep, Attachment, HistoryEntry, Message, User
from pos.services import choices, files, inbox as inbox_service, messages, reminders
from pos.views.staff import bp, policy, targeted
from pos.web import db, env
from pos.workflow import Action, Stage

# The order in which a person meets the forms on the page.
ORDER = [Action.ACCEPT, Action.CHANGE_CATEGORY, Action.CHANGE_ORGANIZATION, Action.REJECT,
         Action.ASSIGN_EXECUTOR, Action.TAKE, Action.SEND_FOR_APPROVAL, Action.TRANSFER, Action.RETURN,
         Action.PREPARE_ANSWER, Action.AGREE, Action.APPROVE, Action.DELEGATE_AGREEMENT, Action.DELEGATE_APPROVAL,
         Action.REJECT_AGREEMENT, Action.REJECT_APPROVAL]
WITH_FILES = (Action.PREPARE_ANSWER, Action.SEND_FOR_APPROVAL, Action.AGREE)


def _message_or_404(message_id: int) -> Message:
    message = db().get(Message, message_id)
    if message is None or not inbox_service.can_view(db(), current_actor(), message_id):
        abort(404)  # no telling outsiders which numbers exist
    return message


def _back() -> str | None:
    return params.local_path(request.args.get("back", ""), "/staff")


# --- forms -------------------------------------------------------------------

def build_form(action: Action, message: Message, steps: list, *, posted: bool = False) -> ActionForm:
    """The action's form with its choices; bound to the request's form and files when it was posted."""
    session = db()
    cls = FORMS[action]
    form = cls(prefix=action.value) if posted else cls(formdata=None, prefix=action.value)
    formdata = True if posted else None
    if formdata is None:
        form.version.data = message.version
    orgs = choices.organizations(session)
    if action == Action.ACCEPT:
        unrouted = [("", "— выберите —")] if message.organization_id is None else []
        form.organization_id.choices = unrouted + choices.org_labels(orgs)
        if formdata is None:
            form.organization_id.data = message.organization_id
    elif action in (Action.CHANGE_ORGANIZATION, Action.TRANSFER):
        form.organization_id.choices = [("", "— выберите —")] + [
            (i, label) for i, label in choices.org_labels(orgs) if i != message.organization_id]
    if action == Action.CHANGE_CATEGORY:
        cats = choices.categories(session)
        subs = choices.subcategories(session)
        form.category_id.choices = [("", "— выберите —")] + [(c.id, c.name) for c in cats]
        form.subcategory_id.choices = {"": [("", "— выберите —")],
                                       **{c.name: [(s.id, s.name) for s in subs.get(c.id, [])]
                                          for c in cats if subs.get(c.id)}}
        if formdata is None:
            form.category_id.data, form.subcategory_id.data = message.category_id, message.subcategory_id
    if action == Action.ASSIGN_EXECUTOR:
        form.executor_id.choices = [("", "— выберите —")] + [
            (u.id, f"{u.full_name}, {u.position}" if u.position else u.full_name)
            for u in choices.executors(session, message.organization_id)]
    if action in (Action.TRANSFER, Action.PREPARE_ANSWER, Action.SEND_FOR_APPROVAL):
        form.setup_chain(choices.heads(session, message.organization_id),
                         choices.heads(session, message.organization_id, message.category_id))
    if isinstance(form, AnswerForm):
        form.setup_templates(choices.templates(session, message.category_id))
        if formdata is None:
            form.executor_position.data = current_user.position
            form.executor_name.data = current_user.full_name
    if action in (Action.DELEGATE_AGREEMENT, Action.DELEGATE_APPROVAL):
        in_chain = {s.head_id for s in wf.current_steps(message, steps) if s.status == "pending"}
        category = message.category_id if action == Action.DELEGATE_APPROVAL else None
        form.head_id.choices = [("", "— выберите —")] + [
            (u.id, f"{u.full_name}, {u.position}" if u.position else u.full_name)
            for u in choices.heads(session, message.organization_id, category)
            if u.id not in in_chain and u.id != current_user.id]
    if action in (Action.AGREE, Action.APPROVE) and formdata is None:
        form.answer_text.data = message.answer_text
    return form


def _uploads(form: ActionForm) -> list[files.Upload]:
    field = getattr(form, "files", None)
    if field is None or not field.data:
        return []
    return [files.Upload(f.filename or "", f.read()) for f in field.data if f and (f.filename or "")]


# --- the card ------------------------------------------------------------------

def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.full_name for u in db().exec(select(User).where(User.id.in_(ids)))}


def card_context(message: Message, *, posted: tuple[Action, ActionForm] | None = None, conflict: str | None = None,
                 notice: str | None = None, posted_reminder: ReminderForm | None = None) -> dict:
    session = db()
    actor = current_actor()
    steps = messages.steps_of(session, message.id)
    ctx = messages.directory(session, env())
    allowed = set(wf.allowed_actions(actor, message, steps, ctx))
    forms = []
    kept = None
    for action in ORDER:
        if action not in allowed:
            continue
        if posted and posted[0] == action:
            form = posted[1]
            form.version.data = message.version
        else:
            form = build_form(action, message, steps)
        forms.append((action, form))
    if posted and posted[0] not in allowed and conflict:
        kept = posted[1]  # the action is gone, but what the person typed stays on screen
    history = list(session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                                .order_by(HistoryEntry.id)))
    staff_ids = {h.actor_id for h in history} | {s.head_id for s in steps} | {s.delegated_from_id for s in steps} \
        | {message.executor_id, message.assignee_id} \
        | {h.details.get(k) for h in history for k in ("executor_id", "from_head_id", "to_head_id", "approver_id")
           if isinstance(h.details.get(k), int)} \
        | {i for h in history for i in (h.details.get("agreeing_ids") or []) if isinstance(i, int)}
    names = _names(staff_ids)
    applicant_users = set(session.exec(select(Applicant.user_id).where(Applicant.user_id.in_(
        [i for i in names])))) if names else set()
    show_author = inbox_service.sees_personal_data(actor)
    author = session.get(Applicant, message.applicant_id) if message.applicant_id and show_author else None
    attachments = list(session.exec(select(Attachment).where(Attachment.message_id == message.id)
                                    .order_by(Attachment.id)))
    now = ctx.now
    pol = ctx.deadlines
    rounds = [s for s in steps if s.round == message.chain_round] if message.chain_round else []
    current = wf.current_step(message, steps)
    remind_form = (posted_reminder or ReminderForm(prefix="remind")) \
        if reminders.can_remind(session, actor, message) else None
    return dict(message=message, forms=forms, kept=kept, conflict=conflict, notice=notice, history=history,
                remind_form=remind_form,
                names=names, applicant_users=applicant_users, show_author=show_author, author=author,
                attachments=attachments, chain=rounds, current_step=current,
                deadline_state=inbox_service.deadline_state(message, now, pol.due_soon_limit(now)),
                category=_classifier_names(message), back=_back(), now=now)


def _classifier_names(message: Message) -> dict:
    from pos.models import Category, Subcategory
    session = db()
    cat = session.get(Category, message.category_id) if message.category_id else None
    sub = session.get(Subcategory, message.subcategory_id) if message.subcategory_id else None
    return {"category": cat.name if cat else "", "subcategory": sub.name if sub else ""}


def _render(message: Message, status: int = 200, **kwargs):
    context = card_context(message, **kwargs)
    if targeted("card"):
        return render_template("staff/_card.html", **context), status
    return render_template("staff/message.html", **context), status


# --- routes ------------------------------------------------------------------

@bp.get("/messages/<int:message_id>")
@staff_required
def message(message_id: int):
    return _render(_message_or_404(message_id))


@bp.post("/messages/<int:message_id>/<action>")
@staff_required
def act(message_id: int, action: str):
    message = _message_or_404(message_id)
    try:
        action = Action(action)
    except ValueError:
        abort(404)
    if action not in FORMS:
        abort(404)
    session = db()
    steps = messages.steps_of(session, message.id)
    form = build_form(action, message, steps, posted=True)
    if not form.validate():
        return _render(message, 422, posted=(action, form))
    try:
        messages.act(session, env(), current_user, message.id, action, form.params(),
                     expected_version=params.id_or_none(form.version.data), uploads=_uploads(form))
    except wf.NotAllowed as exc:
        if targeted("card"):
            return _render(message, 403, conflict=str(exc))
        return render_template("error.html", code=403, title="Действие недоступно", text=str(exc)), 403
    except wf.Invalid as exc:
        field = getattr(form, exc.field, None) if exc.field else None
        if exc.field == "agreeing_ids":
            field = form.agreeing
        if field is None:
            form.form_errors.append(str(exc))
        elif field is getattr(form, "agreeing", None):
            field.entries[0].errors = [*field.entries[0].errors, str(exc)]
        else:
            field.errors = [*field.errors, str(exc)]
        return _render(db().get(Message, message_id), 422, posted=(action, form))
    except messages.Conflict as exc:
        session.expire_all()
        fresh = session.get(Message, message_id)
        return _render(fresh, 409, posted=(action, form), conflict=str(exc))
    done_text = f"Выполнено: «{wf.ACTION_LABELS[action]}»."
    fresh = session.get(Message, message_id)
    if targeted("card") and inbox_service.can_view(session, current_actor(), message_id):
        return _render(fresh, notice=done_text)
    flash(done_text, "success")
    if inbox_service.can_view(session, current_actor(), message_id):
        return redirect(url_for("staff.message", message_id=message_id, back=_back()), 303)
    return redirect(_back() or url_for("staff.inbox"), 303)


@bp.post("/messages/<int:message_id>/remind")
@staff_required
def remind(message_id: int):
    message = _message_or_404(message_id)
    form = ReminderForm(prefix="remind")
    if not form.validate():
        return _render(message, 422, posted_reminder=form)
    try:
        reminders.remind(db(), current_user, message.id, form.text.data or "")
    except wf.NotAllowed as exc:
        abort(403, str(exc))
    done_text = "Напоминание отправлено."
    if targeted("card"):
        return _render(db().get(Message, message_id), notice=done_text)
    flash(done_text, "success")
    return redirect(url_for("staff.message", message_id=message_id, back=_back()), 303)


@bp.get("/messages/<int:message_id>/template")
@staff_required
def answer_template(message_id: int):
    """The answer text filled from the chosen template (htmx swaps it into the answer form)."""
    message = _message_or_404(message_id)
    action = request.args.get("action", Action.PREPARE_ANSWER.value)
    if action not in (Action.PREPARE_ANSWER.value, Action.SEND_FOR_APPROVAL.value):
        abort(404)  # only the two answer forms have templates
    action = Action(action)
    form = build_form(action, message, [])
    chosen = params.id_or_none(request.args.get(f"{action.value}-template_id"))
    form.answer_text.data = form._templates.get(chosen, "")
    return render_template("staff/_answer_text.html", form=form)


@bp.get("/attachments/<int:attachment_id>")
@staff_required
def attachment(attachment_id: int):
    row = db().get(Attachment, attachment_id)
    if row is None:
        abort(404)
    _message_or_404(row.message_id)
    if not inbox_service.sees_personal_data(current_actor()):
        abort(403)
    path = files.path_of(env().upload_dir, row.storage_key)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=row.content_type, as_attachment=True,
                         download_name=files.download_name(row.filename, row.content_type), max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- words for the templates ------------------------------------------------------------

STEP_STATUS = {"pending": "ожидает", "agreed": "согласовано", "approved": "утверждено", "rejected": "отклонено",
               "cancelled": "не потребовалось"}
PAST_EXTRA = {"deadlines_recomputed": "Сроки пересчитаны", reminders.REMINDER: "Напоминание куратора"}


def history_details(entry: HistoryEntry, names: dict[int, str]) -> list[str]:
    """The particulars of one history entry, in words."""
    from pos.models import Category, Subcategory
    from pos.models import Organization
    d = entry.details or {}

    def org_name(org_id):
        org = db().get(Organization, org_id)
        return (org.short_name or org.name) if org else "—"
    lines = []
    if d.get("reason") and entry.action == Action.REJECT:
        lines.append(f"Причина: {d['reason']}) {wf.REJECTION_REASONS.get(d['reason'], '')}")
    if isinstance(d.get("category"), dict):
        session = db()
        cat = session.get(Category, d["category"]["to"][0]) if d["category"]["to"][0] else None
        sub = session.get(Subcategory, d["category"]["to"][1]) if d["category"]["to"][1] else None
        lines.append(f"Категория: {cat.name if cat else '—'} / {sub.name if sub else '—'}")
    if d.get("executor_id"):
        lines.append(f"Исполнитель: {names.get(d['executor_id'], '—')}")
    if d.get("result"):
        lines.append(f"Результат: {wf.RESULT_LABELS.get(wf.Result(d['result']), d['result'])}"
                     + (f" до {_date(d['postponed_until'])}" if d.get("postponed_until") else ""))
    elif d.get("postponed_until"):
        lines.append(f"Отложено до {_date(d['postponed_until'])}")
    if d.get("transfer_to_id"):
        lines.append(f"Организация по компетенции: {org_name(d['transfer_to_id'])}")
    if d.get("approver_id"):
        agreeing = ", ".join(names.get(i, "—") for i in d.get("agreeing_ids") or []) or "нет"
        lines.append(f"Утверждает: {names.get(d['approver_id'], '—')}; согласуют по порядку: {agreeing}")
    if d.get("to_head_id"):
        lines.append(f"Право передано: {names.get(d.get('from_head_id'), '—')} → {names.get(d['to_head_id'], '—')}")
    if d.get("answer_edited"):
        lines.append("Текст ответа изменён")
    if d.get("rating"):
        lines.append(f"Оценка: {d['rating']} из 5")
    if d.get("repeat_number"):
        lines.append(f"Повторное сообщение: {d['repeat_number']}")
    if isinstance(d.get("answer_due"), dict) and d["answer_due"].get("from"):
        lines.append(f"Срок ответа пересчитан ({d['answer_due'].get('reason', '')}): "
                     f"{_moment(d['answer_due']['from'])} → {_moment(d['answer_due']['to'])}")
    if d.get("comment"):
        lines.append(f"Комментарий: «{d['comment']}»")
    if entry.action == reminders.REMINDER:
        lines.append(f"Кому: {names.get(d['user_id'], '—')}" if d.get("user_id") else "Кому: все координаторы")
        if d.get("text"):
            lines.append(f"Текст: «{d['text']}»")
    return lines


def _date(value: str) -> str:
    from datetime import date
    try:
        return date.fromisoformat(value[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return value


def _moment(value: str) -> str:
    from datetime import datetime
    from pos.views.staff import local_datetime
    try:
        return local_datetime(datetime.fromisoformat(value))
    except ValueError:
        return value


@bp.context_processor
def _words():
    return dict(words=dict(stages={k.value: v for k, v in wf.STAGE_LABELS.items()},
                           actions=wf.ACTION_LABELS,
                           past={**{k.value: v for k, v in wf.ACTION_PAST.items()}, **PAST_EXTRA},
                           results={k.value: v for k, v in wf.RESULT_LABELS.items()},
                           reasons=wf.REJECTION_REASONS, step_status=STEP_STATUS,
                           active=[s.value for s in wf.ACTIVE_STAGES]),
                waits_for=lambda m, names: inbox_service.waits_for(m, lambda uid: names.get(uid, "—")),
                history_details=history_details)
