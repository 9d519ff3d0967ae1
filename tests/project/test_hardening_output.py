"""Untrusted text on its way out, bad model settings, and a repository folder that went away.

A commit message can carry terminal escape codes, bidi overrides and Markdown or HTML; ``show``
and the narrate summary must print none of it as such. A model spec or quantization that cannot
work is one ``error:`` line (and an error box on the dashboard). ``show`` still reads the cache of
a repository whose folder was moved.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import git
import pytest
from streamlit.testing.v1 import AppTest

from narrator.text import html_text, markdown_text, plain, unmarked
from tests.conftest import START, commit_files
from tests.helpers.cli import run_cli
from tests.helpers.dashboard import APP

HOSTILE_SUBJECT = ("Fix \x1b[31mred\x1b[0m cart\x07 \u202egnp.exe <script>alert(1)</script> "
                   "[click](javascript:alert(1))")
HOSTILE_BODY = ("Body with \x1b]8;;javascript:alert(1)\x07a link\x1b]8;;\x07 and <img src=x onerror=alert(1)>\r"
                "*bold* _it_ `tick` \x9b2J\x08\x00gone")


def controls(text: str) -> list[str]:
    """Every control or invisible formatting character in ``text`` but the newline."""
    return [hex(ord(c)) for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


# --- the helpers ----------------------------------------------------------------------------


def test_plain_drops_escape_sequences_controls_and_bidi_overrides():
    assert plain(HOSTILE_SUBJECT) == "Fix red cart gnp.exe <script>alert(1)</script> [click](javascript:alert(1))"
    assert plain(HOSTILE_BODY) == "Body with a link and <img src=x onerror=alert(1)> *bold* _it_ `tick` gone"
    assert plain("one\r\ntwo\rthree\u2028four", keep_newlines=True) == "one\ntwo\nthree\nfour"
    assert plain("tab\there\u200b \ud800") == "tab here \ufffd"  # a lone surrogate could not be printed
    assert plain("family \U0001f468\u200d\U0001f469") == "family \U0001f468\u200d\U0001f469"  # joiners stay
    assert plain(None) == "" and plain("") == ""


def test_markdown_and_html_text_escape_markup_after_dropping_controls():
    escaped = markdown_text(HOSTILE_SUBJECT)
    assert not controls(escaped) and "\n" not in escaped
    assert unescape(escaped) == plain(HOSTILE_SUBJECT)
    assert re.search(r"(?<!\\)[<>*_`\[\]$:()]", escaped) is None  # no markup character left bare
    assert markdown_text("one\n    two", keep_newlines=True) == "one  \ntwo"  # indentation would start a code block
    assert html_text(HOSTILE_SUBJECT) == (
        "Fix red cart gnp.exe &lt;script&gt;alert(1)&lt;/script&gt; [click](javascript:alert(1))")
    assert html_text('"quoted" & \x1b[1mbold') == "&quot;quoted&quot; &amp; bold"


# --- show and the narrate summary -----------------------------------------------------------


def hostile_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path)
    commit_files(repo, {"app/cart.py": "def add_item(cart, item):\n    cart.append(item)\n"}, "Add the cart", START)
    commit_files(repo, {"app/cart.py": "def add_item(cart, item):\n    if item:\n        cart.append(item)\n"},
                 f"{HOSTILE_SUBJECT}\n\n{HOSTILE_BODY}\n", START)
    return repo


def test_show_and_the_summary_print_no_control_codes_and_no_markup(tmp_path):
    repo = hostile_repo(tmp_path / "cart")
    assert "\x1b[31m" in repo.head.commit.message and "\u202e" in repo.head.commit.message  # git kept them
    home = tmp_path / "home"
    narrated = run_cli("narrate", repo.working_tree_dir, "--model", "fake", home=home)
    assert narrated.returncode == 0, narrated.stderr
    assert not controls(narrated.stdout), narrated.stdout

    # The terminal text: the developer's words as plain text, on one line (no wrap at 1000 columns),
    # without the escape sequences, control and bidi characters, and without Markdown escapes.
    text = run_cli("show", repo.working_tree_dir, home=home, COLUMNS="1000")
    assert text.returncode == 0 and not controls(text.stdout), controls(text.stdout)
    head = next(line for line in text.stdout.split("\nRecent changes\n", 1)[1].splitlines() if "gnp" in line)
    assert unmarked(plain(HOSTILE_SUBJECT)) in head and head.startswith("- 2026-11-02 ") and "\\" not in head
    assert "[31m" not in text.stdout and "javascript" not in head

    shown = run_cli("show", repo.working_tree_dir, "--format", "markdown", home=home)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert not controls(out), controls(out)
    for raw in ("<script>", "<img", "](javascript:", "*bold*", "_it_", "`tick`", "[31m", "8;;"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), out), raw  # only ever escaped, or gone
    # The developer's words are all there, as literal text, each on the one line it belongs to; a
    # Markdown link reads as its text, backticks and emphasis go (narrator.text.unmarked).
    head = next(line for line in out.split("## Recent changes", 1)[1].splitlines() if "gnp" in line)
    assert markdown_text(unmarked(plain(HOSTILE_SUBJECT))) in head and head.startswith("- 2026-11-02 ")
    assert "javascript" not in head
    assert any(markdown_text(unmarked(plain(HOSTILE_BODY))) in line for line in out.splitlines())


# --- bad model settings ---------------------------------------------------------------------


@pytest.mark.parametrize("args,env,words", [
    (["--model", "fake:abc"], {}, ["fake:DELAY expects a number", "'abc'"]),
    (["--model", "fake:-2"], {}, ["fake:DELAY expects a number"]),
    ([], {"CODE_NARRATOR_QUANT": "bogus"}, ["CODE_NARRATOR_QUANT", "'bogus'", "'nf4' or 'none'"]),
    (["--model", "openai:"], {}, ["openai:http(s)://host:port/v1"]),
    (["--model", "openai:localhost:8000/v1"], {}, ["openai:http(s)://host:port/v1"]),
    (["--model", "openai:http://host:port/v1"], {}, ["openai:http(s)://host:port/v1"]),
    ([], {"CODE_NARRATOR_MODEL": "fake:slow"}, ["fake:DELAY expects a number"]),
])
def test_a_bad_model_setting_is_one_error_line(sample_repo, tmp_path, args, env, words):
    result = run_cli("narrate", sample_repo.working_tree_dir, *args, home=tmp_path / "home", **env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not (tmp_path / "home" / "narrator.db").exists(), "refused before anything was read or written"


def test_the_dashboard_shows_a_bad_setting_in_an_error_box(tmp_path, monkeypatch):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.setenv("CODE_NARRATOR_QUANT", "bogus")
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    # An underscore inside a name is no emphasis, so it is shown without a backslash.
    assert len(at.error) == 1 and "(CODE_NARRATOR_QUANT)" in at.error[0].value, [e.value for e in at.error]


# --- a repository folder that went away -----------------------------------------------------


def test_show_reads_the_cache_of_a_moved_repository_and_says_the_folder_is_gone(sample_repo, tmp_path):
    home, folder = tmp_path / "home", Path(sample_repo.working_tree_dir)
    assert run_cli("narrate", str(folder), "--model", "fake", home=home).returncode == 0
    before = run_cli("show", str(folder), home=home, COLUMNS="1000")
    shutil.move(folder, tmp_path / "elsewhere")

    after = run_cli("show", str(folder), home=home, COLUMNS="1000")
    assert after.returncode == 0, after.stderr
    note = f"The repository folder {folder} is gone; showing what was narrated before."
    assert note in after.stdout
    for headline in ("Fix crash when adding an empty item", "Add orders that can be placed", "Add shopping cart"):
        assert headline in after.stdout
    assert after.stdout.replace(f"{note}\n\n", "") == before.stdout, "the same narratives as before the move"
    markdown = run_cli("show", str(folder), "--format", "markdown", home=home).stdout
    assert f"_The repository folder {markdown_text(str(folder))} is gone; showing what was narrated before._" in markdown
    # A folder that was never narrated is still "no such folder".
    missing = run_cli("show", str(tmp_path / "never"), home=home)
    assert missing.returncode == 1 and "No such folder" in missing.stderr
