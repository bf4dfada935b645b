"""The administrator's users: staff accounts, their role grants per organization (a head's limited to
categories), deactivation and reactivation (nobody with a history is deleted), a temporary password that
must be changed at the next sign-in. Each change is one transaction with its record in the change log."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from pos import workflow as wf
from pos.models import Category, Organization, RoleGrant, RoleGrantCategory, User
from pos.services import accounts, admin_audit
from pos.workflow import PLATFORM_ROLES, ROLE_LABELS, Role

LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{1,119}")
PER_PAGE = 50


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS.get(Role(role), role)
    except ValueError:
        return role


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_staff:
        raise LookupError(user_id)
    return user


def _profile(user: User) -> dict:
    return {"login": user.login, "full_name": user.full_name, "position": user.position, "email": user.email,
            "phone": user.phone, "is_active": user.is_active}


def _clean(full_name: str, position: str, email: str, phone: str) -> tuple[str, str, str, str]:
    full_name, position = " ".join((full_name or "").split()), " ".join((position or "").split())
    email, phone = (email or "").strip(), " ".join((phone or "").split())
    if not full_name:
        raise wf.Invalid("Укажите фамилию, имя и отчество.", "full_name")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise wf.Invalid("Адрес электронной почты указан неверно.", "email")
    if len(full_name) > 300 or len(position) > 300 or len(email) > 300 or len(phone) > 40:
        raise wf.Invalid("Слишком длинное значение.", "full_name")
    return full_name, position, email.lower(), phone


def temporary_password() -> str:
    """A random password for the first sign-in; the person changes it at once."""
    return secrets.token_urlsafe(12)


# --- reading -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    q: str = ""  # login or name
    organization_id: int | None = None
    role: str = ""
    status: str = ""  # "" every one, "active", "inactive", "no_roles"


@dataclass(frozen=True)
class GrantRow:
    grant: RoleGrant
    label: str
    organization: str
    categories: list[str]


def search(session: Session, filters: Filters, number: int = 1) -> tuple[list[User], bool]:
    query = select(User).where(User.is_staff)
    q = " ".join(filters.q.replace("%", "").replace("_", "").split())
    if q:
        # SQLite folds only ASCII case, so a name is looked for as typed and in its usual cases
        # («громов», «Громов», «ГРОМОВ»); logins are ASCII.
        variants = {q, q.lower(), q.title(), q.upper(), q[:1].upper() + q[1:]}
        query = query.where(or_(func.lower(User.login).like(f"%{q.lower()}%"),
                                *[User.full_name.like(f"%{v}%") for v in variants]))
    granted = select(RoleGrant.user_id)
    if filters.organization_id:
        granted = granted.where(RoleGrant.organization_id == filters.organization_id)
    if filters.role:
        granted = granted.where(RoleGrant.role == filters.role)
    if filters.organization_id or filters.role:
        query = query.where(User.id.in_(granted))
    if filters.status == "active":
        query = query.where(User.is_active)
    elif filters.status == "inactive":
        query = query.where(User.is_active.is_(False))
    elif filters.status == "no_roles":
        query = query.where(User.id.not_in(select(RoleGrant.user_id)))
    rows = session.exec(query.order_by(User.full_name, User.id).offset((number - 1) * PER_PAGE)
                        .limit(PER_PAGE + 1)).all()
    return list(rows[:PER_PAGE]), len(rows) > PER_PAGE


def grants(session: Session, user_id: int) -> list[GrantRow]:
    rows = []
    for grant in session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)):
        org = session.get(Organization, grant.organization_id) if grant.organization_id else None
        cats = session.exec(select(Category.name).join(RoleGrantCategory, RoleGrantCategory.category_id == Category.id)
                            .where(RoleGrantCategory.grant_id == grant.id).order_by(Category.name)).all()
        rows.append(GrantRow(grant, role_label(grant.role), (org.short_name or org.name) if org else "", list(cats)))
    return rows


def role_summaries(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """«Координатор — УГХ» per user, for a list page (one query)."""
    result: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return result
    rows = session.exec(select(RoleGrant, Organization).join(Organization, Organization.id == RoleGrant.organization_id,
                                                             isouter=True)
                        .where(RoleGrant.user_id.in_(user_ids)).order_by(RoleGrant.id)).all()
    for grant, org in rows:
        result[grant.user_id].append(role_label(grant.role) + (f" — {org.short_name or org.name}" if org else ""))
    return result


def without_roles(session: Session, limit: int = 100) -> list[User]:
    """Active staff with no role at all: they can sign in and see nothing (the admin home)."""
    return list(session.exec(select(User).where(User.is_staff, User.is_active,
                                                User.id.not_in(select(RoleGrant.user_id)))
                             .order_by(User.full_name).limit(limit)))


# --- changing ------------------------------------------------------------------------------------------

def create(session: Session, actor_id: int | None, *, login: str, full_name: str, position: str = "",
           email: str = "", phone: str = "") -> tuple[User, str]:
    """A staff account with a temporary password (returned, shown once), to be changed at the first sign-in."""
    login = (login or "").strip().lower()
    if not LOGIN.fullmatch(login):
        raise wf.Invalid("Логин: от 2 до 120 латинских букв, цифр, точек, дефисов и подчёркиваний.", "login")
    if session.exec(select(User.id).where(User.login == login)).first() is not None:
        raise wf.Invalid(f"Логин «{login}» уже занят.", "login")
    full_name, position, email, phone = _clean(full_name, position, email, phone)
    password = temporary_password()
    user = accounts.create_user(session, login, password, full_name, position=position, email=email, phone=phone)
    user.must_change_password = True
    session.add(user)
    admin_audit.record(session, actor_id, "user", user.id, "create", f"Создан пользователь «{login}» ({full_name})",
                       new=_profile(user))
    session.commit()
    return user, password


def edit(session: Session, actor_id: int | None, user_id: int, *, full_name: str, position: str, email: str,
         phone: str) -> None:
    user = _get(session, user_id)
    before = _profile(user)
    user.full_name, user.position, user.email, user.phone = _clean(full_name, position, email, phone)
    after = _profile(user)
    if after == before:
        return
    session.add(user)
    admin_audit.record(session, actor_id, "user", user.id, "edit", f"Изменены данные пользователя «{user.login}»",
                       old={k: v for k, v in before.items() if after[k] != v},
                       new={k: v for k, v in after.items() if before[k] != v})
    session.commit()


def set_active(session: Session, actor_id: int | None, user_id: int, active: bool) -> None:
    """Deactivate (no sign-in, every session ends; the account and its history stay) or reactivate."""
    user = _get(session, user_id)
    if not active and user.id == actor_id:
        raise wf.Invalid("Нельзя деактивировать самого себя: это сделает другой администратор.")
    if user.is_active == active:
        raise wf.Invalid(f"Пользователь «{user.login}» уже {'активен' if active else 'деактивирован'}.")
    admin_audit.record(session, actor_id, "user", user.id, "reactivate" if active else "deactivate",
                       f"Пользователь «{user.login}» {'активирован' if active else 'деактивирован'}",
                       old={"is_active": not active}, new={"is_active": active})
    if active:
        user.is_active = True
        session.add(user)
        session.commit()
    else:
        accounts.deactivate(session, user)  # commits, the record with it


def reset_password(session: Session, actor_id: int | None, user_id: int) -> str:
    """A new temporary password (returned, shown once); every session of the user ends; the user must
    change it at the next sign-in."""
    user = _get(session, user_id)
    password = temporary_password()
    user.password_hash = accounts.hash_password(password)
    user.must_change_password = True
    accounts.end_sessions(user)
    session.add(user)
    admin_audit.record(session, actor_id, "user", user.id, "reset_password",
                       f"Сброшен пароль пользователя «{user.login}»", new={"must_change_password": True})
    session.commit()
    return password


def grant(session: Session, actor_id: int | None, user_id: int, role: str, organization_id: int | None,
          category_ids: list[int]) -> RoleGrant:
    user = _get(session, user_id)
    try:
        role = Role(role)
    except ValueError:
        raise wf.Invalid("Выберите роль.", "role") from None
    if role in PLATFORM_ROLES:
        organization_id = None  # a platform role: whatever organization was chosen does not apply
    org = session.get(Organization, organization_id) if organization_id else None
    if role not in PLATFORM_ROLES:
        if org is None:
            raise wf.Invalid(f"Роль «{role_label(role)}» выдаётся в организации: выберите организацию.",
                             "organization_id")
        if not org.is_active:
            raise wf.Invalid(f"Организация «{org.short_name or org.name}» закрыта.", "organization_id")
    if category_ids and role != Role.HEAD:
        raise wf.Invalid("Ограничить категориями можно только роль руководителя.", "category_ids")
    for category_id in category_ids:
        category = session.get(Category, category_id)
        if category is None or not category.is_active:
            raise wf.Invalid("Выбрана категория, которой нет или которая выведена из употребления.", "category_ids")
    same = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role,
                                                RoleGrant.organization_id == organization_id
                                                if organization_id else RoleGrant.organization_id.is_(None))).first()
    if same is not None:
        raise wf.Invalid("Эта роль в этой организации у пользователя уже есть.", "role")
    row = accounts.grant(session, user, role, organization_id, list(category_ids))
    where = f" — {org.short_name or org.name}" if org else ""
    admin_audit.record(session, actor_id, "role_grant", row.id, "grant",
                       f"Пользователю «{user.login}» выдана роль «{role_label(role)}»{where}",
                       new={"user_id": user.id, "role": role.value, "organization_id": organization_id,
                            "categories": sorted(category_ids)})
    session.commit()
    return row


def revoke(session: Session, actor_id: int | None, user_id: int, grant_id: int) -> None:
    user = _get(session, user_id)
    row = session.get(RoleGrant, grant_id)
    if row is None or row.user_id != user.id:
        raise LookupError(grant_id)
    if row.role == Role.ADMINISTRATOR and user.id == actor_id:
        raise wf.Invalid("Свою роль администратора снять нельзя: это сделает другой администратор.")
    links = session.exec(select(RoleGrantCategory).where(RoleGrantCategory.grant_id == row.id)).all()
    admin_audit.record(session, actor_id, "role_grant", row.id, "revoke",
                       f"У пользователя «{user.login}» снята роль «{role_label(row.role)}»",
                       old={"user_id": user.id, "role": row.role, "organization_id": row.organization_id,
                            "categories": sorted(link.category_id for link in links)})
    for link in links:
        session.delete(link)
    session.flush()
    session.delete(row)
    session.commit()
