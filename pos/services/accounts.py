"""Accounts: staff and applicants, passwords (argon2), role grants, organizations."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlmodel import Session, select

from pos import clock
from pos.models import Applicant, Organization, OrganizationCategory, RoleGrant, RoleGrantCategory, User
from pos.services import directory, reference
from pos.workflow import PLATFORM_ROLES, Role

_hasher = PasswordHasher()


def use_fast_hashing() -> None:
    """Cheap argon2 parameters: tests and demo seeding only, never production."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return bool(user.password_hash) and _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def end_sessions(user: User) -> None:
    """Every session of this user stops loading the user (the token is part of the signed-in id)."""
    user.session_token = new_session_token()


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session of the user ends, the current one too (sign in again, or call
    `login_user` once more to keep the person signed in)."""
    user.password_hash = hash_password(password)
    user.must_change_password = False  # the person's own password now, whatever the administrator gave
    end_sessions(user)
    session.add(user)
    session.commit()


def deactivate(session: Session, user: User) -> None:
    """The user can no longer sign in, and every session of the user ends."""
    user.is_active = False
    end_sessions(user)
    session.add(user)
    session.commit()


# The signed-in user with the directory's token and their applicant profile: the first statement of a
# request, which the rest of it (the kept directory, the person's grants) needs no other for.
_SIGNED_IN = select(User, reference.TOKEN.label("reference_token"),
                    select(Applicant.id).where(Applicant.user_id == User.id).scalar_subquery().label("applicant_id")) \
    .where(User.id == bindparam("user_id"))


def user_by_session_id(session: Session, session_id: str) -> User | None:
    """The user of a signed-in id (`<user id>:<session token>`, see `User.get_id`), if still valid."""
    user_id, _, token = session_id.partition(":")
    if not (user_id.isdigit() and len(user_id) < 19):
        return None
    found = session.execute(_SIGNED_IN, {"user_id": int(user_id)}).first()
    if found is None:
        return None
    user, reference_token, applicant_id = found
    reference.adopt_token(session, reference_token)
    directory.note_applicant(session, user.id, applicant_id)
    if not user.is_active or not secrets.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def authenticate(session: Session, login: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.login == login.strip().lower())).first()
    if user is None or not user.is_active:
        _hasher.hash(password)  # same cost either way: no telling logins apart by timing
        return None
    if not verify_password(user, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
        session.commit()
    return user


def create_user(session: Session, login: str, password: str, full_name: str, *, position: str = "",
                email: str = "", phone: str = "", is_staff: bool = True) -> User:
    login = login.strip().lower()
    if session.exec(select(User).where(User.login == login)).first() is not None:
        raise ValueError(f"Пользователь «{login}» уже существует.")
    user = User(login=login, password_hash=hash_password(password), full_name=full_name, position=position,
                email=email, phone=phone, is_staff=is_staff, created_at=clock.now(),
                session_token=new_session_token())
    session.add(user)
    session.flush()
    return user


def grant(session: Session, user: User, role: str, organization_id: int | None = None,
          category_ids: list[int] | None = None) -> RoleGrant:
    role = Role(role)
    if role not in PLATFORM_ROLES and organization_id is None:
        raise ValueError(f"Роль «{role}» выдаётся в организации: укажите организацию.")
    if role in PLATFORM_ROLES and organization_id is not None:
        raise ValueError(f"Роль «{role}» действует на всей платформе: организацию не указывают.")
    row = RoleGrant(user_id=user.id, role=role, organization_id=organization_id)
    session.add(row)
    session.flush()
    for category_id in category_ids or []:
        session.add(RoleGrantCategory(grant_id=row.id, category_id=category_id))
    return row


def create_organization(session: Session, name: str, kind: str, parent: Organization | None = None, *,
                        short_name: str = "", regulation: str = "", category_ids: list[int] = ()) -> Organization:
    org = Organization(name=name, short_name=short_name or name, kind=kind,
                       parent_id=parent.id if parent else None, regulation=regulation if parent is None else "")
    session.add(org)
    session.flush()
    org.root_id = parent.root_id if parent else org.id
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    for category_id in category_ids:
        session.add(OrganizationCategory(organization_id=org.id, category_id=category_id))
    session.flush()
    return org
