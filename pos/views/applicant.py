"""The applicant's side: registration, sending a message, my messages, the answer, rating, repeat, notifications."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_login import current_user, login_user
from wtforms.widgets import PasswordInput
from sqlmodel import select

from pos import params
from pos import workflow as wf
from pos.auth import applicant_required, current_actor
from pos.forms.applicant import (FILES_HINT, TEXT_HINT, ConfirmForm, MessageForm, RateForm, RegistrationForm,
                                 RepeatForm, new_form_token)
from pos.models import Category, Message, Subcategory
from pos.services import applicant_messages as mine
from pos.services import applicants, files, messages, registration
from pos.web import db, env, register_nav

bp = Blueprint("applicant", __name__)

register_nav("applicant.my_messages", "Мои сообщения", applicant=True)
register_nav("applicant.new_message", "Подать сообщение", applicant=True)
register_nav("applicant.notifications", "Уведомления", applicant=True)


def show_error(form, exc: wf.Refused) -> None:
    """Put a service's refusals next to the fields they name (or above the form). A field that the
    form itself already found at fault (an empty required field, say) keeps the form's message."""
    flagged = {f.name for f in form if f.errors}
    for field, text in getattr(exc, "problems", None) or [(exc.field, str(exc))]:
        target = getattr(form, field, None) if field else None
        if target is None or not hasattr(target, "errors"):
            if text not in form.form_errors:
                form.form_errors.append(text)
        elif field not in flagged and text not in target.errors:
            target.errors = list(target.errors) + [text]


def keep_passwords(form, *names: str) -> None:
    """After a refusal, type the passwords back in unless they are themselves at fault: then both
    are cleared, since a mistyped repeat cannot tell which of the two is wrong."""
    fields = [getattr(form, name) for name in names]
    if any(f.errors for f in fields):
        return
    for f in fields:
        f.widget = PasswordInput(hide_value=False)


def uploads(field_name: str = "files") -> list[files.Upload]:
    return [files.Upload(f.filename or "", f.read()) for f in request.files.getlist(field_name) if f and f.filename]


# --- classifier choices ---------------------------------------------------------------

def set_classifier_choices(form: MessageForm) -> None:
    categories = db().exec(select(Category).where(Category.is_active).order_by(Category.name)).all()
    form.category_id.choices = [("", "— не выбрана (определит модератор) —")] + [(str(c.id), c.name)
                                                                                 for c in categories]
    form.subcategory_id.choices = subcategory_choices(form.category_id.data)
    form.category_id.render_kw = {"hx-get": url_for("applicant.subcategories"), "hx-trigger": "change",
                                  "hx-target": "#subcategory-field", "hx-swap": "outerHTML"}


def subcategory_choices(category_id: int | None) -> list[tuple[str, str]]:
    if category_id is None:
        return [("", "— сначала выберите категорию —")]
    subs = db().exec(select(Subcategory).where(Subcategory.category_id == category_id, Subcategory.is_active)
                     .order_by(Subcategory.name)).all()
    return [("", "— не выбрана —")] + [(str(s.id), s.name) for s in subs]


@bp.get("/classifier/subcategories")
def subcategories():
    """The subcategory field for the chosen category (htmx swaps it in; without JS the form reloads)."""
    form = MessageForm(formdata=None, meta={"csrf": False})
    form.subcategory_id.choices = subcategory_choices(params.id_or_none(request.args.get("category_id")))
    return render_template("applicant/_subcategory.html", form=form)


# --- registration -----------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = RegistrationForm()
    status = 200
    if form.is_submitted():
        # The form's checks and the service's run together: one submit shows every problem.
        form.validate()
        credentials = {"password": form.password.data or "", "password_confirm": form.password_confirm.data or ""}
        provider = applicants.identity_provider()
        try:
            if form.errors:
                applicants.check_registration(form.data, credentials, consent=bool(form.consent.data))
            else:
                provider.register(db(), form.data, credentials, consent=bool(form.consent.data))
                # The same answer for a new and for a registered address: the letter tells them apart.
                session["registration_email"] = applicants.normalize_email(form.email.data)
                return redirect(url_for("applicant.register_sent"), 303)
        except wf.Invalid as exc:
            show_error(form, exc)
        status = 400
        keep_passwords(form, "password", "password_confirm")
    return render_template("applicant/register.html", form=form, consent_text=applicants.CONSENT_TEXT), status


