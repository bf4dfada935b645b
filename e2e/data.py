"""Data the end-to-end tests make for themselves on the shared server, through the services."""
from __future__ import annotations

from sqlmodel import Session, select

from pos.db import make_engine
from pos.models import Category, Subcategory
from pos.services.messages import Env, submit_message


def messages_in_moderation(server, tag: str, count: int) -> list[int]:
    """Messages in moderation, routed to МинЖКХ by their category, made by the services."""
    engine = make_engine(server.env["DATABASE_URL"])
    env = Env(timezone="Asia/Yakutsk", upload_dir=server.env["UPLOAD_DIR"])
    ids = []
    with Session(engine, expire_on_commit=False) as session:
        category = session.exec(select(Category).where(Category.name == "Жилищно-коммунальное хозяйство")).one()
        sub = session.exec(select(Subcategory).where(Subcategory.category_id == category.id,
                                                     Subcategory.name == "Несвоевременный вывоз мусора")).one()
        for i in range(count):
            ids.append(submit_message(session, env, {"text": f"{tag}: мусор не вывезен, двор {i}.",
                                                     "category_id": category.id, "subcategory_id": sub.id}).id)
    engine.dispose()
    return ids
