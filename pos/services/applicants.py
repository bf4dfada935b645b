"""Applicants: who they are (registration behind an identity provider), consent, and sending a message.

Local accounts are the identity provider here. The real ПОС signs applicants in
through ЕСИА; an OIDC adapter implements `IdentityProvider` with the verified
claims it gets back (name, e-mail, phone; for an organization its name, ИНН and
ОГРН) and the rest of the platform does not change: it sees a `User` linked to
an `Applicant` either way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Protocol

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pos import clock
from pos.db import column_values
from pos.models import Applicant, Message, Subcategory, User
from pos.services import accounts, files
from pos.services.checks import Collector
from pos.services.passwords import password_problems
from pos.services.messages import Env, submit_message
from pos.workflow import Invalid

CITIZEN, LEGAL = "citizen", "legal"
KIND_LABELS = {CITIZEN: "Гражданин", LEGAL: "Юридическое лицо"}

# The consent text is versioned: an applicant's row says which text they agreed to.
CONSENT_VERSION = "2026-01"
CONSENT_TEXT = (
    "Я даю согласие оператору платформы обратной связи на обработку моих персональных данных "
    "(фамилия, имя, отчество; адрес электронной почты; номер телефона; сведения об организации, "
    "которую я представляю) в целях рассмотрения моих сообщений, направления мне ответов и уведомлений "
    "о ходе рассмотрения, в соответствии с Федеральным законом от 27.07.2006 № 152-ФЗ "
    "«О персональных данных». Согласие действует до его отзыва; отозвать его можно, направив "
    "заявление оператору."
)
# Contact data that an API client sends: the client obtained the person's consent under its own terms.
API_CONSENT_VERSION = "api-client"

MAX_NAME = 300
MAX_EMAIL = 120  # the e-mail is the sign-in login, and logins are at most 120 characters
MAX_ADDRESS = 500

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- checks -------------------------------------------------------------------------

def inn_is_valid(inn: str) -> bool:
    """A legal entity's ИНН: 10 digits, the last one a check digit."""
    if not re.fullmatch(r"\d{10}", inn or ""):
        return False
    total = sum(int(d) * w for d, w in zip(inn, _INN_WEIGHTS))
    return total % 11 % 10 == int(inn[9])


def ogrn_is_valid(ogrn: str) -> bool:
    """ОГРН: 13 digits; the last is the remainder of the first twelve divided by 11 (its last digit)."""
    if not re.fullmatch(r"\d{13}", ogrn or ""):
        return False
    return int(ogrn[:12]) % 11 % 10 == int(ogrn[12])


def plain(value) -> str:
    """Text without control characters (PostgreSQL refuses NUL; none of them belongs in a message)."""
    return _CONTROL.sub("", str(value or ""))


def _clean(value) -> str:
    return " ".join(plain(value).split())


def _name(value, field: str, label: str, *, required: bool = True) -> str:
    value = _clean(value)
    if required and not value:
        raise Invalid(f"Заполните поле «{label}».", field)
    if len(value) > MAX_NAME:
        raise Invalid(f"Поле «{label}» длиннее {MAX_NAME} символов.", field)
    return value


def normalize_email(value, field: str = "email", *, required: bool = True) -> str:
    value = plain(value).strip().lower()
    if not value:
        if required:
            raise Invalid("Укажите адрес электронной почты.", field)
        return ""
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise Invalid("Адрес электронной почты указан неверно (пример: ivanov@mail.ru).", field)
    return value


def normalize_phone(value, field: str = "phone", *, required: bool = True) -> str:
    raw = plain(value).strip()
    if not raw:
        if required:
            raise Invalid("Укажите номер телефона.", field)
        return ""
    digits = re.sub(r"[\s()\-]", "", raw)
    if not re.fullmatch(r"\+?\d{10,15}", digits):
        raise Invalid("Номер телефона указан неверно (пример: +7 914 123-45-67).", field)
    if re.fullmatch(r"8\d{10}", digits):  # the domestic form of a Russian number
        digits = "+7" + digits[1:]
    elif not digits.startswith("+"):
        digits = "+" + digits
    return digits