@bp.get("/register/sent")
def register_sent():
    return render_template("applicant/register_sent.html", email=session.get("registration_email", ""),
                           hours=registration.CONFIRM_HOURS)


@bp.route(registration.CONFIRM_PATH + "<token>", methods=["GET", "POST"])
def register_confirm(token: str):
    """The link from the letter: a page with one button, so that a mail scanner opening the link
    creates nothing; the button creates the account and signs the person in."""
    form = ConfirmForm()
    if registration.pending(db(), token) is None:
        done = registration.completed(db(), token)
        if done is not None and current_user.is_authenticated and current_user.login == done.email:
            return redirect(url_for("applicant.my_messages"), 303)  # the button pressed twice
        if done is not None:
            return render_template("applicant/register_confirm.html", form=None, error=registration.ALREADY_DONE)
        return render_template("applicant/register_confirm.html", form=None,
                               error=registration.LINK_INVALID), 404
    if form.validate_on_submit():
        try:
            user = applicants.identity_provider().confirm(db(), token)
        except wf.Invalid as exc:
            return render_template("applicant/register_confirm.html", form=None, error=str(exc)), 409
        session.clear()  # a new session for the signed-in person, as at «Войти» (no fixation)
        login_user(user)
        flash("Регистрация завершена. Для входа используйте адрес электронной почты и пароль.", "success")
        return redirect(url_for("applicant.my_messages"), 303)
    return render_template("applicant/register_confirm.html", form=form, error=""), 400 if form.is_submitted() else 200


# --- sending ------------------------------------------------------------------------------

@bp.route("/my/messages/new", methods=["GET", "POST"])
@applicant_required
def new_message():
    # Each form instance has its own token, in its address: Back returns to that address, and the
    # form the browser shows again (fetched anew, the typed text put back) carries the same token,
    # so sending it again finds the message it sent (a hidden field would be a new one by then).
    token = applicants.form_token(request.args.get("form"))
    if request.method == "GET" and token is None:
        return redirect(url_for("applicant.new_message", form=new_form_token()), 303)
    earlier = applicants.sent_with(db(), token, applicant_id=_applicant_id())
    form = MessageForm()
    set_classifier_choices(form)
    status = 200
    if request.method == "POST" and request.form.get("refresh"):
        # Only the subcategory list was asked for (no JavaScript): nothing is checked or sent.
        return render_template("applicant/new_message.html", form=form, text_hint=TEXT_HINT,
                               files_hint=FILES_HINT, refreshed=True, token=token)
    if request.method == "POST" and earlier is not None:
        return _already_sent(earlier)
    if form.validate_on_submit():
        try:
            fields = applicants.message_fields(form.data)
            message = applicants.send(db(), env(), fields, uploads=uploads(), source="web", user=current_user,
                                      applicant_id=_applicant_id(), token=token)
        except applicants.AlreadySent as exc:
            return _already_sent(exc.message)
        except wf.Refused as exc:
            show_error(form, exc)
            status = 400
        else:
            flash(f"Сообщение зарегистрировано под номером {message.number}. Срок ответа — "
                  f"до {mine.local(message.answer_due_at, env().timezone):%d.%m.%Y}.", "success")
            return redirect(url_for("applicant.message", message_id=message.id), 303)
    elif request.method == "POST":
        status = 400
    return render_template("applicant/new_message.html", form=form, text_hint=TEXT_HINT, files_hint=FILES_HINT,
                           token=token, earlier=earlier), status


def _applicant_id() -> int | None:
    return current_actor().applicant_id


ALREADY_SENT = "Эта форма уже отправлена: сообщение {number} зарегистрировано, второе не создано."


def _already_sent(message):
    """The same form sent again (Back and resubmit, a double click): the message it sent, nothing new."""
    flash(ALREADY_SENT.format(number=message.number), "info")
    return redirect(url_for("applicant.message", message_id=message.id), 303)


# --- following ---------------------------------------------------------------------------------

