"""The rating's forms: the analyst's «Пересчитать» and «Опубликовать» (POST, CSRF) and the month picker."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Regexp

from pos.forms.staff import _RussianMeta

MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message="Месяц: ожидается ГГГГ-ММ.")


class MonthForm(FlaskForm):
    """The month picker: a GET form, so the address keeps the month."""
    class Meta(_RussianMeta):
        csrf = False

    month = StringField("Месяц", validators=[DataRequired(), MONTH])


class RecomputeForm(FlaskForm):
    class Meta(_RussianMeta):
        pass

    month = HiddenField(validators=[DataRequired(), MONTH])


class PublishForm(RecomputeForm):
    pass
