"""People's words before the model: markup turned into text, shown without stray backslashes, heading
every change whose developer wrote anything informative, and model sentences that claim what the diff
does not show dropped by their own check.
"""

from __future__ import annotations

import pytest

from narrator.checks.headlines import GIT_CHECKS, check_headline, contradicts_git
from narrator.facts import provenance
from narrator.facts.provenance import Provenance, Source
from narrator.facts.subjects import uninformative_reason
from narrator.text import markdown_text, unmarked
from tests.conftest import START, commit_files, model_headlines_on, unglossed
from tests.helpers.narration import Scripted, change_block, day, narrate_here, show_markdown
from tests.helpers.repos import make_repo

DEV, NOTES = Provenance(Source.DEVELOPER), Provenance(Source.RELEASE_NOTES)

# --- markup in people's words -----------------------------------------------------------------


@pytest.mark.parametrize("raw,text", [
    ("Deprecate {func}`edit` in favour of {meth}`Cart.update` ({issue}`2869`)",
     "Deprecate edit in favour of Cart.update (2869)"),
    ("Use :func:`x` and :class:`~shop.cart.Cart` with :py:meth:`!skip`", "Use x and Cart with skip"),
    (":ref:`the install guide <install>` is shorter", "the install guide is shorter"),
    ("Fix `parse()` and ``dump()`` for **empty** *carts*", "Fix parse() and dump() for empty carts"),
    ("See [the docs](https://example.com/docs_(v2)) and ![logo](a.svg)", "See the docs and logo"),
    ("Keep __init__ and snake_case_names and <select> as written", "Keep __init__ and snake_case_names and <select> as written"),
])
def test_markup_in_peoples_words_becomes_text(raw, text):
    assert unmarked(raw) == text


# --- Markdown that escapes only what would be markup ----------------------------------------


def test_markdown_text_leaves_ordinary_punctuation_alone():
    assert markdown_text("Fix the cart, then ship.") == "Fix the cart, then ship."
    assert markdown_text("projects_using_cobra: add Ollama (v1.2.3); 10:30 -> done!") == (
        "projects_using_cobra: add Ollama (v1.2.3); 10:30 -> done!")


@pytest.mark.parametrize("raw,escaped", [
    ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
    ("[x](javascript:alert(1))", r"\[x\]\(javascript\:alert\(1\)\)"),
    ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
    ("(javascript:alert(1))", r"\(javascript\:alert(1))"),  # could follow a "]" the caller wrote
    ("# Heading", r"\# Heading"), ("1. Item", r"1\. Item"), ("- item", r"\- item"), ("> quote", r"\> quote"),
    ("$x$ ~~gone~~ a|b :red[c] &amp;", r"\$x\$ \~\~gone\~\~ a\|b \:red\[c\] \&amp;"),
])
def test_markdown_text_escapes_what_markdown_would_act_on(raw, escaped):
    assert markdown_text(raw) == escaped


def test_a_headline_with_commas_and_full_stops_prints_without_backslashes(settings, tmp_path, capsys):
    repo = make_repo(tmp_path / "shop", branch=None, identity=True)
    commit_files(repo, {"app/cart.py": "def total(cart):\n    return sum(cart)\n"}, "Fix the cart, then ship.", START)
    narrate_here(settings, repo.working_tree_dir, Scripted(), batch_size=4)
    shown = show_markdown(settings, repo.working_tree_dir, capsys)
    line = next(line for line in shown.splitlines() if "Fix the cart" in line)
    assert "Fix the cart, then ship." in line and "\\" not in line


# --- who heads a change ---------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["projects_using_cobra: add Ollama", "Upgrade content-disposition"])
def test_short_subjects_that_name_something_are_informative(subject):
    assert uninformative_reason(subject) is None


CART = "def total(cart):\n    return sum(cart)\n"
MODEL_HEADLINE = "Remove unnecessary indentation in cart.py."


