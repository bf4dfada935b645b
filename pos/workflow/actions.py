"""Applying an action: validate the parameters, then change the message and say what changed."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Callable, Iterable

from pos.public_text import public_text_error
from pos.workflow.rules import (Actor, Directory, Event, Grant, Invalid, NotAllowed, OrgInfo, Outcome,
                                answered_on_time, current_step, current_steps, is_incident, why_not)
from pos.workflow.vocabulary import (ACTIVE_STAGES, MAX_COMMENT, MAX_TEXT, REJECTION_REASONS, Action,
                                     Result, Role, Stage)

# --- helpers for parameters ----------------------------------------------------

# Control characters have no place in a message (and PostgreSQL refuses NUL); line breaks and tabs stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(params: dict, name: str, label: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = _CONTROL.sub("", str(params.get(name) or "")).strip()
    if required and not value:
        raise Invalid(f"Заполните поле «{label}».", name)
    if len(value) > limit:
        raise Invalid(f"Поле «{label}» длиннее {limit} символов.", name)
    return value


def _int(params: dict, name: str, label: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise Invalid(f"Выберите значение поля «{label}».", name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(f"Неверное значение поля «{label}».", name) from None


def _active_org(ctx: Directory, org_id: int | None, name: str) -> OrgInfo:
    org = ctx.org(org_id)
    if org is None or not org.is_active:
        raise Invalid("Выберите действующую организацию.", name)
    return org


def _check_classification(ctx: Directory, category_id: int | None, subcategory_id: int | None) -> None:
    if category_id is None or not ctx.category_exists(category_id):
        raise Invalid("Выберите категорию сообщения.", "category_id")
    if subcategory_id is None:
        raise Invalid("Выберите подкатегорию сообщения.", "subcategory_id")
    if ctx.category_of(subcategory_id) != category_id:
        raise Invalid("Подкатегория не относится к выбранной категории.", "subcategory_id")


def is_head_for(grants: Iterable[Grant], org_id: int | None, category_id: int | None) -> bool:
    """A head of `org_id` entitled to messages of `category_id`."""
    for g in grants:
        if g.role == Role.HEAD and g.organization_id == org_id:
            if not g.category_ids or category_id in g.category_ids:
                return True
    return False


def _check_chain(ctx: Directory, message, actor: Actor, params: dict) -> tuple[int, list[int]]:
    """The approving head and the ordered agreeing heads, validated."""
    approver_id = _int(params, "approver_id", "Утверждающий руководитель")
    if not is_head_for(ctx.grants_of(approver_id), message.organization_id, message.category_id):
        raise Invalid("Утверждающим может быть только руководитель этой организации, "
                      "имеющий право утверждения по категории сообщения.", "approver_id")
    agreeing: list[int] = []
    for raw in params.get("agreeing_ids") or []:
        if raw in (None, ""):
            continue
        try:
            head_id = int(raw)
        except (TypeError, ValueError):
            raise Invalid("Неверный список согласующих.", "agreeing_ids") from None
        if head_id in agreeing:
            raise Invalid("Руководитель указан в списке согласующих дважды.", "agreeing_ids")
        if head_id == approver_id:
            raise Invalid("Утверждающий руководитель не может быть в списке согласующих.", "agreeing_ids")
        if not any(g.role == Role.HEAD and g.organization_id == message.organization_id
                   for g in ctx.grants_of(head_id)):
            raise Invalid("Согласующими могут быть только руководители этой организации.", "agreeing_ids")
        agreeing.append(head_id)
    return approver_id, agreeing


def _check_public(message, text: str) -> None:
    """An incident's answer is published on the internet: no personal data of anyone in it."""
    if is_incident(message) and (error := public_text_error(text)):
        raise Invalid(error, "answer_text")


def _kind(message) -> str:
    return getattr(message, "kind", None) or "message"


