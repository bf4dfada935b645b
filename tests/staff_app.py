"""View-test support: an app over its own committed, seeded database, signed-in clients, fresh messages.

The request session is a separate Session on the engine, so view tests cannot use
the rolled-back `session` fixture: each test module gets a database of its own
(a SQLite file, or a PostgreSQL database named after TEST_DATABASE_URL's).
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pos import create_app, migrate
from pos.db import make_engine
from pos.models import Message, Organization, Subcategory, Category, User
from pos.services.messages import Env, act, submit_message
from pos.workflow import Action
from tests.databases import fresh_database
from tests.web_redis import app_config


class StaffApp:
    def __init__(self, tag: str, **config):
        import seed
        self.url = fresh_database(tag, Path(tempfile.mkdtemp(prefix="pos-views-")) / f"{tag}.db")
        self.uploads = tempfile.mkdtemp(prefix="pos-views-up-")
        migrate.upgrade(self.url)
        self.env = Env(timezone="Asia/Yakutsk", upload_dir=self.uploads)
        self.engine = make_engine(self.url)
        with Session(self.engine, expire_on_commit=False) as session:
            seed.load_demo(session, self.env)
        self.app = create_app({"DATABASE_URL": self.url, "UPLOAD_DIR": self.uploads, "TESTING": True,
                               "WTF_CSRF_ENABLED": False, "SECRET_KEY": "views", **app_config(), **config})

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def client(self, login: str | None = None):
        client = self.app.test_client()
        if login:
            response = client.post("/login", data={"login": login, "password": "demo"})
            assert response.status_code == 303, response.status_code
        return client

    def user(self, login: str) -> User:
        with self.session() as s:
            return s.exec(select(User).where(User.login == login)).one()

    def org(self, short_name: str) -> Organization:
        with self.session() as s:
            return s.exec(select(Organization).where(Organization.short_name == short_name)).one()

    def sub(self, category: str, name: str) -> tuple[int, int]:
        with self.session() as s:
            cat = s.exec(select(Category).where(Category.name == category)).one()
            sub = s.exec(select(Subcategory).where(Subcategory.category_id == cat.id, Subcategory.name == name)).one()
            return cat.id, sub.id

    def message(self, message_id: int) -> Message:
        with self.session() as s:
            return s.get(Message, message_id)

    def new_message(self, text: str = "Во дворе не убран мусор.", *, category=("Жилищно-коммунальное хозяйство",
                    "Несвоевременный вывоз мусора"), steps: tuple = ()) -> Message:
        """A message submitted and walked through `steps`: (login, action, params) each."""
        with self.session() as s:
            fields = {"text": text}
            if category:
                fields["category_id"], fields["subcategory_id"] = self.sub(*category)
            message = submit_message(s, self.env, fields)
            for login, action, params in steps:
                user = s.exec(select(User).where(User.login == login)).one()
                act(s, self.env, user, message.id, Action(action), params)
            return s.get(Message, message.id)


def version_of(html: str, action: str) -> str:
    match = re.search(rf'name="{action}-version" type="hidden" value="(\d+)"', html)
    assert match, f"no {action} form"
    return match.group(1)


@pytest.fixture(scope="module")
def staff_app(request) -> StaffApp:
    return StaffApp(request.module.__name__.rsplit(".", 1)[-1].replace("test_", ""))