@pytest.fixture
def worded(settings, tmp_path):
    """Commits whose subjects say nothing, narrated by a model that would gladly head each of them."""
    repo = make_repo(tmp_path / "shop", branch=None, identity=True)
    sha = {"start": commit_files(repo, {"app/cart.py": CART, "CHANGELOG.md": "# Changelog\n"}, "Start the shop", day(0))}
    sha["body"] = commit_files(repo, {"app/cart.py": CART + "\n\ndef count(cart):\n    return len(cart)\n"},
                               "misc tidy\n\nFix spelling in the help output. The word 'recieve' was wrong.\n", day(1))
    sha["notes"] = commit_files(repo, {"app/cart.py": CART + "\n\ndef empty(cart):\n    return not cart\n",
                                       "CHANGELOG.md": "# Changelog\n\n- Show an empty cart as empty\n"}, "wip", day(2))
    sha["roles"] = commit_files(
        repo, {"app/cart.py": CART + "\n\ndef edit(cart):\n    return cart\n"},
        "Deprecate {func}`edit` in favour of :meth:`~shop.Cart.update` ({issue}`2869`)\n\n"
        "Use `Cart.update` instead, see [the guide](https://example.com/guide).\n", day(3))
    sha["bot"] = commit_files(
        repo, {"package.json": '{"dependencies": {"qs": "6.14.1"}}\n'},
        "Bump qs from 6.11.0 to 6.14.1\n\nBumps [qs](https://github.com/ljharb/qs) from 6.11.0 to 6.14.1.\n"
        "- [Release notes](https://github.com/ljharb/qs/releases)\n"
        "- [Commits](https://github.com/ljharb/qs/compare/v6.11.0...v6.14.1)\n\n"
        "[![Dependabot compatibility score](https://dependabot-badges.githubapp.com/badges/x)](https://docs.github.com/x)\n\n"
        "---\nupdated-dependencies:\n- dependency-name: qs\n\nSigned-off-by: dependabot[bot] <support@github.com>\n", day(4))
    backend = Scripted((("",), MODEL_HEADLINE))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    return dict(repo=repo, sha=sha, service=service, handle=handle, backend=backend,
                changes={c.sha: c for c in service.changes(handle.id)})


def test_an_uninformative_subject_is_headed_by_the_body_then_a_changelog_line_never_the_model(worded):
    changes, sha = worded["changes"], worded["sha"]
    body = changes[sha["body"]]
    assert body.headline == provenance.Said("Fix spelling in the help output", DEV)
    assert body.explanation.text == "The word 'recieve' was wrong." and body.needs_model != "headline"
    notes = changes[sha["notes"]]
    assert notes.headline == provenance.Said("Show an empty cart as empty", NOTES)
    assert MODEL_HEADLINE not in {c.headline.text for c in changes.values()}
    # No headline was asked of the model for either: its prompt asks for one from the diff alone.
    assert not any(f"{sha[k][:8]}" in text for k in ("body", "notes") for text in worded["backend"].texts())


def test_markup_and_bot_boilerplate_become_text_in_headlines_explanations_and_show(worded, settings, capsys):
    changes, sha = worded["changes"], worded["sha"]
    roles = changes[sha["roles"]]
    assert roles.headline.text == "Deprecate edit in favour of update (2869)"
    assert roles.explanation.text == "Use Cart.update instead, see the guide."
    bot = changes[sha["bot"]]
    assert bot.headline.text == "Bump qs from 6.11.0 to 6.14.1" and bot.explanation is None
    shown = show_markdown(settings, worded["repo"].working_tree_dir, capsys)
    for raw in ("{func}", ":meth:", "`", "](", "Dependabot", "updated-dependencies", "Bumps"):
        assert raw not in shown, raw
    # ('Bump' is explained inline at its first use: tests/render/test_glossary_inline.py)
    assert unglossed(change_block(shown, bot.short_sha)[0]).endswith(f"Bump qs from 6.11.0 to 6.14.1 [{markdown_text(provenance.label(DEV))}]")


