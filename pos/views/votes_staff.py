"""The organizer's votes and polls (/staff/votes): the list, a new one, editing, options and questions,
«Запланировать», «Опубликовать итоги»; the analyst and the administrator read the published results."""
from __future__ import annotations

from datetime import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pos import clock, params
from pos import votes as rules
from pos.auth import current_actor, current_role, staff_required
from pos.forms.votes import OptionForm, PlainForm, PollForm, QuestionForm, VoteForm
from pos.models.votes import KINDS, QUESTION_KINDS, VOTE, VOTE_STYLES
from pos.services import exports, vote_tables, votes
from pos.views.applicant import uploads
from pos.web import db, env, error_page, register_nav
from pos.workflow import Role

bp = Blueprint("votes_staff", __name__, url_prefix="/staff/votes")

VIEWERS = (Role.PUBLISHER.value, Role.ADMINISTRATOR.value, Role.ANALYST.value)
register_nav("votes_staff.index", "Голосования и опросы", roles=VIEWERS)


def _viewer() -> tuple[str, int | None]:
    role = current_role()
    if role is None or role[0] not in VIEWERS:
        abort(403)
    return role


def _vote(vote_id: int):
    _viewer()
    try:
        vote = votes.get(db(), vote_id)
    except votes.NotFound:
        abort(404)
    actor = current_actor()
    if not votes.can_manage(actor, vote) and not (votes.sees_all_results(actor) and vote.scheduled_at):
        abort(404)
    return vote


def _managed(vote_id: int):
    vote = _vote(vote_id)
    if not votes.can_manage(current_actor(), vote):
        abort(403)
    return vote


def _publisher_org() -> int | None:
    role = current_role()
    if role and role[0] == Role.PUBLISHER:
        return role[1]
    return None


@bp.get("")
@staff_required
def index():
    _viewer()
    session = db()
    rows = votes.staff_list(session, current_actor())
    now = clock.now()
    return render_template("votes/staff_index.html", rows=rows, status=lambda v: rules.status(v, now),
                           labels=rules.STATUS_LABELS, kinds=KINDS,
                           participants=votes.participants_of(session, [v.id for v in rows]),
                           can_create=votes.manageable_orgs(current_actor()) != set(), tz=env().timezone,
                           period=rules.period_text)


def _fields(form) -> votes.VoteFields:
    return votes.VoteFields(
        title=form.title.data or "", description=form.description.data or "", settlements=form.settlements.data or "",
        starts_on=form.starts_on.data, starts_time=form.starts_time.data or time(0, 0),
        ends_on=form.ends_on.data, ends_time=form.ends_time.data or time(0, 0),
        style=form.style.data if getattr(form, "style", None) else "",
        max_choices=form.max_choices.data if getattr(form, "max_choices", None) else None,
        budget=form.budget.data if getattr(form, "budget", None) else None)


def _show_problems(form, exc: rules.Refused) -> None:
    for field, text in exc.problems:
        target = getattr(form, field, None) if field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [text]
        else:
            form.form_errors.append(text)


def _kind() -> str:
    kind = request.args.get("kind", VOTE)
    if kind not in KINDS:
        abort(404)
    return kind


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new():
    _viewer()
    actor = current_actor()
    orgs = votes.manageable_orgs(actor)
    org_id = _publisher_org()
    if orgs is not None and org_id not in orgs:
        abort(403)
    kind = _kind()
    form = (VoteForm if kind == VOTE else PollForm)()
    if org_id is None:  # the administrator: for which organization
        org_id = params.id_or_none(request.values.get("organization_id"))
    from pos.services import choices
    organizations = choices.active_org_options(db()) if orgs is None else []
    status = 200
    if form.validate_on_submit():
        try:
            if org_id is None:
                raise rules.Refused("Выберите организацию.")
            vote = votes.create(db(), env(), current_user, actor, kind, org_id, _fields(form))
            flash(("Голосование" if kind == VOTE else "Опрос") + " создан" + ("о" if kind == VOTE else "")
                  + " как черновик. Добавьте " + ("варианты." if kind == VOTE else "вопросы."), "success")
            return redirect(url_for("votes_staff.show", vote_id=vote.id), 303)
        except rules.Refused as exc:
            _show_problems(form, exc)
    if form.is_submitted():
        status = 400
    return render_template("votes/staff_form.html", form=form, kind=kind, vote=None, organizations=organizations,
                           org_id=org_id), status


