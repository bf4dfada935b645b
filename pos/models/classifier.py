"""The classifier: categories, subcategories, accelerated lists per jurisdiction, templates."""
from typing import Optional

from sqlalchemy import true
from sqlmodel import Field, SQLModel


class Category(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=600, unique=True)
    is_active: bool = Field(default=True)


class Subcategory(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="category.id", index=True)
    name: str = Field(max_length=600)
    is_active: bool = Field(default=True)


class AcceleratedSubcategory(SQLModel, table=True):
    """A subcategory with the 10-day answer deadline in one jurisdiction (appendix of its regulation)."""
    __tablename__ = "accelerated_subcategory"
    jurisdiction_id: int = Field(foreign_key="organization.id", primary_key=True)
    subcategory_id: int = Field(foreign_key="subcategory.id", primary_key=True)


class AnswerTemplate(SQLModel, table=True):
    __tablename__ = "answer_template"
    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: Optional[int] = Field(default=None, foreign_key="category.id", index=True)
    title: str = Field(max_length=200)
    text: str
    # A retired template stays on the answers made from it and is offered to nobody.
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
