"""Mail: letters over a real SMTP server on loopback (plain, and STARTTLS with a login), the Russian
texts of every notification from their templates, e-mail turned off, and the daily digest."""
from __future__ import annotations

import datetime as dt
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import select

from jobs import digest
from pos import clock, mail
from pos.models import Notification, OutboxEvent
from pos.services import notifications
from pos.workflow import Action, Stage
from tests.background import SmtpSink, free_port, smtp  # noqa: F401


def test_a_letter_reaches_the_server_with_its_russian_subject(smtp):
    cfg = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "MAIL_FROM": "ПОС <noreply@pos.example.ru>"}
    letter = notifications.letter(cfg, "Дан ответ на сообщение № ПОС-2026-000042", "Ответ:\n\nЯма <заделана>.",
                                  token="notify:7:0:u3")
    mail.send(cfg, mail.Mail(to="ivanov@example.ru", subject=letter.subject, text=letter.text, html=letter.html,
                             message_id=letter.message_id))
    [got] = smtp.letters
    assert got["to"] == ["ivanov@example.ru"] and got["from"] == "noreply@pos.example.ru"
    assert got["subject"] == "Дан ответ на сообщение № ПОС-2026-000042"
    assert "Яма <заделана>." in got["text"] and "Платформа обратной связи" in got["text"]
    html = got["message"].get_body(("html",)).get_content()
    assert "Яма &lt;заделана&gt;." in html
    assert got["message"]["Message-ID"] == "<notify.7.0.u3@pos.example.ru>"


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_and_a_login(tmp_path):
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"pos" and auth_data.password == b"s3cret")

    sink = SmtpSink()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port, server_hostname="sink.test",
                                 tls_context=context, require_starttls=True, authenticator=authenticator,
                                 auth_required=True)
    sink.start()
    try:
        cfg = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_TLS": "starttls", "SMTP_USER": "pos",
               "SMTP_PASSWORD": "s3cret", "SMTP_CA_FILE": str(cert_file)}
        mail.send(cfg, mail.Mail(to="petrov@example.ru", subject="Проверка связи", text="Текст письма"))
        assert [letter["subject"] for letter in sink.letters] == ["Проверка связи"]
        assert logins == [(b"pos", b"s3cret")]
        with pytest.raises(Exception):  # without the CA the certificate is not trusted
            mail.send({**cfg, "SMTP_CA_FILE": ""}, mail.Mail(to="petrov@example.ru", subject="x", text="y"))
        assert len(sink.letters) == 1
    finally:
        sink.stop()


def _row(session, message, event, **payload):
    row = OutboxEvent(created_at=clock.now(), kind="notify", idempotency_key=f"test:{event}:{message.id}",
                      payload={"event": event, "message_id": message.id, "history_id": None, "to_applicant": False,
                               "user_ids": [], "org_role": None, "data": {}, **payload})
    session.add(row)
    session.commit()
    return row


CFG = {"TIMEZONE": "Asia/Yakutsk", "PUBLIC_URL": "https://pos.example.ru", "SMTP_HOST": "127.0.0.1",
       "SMTP_PORT": 25, "MAIL_FROM": "noreply@pos.example.ru"}


@pytest.mark.parametrize("kind, data", [
    ("accepted", {}), ("rejected", {"reason": "е"}), ("redirected", {}), ("answered", {}),
    ("postponed", {"until": "2026-12-01"}), ("resumed", {}), ("inbox", {}), ("reminder", {"text": "Прошу ускорить"}),
    ("due_soon", {"stage": "execution", "due": "2026-12-01T09:00:00+00:00"}),
    ("overdue", {"stage": "execution", "due": "2026-12-01T09:00:00+00:00"}),
    ("escalated", {"stage": "execution", "due": "2026-12-01T09:00:00+00:00"}),
])
def test_every_notification_is_in_russian_with_the_message_number(world, session, kind, data):
    message = world.message(Stage.ANSWERED if kind == "answered" else Stage.EXECUTION)
    row = _row(session, message, kind, to_applicant=True, user_ids=[world.uid("a.executor")], data=data)
    written = notifications.write_for(session, CFG, row)
    assert len(written) == 2
    for note, person in written:
        assert message.number in note.title and message.number in note.body
        assert any("а" <= ch <= "я" for ch in note.title.lower())
        assert "{{" not in note.body and "{%" not in note.body
    texts = " ".join(n.body for n, _p in written)
    expected = {"rejected": "нарушает законодательство", "redirected": "Министерство транспорта",
                "postponed": "01.12.2026", "reminder": "Прошу ускорить", "answered": "Яма заделана.",
                "overdue": "истёк 01.12.2026 18:00", "escalated": "Ответственный: Сотрудник a.executor"}
    if kind in expected:
        assert expected[kind] in texts


def test_mail_off_and_the_daily_digest(world, session, smtp):
    cfg = {**CFG, "SMTP_PORT": smtp.port}
    executor, head, coordinator = world.u("a.executor"), world.u("a.head1"), world.u("a.coordinator")
    executor.email, head.email, coordinator.email = "executor@example.ru", "head@example.ru", "coord@example.ru"
    head.email_digest = True
    coordinator.email_enabled = False
    session.commit()
    first, second = world.message(Stage.EXECUTION), world.message(Stage.EXECUTION)
    modes = {}
    for message in (first, second):
        row = _row(session, message, "inbox", user_ids=[executor.id, head.id, coordinator.id])
        for note, person in notifications.write_for(session, cfg, row):
            modes[person.user_id] = note.email_mode
    assert modes == {executor.id: "single", head.id: "digest", coordinator.id: "none"}

    cutoff = clock.now()
    assert digest.waiting_users(session, cutoff) == [head.id]
    assert digest.send_digest(session, cfg, head.id, cutoff, "24.11.2026") == 2
    assert digest.send_digest(session, cfg, head.id, cutoff, "24.11.2026") == 0
    [letter] = smtp.letters
    assert letter["to"] == ["head@example.ru"]
    assert letter["subject"] == "ПОС: сводка уведомлений за 24.11.2026 (2)"
    assert first.number in letter["text"] and second.number in letter["text"]
    notes = session.exec(select(Notification).where(Notification.user_id == head.id)).all()
    assert all(n.emailed_at is not None for n in notes)
    assert digest.waiting_users(session, clock.now()) == []
