"""``scripts/launch.sh`` on a fresh machine: no prompt, the address and admin password printed and logged.

The real script runs as a user would start it the first time: a new HOME (no Streamlit credentials
file), stdin not a terminal, no display, in its own process group. The virtual environment is
already there, so its setup step only checks and moves on.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from dashboard import auth
from tests.helpers.cli import ROOT

LAUNCH = ROOT / "scripts" / "launch.sh"

pytestmark = pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "streamlit").exists(),
                                reason="no .venv in this checkout (bash scripts/setup.sh makes it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private(path: Path) -> bool:
    """Whether neither the group nor others may read, write or enter ``path``."""
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def wait_for(predicate, process: subprocess.Popen, seconds: float, what: str, output: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"launch.sh exited with {process.returncode} before {what}:\n{output.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"no {what} within {seconds:.0f} s:\n{output.read_text()[-3000:]}")


def healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def stop(process: subprocess.Popen, data: Path) -> None:
    """End the launch's process group, then any worker it spawned in a session of its own."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for other in psutil.process_iter():
        try:
            if other.environ().get("CODE_NARRATOR_HOME") == str(data):
                other.kill()
        except (psutil.Error, OSError):
            pass


def test_first_launch_needs_no_answer_and_keeps_the_password_private(tmp_path):
    home, data = tmp_path / "user", tmp_path / "data"
    home.mkdir()
    port = free_port()
    url = f"http://localhost:{port}"
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CODE_NARRATOR_", "STREAMLIT_")) and name not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=str(home), CODE_NARRATOR_HOME=str(data), CODE_NARRATOR_MODEL="fake", HF_HUB_OFFLINE="1")
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(["bash", str(LAUNCH), "--server.port", str(port)], cwd=tmp_path, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
    try:
        wait_for(lambda: healthy(url), process, 90, "answer on the health endpoint", stdout)
        announced = f"launch: the dashboard is at {url}"
        wait_for(lambda: announced in stdout.read_text(), process, 15, "address printed", stdout)

        printed = stdout.read_text()
        found = re.search(r"admin password \(shown only this once[^)]*\): (\S+)", printed)
        assert found, printed
        password = found.group(1)
        record = json.loads(auth.password_file(data).read_text())
        assert auth.matches(password, record) and password not in json.dumps(record)

        log = data / "logs" / "launch.log"
        logged = log.read_text()
        assert announced in logged and password in logged
        for path in (data, log.parent, log, auth.password_file(data)):
            assert private(path), f"{path} is readable by others: {oct(path.stat().st_mode)}"

        # The launch log (the owner's own record of the console) is the only file that holds it.
        holding = [path for folder in (home, data) for path in folder.rglob("*")
                   if path.is_file() and path != log and password.encode() in path.read_bytes()]
        assert holding == []
        assert "Email" not in printed + stderr.read_text()  # Streamlit's first-run prompt never came
    finally:
        stop(process, data)
