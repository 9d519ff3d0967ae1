"""Benchmark: ``python -m narrator.eval.bench_send`` prints, as JSON, how long ``send`` takes to deliver
the portfolio briefing of N repositories (20 by default) to one subscriber, as a user runs it.

It builds N small repositories (a few commits each over the last days, made with git), narrates them
with the fake model into a fresh home, subscribes one e-mail address to all of them, starts a real
SMTP server on this computer (aiosmtpd) and times ``python -m narrator send --period 7d`` (start-up
included): the first run, which renders and sends, and a second, which finds the period sent. It also
reports the message's size and its number of inline charts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from narrator.eval.timed_cli import _cli
from narrator.model.backends import make_backend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from narrator.settings import load_settings

KINDS = ("feat: add {n} search", "fix: crash when {n} is empty", "docs: explain {n}", "Refactor the {n} module")


def make_repository(folder: Path, index: int, commits: int = 6) -> None:
    """A small repository: ``commits`` commits over the last ``commits`` days, one Python file each."""
    folder.mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-C", str(folder), "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True, env=env)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for n in range(commits):
        (folder / "src").mkdir(exist_ok=True)
        (folder / "src" / f"part{n}.py").write_text(f'"""Part {n} of project {index}."""\n\n\ndef part{n}():\n    return {n}\n')
        when = (now - timedelta(days=commits - n, hours=index)).isoformat()
        subprocess.run([*git, "add", "-A"], check=True, env=env)
        subprocess.run([*git, "commit", "-q", "-m", KINDS[n % len(KINDS)].format(n=f"part{n}")], check=True,
                       env={**env, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(repositories: int) -> dict:
    from aiosmtpd.controller import Controller  # the test SMTP server: only the bench needs it

    scratch = Path(tempfile.mkdtemp(prefix="narrator-send-bench-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("CODE_NARRATOR_")}
    env.update(CODE_NARRATOR_HOME=str(scratch / "home"), CODE_NARRATOR_MODEL="fake", CODE_NARRATOR_ADAPTER="none")
    os.environ.update(env)
    settings = load_settings()
    service = NarratorService(settings)
    backend = make_backend(settings)
    begin = time.perf_counter()
    for index in range(repositories):
        make_repository(scratch / f"project-{index:02d}", index)
        repo = service.add_repository(str(scratch / f"project-{index:02d}"))
        narrate_repository(settings, service.store, repo.id, Budget(commits=6, units=10, batch_size=16), backend)
    prepare_seconds = time.perf_counter() - begin
    service.subscribe("email", "manager@example.com")

    received: list[bytes] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.original_content or envelope.content)
            return "250 OK"

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = {**env, "CODE_NARRATOR_SMTP_URL": f"smtp://127.0.0.1:{port}", "CODE_NARRATOR_SMTP_TLS": "none",
                "CODE_NARRATOR_DASHBOARD_URL": "https://narrator.example.com"}
        first_seconds, first_mb = _cli(["send", "--period", "7d"], env=mail)
        again_seconds, _ = _cli(["send", "--period", "7d"], env=mail)
    finally:
        controller.stop()
    message = received[0] if received else b""
    return {
        "repositories": repositories,
        "prepare_seconds": round(prepare_seconds, 1),
        "send_seconds": round(first_seconds, 2),
        "send_peak_rss_mb": round(first_mb, 1) if first_mb else None,
        "send_again_seconds": round(again_seconds, 2),
        "messages_received": len(received),
        "message_kb": round(len(message) / 1024, 1),
        "inline_charts": message.count(b"Content-Type: image/png"),
    }


def main(argv: list[str] | None = None, prog: str = "python -m narrator.eval.bench_send") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--repositories", type=int, default=20, help="how many repositories the briefing covers (default 20)")
    args = p.parse_args(argv)
    print(json.dumps(measure(args.repositories), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
