"""Outgoing mail over SMTP: host, port, TLS and credentials from the configuration."""
from __future__ import annotations

import smtplib
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import Iterator, Mapping


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Stable across retries: a copy sent twice after a crash is recognisably the same letter.
    message_id: str | None = None


class MailNotConfigured(RuntimeError):
    pass


def enabled(config: Mapping) -> bool:
    return bool(config.get("SMTP_HOST"))


def build(config: Mapping, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.get("MAIL_FROM") or "noreply@pos.local"
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    if mail.message_id:
        msg["Message-ID"] = mail.message_id
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    return msg


def sender_domain(config: Mapping) -> str:
    addresses = getaddresses([config.get("MAIL_FROM") or ""])
    address = addresses[0][1] if addresses else ""
    return address.rpartition("@")[2] or "pos.local"


def message_id(config: Mapping, token: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in ".-" else "." for ch in token)
    return f"<{safe}@{sender_domain(config)}>"


class Connection:
    def __init__(self, config: Mapping, smtp: smtplib.SMTP):
        self.config, self.smtp = config, smtp

    def send(self, mail: Mail) -> None:
        self.smtp.send_message(build(self.config, mail))


@contextmanager
def connection(config: Mapping) -> Iterator[Connection]:
    """One SMTP session for several letters. SMTP_TLS: "" (plain), "starttls" or "ssl"."""
    host = config.get("SMTP_HOST")
    if not host:
        raise MailNotConfigured("SMTP_HOST is not set")
    port = int(config.get("SMTP_PORT") or 25)
    timeout = float(config.get("SMTP_TIMEOUT") or 30)
    tls = (config.get("SMTP_TLS") or "").lower()
    context = ssl.create_default_context()
    if tls == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if tls == "starttls":
            smtp.starttls(context=context)
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        yield Connection(config, smtp)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send(config: Mapping, mail: Mail) -> None:
    with connection(config) as conn:
        conn.send(mail)

