"""The embeddable form for an organization's website: light, no JavaScript, addressed to that organization.

It is framed by other sites, so it lives without the session: a framed page gets
no SameSite=Lax cookie, hence no CSRF token either (the form is anonymous, there
is nothing of the visitor's to forge a request against). After sending, the
page redirects to a signed "sent" address that shows the number.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from pos import workflow as wf
from pos.forms.applicant import FILES_HINT, TEXT_HINT, EmbedForm, new_form_token
from pos.models import Message, Organization
from pos.services import applicant_messages as mine
from pos.services import applicants
from pos.services.checks import Collector
from pos.views.applicant import show_error, uploads
from pos.web import csrf, db, env

bp = Blueprint("embed", __name__, url_prefix="/embed")
csrf.exempt(bp)

SENT_MAX_AGE = 24 * 3600


@bp.after_request
def _frameable(response):
    # Any site may frame these pages (that is their purpose); web.py then leaves X-Frame-Options out.
    response.headers["Content-Security-Policy"] = (
        f"frame-ancestors {current_app.config['EMBED_FRAME_ANCESTORS']}; default-src 'self'; "
        "script-src 'none'; base-uri 'none'; form-action 'self'")
    response.headers["Cache-Control"] = "no-store"
    return response


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="pos.embed.sent")


def _organization(org_id: int) -> Organization:
    org = db().get(Organization, org_id)
    if org is None or not org.is_active:
        abort(404)
    return org


@bp.route("/<int:org_id>", methods=["GET", "POST"])
def form(org_id: int):
    org = _organization(org_id)
    # The form instance's token is in its address, as for the signed-in form (pos/views/applicant.py).
    token = applicants.form_token(request.args.get("form"))
    if request.method == "GET" and token is None:
        return redirect(url_for("embed.form", org_id=org.id, form=new_form_token()), 303)
    form = EmbedForm()
    status = 200
    if form.is_submitted():
        if earlier := applicants.sent_with(db(), token, source="embed"):
            return _sent(org, earlier, again=True)
        # The form's checks and the service's together: one submit shows every problem.
        form.validate()
        found = Collector()
        if not form.consent.data:
            found.add("consent", "Без согласия на обработку персональных данных сообщение не может быть принято.")
        contact = found.check(applicants.contact_applicant, form.data, consent_version=applicants.CONSENT_VERSION,
                              require_email=True)
        fields = found.check(applicants.message_fields, form.data)
        try:
            found.raise_any()
            if not form.errors:
                message = applicants.send(db(), env(), {**fields, "organization_id": org.id}, uploads=uploads(),
                                          source="embed", contact=contact, token=token)
                return _sent(org, message)
        except applicants.AlreadySent as exc:
            return _sent(org, exc.message, again=True)
        except wf.Refused as exc:
            show_error(form, exc)
        status = 400
    return render_template("embed/form.html", form=form, org=org, text_hint=TEXT_HINT, files_hint=FILES_HINT,
                           consent_text=applicants.CONSENT_TEXT, token=token), status


def _sent(org: Organization, message: Message, *, again: bool = False):
    args = {"again": 1} if again else {}
    return redirect(url_for("embed.sent", org_id=org.id, token=_signer().dumps(message.id), **args), 303)


@bp.get("/<int:org_id>/sent/<token>")
def sent(org_id: int, token: str):
    org = _organization(org_id)
    try:
        message_id = _signer().loads(token, max_age=SENT_MAX_AGE)
    except BadSignature:
        abort(404)
    message = db().get(Message, message_id)
    if message is None or message.source != "embed":
        abort(404)
    due = mine.local(message.answer_due_at, env().timezone)
    return render_template("embed/sent.html", org=org, message=message, due=due, again=bool(request.args.get("again")))


@bp.get("/votes/<int:vote_id>")
def vote(vote_id: int):
    """A vote or poll on an organization's website: what it is about, its state and published results; taking
    part is on the platform itself, signed in (a framed page has no session), behind «Войти и проголосовать»."""
    from pos.views.votes_public import _context, _public_vote
    vote = _public_vote(vote_id)
    context = {**_context(vote), "applicant": False, "taken": False}
    org = db().get(Organization, vote.organization_id)
    return render_template("embed/vote.html", org=org, **context)
