"""Real local servers that receive what ``send`` delivers: an SMTP server (aiosmtpd) that keeps every
message, and an HTTP server that keeps every webhook POST and answers with the statuses it is told."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    """A local TCP port nothing listens on now (and, until something binds it, a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, the parsed message), in order."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Recipients answered '550 no such user'."""
    logins: list[str] = field(default_factory=list)
    """The user names that tried to log in (a server started with a password)."""

    def wait(self, count: int, deadline_s: float = 30) -> None:
        end = time.monotonic() + deadline_s
        while len(self.messages) < count and time.monotonic() < end:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} messages arrived, {count} expected"


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.inbox.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.inbox.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int | None = None, password: str | None = None) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 (``port``, else a free one), no TLS; with ``password``, a login is
    required and only that password is taken (any other gets '535 Authentication credentials invalid')."""
    inbox = Inbox(port or free_port())

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=auth_data.password.decode() == password, handled=False)  # handled=False: 535 is sent

    # PLAIN only, so each login of a client is one entry of ``logins`` (smtplib tries every mechanism offered).
    login = dict(auth_required=True, auth_require_tls=False, authenticator=authenticator,
                 auth_exclude_mechanism=["LOGIN"]) if password else {}
    controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=inbox.port, **login)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class Hooks:
    """What the webhook server received: (path, Content-Type, JSON body), in order."""

    url: str
    posts: list[tuple[str, str, dict]] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    """Per path, the statuses to answer in turn (200 once they run out)."""

    def bodies(self, path: str) -> list[dict]:
        return [body for where, _, body in self.posts if where == path]


@contextmanager
def webhook_server() -> Iterator[Hooks]:
    """A real HTTP server on 127.0.0.1 that records every POST and answers as ``Hooks.answers`` says."""
    hooks = Hooks("")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hooks.posts.append((self.path, self.headers.get("Content-Type", ""), json.loads(body)))
            queue = hooks.answers.get(self.path) or [200]
            status = queue.pop(0) if hooks.answers.get(self.path) else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()
