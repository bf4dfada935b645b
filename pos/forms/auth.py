"""Sign-in."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login = StringField("Логин", validators=[DataRequired("Введите логин."), Length(max=120)],
                        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Пароль", validators=[DataRequired("Введите пароль."), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
