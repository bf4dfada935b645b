"""The words of the regulations: stages, roles, results, rejection reasons, actions."""
from enum import StrEnum

class Stage(StrEnum):
    MODERATION = "moderation"
    COORDINATION = "coordination"
    EXECUTION = "execution"
    AGREEMENT = "agreement"
    APPROVAL = "approval"
    POSTPONED = "postponed"
    REJECTED = "rejected"
    ANSWERED = "answered"
    # An incident the moderator closed as needing no answer («не требует ответа», incidents only).
    CLOSED = "closed"


STAGE_LABELS = {
    Stage.MODERATION: "Модерация",
    Stage.COORDINATION: "Координация",
    Stage.EXECUTION: "Исполнение",
    Stage.AGREEMENT: "Согласование",
    Stage.APPROVAL: "Утверждение",
    Stage.POSTPONED: "Отложено",
    Stage.REJECTED: "Отклонено модератором",
    Stage.ANSWERED: "Ответ дан",
    Stage.CLOSED: "Не требует ответа",
}
ACTIVE_STAGES = (Stage.MODERATION, Stage.COORDINATION, Stage.EXECUTION, Stage.AGREEMENT, Stage.APPROVAL)
FINAL_STAGES = (Stage.REJECTED, Stage.ANSWERED, Stage.CLOSED)


class Role(StrEnum):
    MODERATOR = "moderator"
    COORDINATOR = "coordinator"
    EXECUTOR = "executor"
    HEAD = "head"
    CURATOR = "curator"
    ANALYST = "analyst"
    PUBLISHER = "publisher"
    ADMINISTRATOR = "administrator"


ROLE_LABELS = {
    Role.MODERATOR: "Модератор",
    Role.COORDINATOR: "Координатор",
    Role.EXECUTOR: "Исполнитель",
    Role.HEAD: "Руководитель",
    Role.CURATOR: "Куратор",
    Role.ANALYST: "Аналитик ЦУР",
    Role.PUBLISHER: "Организатор голосований и опросов",
    Role.ADMINISTRATOR: "Администратор",
}
# Roles that belong to the whole platform rather than to one organization.
PLATFORM_ROLES = (Role.MODERATOR, Role.ANALYST, Role.ADMINISTRATOR)


