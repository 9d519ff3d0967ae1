"""A change's plain reading (``narrator.facts.reading``): its impact and its area in words, from facts,
under the people's words in the briefing's lists, ``show``, the reports and the Changes page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from narrator.facts import glossary
from narrator.facts.impact import Impact
from narrator.facts.provenance import Provenance, Source, label
from narrator.facts.reading import LABEL, plain_reading, provenance_for
from narrator.pipeline.narrate import run_job
from narrator.render import exports as reports
from narrator.render.show import markdown
from narrator.service.core import NarratorService
from tests.conftest import commit_files, unglossed
from tests.helpers.dashboard import no_worker
from tests.helpers.repos import NOW, release

WEB_README = "# Web\n\nSends web responses to the shop's customers.\n"


def test_the_reading_says_the_impact_and_the_area_from_its_own_words_else_its_role_else_its_folder():
    fixed = Impact("fixed", None, "a fix in the code users get")
    assert plain_reading(fixed, "lib", "Sends web responses.", "source code") == \
        "Fixed for users, in the part that sends web responses (lib)."
    assert plain_reading(fixed, "lib", "The HTTP layer.", "source code") == "Fixed for users, in the HTTP layer (lib)."
    # Not a verb it knows: quoted, never 'the part that express core helpers'.
    assert plain_reading(fixed, "lib", "Express core helpers.", "source code") == \
        "Fixed for users, in the part described as \u201cExpress core helpers\u201d (lib)."
    assert plain_reading(Impact("new", None, ""), "src", "A shop till.", "source code", main=True) == \
        "New for users, in the main code (src)."
    assert plain_reading(Impact("internal", "tests", ""), "tests", None, "tests") == \
        "Behind the scenes (a change to the tests), in the tests (tests)."
    assert plain_reading(Impact("internal", "docs", ""), "docs", None, "documentation") == \
        "Behind the scenes (an update to the written guides), in the written guides (docs)."
    assert plain_reading(Impact("security", None, ""), "lib", None, "source code") == "A security fix, in lib."
    assert plain_reading(Impact("internal", "dependencies", ""), "(top level)", None, "build and packaging") == \
        "Behind the scenes (an update of software it uses), in the top-level files."
    # Only the first sentence; 'X is a ...' reads as what the part is.
    assert plain_reading(fixed, "lib", "Express is the web framework. It has many parts.", "source code") == \
        "Fixed for users, in the part that is the web framework (lib)."
    assert plain_reading(fixed, "lib", "This package renders views. Use it with care.", "source code") == \
        "Fixed for users, in the part that renders views (lib)."
    long = plain_reading(fixed, "lib", "Renders " + "every page " * 20, "source code")
    assert long.endswith("\u2026 (lib).") and len(long) < 140


def test_a_readings_provenance_is_typed_and_worded_only_by_the_label():
    """Issue 19: git facts, or git facts whose kind of change the model judged, as a Provenance."""
    rules, model = Impact("internal", "docs", ""), Impact("internal", "docs", "", 0.9)
    assert plain_reading(model, "lib", None, "source code") == "Behind the scenes (an update to the written guides) " \
        "(kind of change judged by the model, 90% sure), in lib."
    # From the impact, never read back from the sentence's words.
    assert provenance_for(rules) == Provenance(Source.GIT) and label(provenance_for(rules)) == "git facts"
    assert provenance_for(None) == Provenance(Source.GIT)
    assert provenance_for(model) == Provenance(Source.GIT, model_kind=True)
    assert label(provenance_for(model)) == "git facts; the kind of change judged by the model"


@pytest.fixture
def shop(tmp_path, settings, monkeypatch):
    """A released shop, then five changes waiting to ship: a fix in a folder with its own README, a
    test-only change, a dependency bump, a feature in the main code (described by the project) and a
    feature with more lines of tests than of code."""
    from narrator.pipeline import jobs

    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    repo = __import__("git").Repo.init(tmp_path / "shop")
    commit_files(repo, {"README.md": "# Shop\n\nA small web shop that sells tea.\n",
                        "shop/__init__.py": "", "shop/cart.py": "def cart():\n    return []\n",
                        "web/README.md": WEB_README, "web/respond.py": "def respond():\n    return 200\n",
                        "tests/test_cart.py": "def test_cart():\n    pass\n",
                        "requirements.txt": "requests==2.31.0\n"},
                 "Add the shop", NOW - timedelta(days=20))
    release(repo, "1.0.0", NOW - timedelta(days=15))
    shas = {
        "fix": commit_files(repo, {"web/respond.py": "def respond():\n    return 204\n"},
                            "Fix the deadlock when two responses are sent at once", NOW - timedelta(days=8)),
        "test": commit_files(repo, {"tests/test_cart.py": "def test_cart():\n    assert True\n"},
                             "Test the empty cart", NOW - timedelta(days=6)),
        "bump": commit_files(repo, {"requirements.txt": "requests==2.32.0\n"},
                             "Bump requests from 2.31.0 to 2.32.0", NOW - timedelta(days=4)),
        "feature": commit_files(repo, {"shop/cart.py": "def cart():\n    return []\n\n\ndef total():\n    return 0\n"},
                                "Add a cart total", NOW - timedelta(days=2)),
        # More lines of tests than of code: what users get still changed in web.
        "tested": commit_files(repo, {"web/respond.py": "def respond():\n    return 205\n",
                                      "tests/test_web.py": "def test_respond():\n" + "    assert True\n" * 12},
                               "Add a reset response for emptied carts", NOW - timedelta(days=1)),
    }
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=10).id)
    return service, view.id, shas


READINGS = {
    "fix": "Fixed for users, in the part that sends web responses to the shop's customers (web).",
    "test": "Behind the scenes (a change to the tests), in the tests (tests).",
    "bump": "Behind the scenes (an update of software it uses), in the top-level files.",
    "feature": "New for users, in the main code (shop).",
    "tested": "New for users, in the part that sends web responses to the shop's customers (web).",
}


def test_every_change_listed_has_its_plain_reading_from_facts(shop):
    service, repo_id, shas = shop
    by_sha = {c.sha: c for c in service.changes(repo_id)}
    assert {name: by_sha[sha].reading for name, sha in shas.items()} == READINGS
    # People's words stay the headline; the reading is a second line.
    assert by_sha[shas["fix"]].headline.text == "Fix the deadlock when two responses are sent at once"
    assert [c.reading for c in service.changes_of(repo_id, [shas["fix"][:8]])] == [READINGS["fix"]]
    # The briefing's waiting-to-ship list carries each listed change's reading.
    brief = service.briefing(repo_id, "30d")
    listed = {line.shas[0]: line.reading for line in brief.waiting.lines if line.lead}
    assert listed == {sha: READINGS[name] for name, sha in shas.items()}


def test_show_and_the_reports_print_the_reading_labelled_and_explain_every_glossed_headline_word(shop):
    service, repo_id, shas = shop
    shown = markdown(service, repo_id, period="30d")
    text = unglossed(shown)  # the first use of a term carries its explanation inline
    # Under the waiting change, under the same change in 'Recent changes' and, for the changes users
    # notice, under their headline by impact, labelled; the first commit ("Add the shop", mostly
    # shop/ among its shipped files) reads like the feature, in 'Recent changes' and by impact.
    times = {"fix": 3, "test": 2, "bump": 2, "feature": 3 + 2, "tested": 3}
    for name, reading in READINGS.items():
        assert text.count(f"  - {LABEL}: {reading} [git facts]") == times[name], name
    # The listed headlines by impact carry theirs too.
    fixed = text.split("### Fixed for users", 1)[1].split("###", 1)[0]
    assert f"  - {LABEL}: {READINGS['fix']} [git facts]" in fixed
    areas = text.split("### Areas that moved most", 1)[1].split("##", 1)[0]
    assert LABEL not in areas  # an area's line heads no change
    new = text.split("### New for users", 1)[1].split("###", 1)[0]
    assert f"  - {LABEL}: {READINGS['feature']} [git facts]" in new
    assert service.briefing(repo_id, "30d").reading_of([shas["fix"]]) == READINGS["fix"]
    deadlock = glossary.inline_words(glossary.load()["Deadlock"]["explanation"])
    assert shown.count(f"deadlock {deadlock}") == 1 and "Words used above" not in shown
    for fmt in ("md", "html"):
        report = reports.build(service, [repo_id], "30d", fmt).decode()
        assert report.count(LABEL + ":") >= 2 * len(READINGS) + 2  # waiting, every change, fixed and new
        assert "sends web responses to the shop" in report
        for _, explanation in glossary.terms_in("Fix the deadlock when two responses are sent at once"):
            assert report.count(glossary.inline_words(explanation)) == 1


def test_every_glossed_word_of_a_shown_headline_or_reading_is_explained_inline_once(shop):
    service, repo_id, _ = shop
    brief = service.briefing(repo_id, "30d")
    digest = brief.digest
    shown = [t for c in service.changes(repo_id) for t in (c.headline.text, c.reading)]
    shown += [t for s in brief.waiting.lines for t in (s.text, s.reading)]
    shown += [t for lines in (digest.affects, digest.security, digest.features, digest.fixes)
              for line in lines for t in (line.text, brief.reading_of(line.shas))]
    terms = {term for text in shown for term, _ in glossary.terms_in(text)}
    assert {"Deadlock", "Version bump"} <= terms  # 'deadlock' and 'bump' in headlines
    # A reading is in everyday words already: it needs no explanation.
    assert not [t for c in service.changes(repo_id) for t in glossary.terms_in(c.reading)]
    explanations = [glossary.inline_words(e) for text in shown for _, e in glossary.terms_in(text)]
    show = markdown(service, repo_id, period="30d")
    report = reports.build(service, [repo_id], "30d", "md").decode()
    for text in (show, report):
        assert all(text.count(words) == 1 for words in explanations), explanations


def test_the_main_code_reads_as_the_main_code_even_where_its_own_docstring_describes_it(tmp_path, settings, monkeypatch):
    """click's src/ is described by its package docstring ("A simple Python module inspired by the
    stdlib optparse…"): the Overview shows those words, but a reading says "the main code"."""
    from narrator.pipeline import jobs

    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    repo = __import__("git").Repo.init(tmp_path / "clicky")
    commit_files(repo, {"pyproject.toml": '[project]\nname = "clicky"\ndescription = "Composable command line toolkit"\n',
                        "src/clicky/__init__.py": '"""A simple Python module inspired by the stdlib optparse."""\n',
                        "src/clicky/core.py": "def run():\n    return 0\n",
                        "tests/test_core.py": "def test_run():\n    pass\n"},
                 "Add clicky", NOW - timedelta(days=20))
    fix = commit_files(repo, {"src/clicky/core.py": "def run():\n    return 1\n"},
                       "Fix the exit code of run", NOW - timedelta(days=2))
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=10).id)
    parts = {p.area: p for p in service.overview(view.id).parts}
    assert parts["src"].narrative.text.startswith("A simple Python module")  # its own words, on the Overview
    assert [c.reading for c in service.changes_of(view.id, [fix[:8]])] == ["Fixed for users, in the main code (src)."]


