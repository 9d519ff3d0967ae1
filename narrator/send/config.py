"""How briefings leave: the SMTP server, the sender, the dashboard's address and the retries, from the
environment (``CODE_NARRATOR_SMTP_URL``, ``CODE_NARRATOR_SMTP_TLS``, ``CODE_NARRATOR_MAIL_FROM``,
``CODE_NARRATOR_DASHBOARD_URL``, ``CODE_NARRATOR_SEND_ATTEMPTS``, ``CODE_NARRATOR_SEND_BACKOFF``).

The SMTP URL is ``smtp://user:password@host:port`` (``smtps://`` for TLS from the first byte); its
password is a secret: it is only ever handed to ``smtplib``, and the server is shown as ``shown``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from db.errors import NarratorError
from narrator.service.subscriptions import EMAIL, LOCAL_HOSTS
from narrator.text import plain

Tls = Literal["starttls", "ssl", "none"]


class SendError(NarratorError):
    """Briefings cannot be sent with these settings (no SMTP server for an e-mail, a bad URL or sender)."""


@dataclass(frozen=True)
class SendConfig:
    smtp_url: str = field(default="", repr=False)
    """``smtp://user:password@host:port`` or ``smtps://...``; empty: no e-mail can be sent."""
    smtp_tls: Tls | None = None
    """``starttls``, ``ssl`` or ``none``; None: ``ssl`` for ``smtps://``, else ``starttls``."""
    mail_from: str = ""
    """The sender's address; empty: ``code-narrator@`` the SMTP host."""
    dashboard_url: str = ""
    """The dashboard's address (``https://narrator.example.com``): every link of a briefing points into it."""
    attempts: int = 3
    """Tries per delivery within one run (a later run tries a failed one again)."""
    backoff_s: float = 2.0
    """Seconds before the second try; doubled before each further one."""
    timeout_s: float = 30.0
    """Seconds an SMTP server or webhook may take to answer."""

    def __post_init__(self) -> None:
        if self.smtp_tls is not None and self.smtp_tls not in get_args(Tls):
            raise SendError(f"Unknown CODE_NARRATOR_SMTP_TLS {plain(str(self.smtp_tls))!r}: use starttls, ssl or none.")
        if self.attempts < 1 or self.backoff_s < 0 or self.timeout_s <= 0:
            raise SendError("CODE_NARRATOR_SEND_ATTEMPTS must be 1 or more and CODE_NARRATOR_SEND_BACKOFF 0 or more.")
        if self.dashboard_url:
            url = urllib.parse.urlsplit(self.dashboard_url)
            if url.scheme not in ("http", "https") or not url.hostname or any(c in self.dashboard_url for c in ' <>"\'\n\r'):
                raise SendError(f"CODE_NARRATOR_DASHBOARD_URL {plain(self.dashboard_url)!r} is not an http(s) address.")
        if self.mail_from and not EMAIL.fullmatch(self.mail_from):
            raise SendError(f"CODE_NARRATOR_MAIL_FROM {plain(self.mail_from)!r} is not an e-mail address.")
        if self.smtp_url:
            self.server()  # checked now, before anything is sent

    def server(self) -> SmtpServer:
        """The SMTP server to send through; ``SendError`` when none is configured or the URL is wrong."""
        if not self.smtp_url:
            raise SendError("No SMTP server: set CODE_NARRATOR_SMTP_URL (smtp://user:password@host:port) to send e-mail.")
        try:
            url = urllib.parse.urlsplit(self.smtp_url)
            host, port = url.hostname, url.port
        except ValueError:
            host = port = None
            url = None
        if url is None or url.scheme not in ("smtp", "smtps") or not host:
            raise SendError("CODE_NARRATOR_SMTP_URL must look like smtp://user:password@host:port (or smtps://).")
        tls = self.smtp_tls or ("ssl" if url.scheme == "smtps" else "starttls")
        user = urllib.parse.unquote(url.username) if url.username else None
        password = urllib.parse.unquote(url.password) if url.password else None
        if password and tls == "none" and host not in LOCAL_HOSTS:
            raise SendError(f"Refused to send the SMTP password to {host} unencrypted: set CODE_NARRATOR_SMTP_TLS "
                            "to starttls or ssl.")
        return SmtpServer(host, port or (465 if tls == "ssl" else 587 if tls == "starttls" else 25), tls, user, password)

    @property
    def sender(self) -> str:
        return self.mail_from or f"code-narrator@{self.server().host}"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: Tls
    user: str | None
    password: str | None = field(repr=False)

    @property
    def shown(self) -> str:
        """The server as it may be printed: never the password."""
        return f"{self.host}:{self.port}"


def load_send_config(env: Mapping[str, str] = os.environ) -> SendConfig:
    """The send settings from the environment; a value that cannot work is one ``SendError`` line."""
    def number(name: str, default: float, kind=float):
        text = env.get(name, "").strip()
        try:
            return kind(text) if text else default
        except ValueError:
            raise SendError(f"{name} must be a number, not {plain(text)!r}.") from None

    return SendConfig(smtp_url=env.get("CODE_NARRATOR_SMTP_URL", "").strip(),
                      smtp_tls=env.get("CODE_NARRATOR_SMTP_TLS", "").strip().lower() or None,
                      mail_from=env.get("CODE_NARRATOR_MAIL_FROM", "").strip(),
                      dashboard_url=env.get("CODE_NARRATOR_DASHBOARD_URL", "").strip().rstrip("/"),
                      attempts=number("CODE_NARRATOR_SEND_ATTEMPTS", 3, int),
                      backoff_s=number("CODE_NARRATOR_SEND_BACKOFF", 2.0))
