"""The command line: a summary after narrate, Markdown from show, one-line errors for bad input."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import git
import pytest

from narrator.text import markdown_text as md
from tests.conftest import MODEL_SENTENCES_ON
from tests.helpers import cli
from tests.helpers.cli import assert_one_line_error

run_cli = partial(cli.run_cli, **MODEL_SENTENCES_ON)
"""The command line with the model's sentences shown: how they are made, kept and printed is what this module tests."""
DEVELOPER, MODEL = md("developer's message"), md("written by the model (checked)")  # markers as show escapes them


@pytest.mark.slow
def test_narrate_then_show(sample_repo, tmp_path):
    home = tmp_path / "home"
    result = run_cli("narrate", sample_repo.working_tree_dir, "--commits", "5", home=home)
    assert result.returncode == 0, result.stderr
    assert "new narratives" in result.stdout and "What this software does" in result.stdout
    shown = run_cli("show", sample_repo.working_tree_dir, home=home)
    assert shown.returncode == 0, shown.stderr
    # Terminal text: underlined headings, no Markdown (tests/render/test_show_text.py for the details).
    assert shown.stdout.startswith("shop\n====\n") and "\nIts main parts\n--------------\n" in shown.stdout
    # The fix is headed by the developer's subject, filed under its kind and area, and explained by
    # the (fake) model's checked sentence about the file it changed.
    words = " ".join(shown.stdout.split())  # lines are wrapped to the terminal's width
    assert (f"[fix, shop] Ada Lovelace: Fix crash when adding an empty item [{DEVELOPER}] "
            f"- This part handles cart.py. [{MODEL}]") in words
    markdown = run_cli("show", sample_repo.working_tree_dir, "--format", "markdown", home=home).stdout
    lines = markdown.splitlines()
    fix = next(i for i, line in enumerate(lines) if "Fix crash when adding an empty item" in line)
    assert "[fix, shop] Ada Lovelace: Fix crash when adding an empty item" in lines[fix]
    assert lines[fix].endswith(f" [{DEVELOPER}]")
    assert lines[fix + 1] == f"  - {md('This part handles cart.py.')} [{MODEL}]"
    again = run_cli("narrate", sample_repo.working_tree_dir, home=home)
    assert "0 model calls" in again.stdout


@pytest.mark.parametrize("source,words", [
    ("/no/such/folder", ["no such"]),
    ("ext::sh -c touch% /tmp/pwned", ["refused"]),
    ("--upload-pack=touch /tmp/x", ["refused"]),
    ("https://127.0.0.1:9/none.git", ["could not clone"]),
])
def test_bad_sources(source, words, tmp_path):
    assert_one_line_error(run_cli("narrate", source, home=tmp_path / "home"), *words)


def test_not_a_repository_and_empty_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert_one_line_error(run_cli("narrate", str(plain), home=tmp_path / "home"), "not a git repository")
    empty = tmp_path / "empty"
    git.Repo.init(empty)
    assert_one_line_error(run_cli("narrate", str(empty), home=tmp_path / "home"), "empty")


@pytest.mark.slow
def test_model_that_fails_to_load_keeps_the_cache(sample_repo, tmp_path):
    home = tmp_path / "home"
    assert run_cli("narrate", sample_repo.working_tree_dir, home=home).returncode == 0
    before = run_cli("show", sample_repo.working_tree_dir, home=home).stdout
    commit_files_path = Path(sample_repo.working_tree_dir) / "shop" / "new.py"
    commit_files_path.write_text("def new():\n    return 1\n")
    sample_repo.index.add(["shop/new.py"])
    sample_repo.index.commit("Add a new helper")
    broken = run_cli("narrate", sample_repo.working_tree_dir, "--model", str(tmp_path / "missing-model"), home=home)
    assert_one_line_error(broken, "could not load model")
    after = run_cli("show", sample_repo.working_tree_dir, home=home).stdout
    # What the model wrote before (the fake's "This part handles ..." sentences) is all still shown.
    written = [line.split(" [", 1)[0].split(": ")[-1].strip(" -") for line in before.splitlines()
               if f"[{MODEL}" in line]
    assert len(written) >= 3 and all(text.startswith("This part handles ") for text in written), before
    assert all(text in after for text in written), after
    assert after.count("This part handles ") >= before.count("This part handles ")


def test_show_before_narrate_says_so(sample_repo, tmp_path):
    assert_one_line_error(run_cli("show", sample_repo.working_tree_dir, home=tmp_path / "home"), "not been narrated")


def test_binary_and_non_utf8_files_are_skipped(tmp_path):
    from tests.conftest import START, commit_files

    repo = git.Repo.init(tmp_path / "mixed")
    commit_files(repo, {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary", "latin.txt": "caf\xe9".encode("latin-1"),
                        "app.py": "def main():\n    return 'ok'\n"}, "Add app, logo and notes", START)
    result = run_cli("narrate", str(tmp_path / "mixed"), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "Skipped 2 files" in result.stdout, result.stdout


def test_help_lists_every_command_a_user_runs(tmp_path):
    """The queue worker is a command users start (on each machine), so it is listed; nothing shows as '==SUPPRESS=='."""
    result = run_cli("--help", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "{narrate,show,report,send,subscriptions,remove,worker}" in result.stdout
    assert "take narration jobs from the task queue" in result.stdout and "SUPPRESS" not in result.stdout, result.stdout


def test_an_unknown_command_names_the_commands_a_user_runs(tmp_path):
    result = run_cli("bogus", home=tmp_path / "home")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(
        "unknown command 'bogus' (choose from narrate, show, report, send, subscriptions, remove, worker)")