# --- who the applicant is -----------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """An applicant's data, checked. For a legal entity `full_name` is its contact person."""
    kind: str
    full_name: str
    email: str
    phone: str
    org_name: str = ""
    inn: str = ""
    ogrn: str = ""


def _registry_number(data: Mapping, field: str, label: str, digits: int, check) -> str:
    """A legal entity's ИНН or ОГРН: the right number of digits and a matching check digit."""
    value = re.sub(r"\s", "", data.get(field) or "")
    if not value:
        raise Invalid(f"Укажите {label} организации.", field)
    if not re.fullmatch(rf"\d{{{digits}}}", value):
        raise Invalid(f"{label} юридического лица состоит из {digits} цифр.", field)
    if not check(value):
        raise Invalid(f"{label} указан с ошибкой: не сходится контрольная цифра. Проверьте номер.", field)
    return value


def _profile(data: Mapping, found: Collector) -> Profile:
    kind = (data.get("kind") or CITIZEN).strip()
    if kind not in KIND_LABELS:
        found.add("kind", "Выберите, кто подаёт сообщения: гражданин или юридическое лицо.")
    email = found.check(normalize_email, data.get("email"))
    phone = found.check(normalize_phone, data.get("phone"))
    if kind != LEGAL:
        return Profile(CITIZEN, found.check(_name, data.get("full_name"), "full_name", "Фамилия, имя, отчество"),
                       email, phone)
    org_name = found.check(_name, data.get("org_name"), "org_name", "Наименование организации")
    inn = found.check(_registry_number, data, "inn", "ИНН", 10, inn_is_valid)
    ogrn = found.check(_registry_number, data, "ogrn", "ОГРН", 13, ogrn_is_valid)
    contact = found.check(_name, data.get("contact_person"), "contact_person", "Контактное лицо")
    return Profile(LEGAL, contact, email, phone, org_name, inn, ogrn)


def validate_profile(data: Mapping) -> Profile:
    """The applicant's data, checked; `pos.services.checks.Problems` lists every field at fault."""
    found = Collector()
    profile = _profile(data, found)
    found.raise_any()
    return profile


def check_registration(data: Mapping, credentials: Mapping, *, consent: bool) -> Profile:
    """Everything a registration needs, checked at once: the profile, the password policy, the
    repeated password and the consent. `pos.services.checks.Problems` lists them all."""
    found = Collector()
    profile = _profile(data, found)
    password = credentials.get("password") or ""
    if not password:
        found.add("password", "Придумайте пароль.")
    else:
        for problem in password_problems(password, login=profile.email, email=profile.email,
                                         name=profile.full_name):
            found.add("password", problem)
    confirm = credentials.get("password_confirm") or ""
    if not confirm:
        found.add("password_confirm", "Повторите пароль.")
    elif password and confirm != password:
        found.add("password_confirm", "Пароли не совпадают.")
    if not consent:
        found.add("consent", "Без согласия на обработку персональных данных регистрация невозможна.")
    found.raise_any()
    return profile


def _applicant_row(profile: Profile, *, user_id: int | None, consent_version: str) -> Applicant:
    now = clock.now()
    return Applicant(user_id=user_id, kind=profile.kind, full_name=profile.full_name, email=profile.email,
                     phone=profile.phone, org_name=profile.org_name, inn=profile.inn, ogrn=profile.ogrn,
                     contact_person=profile.full_name if profile.kind == LEGAL else "",
                     consent_at=now, consent_version=consent_version, created_at=now)


