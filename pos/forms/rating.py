"""The rating's forms: the analyst's «Пересчитать» and «Опубликовать» (POST, CSRF) and the month picker."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
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
    # Clause 2.2.5: official messages only, unless the analyst counts incidents in.
    with_incidents = BooleanField("Учитывать инциденты (публикации в интернете)")


class PublishForm(RecomputeForm):
    with_incidents = None