def _answer_fields(ctx: Directory, params: dict) -> dict:
    try:
        result = Result(params.get("result") or "")
    except ValueError:
        raise Invalid("Выберите результат рассмотрения.", "result") from None
    fields = {
        "result": result,
        "answer_text": _text(params, "answer_text", "Текст ответа"),
        "executor_position": _text(params, "executor_position", "Должность исполнителя", limit=300),
        "executor_name": _text(params, "executor_name", "Фамилия, имя, отчество исполнителя", limit=300),
        "comment": _text(params, "comment", "Комментарий", required=False, limit=MAX_COMMENT),
        "postponed_until": None,
    }
    if result == Result.POSTPONED:
        until = params.get("postponed_until")
        if isinstance(until, str) and until:
            try:
                until = date.fromisoformat(until)
            except ValueError:
                raise Invalid("Неверная дата, до которой отложено.", "postponed_until") from None
        if not isinstance(until, date):
            raise Invalid("Укажите дату, до которой отложено рассмотрение.", "postponed_until")
        if until <= ctx.deadlines.local_today(ctx.now):
            raise Invalid("Дата, до которой отложено, должна быть позже сегодняшней.", "postponed_until")
        latest = ctx.deadlines.latest_postponement(ctx.now)
        if until > latest:
            raise Invalid(f"Рассмотрение можно отложить не более чем на {ctx.deadlines.max_postpone_days} дн.: "
                          f"укажите дату не позднее {latest:%d.%m.%Y}.", "postponed_until")
        fields["postponed_until"] = until
    return fields


# --- changing the message -------------------------------------------------------

def _jurisdiction(ctx: Directory, org_id: int | None) -> int | None:
    org = ctx.org(org_id)
    return org.root_id if org else None


def _active_stage_due(message, ctx: Directory) -> datetime:
    """The stage's own deadline, never later than the answer's."""
    due = ctx.deadlines.stage_due(message.stage, message.stage_entered_at, _jurisdiction(ctx, message.organization_id),
                                  _kind(message))
    return min(due, message.answer_due_at)


def _enter(message, stage: Stage, ctx: Directory) -> None:
    message.stage = stage
    message.stage_entered_at = ctx.now
    if stage in ACTIVE_STAGES:
        message.stage_due_at = _active_stage_due(message, ctx)
    elif stage == Stage.POSTPONED:
        message.stage_due_at = ctx.deadlines.end_of_local_day(message.postponed_until)
    else:
        message.stage_due_at = message.answer_due_at


def _recompute_answer_due(message, ctx: Directory, outcome: Outcome, reason: str,
                          start: datetime | None = None, *, record: bool = False) -> None:
    """Set the answer deadline (accelerated per the handling jurisdiction), recording any change
    (and, with `record`, recording it even if it came out the same: a new period that began)."""
    jurisdiction = _jurisdiction(ctx, message.organization_id)
    accelerated = ctx.is_accelerated(message.subcategory_id, jurisdiction)
    due = ctx.deadlines.answer_due(start or message.received_at, accelerated, _kind(message), jurisdiction)
    if record or due != message.answer_due_at or accelerated != message.accelerated:
        outcome.details["answer_due"] = {
            "from": message.answer_due_at.isoformat(sep=" ", timespec="minutes") if message.answer_due_at else None,
            "to": due.isoformat(sep=" ", timespec="minutes"),
            "accelerated": accelerated,
            "reason": reason,
        }
        if start is not None:
            outcome.details["answer_due"]["counted_from"] = start.isoformat(sep=" ", timespec="minutes")
        message.answer_due_at = due
        message.accelerated = accelerated
        if message.stage in ACTIVE_STAGES:
            # The stage may stay (a category change): its deadline must follow the new answer deadline.
            message.stage_due_at = _active_stage_due(message, ctx)


def _sync_assignee(message, steps) -> None:
    step = current_step(message, steps)
    if step is not None:
        message.assignee_id = step.head_id
    elif message.stage in (Stage.EXECUTION, Stage.POSTPONED):
        message.assignee_id = message.executor_id
    else:
        message.assignee_id = None


def _start_chain(message, ctx: Directory, outcome: Outcome, purpose: str,
                 approver_id: int, agreeing: list[int]) -> Stage:
    message.chain_round = (message.chain_round or 0) + 1
    message.chain_purpose = purpose
    for position, head_id in enumerate(agreeing, start=1):
        outcome.new_steps.append(ctx.new_step(message_id=message.id, round=message.chain_round,
                                              position=position, kind="agree", head_id=head_id,
                                              status="pending"))
    outcome.new_steps.append(ctx.new_step(message_id=message.id, round=message.chain_round,
                                          position=len(agreeing) + 1, kind="approve",
                                          head_id=approver_id, status="pending"))
    outcome.details["approver_id"] = approver_id
    outcome.details["agreeing_ids"] = agreeing
    first = agreeing[0] if agreeing else approver_id
    outcome.events.append(Event("inbox", user_ids=(first,)))
    return Stage.AGREEMENT if agreeing else Stage.APPROVAL


