"""A commit's facts are one typed value (narrator.facts.commit_facts.CommitFacts): stored in the shape rows
always had, and read back from rows recorded by earlier versions with today's defaults."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from narrator.facts import changes, impact, subjects
from narrator.facts.commit_facts import CommitFacts, ModelKind
from narrator.facts.impact import Impact
from narrator.facts.provenance import Source
from narrator.git.commits import read_commits
from tests.conftest import START, commit_files
from tests.helpers.repos import make_repo


def test_a_commits_facts_are_stored_in_the_shape_rows_always_had(tmp_path):
    repo = make_repo(tmp_path / "shop", identity=True)
    commit_files(repo, {"shop/cart.py": "def total(items):\n    return sum(items)\n", "CHANGELOG.md": "# Changes\n"},
                 "Start the shop", START)
    fix = commit_files(repo, {"shop/cart.py": "def total(items):\n    return sum(items or [])\n"},
                       "fix(cart): stop the crash on an empty cart (#12)\n\nAn empty cart raised TypeError; see CVE-2026-1234.",
                       START + timedelta(days=1))
    release = commit_files(repo, {"pyproject.toml": '[project]\nname = "shop"\nversion = "1.1.0"\n',
                                  "CHANGELOG.md": "# Changes\n\n## 1.1.0\n\n- Empty carts total zero.\n"},
                           "Release 1.1.0", START + timedelta(days=2))
    repo.create_tag("v1.1.0")
    read = {c.sha: changes.commit_details(c) for c in read_commits(repo, [fix, release])}

    headline, category, facts = read[fix]
    assert (headline, category) == ("Stop the crash on an empty cart", "security")
    assert facts.to_json() == {
        "headline_source": "developer", "informative": True, "uninformative": None, "subject_uninformative": None,
        "scope": "cart", "refs": ["#12"], "advisories": ["CVE-2026-1234"], "version": None, "tags": [],
        "release_notes": [], "explanation": "An empty cart raised TypeError; see CVE-2026-1234.", "ci": False,
        "breaking": False, "impact": {"group": "security", "kind": None, "why": "it names a security advisory (CVE-2026-1234)"},
    }
    _, category, facts = read[release]
    assert category == "release" and (facts.version, facts.tags, facts.release_notes) == ("1.1.0", ("v1.1.0",),
                                                                                            ("Empty carts total zero.",))
    assert facts.to_json()["tags"] == ["v1.1.0"] and facts.to_json()["version"] == "1.1.0"  # what SQL reads
    for _, _, facts in read.values():
        assert CommitFacts.from_json(facts.to_json()) == facts

    # What narration adds: the change-kind head's answer, and the rules' impact it replaced.
    kind = ModelKind("docs", False, 0.9, "model", "rules+head", "model|adapter|abc", "input-hash")
    judged = dataclasses.replace(facts, model_kind=kind, rules_impact=facts.impact,
                                 impact=Impact("internal", "docs", "the model judged it documentation work", 0.9))
    stored = judged.to_json()
    assert stored["model_kind"] == {"kind": "docs", "breaking": False, "probability": 0.9, "decided": "model",
                                    "method": "rules+head", "head": "model|adapter|abc", "input": "input-hash"}
    assert stored["rules_impact"] == facts.impact.to_json() and stored["impact"]["model"] == 0.9
    assert CommitFacts.from_json(stored) == judged


def test_rows_recorded_by_earlier_versions_read_with_todays_defaults():
    # A row recorded before commits' facts were: the model is not asked for it, and it is written back empty.
    empty = CommitFacts.from_json({})
    assert not empty.recorded and empty.informative and empty.headline_source == "developer"
    assert empty.to_json() == {} and CommitFacts.from_json(None) == empty

    # Before people's words were read in order (no subject_uninformative): read again from the message.
    old = CommitFacts.from_json({"informative": False, "uninformative": "too short", "headline_source": "developer",
                                 "explanation": ""})
    assert not old.words_in_order and "subject_uninformative" not in old.to_json()
    words, shown = changes.stored_words(old, "Misc tidy", "Misc tidy", "Misc tidy\n\nFix spelling in the help output.",
                                        False, [])
    assert words.headline == "Fix spelling in the help output" and words.informative
    assert shown.informative and shown.uninformative is None and changes.needs_model("fix", shown) == "commit"
    # The same row recorded today says its subject was read first: it stays as it was.
    today = dataclasses.replace(old, words_in_order=True)
    assert changes.stored_words(today, "Misc tidy", "Misc tidy", "Misc tidy\n\nFix spelling.", False, [])[1] == today
    assert changes.needs_model("fix", today) == "headline"

    # An impact recorded by another version, or none, is worked out again from the commit.
    odd = CommitFacts.from_json({"impact": {"why": "no group"}, "model_kind": {"probability": 0.5}, "tags": None})
    assert odd.impact is None and odd.model_kind is None and odd.tags == ()
    again = impact.stored(odd.impact, subject="Fix crash", message="Fix crash", category="fix", paths=["shop/cart.py"])
    assert again.group == "fixed"


def test_whose_words_a_headline_is_is_a_typed_source_from_the_subject_to_the_stored_row_and_back():
    """Issue 19: the history pass carries a ``Source``, never a bare string, and the row stores its value."""
    merged = subjects.read_subject("Merge pull request #7 from ada/empty-cart", "Stop the crash on an empty cart",
                                   is_merge=True)
    assert merged.source is Source.PULL_REQUEST
    assert subjects.read_subject("Stop the crash on an empty cart").source is Source.DEVELOPER
    facts = CommitFacts(headline_source=Source.RELEASE_NOTES)
    assert facts.to_json()["headline_source"] == "release notes" and type(facts.to_json()["headline_source"]) is str
    assert CommitFacts.from_json(facts.to_json()).headline_source is Source.RELEASE_NOTES
    assert CommitFacts.from_json({"informative": True}).headline_source is Source.DEVELOPER