class Result(StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    POSTPONED = "postponed"
    REJECTED = "rejected"


RESULT_LABELS = {
    Result.RESOLVED: "решено",
    Result.NOT_RESOLVED: "не решено",
    Result.POSTPONED: "отложено (до определенной даты)",
    Result.REJECTED: "отклонено",
}

# The regulations, by the code a jurisdiction (an organization tree's root) carries.
REGULATION_AMUR = "amur-232"  # decree 232: the region's executive bodies (ИОГВ) and their organizations
REGULATION_TYNDA = "tynda-608"  # decree 608: the city administration and its bodies
# The platform's own regulation, for what belongs to no jurisdiction yet: the moderator works for the
# platform's operator, and a message nobody has routed was never addressed to the city, so the regional
# decree 232 (the platform's founding regulation) governs it, e.g. an unrouted message rejected in moderation.
DEFAULT_REGULATION = REGULATION_AMUR

_REASONS_COMMON = {
    "а": "в сообщении содержатся нецензурные либо оскорбительные выражения, угрозы жизни, "
         "здоровью и имуществу должностного лица, а также членов его семьи",
    "б": "текст сообщения не поддается прочтению",
    "в": "текст сообщения написан на языке, отличном от государственного языка Российской "
         "Федерации, а также неразборчив (непонятен) или не позволяет определить суть сообщения",
    "г": "текст сообщения не содержит конкретных фактов, на основании которых может быть "
         "проведена проверка по вопросу, указанному в сообщении",
    "д": "текст сообщения содержит информацию, направленную на пропаганду ненависти и "
         "дискриминации по расовому, этническому, половому, религиозному, социальному признакам, "
         "ущемление прав меньшинств, несовершеннолетних, причиняющую или призывающую к причинению "
         "вреда в любой форме, оскорбления в адрес {insulted}",
    "е": "сообщение нарушает законодательство Российской Федерации",
    "ж": "сообщение содержит персональные данные третьих лиц, распространяемые без их согласия",
    "з": "сообщение содержит послания, просьбы, прошения личного характера",
}
# Clause 3.3, 1) of each regulation, word for word: they differ only in whom reason д) protects.
REJECTION_REASONS_BY_REGULATION = {
    regulation: {code: text.format(insulted=insulted) for code, text in _REASONS_COMMON.items()}
    for regulation, insulted in ((REGULATION_AMUR, "ИОГВ и организаций"),
                                 (REGULATION_TYNDA, "Администрации и учреждений"))
}
# The reasons are stored by their letter; this is the platform's default wording (DEFAULT_REGULATION).
# Show a message's reason with `rejection_reasons(regulation)` of its jurisdiction instead.
REJECTION_REASONS = REJECTION_REASONS_BY_REGULATION[DEFAULT_REGULATION]


def rejection_reasons(regulation: str | None) -> dict[str, str]:
    """The eight reasons а)–з) in the words of `regulation` (the platform's default when unknown)."""
    return REJECTION_REASONS_BY_REGULATION.get(regulation or "", REJECTION_REASONS)


def rejection_reason_text(code: str | None, regulation: str | None) -> str:
    """«д) текст сообщения …» in the words of `regulation`; "" for no or an unknown letter."""
    text = rejection_reasons(regulation).get(code or "")
    return f"{code}) {text}" if text else ""


class Action(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    CHANGE_ORGANIZATION = "change_organization"
    CHANGE_CATEGORY = "change_category"
    ASSIGN_EXECUTOR = "assign_executor"
    TAKE = "take"
    TRANSFER = "transfer"
    SEND_FOR_APPROVAL = "send_for_approval"
    RETURN = "return"
    PREPARE_ANSWER = "prepare_answer"
    AGREE = "agree"
    REJECT_AGREEMENT = "reject_agreement"
    DELEGATE_AGREEMENT = "delegate_agreement"
    APPROVE = "approve"
    REJECT_APPROVAL = "reject_approval"
    DELEGATE_APPROVAL = "delegate_approval"
    RESUME = "resume"
    RATE = "rate"
    REPEAT = "repeat"
    CLOSE_NO_ANSWER = "close_no_answer"  # incidents only


# The button labels of DESIGN.md section 3.
ACTION_LABELS = {
    Action.SUBMIT: "Подать сообщение",
    Action.ACCEPT: "Принять",
    Action.REJECT: "Отклонить",
    Action.CHANGE_ORGANIZATION: "Изменить исполнителя",
    Action.CHANGE_CATEGORY: "Изменить категорию",
    Action.ASSIGN_EXECUTOR: "Назначить исполнителя",
    Action.TAKE: "Взять в работу",
    Action.TRANSFER: "Перенаправить",
    Action.SEND_FOR_APPROVAL: "Направить на согласование и утверждение",
    Action.RETURN: "Вернуть",
    Action.PREPARE_ANSWER: "Подготовить ответ",
    Action.AGREE: "Согласовать",
    Action.REJECT_AGREEMENT: "Отклонить",
    Action.DELEGATE_AGREEMENT: "Передать право согласования",
    Action.APPROVE: "Утвердить",
    Action.REJECT_APPROVAL: "Отклонить",
    Action.DELEGATE_APPROVAL: "Передать право утверждения",
    Action.RESUME: "Возобновить исполнение",
    Action.RATE: "Оценить ответ",
    Action.REPEAT: "Подать повторное сообщение",
    Action.CLOSE_NO_ANSWER: "Не требует ответа",
}

# Words for the history timeline (what happened, in the past tense).
ACTION_PAST = {
    Action.SUBMIT: "Сообщение поступило",
    Action.ACCEPT: "Принято на этап координации",
    Action.REJECT: "Отклонено модератором",
    Action.CHANGE_ORGANIZATION: "Изменён исполнитель (организация)",
    Action.CHANGE_CATEGORY: "Изменена категория",
    Action.ASSIGN_EXECUTOR: "Назначен исполнитель",
    Action.TAKE: "Взято в работу координатором",
    Action.TRANSFER: "Направлено на перенаправление",
    Action.SEND_FOR_APPROVAL: "Направлено на согласование и утверждение",
    Action.RETURN: "Возвращено организации",
    Action.PREPARE_ANSWER: "Подготовлен ответ",
    Action.AGREE: "Согласовано",
    Action.REJECT_AGREEMENT: "Отклонено при согласовании",
    Action.DELEGATE_AGREEMENT: "Передано право согласования",
    Action.APPROVE: "Утверждено",
    Action.REJECT_APPROVAL: "Отклонено при утверждении",
    Action.DELEGATE_APPROVAL: "Передано право утверждения",
    Action.RESUME: "Возвращено в исполнение по наступлении даты",
    Action.RATE: "Ответ оценён заявителем",
    Action.REPEAT: "Подано повторное сообщение",
    Action.CLOSE_NO_ANSWER: "Закрыто модератором: не требует ответа",
}



POOR_RATING_MAX = 3  # 1–3 of 5 is a poor rating: a repeated message may follow
MAX_TEXT = 4000
MAX_COMMENT = 2000

__all__ = ['Stage', 'STAGE_LABELS', 'ACTIVE_STAGES', 'FINAL_STAGES', 'Role', 'ROLE_LABELS', 'PLATFORM_ROLES', 'Result', 'RESULT_LABELS', 'REJECTION_REASONS', 'REJECTION_REASONS_BY_REGULATION', 'REGULATION_AMUR', 'REGULATION_TYNDA', 'DEFAULT_REGULATION', 'rejection_reasons', 'rejection_reason_text', 'Action', 'ACTION_LABELS', 'ACTION_PAST', 'POOR_RATING_MAX', 'MAX_TEXT', 'MAX_COMMENT']
