"""Chromium and the dashboard served by ``streamlit run``, for the tests that drive a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from narrator.eval.bench_pages import dashboard_server
from tests.helpers.cli import ROOT

CHROMIUM = Path("/usr/bin/chromium")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def streamlit_server(env: dict, log: Path, address: str = "127.0.0.1") -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free port bound to ``address`` with ``env`` (the bench's
    own way of starting it); yields its URL on 127.0.0.1."""
    with dashboard_server(ROOT / "dashboard" / "app.py", env, log, address) as (port, _):
        yield f"http://127.0.0.1:{port}"
