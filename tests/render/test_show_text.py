"""``python -m narrator show`` prints plain terminal text: no Markdown markup or escapes, nothing from
a commit message that a terminal would act on, lines wrapped between words to the terminal's width,
and the same briefing numbers as the Markdown, HTML and PDF exports of the same period."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import pytest

from narrator.__main__ import main
from narrator.render import exports as reports
from narrator.render import renderers
from narrator.render import show as report
from narrator.service.core import NarratorService
from narrator.text import plain, unmarked
from tests.conftest import START, commit_files, make_sample_repo, unglossed
from tests.helpers.pages import Tags, counted_sentences, pdf_text
from tests.helpers.repos import narrated  # noqa: F401  (fixtures)

MARKUP = "Fix 2*3 = 6, the *bold* and _italic_ #7 words. Keep `code` and a [link](https://example.com/x), a_b."
"""A subject with every character Markdown acts on, and the commas and full stops it used to escape."""
ANSI = "Fix \x1b[31mred\x1b[0m cart\x07 total\u202e now"
LONG = "Handle " + "x" * 130 + " in the cart"
"""A subject with one word longer than any terminal line."""


def controls(text: str) -> list[str]:
    """Every control or invisible formatting character in ``text`` but the newline."""
    return [hex(ord(c)) for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf")]


@pytest.fixture
def shop(settings, tmp_path):
    """The sample shop plus fixes whose messages hold markup, escape sequences and an over-long word."""
    repo = make_sample_repo(tmp_path / "shop")
    for day, subject in ((10, MARKUP), (11, ANSI), (12, LONG)):
        commit_files(repo, {f"shop/fix{day}.py": f"X = {day}\n"}, subject, START + timedelta(days=day))
    assert main(["narrate", repo.working_tree_dir, "--commits", "20"]) == 0
    service = NarratorService(settings)
    return service, service.find(repo.working_tree_dir)


def _show(capsys, repo, *extra: str) -> str:
    capsys.readouterr()
    assert main(["show", repo.source, "--period", "30d-commits", *extra]) == 0
    return capsys.readouterr().out


def test_show_prints_people_s_words_without_markdown_markup_or_escapes(shop, capsys, monkeypatch):
    service, repo = shop
    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping: one line per item
    text = _show(capsys, repo)
    assert "\\" not in text and "**" not in text and "](" not in text and "`" not in text
    assert not re.search(r"^#|^_|_$", text, re.M)  # no Markdown heading or emphasis around a line
    # Headings are text lines, underlined; list items start with "- ".
    assert text.startswith("shop\n====\n") and "\nRecent changes\n--------------\n" in text
    assert "\nWaiting to ship" not in text or "\nWaiting to ship (" in text
    # The developer's words as they read once their own markup is taken off, commas and stops included.
    said = unmarked(MARKUP)
    recent = text.split("\nRecent changes\n", 1)[1]
    line = next(line for line in recent.splitlines() if said in unglossed(line))
    assert re.match(r"- \d{4}-\d\d-\d\d [0-9a-f]{8} \[fix, shop\] Ada Lovelace: ", line)
    assert line.endswith("[developer's message]")  # a short source label; git facts go unlabelled
    assert not any(line.endswith("[git facts]") for line in text.splitlines())
    # The Markdown form is still there, escaped, for those who want it.
    markdown = _show(capsys, repo, "--format", "markdown")
    assert markdown.startswith("# shop\n") and "## Recent changes" in markdown and "\\_italic\\_" not in text


def test_show_strips_escape_sequences_and_control_characters_from_commit_messages(shop, capsys, monkeypatch):
    _, repo = shop
    monkeypatch.setenv("COLUMNS", "1000")
    text = _show(capsys, repo)
    assert "\nRecent changes\n--------------\n" in text  # the terminal text
    assert "\x1b" not in text and "[31m" not in text and "[0m" not in text and not controls(text), controls(text)
    assert f"Ada Lovelace: {plain(ANSI)} [developer's message]" in text
    assert "Fix red cart total now" in text


def test_show_wraps_to_the_terminal_width_between_words(shop, capsys, monkeypatch):
    service, repo = shop
    monkeypatch.setenv("COLUMNS", "60")
    assert report.terminal_width() == 60
    narrow = _show(capsys, repo)
    wide = report.text(service, repo.id, period="30d-commits", width=1000)
    for line in narrow.splitlines():
        assert len(line) <= 60 or " " not in line.strip().removeprefix("- "), line  # only a word too long to cut
    assert "x" * 130 in narrow  # the long word is whole, on a line of its own
    # The same words in the same order: no word is broken (underlines are as wide as the screen).
    words = [w for w in narrow.split() if not set(w) <= set("=-~")]
    assert words == [w for w in wide.split() if not set(w) <= set("=-~")]
    # A list item goes on under its text: the next lines of "- ..." start two spaces further in.
    lines = narrow.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("- ") and "Ada Lovelace: Fix 2*3" in line)
    assert lines[start + 1].startswith("  ") and not lines[start + 1].startswith("  - ")
    # Without a terminal and without COLUMNS: 100 columns.
    monkeypatch.delenv("COLUMNS")
    assert report.terminal_width() == report.FALLBACK_WIDTH == 100


def test_show_text_prints_the_same_numbers_as_the_markdown_html_and_pdf_reports(narrated):  # noqa: F811
    service, ids, _ = narrated
    for name in ("hotfixed", "overdue"):
        b = service.briefing(ids[name], "30d")
        text = " ".join(report.text(service, ids[name], period="30d", width=80).split())
        document = reports.document(service, [ids[name]], "30d")
        parsed = Tags()
        parsed.feed(renderers.render(document, "html").decode())
        page = " ".join(" ".join(parsed.text).split())
        printed = pdf_text(renderers.render(document, "pdf"))
        md = re.sub(r"\\(.)", r"\1", renderers.markdown(document))  # as a Markdown viewer shows it
        for shown in (text, page, printed, md):
            for s in counted_sentences(b):
                assert s.text in unglossed(shown), (name, s.text)
            for heading in (b.waiting.heading, b.reached.heading, b.by_impact.heading, f"In brief: {b.period.label}"):
                assert heading in shown, (name, heading)
