"""The applicant's votes and polls (/votes): current and past ones of their territory, the ballot with its
confirmation, the published results; the projects' pictures. The embeddable view is in pos/views/embed.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for

from pos import clock, params
from pos import votes as rules
from pos.auth import applicant_required, current_actor
from pos.forms.votes import PlainForm, SubscriptionForm
from pos.models.votes import BUDGET, KINDS, SCALE, TEXT, VOTE, VoteOption, VoteQuestion
from pos.services import files, vote_tables, votes
from pos.web import db, env, htmx_fragment_request, register_nav

bp = Blueprint("votes", __name__, url_prefix="/votes")

register_nav("votes.index", "Голосования и опросы", applicant=True)


@bp.after_request
def _not_stored(response):
    # Signed-in pages: what a person chose, or the organizer's drafts, stay out of shared caches.
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@applicant_required
def index():
    session = db()
    applicant_id = current_actor().applicant_id
    sub = votes.subscription(session, applicant_id)
    territory = sub.jurisdiction_id if sub else None
    form = SubscriptionForm(formdata=None, jurisdiction_id=str(territory or ""), notify=bool(sub and sub.notify))
    form.jurisdiction_id.choices = [("", "все территории")] + [(str(o.id), o.short_name or o.name)
                                                                for o in votes.jurisdictions(session)]
    now = clock.now()
    current, past = votes.public_list(session, territory, now)
    taken = votes.taken_part_in(session, [v.id for v in current + past], applicant_id)
    return render_template("votes/index.html", form=form, current=current, past=past, taken=taken, kinds=KINDS,
                           status=lambda v: rules.status(v, now), labels=rules.STATUS_LABELS,
                           period=lambda v: rules.period_text(v, env().timezone))


@bp.post("/subscription")
@applicant_required
def subscribe():
    form = SubscriptionForm()
    session = db()
    form.jurisdiction_id.choices = [("", "")] + [(str(o.id), o.name) for o in votes.jurisdictions(session)]
    if not form.validate_on_submit():
        flash("Такой территории нет.", "error")
        return redirect(url_for("votes.index"), 303)
    territory = params.id_or_none(form.jurisdiction_id.data)
    votes.subscribe(session, current_actor().applicant_id, territory, bool(form.notify.data))
    flash("Сохранено: " + ("сообщим, когда начнётся новое голосование или опрос." if form.notify.data
                           else "уведомления о новых голосованиях и опросах выключены."), "success")
    return redirect(url_for("votes.index"), 303)


def _public_vote(vote_id: int):
    try:
        vote = votes.get(db(), vote_id)
    except votes.NotFound:
        abort(404)
    if not votes.visible_to_public(vote):
        abort(404)  # a draft is the organizer's work in progress
    return vote


def choices_from(form, questions: list[VoteQuestion]) -> dict[int, rules.Choice]:
    """The ballot as the form sent it: `q<id>` (option ids, «other», or a scale value), `q<id>_other`,
    `q<id>_text`. A value that is no id is dropped here and the rules then say what is missing."""
    found = {}
    for q in questions:
        name = f"q{q.id}"
        raw = form.getlist(name)
        if q.kind == SCALE:
            value = params.id_or_none(raw[0]) if raw else None
            found[q.id] = rules.Choice(value=value if value is not None else (0 if raw and raw[0] else None))
        elif q.kind == TEXT:
            found[q.id] = rules.Choice(text=form.get(f"{name}_text", ""))
        else:
            ids = [i for i in (params.id_or_none(v) for v in raw if v != "other") if i is not None]
            found[q.id] = rules.Choice(option_ids=ids, other="other" in raw, other_text=form.get(f"{name}_other", ""))
    return found


def _context(vote, *, choices=None, problems=None):
    session = db()
    actor = current_actor()
    questions = votes.questions(session, vote.id)
    opts = votes.options(session, vote.id)
    state = rules.status(vote)
    results = votes.results(session, vote) if state == rules.PUBLISHED else None
    chosen = choices or {}
    budget_q = questions[0] if vote.kind == VOTE and questions and questions[0].kind == BUDGET else None
    spent, left = rules.remaining(vote, opts.get(budget_q.id, []), chosen.get(budget_q.id, rules.Choice()).option_ids) \
        if budget_q else (0, 0)
    return dict(vote=vote, state=state, labels=rules.STATUS_LABELS, questions=questions, options=opts,
                taken=votes.has_taken_part(session, vote.id, actor.applicant_id), results=results,
                tables=[vote_tables.question_table(r, vote.budget) for r in results.questions] if results else [],
                chosen=chosen, problems=dict(problems or {}), budget_q=budget_q, spent=spent, left=left,
                rub=rules.rub, period=rules.period_text(vote, env().timezone), kinds=KINDS,
                applicant=actor.applicant_id is not None, plain=PlainForm(formdata=None))


@bp.get("/<int:vote_id>")
@applicant_required
def show(vote_id: int):
    return render_template("votes/show.html", **_context(_public_vote(vote_id)))


@bp.post("/<int:vote_id>")
@applicant_required
def cast(vote_id: int):
    vote = _public_vote(vote_id)
    if not PlainForm().validate_on_submit():
        flash("Форма устарела: обновите страницу и повторите.", "error")
        return redirect(url_for("votes.show", vote_id=vote.id), 303)
    session = db()
    choices = choices_from(request.form, votes.questions(session, vote.id))
    if "recount" in request.form:  # «Пересчитать» without JavaScript: the same form with what is left
        return render_template("votes/show.html", **_context(vote, choices=choices))
    try:
        votes.cast(session, env(), vote.id, current_actor().applicant_id, choices)
    except votes.AlreadyCast as exc:
        flash(str(exc), "info")
        return redirect(url_for("votes.show", vote_id=vote.id), 303)
    except rules.Refused as exc:
        session.rollback()
        problems = [(f, t) for f, t in exc.problems if f]
        if len(problems) < len(exc.problems):  # a refusal of the whole ballot (not started, ended): above it
            flash(str(exc), "error")
        return render_template("votes/show.html", **_context(vote, choices=choices, problems=problems)), 400
    return redirect(url_for("votes.done", vote_id=vote.id), 303)


@bp.post("/<int:vote_id>/remaining")
@applicant_required
def remaining(vote_id: int):
    """htmx: what is left of the budget as the boxes are ticked (the same sum «Пересчитать» gives)."""
    vote = _public_vote(vote_id)
    choices = choices_from(request.form, votes.questions(db(), vote.id))
    context = _context(vote, choices=choices)
    if not htmx_fragment_request():
        return render_template("votes/show.html", **context)
    return render_template("votes/_budget_left.html", **context)


@bp.get("/<int:vote_id>/done")
@applicant_required
def done(vote_id: int):
    vote = _public_vote(vote_id)
    if not votes.has_taken_part(db(), vote.id, current_actor().applicant_id):
        return redirect(url_for("votes.show", vote_id=vote.id), 303)
    return render_template("votes/done.html", vote=vote, kinds=KINDS)


@bp.get("/pictures/<int:option_id>")
def picture(option_id: int):
    """A project's picture: public once its vote is, else only for who prepares it."""
    session = db()
    option = session.get(VoteOption, option_id)
    question = session.get(VoteQuestion, option.question_id) if option else None
    vote = votes.get(session, question.vote_id) if question else None
    if vote is None or not option.picture_key or not (
            votes.visible_to_public(vote) or votes.can_manage(current_actor(), vote)):
        abort(404)
    path = files.path_of(env().upload_dir, option.picture_key)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=option.picture_type, max_age=3600)
