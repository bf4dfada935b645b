"""Applicants' forms: registration, a message, the rating, a repeated message, the embedded form.

The forms check the shape (required, lengths); the services check the meaning
(ИНН check digits, the classifier, files by content) and name the field at fault.
"""
import secrets

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, MultipleFileField, PasswordField, RadioField,
                     StringField, TelField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

from pos.forms.fields import IdSelectField
from pos.services.applicant_messages import RATING_LABELS
from pos.services.applicants import KIND_LABELS, MAX_ADDRESS, MAX_EMAIL, MAX_NAME
from pos.services.passwords import MAX_LENGTH as MAX_PASSWORD
from pos.services.files import ALLOWED_HUMAN, MAX_FILE_BYTES, MAX_FILES
from pos.workflow import MAX_COMMENT, MAX_TEXT

TEXT_HINT = f"Опишите проблему: что, где и с какого времени. Не более {MAX_TEXT} символов."
FILES_HINT = (f"Необязательно. До {MAX_FILES} файлов, каждый не больше {MAX_FILE_BYTES // (1024 * 1024)} МБ: "
              f"{ALLOWED_HUMAN}.")


def _length(limit: int, label: str):
    return Length(max=limit, message=f"Поле «{label}» длиннее {limit} символов.")


def _text_field(label: str = "Текст сообщения", rows: int = 8) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired("Заполните поле «Текст сообщения»."),
                                            _length(MAX_TEXT, "Текст сообщения")],
                         render_kw={"rows": rows, "maxlength": MAX_TEXT})


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def _form_token_field() -> HiddenField:
    """This form instance's idempotency token, made when the form is rendered: the same form sent
    twice (a double click, Back to the cached page) carries the same token and creates one thing.
    (The message forms, which have pages of their own, carry it in their address instead: see
    pos/views/applicant.py `new_message`.)"""
    return HiddenField(default=new_form_token, validators=[Optional(), Length(max=64)])


def _address_field() -> StringField:
    return StringField("Адрес", validators=[DataRequired("Укажите адрес, к которому относится сообщение."),
                                            _length(MAX_ADDRESS, "Адрес")],
                       render_kw={"autocomplete": "street-address"})


class RegistrationForm(FlaskForm):
    kind = RadioField("Кто подаёт сообщения", choices=list(KIND_LABELS.items()), default="citizen",
                      validate_choice=False,
                      validators=[DataRequired("Выберите, кто подаёт сообщения.")])
    full_name = StringField("Фамилия, имя, отчество", validators=[Optional(), _length(MAX_NAME, "ФИО")],
                            render_kw={"autocomplete": "name"})
    org_name = StringField("Наименование организации", validators=[Optional(), _length(MAX_NAME, "Наименование")],
                           render_kw={"autocomplete": "organization"})
    inn = StringField("ИНН организации", validators=[Optional(), Length(max=20)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"})
    ogrn = StringField("ОГРН организации", validators=[Optional(), Length(max=20)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})
    contact_person = StringField("Контактное лицо (ФИО)", validators=[Optional(), _length(MAX_NAME, "Контактное лицо")])
    email = EmailField("Электронная почта", validators=[DataRequired("Укажите адрес электронной почты."),
                                                        _length(MAX_EMAIL, "Электронная почта")],
                       render_kw={"autocomplete": "email"})
    phone = TelField("Телефон", validators=[DataRequired("Укажите номер телефона."), Length(max=40)],
                     render_kw={"autocomplete": "tel"})
    # Required-ness and the policy are the service's check, which reports every problem at once.
    password = PasswordField("Пароль", validators=[Length(max=MAX_PASSWORD)],
                             render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField("Пароль ещё раз", validators=[Length(max=MAX_PASSWORD)],
                                     render_kw={"autocomplete": "new-password"})
    consent = BooleanField("Я даю согласие на обработку персональных данных на условиях, изложенных выше")


class ConfirmForm(FlaskForm):
    """«Завершить регистрацию»: only the CSRF token."""


class MessageForm(FlaskForm):
    text = _text_field()
    category_id = IdSelectField("Категория", choices=[])
    subcategory_id = IdSelectField("Подкатегория", choices=[])
    address = _address_field()
    latitude = StringField("Широта", validators=[Optional(), Length(max=30)], render_kw={"inputmode": "decimal"})
    longitude = StringField("Долгота", validators=[Optional(), Length(max=30)], render_kw={"inputmode": "decimal"})
    files = MultipleFileField("Файлы")


class EmbedForm(FlaskForm):
    """The organization's website form: the author's contact data, the message and the consent."""

    class Meta:
        csrf = False  # anonymous and framed by other sites: no session cookie reaches it

    full_name = StringField("Фамилия, имя, отчество", validators=[DataRequired("Укажите фамилию, имя, отчество."),
                                                                  _length(MAX_NAME, "ФИО")],
                            render_kw={"autocomplete": "name"})
    email = EmailField("Электронная почта для ответа",
                       validators=[DataRequired("Укажите адрес электронной почты."),
                                   _length(MAX_EMAIL, "Электронная почта")], render_kw={"autocomplete": "email"})
    phone = TelField("Телефон", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"})
    text = _text_field()
    address = _address_field()
    files = MultipleFileField("Файлы")
    consent = BooleanField("Я даю согласие на обработку персональных данных")


class RateForm(FlaskForm):
    rating = RadioField("Оценка ответа", choices=[(str(k), v) for k, v in RATING_LABELS.items()],
                        validate_choice=False,
                        validators=[DataRequired("Выберите оценку от 1 до 5.")])
    comment = TextAreaField("Комментарий к оценке", validators=[Optional(), _length(MAX_COMMENT, "Комментарий")],
                            render_kw={"rows": 3})


class RepeatForm(FlaskForm):
    text = _text_field("Текст повторного сообщения", rows=6)
    form_token = _form_token_field()
