"""Staff forms: one per workflow action, plus the inbox filters.

Each action form is built with the action as its prefix, so several forms live on
one page with unique ids; `params()` gives the service the names it expects.
The workflow validates meaning (who may be chosen, dates); these forms validate shape.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, HiddenField, MultipleFileField, RadioField, SearchField,
                     StringField, TextAreaField)
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from pos.forms.fields import BoundedDateField, IdSelectField, SelectField
from pos.wording import SOURCE_LABELS, person_label
from pos.workflow import MAX_COMMENT, MAX_TEXT, REJECTION_REASONS, RESULT_LABELS, Action, Result

MAX_AGREEING = 5


class _RussianMeta:
    """WTForms' own Russian messages (Flask-WTF would want Flask-Babel for them)."""
    locales = ("ru_RU", "ru")

    def get_translations(self, form):
        return DefaultMeta.get_translations(self, form)


class ActionForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    version = HiddenField()

    def params(self) -> dict:
        """The service's parameters: every field but the technical ones."""
        skip = {"version", "csrf_token", "files", "template_id"}
        return {name: field.data for name, field in self._fields.items() if name not in skip}

    def uploads(self) -> list:
        return []


def _comment(label="Комментарий", required=False):
    validators = [DataRequired(f"Заполните поле «{label}».")] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, Length(max=MAX_COMMENT,
                                                                 message=f"Не длиннее {MAX_COMMENT} символов.")])


def _org_field(label="Организация", required=True):
    validators = [InputRequired("Выберите организацию.")] if required else [Optional()]
    return IdSelectField(label, validators=validators)


class AcceptForm(ActionForm):
    organization_id = _org_field("Организация, рассматривающая сообщение", required=False)


class RejectForm(ActionForm):
    reason = RadioField("Причина отклонения (пункт 3.3)", choices=list(REJECTION_REASONS.items()),
                        validators=[InputRequired("Выберите причину отклонения.")])
    comment = _comment()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [(code, f"{code}) {text}") for code, text in REJECTION_REASONS.items()]


class CloseNoAnswerForm(ActionForm):
    """«Не требует ответа»: incidents only (a post that names no problem to solve), with the moderator's reason."""
    comment = _comment("Комментарий", required=True)


class ChangeOrganizationForm(ActionForm):
    organization_id = _org_field("Новая организация")


class ChangeCategoryForm(ActionForm):
    category_id = IdSelectField("Категория", validators=[InputRequired("Выберите категорию.")])
    subcategory_id = IdSelectField("Подкатегория", validators=[InputRequired("Выберите подкатегорию.")])


class AssignExecutorForm(ActionForm):
    executor_id = IdSelectField("Исполнитель", validators=[InputRequired("Выберите исполнителя.")])


class TakeForm(ActionForm):
    pass


class ChainMixin:
    """The approving head and the ordered list of agreeing heads."""

    def setup_chain(self, heads, approvers):
        self.approver_id.choices = [("", "— выберите —")] + [(u.id, person_label(u.full_name, u.position))
                                                              for u in approvers]
        while len(self.agreeing) < min(MAX_AGREEING, max(len(heads) - 1, 1)):
            self.agreeing.append_entry()
        for index, entry in enumerate(self.agreeing, start=1):
            entry.choices = [("", "— не требуется —")] + [(u.id, person_label(u.full_name, u.position))
                                                          for u in heads]
            entry.label.text = f"Согласующий руководитель {index}"

    def chain_params(self) -> dict:
        return {"approver_id": self.approver_id.data,
                "agreeing_ids": [e.data for e in self.agreeing if e.data is not None]}


def _agreeing_list():
    return FieldList(IdSelectField("Согласующий руководитель"),
                     min_entries=1, max_entries=MAX_AGREEING)


def _approver():
    return IdSelectField("Утверждающий руководитель",
                         validators=[InputRequired("Выберите утверждающего руководителя.")])


class TransferForm(ChainMixin, ActionForm):
    organization_id = _org_field("Организация, в компетенцию которой входит вопрос")
    comment = _comment()
    approver_id = _approver()
    agreeing = _agreeing_list()

    def params(self) -> dict:
        return {"organization_id": self.organization_id.data, "comment": self.comment.data, **self.chain_params()}