@bp.route("/<int:vote_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(vote_id: int):
    vote = _managed(vote_id)
    form_class = VoteForm if vote.kind == VOTE else PollForm
    tz = env().timezone
    if request.method == "GET":
        start, end = rules.local(vote.starts_at, tz), rules.local(vote.ends_at, tz)
        form = form_class(formdata=None, obj=vote, settlements=", ".join(vote.settlements), starts_on=start.date(),
                          starts_time=start.time(), ends_on=end.date(), ends_time=end.time(),
                          style=votes.style_of(db(), vote), max_choices=votes.max_choices_of(db(), vote))
    else:
        form = form_class()
    status = 200
    if form.validate_on_submit():
        try:
            votes.update_fields(db(), env(), current_actor(), vote.id, _fields(form))
            flash("Изменения сохранены.", "success")
            return redirect(url_for("votes_staff.show", vote_id=vote.id), 303)
        except rules.Refused as exc:
            _show_problems(form, exc)
    if form.is_submitted():
        status = 400
    return render_template("votes/staff_form.html", form=form, kind=vote.kind, vote=vote, organizations=[],
                           org_id=vote.organization_id), status


def _page(vote, *, option_form=None, question_form=None, status=200):
    session = db()
    actor = current_actor()
    state = rules.status(vote)
    ballots_cast = votes.participants(session, vote.id)
    manage = votes.can_manage(actor, vote)
    editable = manage and ballots_cast == 0 and state != rules.PUBLISHED
    results = votes.results(session, vote) if state == rules.PUBLISHED else None
    tables = [vote_tables.question_table(r, vote.budget) for r in results.questions] if results else []
    return render_template(
        "votes/staff_show.html", vote=vote, state=state, labels=rules.STATUS_LABELS, participants=ballots_cast,
        manage=manage, editable=editable, questions=votes.questions(session, vote.id),
        options=votes.options(session, vote.id), style=votes.style_of(session, vote),
        max_choices=votes.max_choices_of(session, vote), styles=VOTE_STYLES, question_kinds=QUESTION_KINDS,
        option_form=option_form or OptionForm(formdata=None), question_form=question_form or QuestionForm(formdata=None),
        plain=PlainForm(formdata=None), results=results, tables=tables, tz=env().timezone,
        period=rules.period_text(vote, env().timezone), rub=rules.rub,
        export_url=lambda table, fmt: url_for("votes_staff.export", vote_id=vote.id, fmt=fmt, table=table)), status


@bp.get("/<int:vote_id>")
@staff_required
def show(vote_id: int):
    return _page(_vote(vote_id))


@bp.post("/<int:vote_id>/options")
@staff_required
def add_option(vote_id: int):
    vote = _managed(vote_id)
    form = OptionForm()

    def add() -> str:
        pictures = uploads("picture")
        votes.add_option(db(), env(), current_actor(), vote.id, form.title.data or "", form.description.data or "",
                         form.cost.data, pictures[0] if pictures else None)
        return f"Проект «{form.title.data.strip()}» добавлен."
    return _added(vote, form, add, "option_form")


@bp.post("/<int:vote_id>/options/<int:option_id>/delete")
@staff_required
def delete_option(vote_id: int, option_id: int):
    vote = _managed(vote_id)
    return _simple(vote, lambda: votes.delete_option(db(), current_actor(), vote.id, option_id), "Вариант удалён.")


@bp.post("/<int:vote_id>/questions")
@staff_required
def add_question(vote_id: int):
    vote = _managed(vote_id)
    form = QuestionForm()

    def add() -> str:
        votes.add_question(db(), current_actor(), vote.id, votes.QuestionFields(
            title=form.title.data or "", kind=form.kind.data, required=bool(form.required.data),
            min_choices=form.min_choices.data, max_choices=form.max_choices.data,
            other_allowed=bool(form.other_allowed.data), options_text=form.options_text.data or ""))
        return "Вопрос добавлен."
    return _added(vote, form, add, "question_form")


def _added(vote, form, add, form_name: str):
    """An option's or a question's form: added (`add` returns what to say), back to the vote; refused, the
    vote's page with the form's problems."""
    if form.validate_on_submit():
        try:
            flash(add(), "success")
            return redirect(url_for("votes_staff.show", vote_id=vote.id), 303)
        except rules.Refused as exc:
            _show_problems(form, exc)
    return _page(votes.get(db(), vote.id), status=400, **{form_name: form})


@bp.post("/<int:vote_id>/questions/<int:question_id>/delete")
@staff_required
def delete_question(vote_id: int, question_id: int):
    vote = _managed(vote_id)
    return _simple(vote, lambda: votes.delete_question(db(), current_actor(), vote.id, question_id),
                   "Вопрос удалён.")


def _simple(vote, action, done: str):
    if not PlainForm().validate_on_submit():
        return error_page(400, "Форма устарела", "Обновите страницу и повторите действие.")
    try:
        action()
        flash(done, "success")
    except rules.Refused as exc:
        db().rollback()
        flash(str(exc), "error")
    except votes.NotFound:
        abort(404)
    return redirect(url_for("votes_staff.show", vote_id=vote.id), 303)


@bp.post("/<int:vote_id>/schedule")
@staff_required
def schedule(vote_id: int):
    vote = _managed(vote_id)
    return _simple(vote, lambda: votes.schedule(db(), env(), current_actor(), vote.id),
                   "Назначено: " + rules.period_text(vote, env().timezone) + " (местное время).")


@bp.post("/<int:vote_id>/unschedule")
@staff_required
def unschedule(vote_id: int):
    vote = _managed(vote_id)
    return _simple(vote, lambda: votes.unschedule(db(), current_actor(), vote.id), "Возвращено в черновик.")


@bp.post("/<int:vote_id>/publish")
@staff_required
def publish(vote_id: int):
    vote = _managed(vote_id)
    return _simple(vote, lambda: votes.publish_results(db(), env(), current_user, current_actor(), vote.id),
                   "Итоги опубликованы; участники уведомлены.")


@bp.get("/<int:vote_id>/export.<any(csv, xlsx):fmt>")
@staff_required
def export(vote_id: int, fmt: str):
    vote = _vote(vote_id)
    if vote.results_published_at is None:
        return error_page(403, "Итоги не опубликованы", "Итоги и ответы можно выгрузить только после того, как "
                                                         "организатор опубликует их по окончании.")
    session = db()
    which = request.args.get("table", "results")
    if which == "responses":
        table = vote_tables.responses_table(session, vote)
    elif which == "results":
        table = vote_tables.results_table(votes.results(session, vote))
    else:
        abort(404)
    return exports.table_response(table, fmt, f"{'vote' if vote.kind == VOTE else 'poll'}-{vote.id}-{which}")