def _clear_answer(message) -> None:
    for name in ("result", "postponed_until"):
        setattr(message, name, None)
    for name in ("answer_text", "executor_position", "executor_name", "comment"):
        setattr(message, name, "")


def _back_from_chain(message, outcome: Outcome, comment: str) -> Stage:
    """A head's «Отклонить»: an answer goes back to execution, a transfer to coordination."""
    outcome.details["comment"] = comment
    if message.chain_purpose == "transfer":
        outcome.details["transfer_to_id"] = message.transfer_to_id
        message.transfer_to_id = None
        message.chain_purpose = None
        outcome.events.append(Event("inbox", org_role=(message.organization_id, Role.COORDINATOR)))
        return Stage.COORDINATION
    message.chain_purpose = None
    outcome.events.append(Event("inbox", user_ids=(message.executor_id,)))
    return Stage.EXECUTION


def apply(action: Action, actor: Actor, message, steps: list, params: dict | None,
          ctx: Directory) -> Outcome:
    """Apply `action`; raise `Refused` (and change nothing) when it may not be applied."""
    params = params or {}
    reason = why_not(action, actor, message, steps, ctx)
    if reason is not None:
        raise NotAllowed(reason)
    outcome = Outcome(action, message.stage, message.stage, message.organization_id, message.organization_id)
    to_stage = _HANDLERS[action](actor, message, steps, params, ctx, outcome)
    if to_stage != message.stage or action in RESTARTS_STAGE:
        _enter(message, to_stage, ctx)
    _sync_assignee(message, list(steps) + outcome.new_steps)
    if is_incident(message):  # no applicant to tell: the public answer goes where the posts were
        outcome.events = [e for e in outcome.events if not e.to_applicant]
    outcome.to_stage = message.stage
    outcome.to_org_id = message.organization_id
    return outcome


# Actions that keep the stage but hand it to someone new: the stage clock restarts (a new stage
# passage for the analytics, pos/facts.py).
RESTARTS_STAGE = frozenset({Action.RETURN, Action.AGREE, Action.DELEGATE_AGREEMENT, Action.DELEGATE_APPROVAL})


def _accept(actor, message, steps, params, ctx, outcome):
    _check_classification(ctx, message.category_id, message.subcategory_id)
    org_id = _int(params, "organization_id", "Организация", required=False) or message.organization_id
    org = _active_org(ctx, org_id, "organization_id")
    message.organization_id = org.id
    _recompute_answer_due(message, ctx, outcome, "определена организация, рассматривающая сообщение")
    outcome.events += [Event("accepted", to_applicant=True),
                       Event("inbox", org_role=(org.id, Role.COORDINATOR))]
    return Stage.COORDINATION


def _reject(actor, message, steps, params, ctx, outcome):
    code = (params.get("reason") or "").strip()
    if code not in REJECTION_REASONS:
        raise Invalid("Выберите причину отклонения (подпункты «а»–«з» пункта 3.3).", "reason")
    comment = _text(params, "comment", "Комментарий", required=False, limit=MAX_COMMENT)
    message.rejection_reason = code
    outcome.details.update(reason=code, comment=comment)
    outcome.events.append(Event("rejected", to_applicant=True, data={"reason": code}))
    return Stage.REJECTED


def _close_no_answer(actor, message, steps, params, ctx, outcome):
    comment = _text(params, "comment", "Комментарий", limit=MAX_COMMENT)
    outcome.details["comment"] = comment
    return Stage.CLOSED


def _change_organization(actor, message, steps, params, ctx, outcome):
    _check_classification(ctx, message.category_id, message.subcategory_id)
    org = _active_org(ctx, _int(params, "organization_id", "Организация"), "organization_id")
    if org.id == message.organization_id:
        raise Invalid("Сообщение уже адресовано этой организации; выберите другую или нажмите «Принять».",
                      "organization_id")
    message.organization_id = org.id
    _recompute_answer_due(message, ctx, outcome, "изменена организация, рассматривающая сообщение")
    outcome.events += [Event("accepted", to_applicant=True),
                       Event("inbox", org_role=(org.id, Role.COORDINATOR))]
    return Stage.COORDINATION


def _change_category(actor, message, steps, params, ctx, outcome):
    category_id = _int(params, "category_id", "Категория")
    subcategory_id = _int(params, "subcategory_id", "Подкатегория")
    _check_classification(ctx, category_id, subcategory_id)
    if (category_id, subcategory_id) == (message.category_id, message.subcategory_id):
        raise Invalid("Категория и подкатегория не изменились.", "subcategory_id")
    outcome.details["category"] = {"from": [message.category_id, message.subcategory_id],
                                   "to": [category_id, subcategory_id]}
    message.category_id, message.subcategory_id = category_id, subcategory_id
    if message.organization_id is None:
        message.organization_id = ctx.route(category_id)
    _recompute_answer_due(message, ctx, outcome, "изменена категория сообщения")
    return Stage.MODERATION


