"""The administrator's forms: organizations, users and roles, the classifier, deadlines, the calendar,
answer templates, API clients, and the filters of their lists. The services check meaning (a cycle, a
login taken, a category still needed); these forms check shape, in Russian."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SearchField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.fields import IntegerField
from wtforms.widgets import CheckboxInput, ListWidget

from pos import params
from pos.forms.fields import BoundedDateField, IdSelectField, SelectField
from pos.forms.staff import _RussianMeta
from pos.models.org import ORG_KINDS
from pos.services.admin_orgs import REGULATION_LABELS
from pos.workflow import ACTIVE_STAGES, STAGE_LABELS


class AdminForm(FlaskForm):
    class Meta(_RussianMeta):
        pass


class IdCheckboxesField(SelectMultipleField):
    """Checkboxes whose values are row ids, each bounded by pos.params (the service checks the rest)."""
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        ids = []
        for value in valuelist:
            try:
                number = params.parse_id(value, self.label.text)
            except params.BadValue as exc:
                self.data = []
                raise ValueError(str(exc)) from None
            if number is not None and number not in ids:
                ids.append(number)
        self.data = ids

    def process_data(self, value):
        self.data = list(value or [])

    def pre_validate(self, form):
        pass


def _name(label: str, maximum: int, required: bool = True):
    validators = [DataRequired(f"Заполните поле «{label}».")] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=maximum, message=f"Не длиннее {maximum} символов.")])


STATUS_ORG = [("", "все"), ("open", "открытые"), ("closed", "закрытые")]
STATUS_USER = [("", "все"), ("active", "активные"), ("inactive", "деактивированные"), ("no_roles", "без ролей")]
STATUS_ENTRY = [("", "все"), ("active", "в употреблении"), ("retired", "выведенные")]


# --- organizations -------------------------------------------------------------------------------------

class OrgFilterForm(AdminForm):
    class Meta(_RussianMeta):
        csrf = False
    jurisdiction_id = IdSelectField("Юрисдикция", validators=[Optional()])
    status = SelectField("Состояние", choices=STATUS_ORG, validators=[Optional()], validate_choice=True)
    q = SearchField("Название", validators=[Optional(), Length(max=200)])


class OrgCreateForm(AdminForm):
    name = _name("Полное название", 300)
    short_name = _name("Краткое название", 120, required=False)
    kind = SelectField("Вид", choices=[("", "— выберите —")] + list(ORG_KINDS.items()),
                       validators=[DataRequired("Выберите вид организации.")])
    parent_id = IdSelectField("Вышестоящая организация", validators=[Optional()])
    regulation = SelectField("Регламент (для новой юрисдикции)",
                             choices=[("", "— для подчинённой не нужен —")] + list(REGULATION_LABELS.items()),
                             validators=[Optional()])
    category_ids = IdCheckboxesField("Компетенция: категории")


class OrgEditForm(AdminForm):
    name = _name("Полное название", 300)
    short_name = _name("Краткое название", 120, required=False)
    kind = SelectField("Вид", choices=list(ORG_KINDS.items()), validators=[DataRequired("Выберите вид организации.")])


class OrgMoveForm(AdminForm):
    parent_id = IdSelectField("Новая вышестоящая организация", validators=[InputRequired("Выберите организацию.")])


class CompetenceForm(AdminForm):
    category_ids = IdCheckboxesField("Категории, по которым работает организация")


class RegulationForm(AdminForm):
    regulation = SelectField("Регламент", choices=list(REGULATION_LABELS.items()),
                             validators=[DataRequired("Выберите регламент.")])


# --- users ---------------------------------------------------------------------------------------------

class UserFilterForm(AdminForm):
    class Meta(_RussianMeta):
        csrf = False
    q = SearchField("Логин или имя", validators=[Optional(), Length(max=200)])
    organization_id = IdSelectField("Организация", validators=[Optional()])
    role = SelectField("Роль", validators=[Optional()])
    status = SelectField("Состояние", choices=STATUS_USER, validators=[Optional()])


class UserForm(AdminForm):
    full_name = _name("Фамилия, имя, отчество", 300)
    position = _name("Должность", 300, required=False)
    email = _name("Электронная почта", 300, required=False)
    phone = _name("Телефон", 40, required=False)


class UserCreateForm(UserForm):
    login = StringField("Логин", validators=[DataRequired("Заполните поле «Логин»."),
                                             Length(max=120, message="Не длиннее 120 символов.")])


class GrantForm(AdminForm):
    role = SelectField("Роль", validators=[DataRequired("Выберите роль.")])
    organization_id = IdSelectField("Организация (не нужна модератору, аналитику, администратору)",
                                    validators=[Optional()])
    category_ids = IdCheckboxesField("Только эти категории (для руководителя; пусто — все)")


# --- the classifier ------------------------------------------------------------------------------------

class ClassifierFilterForm(AdminForm):
    class Meta(_RussianMeta):
        csrf = False
    q = SearchField("Название", validators=[Optional(), Length(max=200)])
    status = SelectField("Состояние", choices=STATUS_ENTRY, validators=[Optional()])


class NameForm(AdminForm):
    name = _name("Название", 600)


class SubcategoryRenameForm(AdminForm):
    name = _name("Название", 600)
    confirm_appendix = BooleanField("Да, меняю подкатегорию из приложения к регламенту намеренно")


class ConfirmForm(AdminForm):
    confirm_appendix = BooleanField("Да, это подкатегория из приложения к регламенту, и я меняю её намеренно")


# --- deadlines and the calendar ------------------------------------------------------------------------

class StageRuleForm(AdminForm):
    stage = SelectField("Этап", choices=[(s.value, STAGE_LABELS[s]) for s in ACTIVE_STAGES],
                        validators=[DataRequired("Выберите этап.")])
    amount = IntegerField("Срок", validators=[InputRequired("Укажите срок числом."),
                                              NumberRange(1, 1000, "Срок этапа — целое число от 1 до 1000.")])
    unit = SelectField("Единица", choices=[("working_days", "рабочих дней"), ("working_hours", "рабочих часов")],
                       validators=[DataRequired("Выберите единицу.")])


class CalendarDayForm(AdminForm):
    day = BoundedDateField("День", validators=[InputRequired("Укажите день.")])
    mode = RadioField("Этот день", choices=[("day_off", "выходной (например, региональный праздник)"),
                                            ("working", "рабочий (например, перенесённая суббота)"),
                                            ("reset", "по производственному календарю (убрать поправку)")],
                      validators=[InputRequired("Выберите, каким будет день.")])
    note = _name("Основание", 300, required=False)


# --- answer templates, API clients, the change log -----------------------------------------------------

class TemplateFilterForm(AdminForm):
    class Meta(_RussianMeta):
        csrf = False
    category_id = IdSelectField("Категория", validators=[Optional()])
    status = SelectField("Состояние", choices=STATUS_ENTRY, validators=[Optional()])


class TemplateForm(AdminForm):
    category_id = IdSelectField("Категория (пусто — общий шаблон)", validators=[Optional()])
    title = _name("Название", 200)
    text = TextAreaField("Текст", validators=[DataRequired("Введите текст шаблона."),
                                              Length(max=4000, message="Не длиннее 4000 символов.")])


class ApiClientForm(AdminForm):
    name = _name("Название клиента", 200)
    organization_id = IdSelectField("Организация (запросы клиента адресуются ей; пусто — любая)",
                                    validators=[Optional()])


class ChangesFilterForm(AdminForm):
    class Meta(_RussianMeta):
        csrf = False
    actor_id = IdSelectField("Кто", validators=[Optional()])
    entity = SelectField("Что", validators=[Optional()])
    date_from = BoundedDateField("С", validators=[Optional()])
    date_to = BoundedDateField("По", validators=[Optional()])
