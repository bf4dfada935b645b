"""Outgoing mail over SMTP: host, port, TLS and credentials from the configuration."""
from __future__ import annotations

import smtplib
import socket
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


_helo: str | None = None


def helo_name(config: Mapping) -> str:
    """The name we greet the server with; looked up once per process (the lookup can be slow)."""
    global _helo
    if config.get("SMTP_HELO"):
        return config["SMTP_HELO"]
    if _helo is None:
        _helo = socket.getfqdn()
    return _helo


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
    # Loading the CA store is slow: only for TLS. SMTP_CA_FILE: a private CA the server's certificate is from.
    context = ssl.create_default_context(cafile=config.get("SMTP_CA_FILE") or None) if tls else None
    if tls == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context, local_hostname=helo_name(config))
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout, local_hostname=helo_name(config))
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

