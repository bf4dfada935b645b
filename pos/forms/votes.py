"""Forms of votes and polls: the organizer's vote, option and question forms, and the small POST forms.

The ballot itself is not a WTForms form: its fields are the vote's questions (pos/views/votes_public.py
reads them as `q<id>`, `q<id>_other`, `q<id>_text`).
"""
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pos.forms.fields import BoundedDateField, SelectField
from pos.forms.staff import _RussianMeta
from pos.models.votes import QUESTION_KINDS, VOTE_STYLES
from pos.services.votes import MAX_COST, MAX_OPTIONS


class VoteForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    title = StringField("Название", validators=[DataRequired(message="Укажите название."), Length(max=300)])
    description = TextAreaField("Описание", validators=[Length(max=10000)])
    settlements = StringField("Населённые пункты (через запятую; пусто — вся территория)",
                              validators=[Length(max=2000)])
    starts_on = BoundedDateField("Дата начала", validators=[InputRequired(message="Укажите дату начала.")])
    starts_time = TimeField("Время начала", validators=[InputRequired(message="Укажите время начала.")])
    ends_on = BoundedDateField("Дата окончания", validators=[InputRequired(message="Укажите дату окончания.")])
    ends_time = TimeField("Время окончания", validators=[InputRequired(message="Укажите время окончания.")])
    style = SelectField("Способ голосования", choices=list(VOTE_STYLES.items()))
    max_choices = IntegerField("Сколько вариантов можно выбрать (для «до N вариантов»)",
                               validators=[Optional(), NumberRange(1, MAX_OPTIONS)])
    budget = IntegerField("Бюджет, рублей (для голосования с бюджетом)",
                          validators=[Optional(), NumberRange(1, MAX_COST)])


class PollForm(VoteForm):
    style = None
    max_choices = None
    budget = None


class OptionForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    title = StringField("Название проекта", validators=[DataRequired(message="Укажите название проекта."),
                                                         Length(max=300)])
    description = TextAreaField("Описание проекта", validators=[Length(max=10000)])
    cost = IntegerField("Оценочная стоимость, рублей", validators=[Optional(), NumberRange(0, MAX_COST)])
    picture = FileField("Картинка (JPEG, PNG, GIF или WEBP, необязательно)")


class QuestionForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    title = StringField("Вопрос", validators=[DataRequired(message="Напишите вопрос."), Length(max=500)])
    kind = SelectField("Тип вопроса", choices=list(QUESTION_KINDS.items()))
    required = BooleanField("Обязательный вопрос", default=True)
    options_text = TextAreaField("Варианты ответа (по одному в строке; для вопросов с выбором)",
                                 validators=[Length(max=20000)])
    min_choices = IntegerField("Выбрать не меньше (для нескольких вариантов)",
                               validators=[Optional(), NumberRange(0, MAX_OPTIONS)])
    max_choices = IntegerField("Выбрать не больше (для нескольких вариантов)",
                               validators=[Optional(), NumberRange(1, MAX_OPTIONS)])
    other_allowed = BooleanField("Вариант «Другое» со своим ответом")


class PlainForm(FlaskForm):
    """A button: «Запланировать», «Опубликовать итоги», «Удалить» (the CSRF token only)."""
    class Meta(_RussianMeta):
        pass


class SubscriptionForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    jurisdiction_id = SelectField("Территория", choices=[])
    notify = BooleanField("Сообщать о новых голосованиях и опросах (в уведомлениях и по почте)")