def _assign_executor(actor, message, steps, params, ctx, outcome):
    executor_id = _int(params, "executor_id", "Исполнитель")
    grants = ctx.grants_of(executor_id)
    if not any(g.role in (Role.EXECUTOR, Role.COORDINATOR) and g.organization_id == message.organization_id
               for g in grants):
        raise Invalid("Исполнителем может быть только сотрудник этой организации с ролью исполнителя.",
                      "executor_id")
    message.executor_id = executor_id
    outcome.details["executor_id"] = executor_id
    outcome.events.append(Event("inbox", user_ids=(executor_id,)))
    return Stage.EXECUTION


def _take(actor, message, steps, params, ctx, outcome):
    message.executor_id = actor.user_id
    outcome.details["executor_id"] = actor.user_id
    return Stage.EXECUTION


def _transfer(actor, message, steps, params, ctx, outcome):
    target = _active_org(ctx, _int(params, "organization_id", "Организация"), "organization_id")
    if target.id == message.organization_id:
        raise Invalid("Выберите другую организацию: сообщение уже здесь.", "organization_id")
    comment = _text(params, "comment", "Комментарий", required=False, limit=MAX_COMMENT)
    approver_id, agreeing = _check_chain(ctx, message, actor, params)
    message.transfer_to_id = target.id
    outcome.details.update(transfer_to_id=target.id, comment=comment)
    return _start_chain(message, ctx, outcome, "transfer", approver_id, agreeing)


def _send_answer(actor, message, steps, params, ctx, outcome):
    """«Подготовить ответ» (the executor) and «Направить на согласование и утверждение» (the coordinator)."""
    fields = _answer_fields(ctx, params)
    _check_public(message, fields["answer_text"])
    approver_id, agreeing = _check_chain(ctx, message, actor, params)
    for name, value in fields.items():
        setattr(message, name, value)
    if action_is_coordinator_answer(outcome.action):
        message.executor_id = actor.user_id
    outcome.details.update(result=str(fields["result"]),
                           postponed_until=fields["postponed_until"].isoformat() if fields["postponed_until"] else None,
                           comment=fields["comment"])
    return _start_chain(message, ctx, outcome, "answer", approver_id, agreeing)


def action_is_coordinator_answer(action: Action) -> bool:
    return action == Action.SEND_FOR_APPROVAL


def _return(actor, message, steps, params, ctx, outcome):
    back_to = _active_org(ctx, message.passed_from_id, "organization_id")
    comment = _text(params, "comment", "Комментарий", required=False, limit=MAX_COMMENT)
    message.passed_from_id = None
    message.organization_id = back_to.id
    message.executor_id = None
    _recompute_answer_due(message, ctx, outcome, "сообщение возвращено организации")
    outcome.details["comment"] = comment
    outcome.events += [Event("redirected", to_applicant=True, data={"organization_id": back_to.id}),
                       Event("inbox", org_role=(back_to.id, Role.COORDINATOR))]
    return Stage.COORDINATION


def _edit_answer(message, params, outcome) -> None:
    text = _CONTROL.sub("", str(params.get("answer_text") or "")).strip()
    if not text or message.chain_purpose != "answer":
        return
    if len(text) > MAX_TEXT:
        raise Invalid(f"Поле «Текст ответа» длиннее {MAX_TEXT} символов.", "answer_text")
    _check_public(message, text)
    if text != message.answer_text:
        outcome.details["answer_edited"] = True
        message.answer_text = text


def _agree(actor, message, steps, params, ctx, outcome):
    step = current_step(message, steps)
    _edit_answer(message, params, outcome)
    step.status, step.decided_at = "agreed", ctx.now
    outcome.details["step"] = step.position
    remaining = [s for s in current_steps(message, steps) if s.status == "pending"]
    nxt = remaining[0]
    outcome.events.append(Event("inbox", user_ids=(nxt.head_id,)))
    return Stage.AGREEMENT if nxt.kind == "agree" else Stage.APPROVAL


