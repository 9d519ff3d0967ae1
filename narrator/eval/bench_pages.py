"""The dashboard as readers get it, for ``python -m narrator.eval.bench REPO --pages``.

With ``--pages``, the dashboard as readers get it (``page_figures``): the real server
(``streamlit run dashboard/app.py``) over a fresh home holding REPO narrated with the fake model,
asked for each page the way a browser asks, over Streamlit's own websocket: each page's seconds
cold (the first session after the server started) and warm (the same page in another session), 10
Overview sessions at once, and the server's memory before and after 100 page requests.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from narrator.eval.timed_cli import _cli


APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = {"Portfolio": "", "Overview": "overview", "Changes": "changes", "Code": "code"}
"""The pages read on a long history, by the address ``st.navigation`` gives them (the Portfolio is
the default page)."""
PAGE_TIMEOUT = 300
"""A page that has not finished after this many seconds counts as an error."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    """The resident memory of a process, MB (``VmRSS``, Linux)."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@contextmanager
def dashboard_server(app: Path, env: Mapping[str, str], log: Path,
                     address: str = "127.0.0.1") -> Iterator[tuple[int, int]]:
    """``streamlit run APP`` headless on a free local port, started from the project's root (its
    ``.streamlit/config.toml``); yields the port and the server's process id once it answers (on
    127.0.0.1, also when ``address`` is every address, 0.0.0.0)."""
    port = _free_port()
    with open(log, "ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
             "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=APP.parents[1], env=dict(env), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                said = log.read_text(errors="replace").strip().splitlines()[-20:]
                raise RuntimeError("the dashboard did not start:\n" + "\n".join(said))
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def visit(port: int, page: str, timeout: float = PAGE_TIMEOUT) -> tuple[float, int]:
    """Open ``page`` (its address, '' for the default page) in a new session, as a browser does over
    Streamlit's websocket (``/_stcore/stream``: a ``rerun_script`` BackMsg, then ForwardMsgs until
    ``script_finished``). Returns the seconds from asking to the script finishing, and the errors
    the page showed: an exception (not a warning), a page not found, a script that did not compile,
    or no answer within ``timeout`` seconds.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    errors = 0
    ask = BackMsg()
    ask.rerun_script.query_string = ""
    ask.rerun_script.page_name = page
    try:
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                     open_timeout=timeout) as socket_:
            begin = time.perf_counter()
            socket_.send(ask.SerializeToString())
            while True:
                left = timeout - (time.perf_counter() - begin)
                if left <= 0:
                    raise TimeoutError
                message = ForwardMsg()
                message.ParseFromString(socket_.recv(timeout=left))
                kind = message.WhichOneof("type")
                if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    element = message.delta.new_element
                    errors += element.WhichOneof("type") == "exception" and not element.exception.is_warning
                elif kind == "page_not_found":
                    errors += 1
                elif kind == "script_finished":
                    errors += message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR
                    return time.perf_counter() - begin, errors
    except Exception:  # no answer, a closed connection, a message that is not Streamlit's: a failed request
        return float(timeout), errors + 1


def _percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values``, interpolated between the nearest two (numpy's default)."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * share
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def page_figures(source: str, requests: int = 100, sessions: int = 10, app: Path = APP,
                 pages: Mapping[str, str] = PAGES, home: Path | None = None) -> dict:
    """The dashboard's pages over a fresh home holding ``source`` narrated with the fake model.

    Per page: the seconds cold (the first session of a freshly started server) and warm (the same
    page again, in another session). On one more server, after every page has been read once:
    ``sessions`` Overview sessions asked at the same moment (p50, p95, max seconds, errors), and
    the server's resident memory before and after ``requests`` page requests (each page in turn,
    each in a new session, as readers come and go). ``home``: a home to narrate into again instead
    of a fresh one (a narration with no new commit reads nothing again).
    """
    home = home or Path(tempfile.mkdtemp(prefix="narrator-bench-pages-"))
    env = {**os.environ, "CODE_NARRATOR_HOME": str(home), "CODE_NARRATOR_MODEL": "fake", "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(APP.parents[1]), os.environ.get("PYTHONPATH")]))}
    for name in ("CODE_NARRATOR_DB", "CODE_NARRATOR_ADAPTER"):
        env.pop(name, None)
    _cli(["narrate", source, "--model", "fake"], env)
    log = home / "streamlit.log"
    seconds: dict[str, dict[str, float]] = {}
    errors = 0
    for title, address in pages.items():
        with dashboard_server(app, env, log) as (port, _):
            cold, cold_errors = visit(port, address)
            warm, warm_errors = visit(port, address)
        seconds[title] = {"cold": round(cold, 2), "warm": round(warm, 2)}
        errors += cold_errors + warm_errors
    overview = pages.get("Overview", next(iter(pages.values())))
    with dashboard_server(app, env, log) as (port, pid):
        for address in pages.values():
            errors += visit(port, address)[1]
        start = threading.Barrier(sessions)

        def together(_: int) -> tuple[float, int]:
            start.wait()
            return visit(port, overview)

        with ThreadPoolExecutor(sessions) as pool:
            concurrent = list(pool.map(together, range(sessions)))
        before = _rss_mb(pid)
        addresses = list(pages.values())
        served_errors = sum(visit(port, addresses[i % len(addresses)])[1] for i in range(requests))
        after = _rss_mb(pid)
    times = [t for t, _ in concurrent]
    return {
        "page_seconds": seconds,
        "page_errors": errors,
        "overview_concurrent_sessions": sessions,
        "overview_concurrent_p50_seconds": round(_percentile(times, 0.5), 2),
        "overview_concurrent_p95_seconds": round(_percentile(times, 0.95), 2),
        "overview_concurrent_max_seconds": round(max(times), 2),
        "overview_concurrent_errors": sum(e for _, e in concurrent),
        "server_requests": requests,
        "server_request_errors": served_errors,
        "server_rss_before_mb": round(before, 1),
        "server_rss_after_mb": round(after, 1),
        "server_rss_growth_mb": round(after - before, 1),
    }
