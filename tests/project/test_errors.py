"""The one first-line helper and the command-line wrapper around every entry point."""

from __future__ import annotations

import subprocess
import sys

from db.errors import StoreError, NarratorError, first_line
from narrator.entry import run_command
from tests.helpers.cli import ROOT


def test_first_line_takes_the_first_non_empty_line_and_cuts_it():
    assert first_line(ValueError("\n\n  bad value  \nsecond line")) == "bad value"
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("boom"), with_type=True) == "RuntimeError: boom"
    assert first_line("x" * 500, limit=10) == "x" * 9 + "…"
    assert first_line("plain text\nmore") == "plain text"


def test_every_user_error_becomes_one_line_and_exit_1(capsys):
    def fail(error):
        def command():
            raise error
        return command

    for error in (NarratorError("no such folder\nsecond"), StoreError("the database is damaged")):
        assert run_command(fail(error)) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and "second" not in err


def test_a_closed_pipe_ends_quietly():
    # `show | head -1`: the reader leaves early; no BrokenPipeError traceback.
    code = ("import sys; sys.path.insert(0, '.');\n"
            "from narrator.entry import run_command\n"
            "def command():\n"
            "    for _ in range(100000):\n"
            "        print('line of output')\n"
            "    return 0\n"
            "sys.exit(run_command(command))\n")
    shell = f"{sys.executable} -c \"{code}\" | head -1"
    result = subprocess.run(["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout == "line of output\n"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_a_bad_commit_count_is_one_usage_line(capsys):
    import pytest

    from narrator.__main__ import main

    assert main(["narrate", ".", "--commits", "-1"]) == 2
    assert capsys.readouterr().err == "error: --commits must be zero or more\n"
    with pytest.raises(SystemExit) as exit_:
        main(["narrate", ".", "--commits", "abc"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1].endswith("invalid int value: 'abc'")