def _reject_step(actor, message, steps, params, ctx, outcome):
    comment = _text(params, "comment", "Причина отклонения", limit=MAX_COMMENT)
    step = current_step(message, steps)
    step.status, step.decided_at, step.comment = "rejected", ctx.now, comment
    # The places after it will never get their turn in this round.
    for later in current_steps(message, steps):
        if later.status == "pending":
            later.status = "cancelled"
    return _back_from_chain(message, outcome, comment)


def _delegate(actor, message, steps, params, ctx, outcome):
    step = current_step(message, steps)
    head_id = _int(params, "head_id", "Руководитель")
    if head_id == actor.user_id:
        raise Invalid("Выберите другого руководителя.", "head_id")
    grants = ctx.grants_of(head_id)
    if step.kind == "approve":
        if not is_head_for(grants, message.organization_id, message.category_id):
            raise Invalid("Право утверждения можно передать только руководителю, имеющему право "
                          "утверждения сообщений данной категории.", "head_id")
    elif not any(g.role == Role.HEAD and g.organization_id == message.organization_id for g in grants):
        raise Invalid("Право согласования можно передать только руководителю этой организации.", "head_id")
    if any(s.head_id == head_id and s.status == "pending" for s in current_steps(message, steps)):
        raise Invalid("Этот руководитель уже есть в цепочке согласования.", "head_id")
    outcome.details.update(step=step.position, from_head_id=step.head_id, to_head_id=head_id)
    step.delegated_from_id, step.head_id = step.head_id, head_id
    outcome.events.append(Event("inbox", user_ids=(head_id,)))
    return message.stage


def _approve(actor, message, steps, params, ctx, outcome):
    step = current_step(message, steps)
    purpose = message.chain_purpose
    # Checked before anything changes: the target may have been closed since the transfer began.
    target = _active_org(ctx, message.transfer_to_id, "organization_id") if purpose == "transfer" else None
    _edit_answer(message, params, outcome)
    step.status, step.decided_at = "approved", ctx.now
    message.chain_purpose = None
    if target is not None:
        outcome.details.update(transfer_to_id=target.id)
        message.passed_from_id = message.organization_id
        message.organization_id = target.id
        message.transfer_to_id = None
        message.executor_id = None
        _clear_answer(message)
        _recompute_answer_due(message, ctx, outcome, "сообщение перенаправлено в другую организацию")
        outcome.events += [Event("redirected", to_applicant=True, data={"organization_id": target.id}),
                           Event("inbox", org_role=(target.id, Role.COORDINATOR))]
        return Stage.COORDINATION
    # The approved answer is the answer given, «отложено» included: when, against which deadline, on time or
    # not is recorded now (the analytics count it; a later return to execution starts a new period).
    message.answered_at = ctx.now
    outcome.details["answered"] = {
        "at": ctx.now.isoformat(sep=" ", timespec="minutes"),
        "due": message.answer_due_at.isoformat(sep=" ", timespec="minutes"),
        "on_time": answered_on_time(ctx.now, message.answer_due_at),
        "result": str(message.result) if message.result else None,
    }
    if message.result == Result.POSTPONED:
        outcome.details["postponed_until"] = message.postponed_until.isoformat()
        outcome.events.append(Event("postponed", to_applicant=True,
                                    data={"until": message.postponed_until.isoformat()}))
        return Stage.POSTPONED
    if is_incident(message):
        # The public answer goes where the posts were (pos/services/public_reply.py), through the outbox.
        outcome.events.append(Event("public_reply"))
        return Stage.ANSWERED
    outcome.events.append(Event("answered", to_applicant=True))
    return Stage.ANSWERED


def _resume(actor, message, steps, params, ctx, outcome):
    outcome.details["postponed_until"] = message.postponed_until.isoformat()
    # Clause 3.9 anew: 30 (or 10) calendar days from the return, not from the arrival long ago.
    _recompute_answer_due(message, ctx, outcome, "возврат на исполнение после отсрочки: срок ответа "
                          "исчисляется заново со дня возврата (п. 3.9)", start=ctx.now, record=True)
    message.result = None
    message.postponed_until = None
    outcome.events += [Event("resumed", to_applicant=True),
                       Event("inbox", user_ids=(message.executor_id,))]
    return Stage.EXECUTION


def _rate(actor, message, steps, params, ctx, outcome):
    try:
        rating = int(params.get("rating") or 0)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise Invalid("Выберите оценку от 1 до 5.", "rating")
    comment = _text(params, "comment", "Комментарий", required=False, limit=MAX_COMMENT)
    message.rating, message.rating_comment, message.rated_at = rating, comment, ctx.now
    outcome.details.update(rating=rating, comment=comment)
    return Stage.ANSWERED


