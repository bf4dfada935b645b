"""A registration confirmed by e-mail, which never tells anyone whether an address is registered.

«Зарегистрироваться» answers the same way for every address: «we sent you a letter». To a new
address the letter carries a link that creates the account (valid for a day); to an address that
already has an account, the letter says someone tried to register with it and how to sign in.
Both branches do the same work (one argon2 hash, one letter in the outbox, one commit), so neither
the page nor its timing tells them apart, and nobody can hold an address they do not own: no
account exists until its owner follows the link.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import secrets
import uuid
from datetime import timedelta
from typing import Mapping

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pos import clock, mail
from pos.models import Applicant, OutboxEvent, PendingRegistration, User
from pos.services import accounts, notifications, outbox
from pos.services.applicants import Profile, create_account
from pos.workflow import Invalid

log = logging.getLogger(__name__)

CONFIRM_HOURS = 24
CONFIRM_PATH = "/register/confirm/"
# The letters (templates mail/<name>.txt), sent by the notification job (jobs.notify).
CONFIRM_LETTER, TAKEN_LETTER = "register_confirm", "register_taken"
LETTERS = (CONFIRM_LETTER, TAKEN_LETTER)

LINK_INVALID = ("Ссылка для завершения регистрации недействительна или устарела (она действует "
                f"{CONFIRM_HOURS} часа). Зарегистрируйтесь ещё раз.")
ALREADY_DONE = "Регистрация по этому адресу уже завершена. Войдите с адресом электронной почты и паролем."


_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _well_formed(token: str) -> bool:
    """What `secrets.token_urlsafe` makes; anything else in the address finds nothing."""
    return bool(token and _TOKEN.fullmatch(token))


def _account(session: Session, email: str) -> User | None:
    """The account an address belongs to: its login, or the address of an applicant with an account
    (an account made before logins were addresses, the demo ones say)."""
    return (session.exec(select(User).where(User.login == email)).first()
            or session.exec(select(User).join(Applicant, Applicant.user_id == User.id)
                            .where(Applicant.email == email)).first())


def _registered(session: Session, email: str) -> bool:
    return _account(session, email) is not None


def start(session: Session, profile: Profile, password: str, *, consent_version: str) -> None:
    """Begin the registration of a checked profile; the letter goes out after the commit."""
    now = clock.now()
    password_hash = accounts.hash_password(password)  # hashed for a taken address too: the same cost
    try:
        session.execute(delete(PendingRegistration).where(PendingRegistration.expires_at < now))
        # What the person typed never reaches someone else's mailbox: the letter to a taken address
        # names its owner, the confirmation letter names nobody.
        owner = _account(session, profile.email)
        payload = {"letter": TAKEN_LETTER, "to": profile.email, "name": owner.full_name if owner else ""}
        if owner is None:
            token = secrets.token_urlsafe(32)
            session.add(PendingRegistration(token_hash=_hash(token), email=profile.email,
                                            profile=dataclasses.asdict(profile), password_hash=password_hash,
                                            consent_version=consent_version, created_at=now,
                                            expires_at=now + timedelta(hours=CONFIRM_HOURS)))
            payload = {"letter": CONFIRM_LETTER, "to": profile.email, "name": "", "token": token}
        row = OutboxEvent(created_at=now, kind="notify", idempotency_key=f"letter:{uuid.uuid4().hex}",
                          payload=payload)
        session.add(row)
        session.commit()
    except Exception:
        session.rollback()
        raise
    outbox.dispatch([row.id])


def pending(session: Session, token: str) -> PendingRegistration | None:
    """The registration a link completes, while it may still be completed."""
    if not _well_formed(token):
        return None
    return session.exec(select(PendingRegistration).where(
        PendingRegistration.token_hash == _hash(token), PendingRegistration.confirmed_at.is_(None),
        PendingRegistration.expires_at > clock.now())).first()


def completed(session: Session, token: str) -> PendingRegistration | None:
    """The registration a link has completed already (followed again, or its button pressed twice)."""
    if not _well_formed(token):
        return None
    return session.exec(select(PendingRegistration).where(
        PendingRegistration.token_hash == _hash(token), PendingRegistration.confirmed_at.is_not(None))).first()


def confirm(session: Session, token: str) -> User:
    """Create the account of a pending registration; `Invalid` for a dead link or a done registration."""
    row = pending(session, token)
    if row is None:
        raise Invalid(LINK_INVALID)
    if _registered(session, row.email):
        raise Invalid(ALREADY_DONE)
    try:
        user = create_account(session, Profile(**row.profile), password_hash=row.password_hash,
                              consent_version=row.consent_version)
        # Kept till it expires only to recognise the link followed again; what it held is in the account now.
        row.confirmed_at, row.password_hash, row.profile = clock.now(), "", {}
        session.add(row)
        # Other registrations of the address, still waiting, are void now.
        session.execute(delete(PendingRegistration).where(PendingRegistration.email == row.email,
                                                          PendingRegistration.id != row.id))
        session.commit()
    except IntegrityError:  # the same link followed twice at once: the other one made the account
        session.rollback()
        raise Invalid(ALREADY_DONE) from None
    except Exception:
        session.rollback()
        raise
    return user


def is_letter(payload: Mapping) -> bool:
    return payload.get("letter") in LETTERS


def send_letter(session: Session, cfg: Mapping, row: OutboxEvent) -> int:
    """The notification job's part for a registration letter: send it once, then forget the link's
    secret (the outbox keeps no working link)."""
    payload = dict(row.payload or {})
    if payload.get("emailed"):
        return 0
    url = (cfg.get("PUBLIC_URL") or "").rstrip("/")
    title, body = notifications.render(payload["letter"], {
        "name": payload.get("name") or "", "url": url, "hours": CONFIRM_HOURS, "login_url": f"{url}/login",
        "register_url": f"{url}/register", "link": f"{url}{CONFIRM_PATH}{payload.get('token') or ''}"})
    letter = dataclasses.replace(notifications.letter(cfg, title, body, token=row.idempotency_key),
                                 to=payload["to"])
    if mail.enabled(cfg):
        with mail.connection(cfg) as conn:
            conn.send(letter)
    else:  # a developer's machine without SMTP: the letter is in the worker's log instead
        log.warning("mail is not configured (SMTP_HOST): the letter «%s» to %s was not sent:\n%s",
                    letter.subject, letter.to, letter.text)
    row.payload = {**payload, "token": "", "emailed": True}
    session.add(row)
    session.commit()
    return 1