class IdentityProvider(Protocol):
    """Where applicants' identities come from.

    `register` checks what the person typed and starts the registration: it never says whether
    the address is already known (the answer is the same either way; the e-mail tells its owner).
    `confirm` completes it from the secret the person got back (the link in the letter) and
    returns the new account with its `Applicant`; `authenticate` returns the signed-in user or None.
    An ЕСИА adapter would take the OIDC callback's verified claims as `credentials` and build the
    `Profile` from them.
    """

    def register(self, session: Session, data: Mapping, credentials: Mapping, *, consent: bool) -> None: ...

    def confirm(self, session: Session, token: str) -> User: ...

    def authenticate(self, session: Session, credentials: Mapping) -> User | None: ...


class LocalAccounts:
    """Accounts of this platform: the e-mail is the login, confirmed by a link; argon2 passwords."""

    def register(self, session: Session, data: Mapping, credentials: Mapping, *, consent: bool) -> None:
        from pos.services import registration
        profile = check_registration(data, credentials, consent=consent)
        registration.start(session, profile, credentials["password"], consent_version=CONSENT_VERSION)

    def confirm(self, session: Session, token: str) -> User:
        from pos.services import registration
        return registration.confirm(session, token)

    def authenticate(self, session: Session, credentials: Mapping) -> User | None:
        return accounts.authenticate(session, credentials.get("login") or "", credentials.get("password") or "")


def create_account(session: Session, profile: Profile, *, password_hash: str, consent_version: str) -> User:
    """The applicant's account and profile, flushed, not committed. The login must be free."""
    user = User(login=profile.email, password_hash=password_hash, full_name=profile.full_name,
                email=profile.email, phone=profile.phone, is_staff=False, created_at=clock.now())
    session.add(user)
    session.flush()
    session.add(_applicant_row(profile, user_id=user.id, consent_version=consent_version))
    session.flush()
    return user


def identity_provider() -> IdentityProvider:
    return LocalAccounts()


def contact_applicant(data: Mapping, *, consent_version: str, require_email: bool) -> Applicant | None:
    """The author of a message sent without an account (embedded form, API): contact data only, no login.

    Not added to a session: `send` writes it in the message's own transaction.
    """
    found = Collector()
    first = found.check(_name, data.get("first_name"), "first_name", "Имя", required=False)
    last = found.check(_name, data.get("last_name"), "last_name", "Фамилия", required=False)
    full_name = found.check(_name, data.get("full_name") or f"{last} {first}", "full_name",
                            "Фамилия, имя, отчество", required=require_email)
    email = found.check(normalize_email, data.get("email"), required=require_email)
    phone = found.check(normalize_phone, data.get("phone"), required=False)
    found.raise_any()
    if not (full_name or email or phone):
        return None
    return _applicant_row(Profile(CITIZEN, full_name, email, phone), user_id=None, consent_version=consent_version)


# --- sending a message --------------------------------------------------------------