@bp.get("/my/messages")
@applicant_required
def my_messages():
    page = params.parse_page(request.args.get("page"))
    items, total = mine.own_messages(db(), current_actor().applicant_id, env().timezone, page)
    pages = max((total + mine.PAGE_SIZE - 1) // mine.PAGE_SIZE, 1)
    return render_template("applicant/my_messages.html", items=items, total=total, page=page, pages=pages)


def _own_or_404(message_id: int):
    message = mine.own_message(db(), current_actor().applicant_id, message_id)
    if message is None:
        abort(404)  # someone else's message is as good as missing
    return message


def _render_message(message, *, rate_form=None, repeat_form=None, alert: str = "", status=200):
    card = mine.card(db(), message, env().timezone)
    return render_template("applicant/message.html", card=card, m=message, alert=alert,
                           rate_form=rate_form or RateForm(formdata=None),
                           repeat_form=repeat_form or RepeatForm(formdata=None)), status


@bp.get("/my/messages/<int:message_id>")
@applicant_required
def message(message_id: int):
    return _render_message(_own_or_404(message_id))


def _author_action(message_id: int, action: wf.Action, form, params_of, forms_key: str):
    """Rate or repeat: the service decides; a refusal is shown next to its field or above the page."""
    message = _own_or_404(message_id)
    alert = ""
    if form.validate_on_submit():
        try:
            return messages.act(db(), env(), current_user, message.id, action, params_of(form)), None
        except wf.Refused as exc:
            if exc.field and hasattr(getattr(form, exc.field, None), "errors"):
                show_error(form, exc)
            else:
                alert = str(exc)
        except messages.Conflict as exc:
            alert = str(exc)
    return None, _render_message(db().get(Message, message_id), alert=alert, status=400, **{forms_key: form})


@bp.post("/my/messages/<int:message_id>/rate")
@applicant_required
def rate(message_id: int):
    if _own_or_404(message_id).rating is not None:
        # The message keeps one rating (the workflow and the version check see to it): the same
        # form sent again, or from another tab, changes nothing.
        flash("Ваша оценка этого ответа уже учтена; изменить её нельзя.", "info")
        return redirect(url_for("applicant.message", message_id=message_id), 303)
    done, page = _author_action(message_id, wf.Action.RATE, RateForm(),
                                lambda f: {"rating": f.rating.data, "comment": applicants.plain(f.comment.data)},
                                "rate_form")
    if done is None:
        return page
    flash("Спасибо! Ваша оценка учтена.", "success")
    return redirect(url_for("applicant.message", message_id=message_id), 303)


@bp.post("/my/messages/<int:message_id>/repeat")
@applicant_required
def repeat(message_id: int):
    form = RepeatForm()
    token = applicants.form_token(form.form_token.data)
    if earlier := applicants.sent_with(db(), token, applicant_id=_applicant_id()):
        return _already_sent(earlier)
    done, page = _author_action(message_id, wf.Action.REPEAT, form,
                                lambda f: {"text": applicants.plain(f.text.data), "form_token": token},
                                "repeat_form")
    if done is None:
        # Two requests of the same form at once: the other one filed the repeat.
        if earlier := applicants.sent_with(db(), token, applicant_id=_applicant_id()):
            return _already_sent(earlier)
        return page
    new = done.new_message
    flash(f"Повторное сообщение зарегистрировано под номером {new.number}.", "success")
    return redirect(url_for("applicant.message", message_id=new.id), 303)


@bp.get("/my/attachments/<int:attachment_id>")
@applicant_required
def attachment(attachment_id: int):
    row = mine.own_attachment(db(), current_actor().applicant_id, attachment_id)
    path = files.path_of(env().upload_dir, row.storage_key) if row else None
    if path is None or not path.exists():
        abort(404)
    response = send_file(path, mimetype=row.content_type, as_attachment=True,
                         download_name=files.download_name(row.filename, row.content_type), max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- notifications --------------------------------------------------------------------------

@bp.get("/my/notifications")
@applicant_required
def notifications():
    applicant_id = current_actor().applicant_id
    rows = mine.notifications(db(), applicant_id)
    numbers = mine.numbers(db(), {n.message_id for n in rows if n.message_id})
    return render_template("applicant/notifications.html", rows=rows, numbers=numbers,
                           unread=sum(1 for n in rows if n.read_at is None), tz=env().timezone, local=mine.local)


@bp.post("/my/notifications/read")
@applicant_required
def mark_read():
    mine.mark_read(db(), current_actor().applicant_id)
    return redirect(url_for("applicant.notifications"), 303)
