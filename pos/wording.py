"""How the interface names people and internal values in Russian, the same way on every page."""
from __future__ import annotations

from datetime import date

from pos.workflow import RESULT_LABELS, Result


def person_label(full_name: str, position: str | None) -> str:
    """«Фамилия Имя Отчество — должность»: who is who in every picker of staff."""
    return f"{full_name} — {position}" if position else full_name


def initials(full_name: str | None) -> str:
    """«Лебедева И. О.»: a name that reads right in any grammatical case."""
    if not full_name:
        return "—"
    surname, *given = full_name.split()
    return " ".join([surname, *(f"{part[0]}." for part in given if part)])


def result_text(result: str | None, postponed_until: date | None = None) -> str:
    """The result of consideration as shown with its date: «отложено до 20.01.2027», not the form's wording
    «отложено (до определенной даты)», which names the choice rather than the outcome."""
    if not result:
        return ""
    try:
        result = Result(result)
    except ValueError:
        return ""
    if result == Result.POSTPONED and postponed_until:
        return f"отложено до {postponed_until:%d.%m.%Y}"
    return RESULT_LABELS.get(result, "")


# Where a message came from (Message.source): the analytics «Сводка» and the inbox filter.
SOURCE_LABELS = {"web": "сайт", "embed": "встроенная форма", "api": "API", "seed": "демо", "internet": "интернет"}
# What a message is (Message.kind): an official message, or an incident made of public internet posts (2.2.5).
KIND_LABELS = {"message": "сообщение", "incident": "инцидент"}

# The background queue's states (pos.models.infra.OutboxEvent.status), for the administrator.
OUTBOX_STATUS = {
    "pending": "ожидает отправки",
    "sent": "передано в очередь",
    "running": "выполняется",
    "done": "доставлено",
    "failed": "не доставлено",
}
OUTBOX_KINDS = {"notify": "уведомление"}
# The events a notification is sent for (pos.services.notifications.KINDS).
OUTBOX_EVENTS = {
    "accepted": "сообщение принято",
    "rejected": "сообщение отклонено",
    "redirected": "сообщение перенаправлено",
    "answered": "ответ дан",
    "postponed": "рассмотрение отложено",
    "resumed": "исполнение возобновлено",
    "inbox": "поступило в работу",
    "reminder": "напоминание куратора",
    "due_soon": "срок истекает",
    "overdue": "срок истёк",
    "escalated": "передано куратору",
    "vote_opened": "началось голосование или опрос",
    "vote_results": "опубликованы итоги голосования или опроса",
    "public_reply": "публикация ответа на инцидент",
}

# The record of administrative changes (pos.models.admin.AdminChange): what was changed, and how.
ADMIN_ENTITIES = {
    "organization": "организация",
    "user": "пользователь",
    "role_grant": "роль",
    "category": "категория",
    "subcategory": "подкатегория",
    "accelerated": "ускоренный срок",
    "stage_deadline": "срок этапа",
    "calendar_day": "календарь",
    "answer_template": "шаблон ответа",
    "api_client": "клиент API",
}
ADMIN_ACTIONS = {
    "create": "создание",
    "edit": "изменение",
    "rename": "переименование",
    "move": "перемещение",
    "close": "закрытие",
    "reopen": "открытие",
    "competence": "компетенция",
    "regulation": "регламент",
    "deactivate": "деактивация",
    "reactivate": "активация",
    "reset_password": "сброс пароля",
    "grant": "выдача роли",
    "revoke": "отзыв роли",
    "retire": "вывод из употребления",
    "restore": "возврат в употребление",
    "set": "установка",
    "unset": "снятие",
}
