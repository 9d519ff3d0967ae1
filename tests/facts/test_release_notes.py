"""Release notes from a diff: links read as their text, and only the entries a commit adds count."""

from __future__ import annotations

import time

import pytest

from narrator.facts.readme import readme_paragraph
from narrator.facts.release_notes import release_notes
from narrator.text import link_text
from tests.helpers.narration import diff_of


@pytest.mark.parametrize("markdown, text", [
    ("see [the docs](https://example.com/docs_(v2)) for details", "see the docs for details"),
    ("[Go](https://en.wikipedia.org/wiki/Go_(game)) rules", "Go rules"),
    ("[the guide](<https://example.com/a guide (old).html>) now", "the guide now"),
    ('[the FAQ](https://example.com/faq "Questions (and answers)") moved', "the FAQ moved"),
    ("[the FAQ]( https://example.com/faq 'Title' ) moved", "the FAQ moved"),
    ("[dark mode][dm] and [light mode][] land", "dark mode and light mode land"),
    ("[![build](https://ci.example.com/badge.svg)](https://ci.example.com) passes", "build passes"),
    ("![logo (small)](img/logo_(small).png) shown", "logo (small) shown"),
    ("[a [nested] label](u) too", "a [nested] label too"),
    # Brackets that open no link stay as written.
    ("f(x)[0] = [1](2", "f(x)[0] = [1](2"), ("a [plain] bracket", "a [plain] bracket"),
    (r"an \[escaped](bracket)", r"an \[escaped](bracket)"), ("[ref]: https://example.com", "[ref]: https://example.com"),
])
def test_markdown_links_read_as_their_text(markdown, text):
    assert link_text(markdown) == text


def test_link_parsing_stays_linear_on_hostile_text():
    def seconds(text: str) -> float:
        started = time.perf_counter()
        link_text(text)
        return time.perf_counter() - started

    # Against bracketed text of the same length (which the parser reads, unlike text with no '[') read
    # in the same moment, so a busy machine slows both alike; a quadratic parse would be thousands of
    # times slower, not a few.
    for hostile in ("[a](" * 100_000, "[" * 400_000, "[a](<" * 80_000, '[a](x "' * 60_000, "(" * 400_000):
        plain = ("[a] " * len(hostile))[:len(hostile)]
        assert seconds(hostile) < 30 * seconds(plain) + 0.5, hostile[:8]


def test_a_changelog_link_whose_url_holds_parentheses_reads_as_its_text():
    patch = diff_of("CHANGELOG.md", "+- Read the config from one place; see [the docs](https://example.com/config_(v2)) "
                                  "for details", "+- Add [Go](https://en.wikipedia.org/wiki/Go_(game)) support")
    assert release_notes(patch) == ["Read the config from one place; see the docs for details", "Add Go support"]


def test_a_readme_link_whose_url_holds_parentheses_reads_as_its_text():
    readme = ("# Shop\n\nA small web shop that sells [board games](https://en.wikipedia.org/wiki/Go_(game)) "
              "and puzzles to families.\n")
    assert readme_paragraph(readme) == "A small web shop that sells board games and puzzles to families."


def test_an_entry_the_commit_only_edited_is_not_its_release_note():
    patch = diff_of("CHANGELOG.md", " ## 1.3.0", "+- Add an export to CSV", " ", " ## 1.2.0",
                  "-- Fix the logn timeout", "+- Fix the login timeout", " - Use requests 2.31")
    assert release_notes(patch) == ["Add an export to CSV"]
    # An edit next to a new entry in one block: the edit pairs with its old line, the new entry stays.
    patch = diff_of("CHANGES.rst", "-- Speed up the serch page", "+- Add dark mode to the settings page",
                  "+- Speed up the search page")
    assert release_notes(patch) == ["Add dark mode to the settings page"]
    # A line replaced by a different entry is an addition.
    assert release_notes(diff_of("CHANGELOG.md", "-- Nothing yet.", "+- Add an export to CSV")) == ["Add an export to CSV"]


def test_only_additions_count_when_a_hunk_is_too_big_to_compare_every_pair():
    removed = [f"-- Old entry number {i} about the cart" for i in range(100)]
    added = [f"+- Old entry number {i} about the cart" for i in range(100)] + ["+- Add a wish list"]
    assert release_notes(diff_of("CHANGELOG.md", *removed, *added)) == ["Add a wish list"]
