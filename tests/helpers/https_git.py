"""A git server on https://127.0.0.1 that asks for a password, for tests of URLs with credentials.

``git http-backend`` (git's own smart-HTTP CGI program) serves the bare repositories of a folder
behind Python's HTTP server, wrapped in TLS with a certificate made on the spot by ``openssl``.
git trusts it through ``GIT_SSL_CAINFO``. Every request is recorded, with whether it carried the
right password, so a test can tell that git sent it.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class HttpsGit:
    """A running server: ``url(name)`` is the address of ``<root>/<name>`` without credentials."""

    root: Path
    port: int
    user: str
    password: str
    requests: list[tuple[str, bool]] = field(default_factory=list)
    """(method and path, whether it carried the right password) of every request, in order."""
    server: ThreadingHTTPServer | None = None

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.port}/{name}"

    def secret_url(self, name: str) -> str:
        return f"https://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key.

    Without openssl the test fails rather than skips: a skipped secret test proves nothing in CI
    (``scripts/test.sh`` installs openssl).
    """
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to serve git over https: run scripts/test.sh, which installs it")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def serve(root: Path, folder: Path, user: str, password: str) -> HttpsGit:
    """Start serving ``root`` over https; call ``stop`` at the end. Sets nothing in the environment:
    the caller points ``GIT_SSL_CAINFO`` at ``folder / "cert.pem"``."""
    cert, key = make_certificate(folder)
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    state = HttpsGit(root, 0, user, password)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            authorized = self.headers.get("Authorization") == expected
            state.requests.append((f"{self.command} {self.path}", authorized))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if not authorized:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            env = {"PATH": os.environ.get("PATH", ""), "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
                   "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                   "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                   "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""), "REMOTE_USER": user,
                   "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(folder)}
            out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.port, state.server = server.server_address[1], server
    return state


def stop(state: HttpsGit) -> None:
    if state.server is not None:
        state.server.shutdown()
        state.server.server_close()