def test_rows_recorded_before_are_shown_in_peoples_words_too(worded):
    service, handle, sha = worded["service"], worded["handle"], worded["sha"]
    old = dict(informative=False, uninformative="too short", headline_source="developer", explanation="")
    service.store.upsert_commits(handle.id, [
        {"sha": sha["body"], "headline": "Misc tidy", "details": old},
        {"sha": sha["roles"], "headline": "Deprecate {func}`edit` ({issue}`2869`)",
         "details": {**old, "informative": True, "explanation": "See [the guide](https://example.com/guide)."}},
    ])
    changes = {c.sha: c for c in service.changes(handle.id)}
    assert changes[sha["body"]].headline == provenance.Said("Fix spelling in the help output", DEV)
    assert changes[sha["roles"]].headline.text == "Deprecate edit (2869)"
    assert changes[sha["roles"]].explanation.text == "See the guide."


# --- model sentences that claim what the diff does not show ----------------------------------

REMOVED_TEST = [{"path": "tests/test_rich.py", "change": "modified", "added": 0, "removed": 12},
                {"path": "src/rich.py", "change": "modified", "added": 3, "removed": 1}]


@pytest.mark.parametrize("sentence,files,reason", [
    ("Add test for rich_fraction column.", REMOVED_TEST, GIT_CHECKS[1]),  # the change removed a test
    ("The tests now cover empty carts.", [{"path": "src/cart.py", "change": "modified", "added": 4, "removed": 0}],
     GIT_CHECKS[1]),
    ("Introduce a cache for rendered pages.", [{"path": "src/cache.py", "change": "modified", "added": 0, "removed": 9}],
     GIT_CHECKS[2]),
    ("Delete the unused page cache.", [{"path": "src/cache.py", "change": "added", "added": 9, "removed": 0}],
     GIT_CHECKS[3]),
    ("Remove a flaky test of the page cache.", REMOVED_TEST, None),
    ("Add a rich_fraction column to the report.", REMOVED_TEST, None),
    # A file the change does not touch; the same name among its files, by path or base name, is fine.
    ("Read the cache size from config.yml.", REMOVED_TEST, GIT_CHECKS[4]),
    ("Read the cache size from src/settings.py.", REMOVED_TEST, GIT_CHECKS[4]),
    ("Read the cache size from deploy/config.yml.", REMOVED_TEST + [{"path": "config.yml", "change": "modified",
                                                                     "added": 1, "removed": 1}], None),
    ("Tidy the rich_fraction helper in rich.py.", REMOVED_TEST, None),
    ("Tidy the rich_fraction helper in src/rich.py.", REMOVED_TEST, None),
])
def test_a_model_sentence_that_git_denies_is_dropped_by_its_own_check(sentence, files, reason):
    assert contradicts_git(sentence, files) == reason
    shown = "Files changed: " + ", ".join(f["path"] for f in files) + "\n\nDiff:\n-def test_rich_fraction(): cache page\n"
    headline = check_headline(sentence, shown + sentence, files)
    assert (headline.dropped, bool(headline.text)) == (reason, reason is None)


def test_a_dropped_model_headline_is_flagged_with_its_check_and_git_facts_head_the_change(settings, tmp_path, monkeypatch):
    settings = model_headlines_on(monkeypatch, settings)  # the model is asked, and its headline checked
    repo = make_repo(tmp_path / "rich", branch=None, identity=True)
    test = "def test_rich_fraction():\n    assert rich_fraction([]) == 0\n"
    commit_files(repo, {"src/rich.py": "def rich_fraction(xs):\n    return 0\n", "tests/test_rich.py": test}, "Start", day(0))
    tidy = commit_files(repo, {"tests/test_rich.py": None}, "misc tidy", day(1))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, Scripted((("",), "Add test for rich_fraction column.")), batch_size=4)
    change = next(c for c in service.changes(handle.id) if c.sha == tidy)
    assert change.headline.source == "git" and "rich_fraction" not in change.headline.text
    assert change.narrative.flags["dropped"] == GIT_CHECKS[1]