def _repeat(actor, message, steps, params, ctx, outcome):
    text = _text(params, "text", "Текст сообщения")
    # The repeat goes back to the organization that answered. If it has been closed since,
    # or the classifier has changed, `submit` routes it anew instead of refusing the applicant.
    answering = ctx.org(message.organization_id)
    classified = (message.subcategory_id is not None
                  and ctx.category_of(message.subcategory_id) == message.category_id)
    outcome.new_message = {
        "text": text,
        "applicant_id": message.applicant_id,
        "address": message.address,
        "latitude": message.latitude,
        "longitude": message.longitude,
        "category_id": message.category_id if classified else None,
        "subcategory_id": message.subcategory_id if classified else None,
        "organization_id": answering.id if answering and answering.is_active else None,
        "repeated_of_id": message.id,
    }
    return Stage.ANSWERED


_HANDLERS: dict[Action, Callable[..., Stage]] = {
    Action.ACCEPT: _accept,
    Action.REJECT: _reject,
    Action.CHANGE_ORGANIZATION: _change_organization,
    Action.CHANGE_CATEGORY: _change_category,
    Action.ASSIGN_EXECUTOR: _assign_executor,
    Action.TAKE: _take,
    Action.TRANSFER: _transfer,
    Action.SEND_FOR_APPROVAL: _send_answer,
    Action.RETURN: _return,
    Action.PREPARE_ANSWER: _send_answer,
    Action.AGREE: _agree,
    Action.REJECT_AGREEMENT: _reject_step,
    Action.DELEGATE_AGREEMENT: _delegate,
    Action.APPROVE: _approve,
    Action.REJECT_APPROVAL: _reject_step,
    Action.DELEGATE_APPROVAL: _delegate,
    Action.RESUME: _resume,
    Action.RATE: _rate,
    Action.REPEAT: _repeat,
    Action.CLOSE_NO_ANSWER: _close_no_answer,
}


# --- a new message ----------------------------------------------------------------

def submit(fields: dict, ctx: Directory) -> tuple[dict, Outcome]:
    """Validate a new message and return its initial fields and the outcome.

    Every message enters moderation (clause 3.3: «На этап модерации поступают все
    сообщения»), a repeated one (`repeated_of_id` set) too: flagged, with the
    organization that answered preselected for the moderator's «Принять».
    """
    text = _text(fields, "text", "Текст сообщения")
    category_id = _int(fields, "category_id", "Категория", required=False)
    subcategory_id = _int(fields, "subcategory_id", "Подкатегория", required=False)
    if subcategory_id is not None:
        _check_classification(ctx, category_id, subcategory_id)
    elif category_id is not None and not ctx.category_exists(category_id):
        raise Invalid("Выберите категорию сообщения.", "category_id")
    org_id = _int(fields, "organization_id", "Организация", required=False)
    if org_id is not None:
        _active_org(ctx, org_id, "organization_id")
    else:
        org_id = ctx.route(category_id)
    repeated_of_id = fields.get("repeated_of_id")
    kind = fields.get("kind") or "message"
    stage = Stage.MODERATION
    jurisdiction = _jurisdiction(ctx, org_id)
    accelerated = ctx.is_accelerated(subcategory_id, jurisdiction)
    answer_due = ctx.deadlines.answer_due(ctx.now, accelerated, kind, jurisdiction)
    stage_due = min(ctx.deadlines.stage_due(stage, ctx.now, jurisdiction, kind), answer_due)
    initial = {
        "text": text,
        "address": (fields.get("address") or "").strip()[:500],
        "latitude": fields.get("latitude"),
        "longitude": fields.get("longitude"),
        "applicant_id": fields.get("applicant_id"),
        "category_id": category_id,
        "subcategory_id": subcategory_id,
        "organization_id": org_id,
        "stage": stage,
        "repeated_of_id": repeated_of_id,
        "is_repeated": bool(repeated_of_id),
        "kind": kind,
        "accelerated": accelerated,
        "received_at": ctx.now,
        "answer_due_at": answer_due,
        "stage_entered_at": ctx.now,
        "stage_due_at": stage_due,
    }
    outcome = Outcome(Action.SUBMIT, None, stage, None, org_id,
                      details={"answer_due": {"from": None, "to": answer_due.isoformat(sep=" ", timespec="minutes"),
                                              "accelerated": accelerated, "reason": "сообщение поступило"},
                               "repeated_of_id": repeated_of_id})
    return initial, outcome
