"""The ``code-narrator`` console command (pyproject.toml ``[project.scripts]``).

``code-narrator narrate|show|report`` are ``python -m narrator``'s commands, with the same arguments;
``evaluate`` and ``bench`` hand the rest of the line to ``python -m narrator.eval.evaluate`` and
``python -m narrator.eval.bench``; ``dashboard`` starts the Streamlit dashboard as scripts/launch.sh does,
on this computer only. Each command the other entry points do not have is one row of ``MORE``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import tomllib

from narrator import __main__ as narrator_main

PROG = "code-narrator"


class Command(NamedTuple):
    help: str
    run: Callable[[list[str]], int]
    """Called with the arguments after the command's name; returns the exit status."""


def _evaluate(argv: list[str]) -> int:
    from narrator.eval import evaluate

    return evaluate.main(argv, prog=f"{PROG} evaluate")


def _bench(argv: list[str]) -> int:
    from narrator.eval import bench

    return bench.main(argv, prog=f"{PROG} bench")


def streamlit_flags(config: Path) -> list[str]:
    """A Streamlit config file's settings as ``streamlit run`` flags (``--server.port=8501``, ...)."""
    with config.open("rb") as file:
        sections = tomllib.load(file)
    return [f"--{section}.{key}={str(value).lower() if isinstance(value, bool) else value}"
            for section, values in sections.items() for key, value in values.items()]


def dashboard_command(argv: list[str]) -> list[str]:
    """The ``streamlit run`` command line of the dashboard, ``argv`` (Streamlit's flags) last, so they win.

    Headless and on this computer only by default, then the checkout's ``.streamlit/config.toml``
    where there is one (an editable install), whatever the working folder.
    """
    import dashboard

    package = Path(dashboard.__file__).resolve().parent
    flags = ["--server.headless=true", "--server.address=localhost"]
    config = package.parent / ".streamlit" / "config.toml"
    if config.is_file():
        flags += streamlit_flags(config)
    return [sys.executable, "-m", "streamlit", "run", str(package / "app.py"), *flags, *argv]


def _accounts(argv: list[str]) -> int:
    from narrator.service import accounts_cli

    return accounts_cli.main(argv, prog=f"{PROG} accounts")


def _dashboard(argv: list[str]) -> int:
    command = dashboard_command(argv)
    os.execv(command[0], command)  # Streamlit takes this process over: Ctrl+C and signals reach it directly
    return 0  # not reached


MORE = {
    "evaluate": Command("measure how far a manager can trust what the narrator shows (python -m narrator.eval.evaluate)",
                        _evaluate),
    "bench": Command("print measured narration figures as JSON (python -m narrator.eval.bench)", _bench),
    "dashboard": Command("start the dashboard on this computer (Streamlit flags may follow, e.g. --server.port 8600)",
                         _dashboard),
    "accounts": Command("add, list or remove who may sign in to a shared dashboard, or set a password", _accounts),
}
COMMANDS = (*narrator_main.COMMANDS, *MORE)
"""Every command a user runs, in the order the help lists them."""


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    command = given[0] if given and not given[0].startswith("-") else None
    if command is None:  # --help lists every command; nothing at all is argparse's usual error
        narrator_main.parser(PROG, {name: more.help for name, more in MORE.items()}).parse_args(given)
        return 2
    if command in MORE:
        return MORE[command].run(given[1:])
    if command not in narrator_main.COMMANDS:
        print(f"error: unknown command {command!r} (choose from {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    from narrator.model.quiet import route_library_warnings
    from narrator.settings import home_dir

    route_library_warnings(home_dir())  # as python -m narrator does
    return narrator_main.main(given, prog=PROG)
