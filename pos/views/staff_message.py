"""Staff: the message page, every workflow action form, attachment downloads."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlmodel import select

from pos import params
from pos import workflow as wf
from pos.auth import current_actor, staff_required
from pos.forms.staff import FORMS, ActionForm, AnswerForm, ReminderForm
from pos.models import Applicant, ApprovalStep, Attachment, HistoryEntry, Message, User
from pos.services import (choices, endings, files, inbox as inbox_service, incidents, messages, pd_audit,
                          personal_data, public_reply, reminders)
from pos.services.directory import regulation_of
from pos.views.staff import bp, policy, targeted
from pos.web import db, env, error_page, htmx_make_response
from pos.wording import SOURCE_LABELS, initials, person_label, result_text
from pos.workflow import Action, Stage

# The order in which a person meets the forms on the page.
ORDER = [Action.ACCEPT, Action.CHANGE_CATEGORY, Action.CHANGE_ORGANIZATION, Action.REJECT, Action.CLOSE_NO_ANSWER,
         Action.ASSIGN_EXECUTOR, Action.TAKE, Action.SEND_FOR_APPROVAL, Action.TRANSFER, Action.RETURN,
         Action.PREPARE_ANSWER, Action.AGREE, Action.APPROVE, Action.DELEGATE_AGREEMENT, Action.DELEGATE_APPROVAL,
         Action.REJECT_AGREEMENT, Action.REJECT_APPROVAL]
WITH_FILES = (Action.PREPARE_ANSWER, Action.SEND_FOR_APPROVAL, Action.AGREE)


def _message_or_404(message_id: int) -> Message:
    message, access = personal_data.message_and_access(db(), current_actor(), message_id)
    if message is None or not access.visible:
        abort(404)  # no telling outsiders which numbers exist
    _known_access()[(message.id, message.version)] = access
    return message


def _known_access() -> dict[tuple[int, int], personal_data.Access]:
    return g.setdefault("message_access", {})


def _access(message: Message) -> personal_data.Access:
    """What the signed-in person may see of the message as it is now (asked once per version and request)."""
    known = _known_access()
    key = (message.id, message.version)
    if key not in known:
        known[key] = personal_data.access(db(), current_actor(), message.id)
    return known[key]


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
    if action == Action.ACCEPT:
        unrouted = [("", "— выберите —")] if message.organization_id is None else []
        form.organization_id.choices = unrouted + choices.active_org_options(session)
        if formdata is None:
            form.organization_id.data = message.organization_id
    elif action in (Action.CHANGE_ORGANIZATION, Action.TRANSFER):
        form.organization_id.choices = [("", "— выберите —")] + [
            (i, label) for i, label in choices.active_org_options(session) if i != message.organization_id]
    if action == Action.REJECT:
        reasons = wf.rejection_reasons(regulation_of(session, message.organization_id))
        form.reason.choices = [(code, f"{code}) {text}") for code, text in reasons.items()]
    if action == Action.CHANGE_CATEGORY:
        if formdata is None:
            form.category_id.data, form.subcategory_id.data = message.category_id, message.subcategory_id
        follow_category(form, message)
    if action == Action.ASSIGN_EXECUTOR:
        form.executor_id.choices = [("", "— выберите —")] + [
            (u.id, person_label(u.full_name, u.position))
            for u in choices.executors_of(session, [message.organization_id] if message.organization_id else [])]
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
            (u.id, person_label(u.full_name, u.position))
            for u in choices.heads(session, message.organization_id, category)
            if u.id not in in_chain and u.id != current_user.id]
    if action in (Action.AGREE, Action.APPROVE) and formdata is None:
        form.answer_text.data = message.answer_text
    return form


SUBCATEGORY_TARGET = "change_category-subcategory-field"


def follow_category(form: ActionForm, message: Message) -> None:
    """The category with the subcategories of the chosen one only; choosing another category swaps the
    subcategory field in (htmx), or without JavaScript «Показать подкатегории» posts the form back unapplied."""
    form.category_id.choices = [("", "— выберите —")] + [(c.id, c.name) for c in choices.categories(db())]
    form.subcategory_id.choices = choices.subcategory_options(db(), form.category_id.data,
                                                              any_label="— выберите —",
                                                              no_category_label="— сначала выберите категорию —")
    url = url_for("staff.action_form", message_id=message.id, action=Action.CHANGE_CATEGORY.value)
    form.category_id.render_kw = {"hx-get": url, "hx-trigger": "change", "hx-target": f"#{SUBCATEGORY_TARGET}",
                                  "hx-swap": "outerHTML", "hx-include": "this"}


def _uploads(form: ActionForm) -> list[files.Upload]:
    field = getattr(form, "files", None)
    if field is None or not field.data:
        return []
    return [files.Upload(f.filename or "", f.read()) for f in field.data if f and (f.filename or "")]


# --- the card ------------------------------------------------------------------

def _names(ids) -> tuple[dict[int, str], set[int]]:
    """The people's names by id, and which of them have an applicant profile (their history says «Заявитель»):
    one statement."""
    ids = {i for i in ids if i}
    if not ids:
        return {}, set()
    names, applicants = {}, set()
    for user_id, full_name, applicant_user in db().exec(
            select(User.id, User.full_name, Applicant.user_id).outerjoin(Applicant, Applicant.user_id == User.id)
            .where(User.id.in_(ids))):
        names[user_id] = full_name
        if applicant_user is not None:
            applicants.add(user_id)
    return names, applicants


REMIND = "remind"  # the curator's «Напомнить»: offered like an action, though the stage stays


def card_context(message: Message, *, posted: tuple[Action, ActionForm] | None = None, conflict: str | None = None,
                 notice: str | None = None, posted_reminder: ReminderForm | None = None,
                 open_action: str | None = None) -> dict:
    """Everything the card shows. The actions are offered as buttons and only one form is open at a time:
    the posted one (with its errors), the one asked for (`open_action`), or the only one there is."""
    session = db()
    actor = current_actor()
    steps = messages.steps_of(session, message.id)
    ctx = messages.directory(session, env())
    allowed = set(wf.allowed_actions(actor, message, steps, ctx))
    offered = [action.value for action in ORDER if action in allowed]
    if reminders.can_remind(session, actor, message):
        offered.append(REMIND)
    if posted and posted[0].value in offered:
        open_action = posted[0].value
    elif posted_reminder is not None and REMIND in offered:
        open_action = REMIND
    elif open_action not in offered:
        open_action = offered[0] if len(offered) == 1 else None
    form = remind_form = None
    if open_action == REMIND:
        remind_form = posted_reminder or ReminderForm(prefix="remind")
    elif open_action:
        if posted and posted[0].value == open_action:
            form = posted[1]
            form.version.data = message.version
        else:
            form = build_form(Action(open_action), message, steps)
    # The posted action is gone (someone acted first), but what the person typed stays on screen.
    kept = posted[1] if posted and posted[0].value not in offered and conflict else None
    history = list(session.exec(select(HistoryEntry).where(HistoryEntry.message_id == message.id)
                                .order_by(HistoryEntry.id)))
    staff_ids = {h.actor_id for h in history} | {s.head_id for s in steps} | {s.delegated_from_id for s in steps} \
        | {message.executor_id, message.assignee_id} \
        | {h.details.get(k) for h in history for k in ("executor_id", "from_head_id", "to_head_id", "approver_id")
           if isinstance(h.details.get(k), int)} \
        | {i for h in history for i in (h.details.get("agreeing_ids") or []) if isinstance(i, int)}
    names, applicant_users = _names(staff_ids)
    show_author = _access(message).identity
    author = session.get(Applicant, message.applicant_id) if message.applicant_id and show_author else None
    attachments = list(session.exec(select(Attachment).where(Attachment.message_id == message.id)
                                    .order_by(Attachment.id)))
    now = ctx.now
    pol = ctx.deadlines
    rounds = [s for s in steps if s.round == message.chain_round] if message.chain_round else []
    current = wf.current_step(message, steps)
    repeated_of = session.get(Message, message.repeated_of_id) if message.repeated_of_id else None
    return dict(message=message, offered=[(name, _offer_label(name)) for name in offered], open_action=open_action,
                action=Action(open_action) if open_action and open_action != REMIND else None, form=form,
                kept=kept, conflict=conflict, notice=notice, history=history, remind_form=remind_form,
                names=names, applicant_users=applicant_users, show_author=show_author, author=author,
                attachments=attachments, chain=rounds, current_step=current,
                deadline_state=inbox_service.deadline_state(message, now, pol.due_soon_limit(now)),
                category=_classifier_names(message), back=_back(), now=now,
                reason_text=wf.rejection_reason_text(message.rejection_reason,
                                                     regulation_of(session, message.organization_id)),
                repeated_of=repeated_of, incident=incident_context(message),
                repeated_of_visible=bool(repeated_of) and inbox_service.can_view(session, actor, repeated_of.id))


def incident_context(message: Message) -> dict:
    from pos.views.staff_incidents import incident_context as context
    return context(message)


def _offer_label(name: str) -> str:
    return "Напомнить" if name == REMIND else wf.ACTION_LABELS[Action(name)]


def _classifier_names(message: Message) -> dict:
    session = db()
    return {"category": choices.category_names(session).get(message.category_id, ""),
            "subcategory": choices.subcategory_names(session).get(message.subcategory_id, "")}


def _render(message: Message, status: int = 200, **kwargs):
    """The whole page, or the fragment an htmx request aims at: the card or its actions."""
    return _page(card_context(message, **kwargs), status)


def _audit_card(context: dict) -> None:
    """A card that shows who wrote the message is a look at personal data: recorded (after the response)."""
    if context["author"] is not None:
        message = context["message"]
        pd_audit.note(current_user.id, "page", applicant_id=message.applicant_id, message_id=message.id)


def _page(context: dict, status: int = 200):
    if targeted("actions"):  # the buttons and the form only: no author in them
        return render_template("staff/_actions.html", **context), status
    _audit_card(context)
    if targeted("card"):
        return render_template("staff/_card.html", **context), status
    return render_template("staff/message.html", **context), status


# --- routes ------------------------------------------------------------------

@bp.get("/messages/<int:message_id>")
@staff_required
def message(message_id: int):
    return _render(_message_or_404(message_id))


@bp.get("/messages/<int:message_id>/act/<action>")
@staff_required
def action_form(message_id: int, action: str):
    """One action's form opened: in place with htmx, on the message page without JavaScript. Its POST goes
    to the action's own URL (`act`)."""
    message = _message_or_404(message_id)
    if action != REMIND and action not in FORMS:
        abort(404)
    if action == Action.CHANGE_CATEGORY and targeted(SUBCATEGORY_TARGET):
        form = FORMS[Action.CHANGE_CATEGORY](formdata=request.args, prefix=action, meta={"csrf": False})
        follow_category(form, message)
        return render_template("staff/_subcategory.html", field_id=SUBCATEGORY_TARGET, sub=form.subcategory_id,
                               hint="Срок ответа будет пересчитан.")
    context = card_context(message, open_action=action)
    if context["open_action"] == action:
        return _page(context)
    # Someone acted meanwhile (or the link is old): say so, and offer what is possible now.
    context["conflict"] = (f"Действие «{_offer_label(action)}» сейчас вам недоступно: сообщение уже "
                           f"на другом этапе или у другого сотрудника. Карточка обновлена.")
    if targeted("actions"):  # the whole card is stale, not just its actions
        _audit_card(context)
        return htmx_make_response(render_template("staff/_card.html", **context), 409, retarget="#card",
                                  reswap="outerHTML")
    return _page(context, 409)


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
    if action == Action.CHANGE_CATEGORY and request.form.get("refresh"):
        return _render(message, posted=(action, form))  # only the subcategories were asked for: nothing applied
    if not form.validate():
        return _render(message, 422, posted=(action, form))
    try:
        messages.act(session, env(), current_user, message.id, action, form.params(),
                     expected_version=params.id_or_none(form.version.data), uploads=_uploads(form))
    except wf.NotAllowed as exc:
        if targeted("card"):
            return _render(message, 403, conflict=str(exc))
        return error_page(403, "Действие недоступно", str(exc))
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
    # The message has left this person's sight («Вернуть», an approved transfer): back to the list. An htmx
    # request gets this redirect as HX-Location (pos.web.htmx_redirect), never the list inside the card.
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
    message = _message_or_404(row.message_id)
    # A file may name the applicant (a scan, a letter, its very name): the files go with the identity.
    if not _access(message).identity:
        abort(403)
    path = files.path_of(env().upload_dir, row.storage_key)
    if not path.exists():
        abort(404)
    if message.applicant_id:
        pd_audit.note(current_user.id, "attachment", applicant_id=message.applicant_id, message_id=message.id,
                      attachment_id=row.id, detail=f"{'заявителя' if row.kind == 'applicant' else 'к ответу'}")
    response = send_file(path, mimetype=row.content_type, as_attachment=True,
                         download_name=files.download_name(row.filename, row.content_type), max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- words for the templates ------------------------------------------------------------

STEP_STATUS = {"pending": "ожидает", "agreed": "согласовано", "approved": "утверждено", "rejected": "отклонено",
               "cancelled": "не потребовалось"}
PAST_EXTRA = {"deadlines_recomputed": "Сроки пересчитаны", reminders.REMINDER: "Напоминание куратора",
              **incidents.PAST, **public_reply.PAST}


def history_details(entry: HistoryEntry, names: dict[int, str]) -> list[str]:
    """The particulars of one history entry, in words."""
    d = entry.details or {}

    def org_name(org_id):
        return choices.org_short_name(db(), org_id) or "—"
    lines = []
    if d.get("reason") and entry.action == Action.REJECT:
        lines.append(f"Причина: {wf.rejection_reason_text(d['reason'], regulation_of(db(), entry.to_org_id))}")
    if isinstance(d.get("category"), dict):
        category_id, subcategory_id = d["category"]["to"][0], d["category"]["to"][1]
        lines.append(f"Категория: {choices.category_names(db()).get(category_id) or '—'} / "
                     f"{choices.subcategory_names(db()).get(subcategory_id) or '—'}")
    if d.get("executor_id"):
        lines.append(f"Исполнитель: {names.get(d['executor_id'], '—')}")
    if d.get("result"):
        lines.append(f"Результат: {result_text(d['result'], _day(d.get('postponed_until'))) or d['result']}")
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
    if isinstance(d.get("answered"), dict) and d["answered"].get("on_time") is not None:
        lines.append("Ответ дан в срок" if d["answered"]["on_time"] else "Ответ дан с нарушением срока")
    if isinstance(d.get("answer_due"), dict) and d["answer_due"].get("from"):
        lines.append(f"Срок ответа пересчитан ({d['answer_due'].get('reason', '')}): "
                     f"{_moment(d['answer_due']['from'])} → {_moment(d['answer_due']['to'])}")
    if d.get("comment"):
        lines.append(f"Комментарий: «{d['comment']}»")
    if entry.action in PAST_EXTRA and d.get("other_number"):
        lines.append(f"Инцидент: {d['other_number']}")
    if entry.action in public_reply.PAST:
        if d.get("url"):
            lines.append(f"Ссылка: {d['url']}")
        if d.get("reason"):
            lines.append(f"Причина: {d['reason']} (попытка {d.get('attempt', 1)})")
    if entry.action == reminders.REMINDER:
        lines.append(f"Кому: {names.get(d['user_id'], '—')}" if d.get("user_id") else "Кому: все координаторы")
        if d.get("text"):
            lines.append(f"Текст: «{d['text']}»")
    return lines


def _numbers(ids) -> dict[int, str]:
    """Message numbers for the history's links (a repeat and its first message)."""
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    return dict(db().exec(select(Message.id, Message.number).where(Message.id.in_(ids))).all())


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except (TypeError, ValueError):
        return None


def _date(value: str) -> str:
    day = _day(value)
    return f"{day:%d.%m.%Y}" if day else value


def _moment(value: str) -> str:
    from datetime import datetime
    from pos.views.staff import local_datetime
    try:
        return local_datetime(datetime.fromisoformat(value))
    except ValueError:
        return value


@bp.context_processor
def _words():
    tz = current_app.config["TIMEZONE"]  # once, not for every row of a list
    return dict(words=dict(stages={k.value: v for k, v in wf.STAGE_LABELS.items()},
                           actions=wf.ACTION_LABELS,
                           past={**{k.value: v for k, v in wf.ACTION_PAST.items()}, **PAST_EXTRA},
                           sources=SOURCE_LABELS,
                           step_status=STEP_STATUS,
                           active=[s.value for s in wf.ACTIVE_STAGES]),
                waits_for=lambda m, names: inbox_service.waits_for(m, lambda uid: names.get(uid, "—")),
                ending_lines=lambda m: endings.ending_lines(m, tz),
                numbers=lambda ids: _numbers(ids),
                history_details=history_details, result_text=result_text, initials=initials)