def _coordinate(value, field: str, label: str, limit: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise Invalid(f"{label}: введите число (например, {'50.2906' if limit == 90 else '127.5272'}).",
                      field) from None
    if not -limit <= number <= limit or number != number:
        raise Invalid(f"{label} должна быть от −{limit:g} до {limit:g} градусов.", field)
    return number


def _address(value) -> str:
    address = _clean(value)
    if len(address) > MAX_ADDRESS:
        raise Invalid(f"Адрес длиннее {MAX_ADDRESS} символов.", "address")
    return address


def message_fields(data: Mapping, *, require_location: bool = True) -> dict:
    """What the applicant sent, checked beyond the workflow's own checks: the place and the classifier ids.
    `pos.services.checks.Problems` lists every field at fault."""
    found = Collector()
    address = found.check(_address, data.get("address"))
    latitude = found.check(_coordinate, data.get("latitude"), "latitude", "Широта", 90)
    longitude = found.check(_coordinate, data.get("longitude"), "longitude", "Долгота", 180)
    latitude, longitude = (None if v == "" else v for v in (latitude, longitude))
    if not found.problems and (latitude is None) != (longitude is None):
        found.add("longitude" if longitude is None else "latitude",
                  "Укажите обе координаты — широту и долготу — или ни одной.")
    if require_location and not address and latitude is None and not found.problems:
        found.add("address", "Укажите адрес, к которому относится сообщение.")
    found.raise_any()
    fields = {"text": plain(data.get("text")), "address": address, "latitude": latitude, "longitude": longitude}
    for name in ("category_id", "subcategory_id", "organization_id"):
        value = data.get(name)
        if value not in (None, ""):
            fields[name] = value
    return fields


class AlreadySent(Exception):
    """The form instance (its token) has sent its message already: `message` is that one."""

    def __init__(self, message: Message):
        super().__init__(f"Сообщение {message.number} уже отправлено этой формой.")
        self.message = message


FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def form_token(value) -> str | None:
    """A form's idempotency token as sent, or None for a missing or malformed one."""
    value = str(value or "")
    return value if FORM_TOKEN.fullmatch(value) else None


def sent_with(session: Session, token: str | None, *, applicant_id: int | None = None,
              source: str | None = None) -> Message | None:
    """The message a form instance sent, if it did (and if it is this author's or this source's)."""
    if not token:
        return None
    query = select(Message).where(Message.form_token == token)
    if applicant_id is not None:
        query = query.where(Message.applicant_id == applicant_id)
    if source is not None:
        query = query.where(Message.source == source)
    return session.exec(query).first()


def _token_is_free(session: Session, token: str | None) -> None:
    """A token that sent someone else's message (copied from another form): refused, nothing shown."""
    if sent_with(session, token) is not None:
        raise Invalid("Эта форма уже была отправлена. Откройте форму заново и отправьте сообщение.")


_NEW_APPLICANT = insert(Applicant.__table__)  # built once


def send(session: Session, env: Env, fields: dict, *, uploads: list[files.Upload] = (), source: str = "web",
         user: User | None = None, applicant_id: int | None = None, contact: Applicant | None = None,
         api_client_id: int | None = None, api_token: str | None = None, token: str | None = None,
         classified: tuple[int, int] | None = None) -> Message:
    """Register a message: the author's contact row (if any), the message and its files, in one transaction.

    `token` is the sending form's: a form sent again raises `AlreadySent` with the message it sent,
    whether the first request has finished or is still running (the database keeps one per token)."""
    owner = {"applicant_id": applicant_id} if applicant_id is not None else {"source": source}
    if token:
        if (earlier := sent_with(session, token, **owner)) is not None:
            raise AlreadySent(earlier)
        _token_is_free(session, token)
        # The look-up's read ends here, before the message's own transaction (on SQLite a transaction
        # holds the write lock from its first statement).
        session.commit()
    fields = dict(fields)
    files.check(list(uploads))  # a bad file refuses everything before anything is written
    if fields.get("subcategory_id") and not fields.get("category_id"):
        try:
            sub = session.get(Subcategory, int(fields["subcategory_id"]))
        except (TypeError, ValueError):
            raise Invalid("Неверное значение поля «Подкатегория».", "subcategory_id") from None
        if sub is not None:
            fields["category_id"] = sub.category_id
    try:
        if contact is not None:  # a plain row (Core INSERT): only its id is needed afterwards
            applicant_id = session.execute(_NEW_APPLICANT, column_values(contact)).inserted_primary_key[0]
        fields["applicant_id"] = applicant_id
        return submit_message(session, env, fields, uploads=list(uploads), source=source,
                              api_client_id=api_client_id, user_id=user.id if user else None, api_token=api_token,
                              form_token=token, classified=classified)
    except IntegrityError:
        session.rollback()
        if (earlier := sent_with(session, token, **owner)) is not None:
            raise AlreadySent(earlier) from None  # the same form's other request won
        _token_is_free(session, token)
        raise
    except Exception:
        session.rollback()
        raise
