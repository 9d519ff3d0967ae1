"""A local OpenAI-compatible chat server for tests: ``/v1/models`` lists one model, ``/v1/chat/completions``
answers each request with ``answer(user message)`` (an echo by default) and records what it was sent."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


def echo(user: str) -> str:
    return f"  echo: {user}\n"


class ChatServer(BaseHTTPRequestHandler):
    """Answers like an OpenAI server and records requests in ``seen``."""

    seen: list[dict] = []
    answer: Callable[[str], str] = staticmethod(echo)

    def do_GET(self):
        self._reply({"data": [{"id": "served-model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ChatServer.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        user = body["messages"][-1]["content"]
        self._reply({"choices": [{"message": {"role": "assistant", "content": ChatServer.answer(user)}}],
                     "usage": {"completion_tokens": 3}})

    def _reply(self, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextmanager
def chat_server(answer: Callable[[str], str] = echo) -> Iterator[str]:
    """Serve ``ChatServer`` on a free local port answering with ``answer``; yields its ``/v1`` base URL."""
    ChatServer.seen = []
    ChatServer.answer = staticmethod(answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        ChatServer.answer = staticmethod(echo)
