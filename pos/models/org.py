"""Organizations: two trees (region, city), each root a jurisdiction with its regulation."""
from typing import Optional

from sqlmodel import Field, SQLModel


ORG_KINDS = {
    "region": "Регион (Правительство)",
    "executive_body": "Исполнительный орган государственной власти (ИОГВ)",
    "subordinate": "Подведомственная организация",
    "municipal_admin": "Администрация муниципального образования",
    "branch_body": "Отраслевой (функциональный) орган",
}


class Organization(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)
    short_name: str = Field(default="", max_length=120)
    # OrgKind value: region, executive_body, subordinate, municipal_admin, branch_body
    kind: str = Field(max_length=32)
    parent_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    # The jurisdiction (root of the tree); equals id for a root.
    root_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    # Materialized path "/1/5/12/" for subtree filters.
    path: str = Field(default="/", max_length=500, index=True)
    # Regulation code of the jurisdiction (set on roots): "amur-232" or "tynda-608".
    regulation: str = Field(default="", max_length=32)
    is_active: bool = Field(default=True)


class OrganizationCategory(SQLModel, table=True):
    """Categories an organization is competent for: drives routing."""
    __tablename__ = "organization_category"
    organization_id: int = Field(foreign_key="organization.id", primary_key=True)
    category_id: int = Field(foreign_key="category.id", primary_key=True)
