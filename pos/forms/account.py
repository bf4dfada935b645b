"""The signed-in person's own account: «Сменить пароль» (staff and applicants alike)."""
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import Length

from pos.services.passwords import MAX_LENGTH


class ChangePasswordForm(FlaskForm):
    # Required-ness and the policy are the service's (pos.services.passwords.change_password), which
    # reports every problem at once; the form only bounds the lengths.
    current_password = PasswordField("Текущий пароль", validators=[Length(max=MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("Новый пароль", validators=[Length(max=MAX_LENGTH)],
                                 render_kw={"autocomplete": "new-password"})
    new_password_confirm = PasswordField("Новый пароль ещё раз", validators=[Length(max=MAX_LENGTH)],
                                         render_kw={"autocomplete": "new-password"})
