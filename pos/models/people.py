"""People: accounts, staff role grants per organization, applicants' profiles."""
from datetime import datetime
from typing import ClassVar, Optional

from sqlalchemy import JSON, Column, false
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    login: str = Field(max_length=120, unique=True, index=True)
    password_hash: str = Field(default="", max_length=300)
    full_name: str = Field(max_length=300)
    position: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)
    is_active: bool = Field(default=True)
    is_staff: bool = Field(default=True)
    email_enabled: bool = Field(default=True)
    # Staff may take a daily digest instead of single mails.
    email_digest: bool = Field(default=False)
    created_at: datetime
    # Part of the signed-in id (Flask-Login's alternative token): a new one ends every session of the user.
    session_token: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    # Set when the administrator gives a temporary password: sign-in leads to «Сменить пароль» until changed.
    must_change_password: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

    # Flask-Login's user protocol.
    is_anonymous: ClassVar[bool] = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class RoleGrant(SQLModel, table=True):
    """A role within one organization (moderator, analyst and administrator: organization may be empty)."""
    __tablename__ = "role_grant"
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: str = Field(max_length=32)
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)


class RoleGrantCategory(SQLModel, table=True):
    """Limits a head's grant to categories; a head with no rows may act on every category."""
    __tablename__ = "role_grant_category"
    grant_id: int = Field(foreign_key="role_grant.id", primary_key=True)
    category_id: int = Field(foreign_key="category.id", primary_key=True)


class Applicant(SQLModel, table=True):
    """A citizen or a legal entity: the author of messages."""
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = Field(default=None, foreign_key="user.id", index=True, unique=True)
    kind: str = Field(default="citizen", max_length=16)  # citizen | legal
    full_name: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=40)
    org_name: str = Field(default="", max_length=500)
    inn: str = Field(default="", max_length=12)
    ogrn: str = Field(default="", max_length=15)
    contact_person: str = Field(default="", max_length=300)
    consent_at: Optional[datetime] = None
    consent_version: str = Field(default="", max_length=32)
    created_at: datetime


class PendingRegistration(SQLModel, table=True):
    """A registration waiting for its e-mail to be confirmed by the link sent there.

    No account exists until then, so nobody can take an address by registering it, and the
    page after «Зарегистрироваться» is the same whether the address is free or taken.
    """
    __tablename__ = "pending_registration"
    id: Optional[int] = Field(default=None, primary_key=True)
    # sha256 of the link's secret: the database alone does not confirm anything.
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(max_length=120, index=True)
    # The checked profile (pos.services.applicants.Profile) as it was typed.
    profile: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=300)
    consent_version: str = Field(max_length=32)
    created_at: datetime
    expires_at: datetime
    confirmed_at: Optional[datetime] = None