def test_a_manifest_change_users_notice_is_read_where_it_is_not_where_its_tests_are(tmp_path, settings, monkeypatch):
    from narrator.pipeline import jobs

    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    repo = __import__("git").Repo.init(tmp_path / "web")
    commit_files(repo, {"package.json": '{"name": "web", "engines": {"node": ">=14"}}\n',
                        "lib/web.js": "module.exports = 1\n", "test/web.js": "// test\n"},
                 "Add web", NOW - timedelta(days=20))
    dropped = commit_files(repo, {"package.json": '{"name": "web", "engines": {"node": ">=18"}}\n',
                                  "test/web.js": "// test\n" + "// node 18 only\n" * 20},
                           "feat!: drop support for Node 14 and 16", NOW - timedelta(days=2))
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=10).id)
    [change] = service.changes_of(view.id, [dropped[:8]])
    assert change.impact.group == "affects"
    assert change.reading == "May affect existing users, in the top-level files."  # not "in the tests (test)"


def test_a_reading_is_printed_as_it_is_never_with_explanations_inside_its_brackets(tmp_path, settings, monkeypatch):
    """flask's 'in the written guides (docs (written explanations …))': a folder named like a glossary
    term ('docs') is a name, and a reading's words need no explanation."""
    from narrator.pipeline import jobs

    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    repo = __import__("git").Repo.init(tmp_path / "site")
    commit_files(repo, {"docs/guide.md": "# Guide\n", "site/app.py": "def app():\n    return 1\n"},
                 "Add the site", NOW - timedelta(days=20))
    release(repo, "1.0.0", NOW - timedelta(days=15))  # the change waits to ship: its reading comes first
    commit_files(repo, {"docs/guide.md": "# Guide\n\nHow to start the CI runner.\n"},
                 "Explain how to start the CI runner", NOW - timedelta(days=2))
    service = NarratorService(settings)
    view = service.add_repository(repo.working_tree_dir)
    run_job(settings, service.start_narration(view.id, commits=10).id)
    reading = service.changes(view.id)[0].reading
    assert reading == "Behind the scenes (an update to the written guides), in the written guides (docs)."
    for text in (markdown(service, view.id, period="30d"), reports.build(service, [view.id], "30d", "md").decode()):
        assert f"{LABEL}: {reading}" in text.replace("\\", "")  # Markdown escapes aside
        assert "(docs (" not in text