class AnswerForm(ChainMixin, ActionForm):
    """«Подготовить ответ» (the executor) and «Направить на согласование и утверждение» (the coordinator)."""
    result = RadioField("Результат рассмотрения", choices=[(r.value, label) for r, label in RESULT_LABELS.items()],
                        validators=[InputRequired("Выберите результат рассмотрения.")])
    postponed_until = BoundedDateField("Отложено до", validators=[Optional()],
                                       description="Только для результата «отложено (до определенной даты)».")
    template_id = IdSelectField("Шаблон ответа",
                                description="Если текст ответа не заполнен, в ответ войдёт текст шаблона.")
    answer_text = TextAreaField("Текст ответа", validators=[
        Length(max=MAX_TEXT, message=f"Не длиннее {MAX_TEXT} символов.")])
    executor_position = StringField("Должность исполнителя", validators=[
        DataRequired("Укажите должность исполнителя."), Length(max=300)])
    executor_name = StringField("Фамилия, имя, отчество исполнителя", validators=[
        DataRequired("Укажите фамилию, имя, отчество исполнителя."), Length(max=300)])
    comment = _comment()
    files = MultipleFileField("Подтверждающие документы")
    approver_id = _approver()
    agreeing = _agreeing_list()

    def setup_templates(self, templates):
        self.template_id.choices = [("", "— без шаблона —")] + [(t.id, t.title) for t in templates]
        self._templates = {t.id: t.text for t in templates}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.answer_text.data or "").strip():
            chosen = getattr(self, "_templates", {}).get(self.template_id.data)
            if chosen:
                self.answer_text.data = chosen
            else:
                self.answer_text.errors = [*self.answer_text.errors,
                                           "Введите текст ответа или выберите шаблон."]
                ok = False
        if self.result.data == Result.POSTPONED and self.postponed_until.data is None \
                and not self.postponed_until.errors:
            self.postponed_until.errors = ["Укажите дату, до которой отложено рассмотрение."]
            ok = False
        return ok

    def params(self) -> dict:
        return {"result": self.result.data, "answer_text": self.answer_text.data,
                "executor_position": self.executor_position.data, "executor_name": self.executor_name.data,
                "comment": self.comment.data,
                "postponed_until": self.postponed_until.data if self.result.data == Result.POSTPONED else None,
                **self.chain_params()}


class ReturnForm(ActionForm):
    comment = _comment()


class AgreeForm(ActionForm):
    """«Согласовать» and «Утвердить»: the head may edit the answer first."""
    answer_text = TextAreaField("Текст ответа", validators=[
        Optional(), Length(max=MAX_TEXT, message=f"Не длиннее {MAX_TEXT} символов.")])
    files = MultipleFileField("Подтверждающие документы")


class ApproveForm(ActionForm):
    answer_text = TextAreaField("Текст ответа", validators=[
        Optional(), Length(max=MAX_TEXT, message=f"Не длиннее {MAX_TEXT} символов.")])


class RejectStepForm(ActionForm):
    comment = _comment("Причина отклонения", required=True)


class ReminderForm(FlaskForm):
    """The curator's «Напомнить»: not a workflow action, the stage stays."""
    class Meta(_RussianMeta):
        pass

    text = _comment("Текст напоминания")


class DelegateForm(ActionForm):
    head_id = IdSelectField("Руководитель", validators=[InputRequired("Выберите руководителя.")])


FORMS: dict[Action, type[ActionForm]] = {
    Action.ACCEPT: AcceptForm,
    Action.REJECT: RejectForm,
    Action.CLOSE_NO_ANSWER: CloseNoAnswerForm,
    Action.CHANGE_ORGANIZATION: ChangeOrganizationForm,
    Action.CHANGE_CATEGORY: ChangeCategoryForm,
    Action.ASSIGN_EXECUTOR: AssignExecutorForm,
    Action.TAKE: TakeForm,
    Action.TRANSFER: TransferForm,
    Action.SEND_FOR_APPROVAL: AnswerForm,
    Action.RETURN: ReturnForm,
    Action.PREPARE_ANSWER: AnswerForm,
    Action.AGREE: AgreeForm,
    Action.REJECT_AGREEMENT: RejectStepForm,
    Action.DELEGATE_AGREEMENT: DelegateForm,
    Action.APPROVE: ApproveForm,
    Action.REJECT_APPROVAL: RejectStepForm,
    Action.DELEGATE_APPROVAL: DelegateForm,
}


class FilterForm(FlaskForm):
    """The inbox filters: a GET form, so the query string keeps the view."""
    class Meta(_RussianMeta):
        csrf = False

    stage = SelectField("Этап", validate_choice=False)
    category_id = IdSelectField("Категория")
    subcategory_id = IdSelectField("Подкатегория")
    organization_id = IdSelectField("Организация (с подведомственными)")
    executor_id = IdSelectField("Исполнитель")
    deadline = SelectField("Срок", choices=[("", "любой"), ("overdue", "просрочено"), ("soon", "истекает")],
                           validate_choice=False)
    source = SelectField("Источник", choices=[("", "любой"), *SOURCE_LABELS.items()], default="")
    kind = SelectField("Вид", default="", choices=[("", "все"), ("message", "сообщения"), ("incident", "инциденты")])
    result = SelectField("Результат", default="",
                         choices=[("", "любой"), *((r.value, label) for r, label in RESULT_LABELS.items())])
    repeated = BooleanField("Только повторные")
    accelerated = BooleanField("Только с ускоренным сроком")
    date_from = BoundedDateField("Поступило с", validators=[Optional()])
    date_to = BoundedDateField("Поступило по", validators=[Optional()])
    q = SearchField("Поиск по номеру, тексту и адресу", validators=[Optional(), Length(max=200)])
