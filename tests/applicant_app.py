"""Support for the applicant and Open311 tests: the app over the test's rolled-back session, sample files.

Every request of the test client works in the test's own `session` (its commits
are savepoints), so whatever a request writes is rolled back with the test and
the test can count rows before and after.
"""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from flask import g
from sqlalchemy import func
from sqlmodel import select

from pos import create_app
from tests.web_redis import app_config
from pos.models import Applicant, ApiClient, Attachment, HistoryEntry, Message, Notification, OutboxEvent, User

COUNTED = (Message, Applicant, User, Attachment, HistoryEntry, OutboxEvent, ApiClient)


@pytest.fixture
def app(session, env, database_url):
    app = create_app({"DATABASE_URL": database_url, "UPLOAD_DIR": env.upload_dir, "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "SECRET_KEY": "applicant-tests", "TIMEZONE": env.timezone,
                      **app_config()})

    @app.before_request
    def _test_session():
        g.db = session

    @app.teardown_appcontext
    def _keep_test_session(_exc):
        # Registered last, so it runs first: the web layer must not close the test's session.
        g.pop("db", None)

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def signed_in(app, login: str, password: str = "secret"):
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def counts(session) -> dict[str, int]:
    session.expire_all()
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in COUNTED}


def png_bytes() -> bytes:
    """A real 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


FORGED_PDF = b"This is plain text pretending to be a PDF document.\n" * 3


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def notification(session, applicant_id: int, message_id: int | None, title: str, *, kind: str = "redirected",
                 body: str = "", read: bool = False) -> Notification:
    """A notification row as the background worker writes it."""
    from pos import clock
    row = Notification(applicant_id=applicant_id, message_id=message_id, kind=kind, title=title, body=body,
                       created_at=clock.now(), read_at=clock.now() if read else None,
                       idempotency_key=f"test:{applicant_id}:{message_id}:{title}")
    session.add(row)
    session.commit()
    return row


def last_letter(session) -> dict:
    """The newest registration letter in the outbox (what the worker would send)."""
    from pos.services import registration
    session.expire_all()
    rows = session.exec(select(OutboxEvent).order_by(OutboxEvent.id.desc())).all()
    return next(row.payload for row in rows if registration.is_letter(row.payload))


def register(client, session, data: dict):
    """Fill in /register and follow the link of the letter, as a person does; the response lands on
    «Мои сообщения» signed in."""
    from pos.services.registration import CONFIRM_PATH
    response = client.post("/register", data=data)
    assert response.status_code == 303 and response.location.endswith("/register/sent"), \
        response.get_data(as_text=True)
    link = CONFIRM_PATH + last_letter(session)["token"]
    assert client.get(link).status_code == 200
    return client.post(link)
