"""The applicant's side: registration, sending a message, my messages, the answer, rating, repeat, notifications."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_user
from sqlmodel import select

from pos import params
from pos import workflow as wf
from pos.auth import applicant_required, current_actor
from pos.forms.applicant import FILES_HINT, TEXT_HINT, MessageForm, RateForm, RegistrationForm, RepeatForm
from pos.models import Category, Message, Subcategory
from pos.services import applicant_messages as mine
from pos.services import applicants, files, messages
from pos.web import db, env, register_nav

bp = Blueprint("applicant", __name__)

register_nav("applicant.my_messages", "Мои сообщения", applicant=True)
register_nav("applicant.new_message", "Подать сообщение", applicant=True)
register_nav("applicant.notifications", "Уведомления", applicant=True)


def show_error(form, exc: wf.Refused) -> None:
    """Put a service's refusal next to the field it names (or above the form)."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = list(target.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))


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
    if form.validate_on_submit():
        try:
            user = applicants.identity_provider().register(
                db(), form.data, {"password": form.password.data, "password_confirm": form.password_confirm.data},
                consent=bool(form.consent.data))
        except wf.Invalid as exc:
            show_error(form, exc)
            status = 400
        else:
            login_user(user)
            flash("Регистрация завершена. Для входа используйте адрес электронной почты и пароль.", "success")
            return redirect(url_for("applicant.my_messages"), 303)
    elif request.method == "POST":
        status = 400
    return render_template("applicant/register.html", form=form, consent_text=applicants.CONSENT_TEXT), status


# --- sending ------------------------------------------------------------------------------

@bp.route("/my/messages/new", methods=["GET", "POST"])
@applicant_required
def new_message():
    form = MessageForm()
    set_classifier_choices(form)
    status = 200
    if request.method == "POST" and request.form.get("refresh"):
        # Only the subcategory list was asked for (no JavaScript): nothing is checked or sent.
        return render_template("applicant/new_message.html", form=form, text_hint=TEXT_HINT,
                               files_hint=FILES_HINT, refreshed=True)
    if form.validate_on_submit():
        try:
            fields = applicants.message_fields(form.data)
            message = applicants.send(db(), env(), fields, uploads=uploads(), source="web", user=current_user,
                                      applicant_id=current_actor().applicant_id)
        except wf.Refused as exc:
            show_error(form, exc)
            status = 400
        else:
            flash(f"Сообщение зарегистрировано под номером {message.number}. Срок ответа — "
                  f"до {mine.local(message.answer_due_at, env().timezone):%d.%m.%Y}.", "success")
            return redirect(url_for("applicant.message", message_id=message.id), 303)
    elif request.method == "POST":
        status = 400
    return render_template("applicant/new_message.html", form=form, text_hint=TEXT_HINT,
                           files_hint=FILES_HINT), status


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
    done, page = _author_action(message_id, wf.Action.REPEAT, RepeatForm(), lambda f: {"text": applicants.plain(f.text.data)},
                                "repeat_form")
    if done is None:
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
