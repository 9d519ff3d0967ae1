"""Sending one message: an e-mail over SMTP, or JSON to an incoming webhook. A failure is one
``DeliveryFailed`` line that says whether trying again can help, and holds no secret: never the SMTP
password, and of a webhook URL (whose path is its token) only the host.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

from db.errors import first_line
from narrator.send.config import SmtpServer


class DeliveryFailed(Exception):
    """One attempt failed: ``str()`` is its one line; ``retry`` says whether another attempt may succeed;
    ``server_wide``, that every delivery through the same server would fail the same way (a refused login)."""

    def __init__(self, reason: str, retry: bool, server_wide: bool = False) -> None:
        super().__init__(reason)
        self.retry = retry
        self.server_wide = server_wide


def _why(error: BaseException) -> str:
    return getattr(error, "strerror", None) or first_line(error, with_type=not str(error).strip())


def send_mail(server: SmtpServer, message: EmailMessage, timeout: float) -> None:
    """Hand ``message`` to the SMTP server (TLS as configured, logging in when a user is given)."""
    try:
        if server.tls == "ssl":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with smtp:
            if server.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if server.user:
                smtp.login(server.user, server.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as refused:
        codes = sorted({code for code, _ in refused.recipients.values()})
        raise DeliveryFailed(f"the mail server refused the address (SMTP {', '.join(map(str, codes))})",
                             retry=any(400 <= c < 500 for c in codes)) from None
    except smtplib.SMTPAuthenticationError as refused:
        raise DeliveryFailed(f"the mail server {server.shown} refused the login (SMTP {refused.smtp_code}): "
                             "check the user and password of CODE_NARRATOR_SMTP_URL", retry=False, server_wide=True) from None
    except smtplib.SMTPResponseException as refused:
        said = first_line(refused.smtp_error.decode("utf-8", "replace") if isinstance(refused.smtp_error, bytes)
                          else refused.smtp_error, limit=160)
        raise DeliveryFailed(f"the mail server {server.shown} answered {refused.smtp_code}: {said}",
                             retry=400 <= refused.smtp_code < 500) from None
    except (smtplib.SMTPException, OSError) as error:  # refused, unreachable, timed out, TLS failed
        raise DeliveryFailed(f"cannot reach the mail server {server.shown}: {_why(error)}", retry=True) from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused: the message (and any token) goes nowhere it was not sent."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler())


def post_json(url: str, payload: dict, timeout: float) -> None:
    """POST ``payload`` as JSON to an incoming webhook; any answer but 2xx is a failure."""
    host = urllib.parse.urlsplit(url).netloc
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "code-narrator"})
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            answer.read(4096)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"the webhook at {host} answered HTTP {error.code}",
                             retry=error.code >= 500 or error.code in (408, 429)) from None
    except urllib.error.URLError as error:
        raise DeliveryFailed(f"cannot reach the webhook at {host}: {_why(error.reason) if isinstance(error.reason, BaseException) else first_line(error.reason)}",
                             retry=True) from None
    except OSError as error:  # a timeout while reading the answer
        raise DeliveryFailed(f"cannot reach the webhook at {host}: {_why(error)}", retry=True) from None
