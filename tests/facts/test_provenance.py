"""Text ranked by trust, end to end: git facts, then people's words, then checked model text, labelled.

Real repositories are built in ``tmp_path``, narrated with a scripted backend into a real store, and
read back through the service and through ``python -m narrator show`` as a reader would see them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import git
import pytest

from narrator.__main__ import main
from narrator.facts import provenance
from narrator.facts.provenance import Provenance, Source
from narrator.git.commits import cut_patch, recent_commits
from narrator.model import prompts
from narrator.pipeline.tasks import Budget
from narrator.text import markdown_text as md  # show escapes what it quotes as Markdown
from tests.conftest import commit_files, model_headlines_on, model_sentences_on, unglossed
from tests.helpers.narration import Scripted, change_block, day, narrate_here, show_markdown
from tests.helpers.repos import make_repo

PYPROJECT = '[project]\nname = "pagesmith"\nversion = "{version}"\ndescription = "Static site builder for small teams"\n'
README = """<p align="center"><img src="docs/logo.png" alt="Pagesmith logo" width="120"></p>

# Pagesmith

[![PyPI](https://img.shields.io/pypi/v/pagesmith.svg)](https://pypi.org/project/pagesmith/) [![CI](https://github.com/ada/pagesmith/actions/workflows/ci.yml/badge.svg)](https://github.com/ada/pagesmith/actions)

<div align="center">
  <a href="https://pagesmith.example.com">Docs</a> | <a href="https://pagesmith.example.com/changes">Changelog</a>
</div>

Pagesmith builds static websites from Markdown templates, so a small team can publish documentation without a web developer.

## Install

Run the installer.
"""
DEV = md("developer's message")
README_PROSE = ("Pagesmith builds static websites from Markdown templates, so a small team can publish "
                "documentation without a web developer.")
APP = 'def build(site):\n    """Build every page of the site."""\n    return [render(p) for p in site]\n'
NOTES = ("Fix a crash when the template folder is missing", "Support Python 3.14")
SPEED_UP_BODY = ("Pages are now cached between builds, so a site rebuilds in half the time.\n\n"
                 "The cache lives next to the output folder.\n\nSigned-off-by: Ada Lovelace <ada@example.com>")
CVE_SUBJECT = "Fix decompression bomb vulnerability in urllib3 (CVE-2025-66471)"
WIP_ANSWER = "Logs each page the builder writes."
DROP_SUBJECT = "Drop the Release Drafter integration"
CONTRADICTING = "Adds a release drafter branch to pull requests."
AGREEING = "Stops drafting release notes from the template automatically."


def make_project(path: Path, fix_commit: bool = False) -> tuple[git.Repo, dict[str, str]]:
    """A site builder whose history has one commit of every kind this module tells apart.

    ``fix_commit`` adds an uninformative "fix" commit whose model headline fails the check.
    """
    repo = make_repo(path, branch=None, identity=True)
    sha = {}
    sha["start"] = commit_files(repo, {
        "pyproject.toml": PYPROJECT.format(version="2.7.0"), "README.md": README, "CHANGELOG.md": "# Changelog\n",
        "src/app.py": APP, "uv.lock": 'version = 1\n\n[[package]]\nname = "urllib3"\nversion = "2.5.0"\n',
        ".github/release-drafter.yml": "template: $CHANGES\n",
    }, "Start the site builder", day(0))
    sha["feat"] = commit_files(repo, {"src/parser.py": "def parse(text):\n    return text.split('{%')\n"},
                               "feat(parser): support nested templates", day(1))
    sha["breaking"] = commit_files(repo, {"src/app.py": APP + "\n\ndef clean(out):\n    return out\n"},
                                   "fix!: stop deleting the output folder", day(2))
    sha["docs"] = commit_files(repo, {"docs/hooks.md": "# Hooks\n\nRun code before each page is written.\n"},
                               "docs: explain hooks", day(3))
    sha["cve"] = commit_files(repo, {"uv.lock": 'version = 1\n\n[[package]]\nname = "urllib3"\nversion = "2.6.0"\n'},
                              CVE_SUBJECT, day(4))
    sha["wip"] = commit_files(repo, {"src/app.py": APP + "\n\ndef clean(out):\n    return out\n"
                                     "\n\ndef log_page(name):\n    print('wrote', name)\n    return name\n"}, "wip", day(5))
    if fix_commit:
        sha["fix"] = commit_files(repo, {"src/limits.py": "MAX_PAGES = 100\nMAX_DEPTH = 4\nMAX_NAME = 80\n"}, "fix", day(5, 6))
    sha["speed"] = commit_files(repo, {"src/render.py": "CACHE = {}\n\n\ndef render(page):\n    return CACHE.setdefault(page, page)\n"},
                                f"Speed up page rendering\n\n{SPEED_UP_BODY}", day(6))
    sha["drop"] = commit_files(repo, {".github/release-drafter.yml": None}, DROP_SUBJECT, day(7))
    sha["release"] = commit_files(repo, {
        "pyproject.toml": PYPROJECT.format(version="2.7.1"),
        "CHANGELOG.md": "# Changelog\n\n## 2.7.1\n\n- Fix a crash when the template folder is missing\n- Support Python 3.14\n",
    }, "Release 2.7.1", day(8))
    repo.create_tag("v2.7.1", ref=sha["release"], message="Version 2.7.1")
    sha["bare release"] = commit_files(repo, {"pyproject.toml": PYPROJECT.format(version="2.7.2")}, "Release 2.7.2", day(9))
    repo.create_tag("v2.7.2", ref=sha["bare release"], message="Version 2.7.2")
    return repo, sha


def _line(text: str, needle: str) -> str:
    """The one line of ``text`` that contains ``needle``."""
    found = [line for line in text.splitlines() if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]



@pytest.fixture
def settings(settings, monkeypatch):
    """This module is about whose words each sentence is: the model's sentences under subjects are shown
    (by default no adapter earns them; ``test_model_tasks_shown.py`` tests that)."""
    return model_sentences_on(monkeypatch, settings)

@pytest.fixture
def project(settings, tmp_path, monkeypatch):
    """The project narrated by a scripted model (its headlines shown: ``model_headlines_on``): its repo,
    shas, service, handle, backend and changes by sha."""
    settings = model_headlines_on(monkeypatch, settings)
    repo, sha = make_project(tmp_path / "pagesmith")
    backend = Scripted((("say what this change does", "log_page"), WIP_ANSWER),
                       ((f"A developer titled this change: {DROP_SUBJECT}",), AGREEING))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    changes = {c.sha: c for c in service.changes(handle.id)}
    return dict(repo=repo, sha=sha, service=service, handle=handle, backend=backend, changes=changes,
                path=Path(repo.working_tree_dir))


# --- 1. releases --------------------------------------------------------------------------------


def test_a_release_is_told_by_its_version_tag_and_changelog_lines_without_the_model(project, settings, capsys):
    sha, service, handle = project["sha"], project["service"], project["handle"]
    release = project["changes"][sha["release"]]
    assert (release.category, release.version) == ("release", "2.7.1")
    assert release.release_notes == NOTES and "v2.7.1" in release.tags
    assert release.headline == provenance.Said("Release 2.7.1", Provenance(Source.DEVELOPER))
    # The model is not asked: nothing stored for it, and no prompt carries its diff.
    assert release.needs_model is None and release.narrative is None and release.explanation is None
    assert not any('+version = "2.7.1"' in text for text in project["backend"].texts())
    assert not service.store.latest_narratives(handle.id, "commit", [sha["release"]])
    assert not service.store.latest_narratives(handle.id, "headline", [sha["release"]])

    digest = service.digest(handle.id, "30d")
    releases = {r.version: r for r in digest.releases}
    assert [r.version for r in digest.releases] == ["2.7.2", "2.7.1"]  # newest first
    assert releases["2.7.1"].notes == NOTES and not releases["2.7.1"].notes_missing
    assert releases["2.7.1"].sha == sha["release"]
    assert any("shipped two releases (2.7.1 and 2.7.2)" in line.text for line in digest.summary)

    shown = show_markdown(settings, project["path"], capsys, "--period", "30d")
    assert f"- **{md('2.7.1')}** (2026-11-10, " in shown
    for note in NOTES:
        # Once under the release in the digest, once under the change in the list.
        assert shown.count(f"  - {md(note)} [release notes]") == 2
    assert f"[{md('release 2.7.1')}, {md('(top level)')}]" in change_block(shown, release.short_sha)[0]


def test_a_release_without_changelog_lines_says_it_added_no_notes(project, settings, capsys):
    bare = project["changes"][project["sha"]["bare release"]]
    assert (bare.category, bare.version, bare.release_notes) == ("release", "2.7.2", ())
    assert bare.tags == ("v2.7.2",) and bare.needs_model is None
    release = next(r for r in project["service"].digest(project["handle"].id, "30d").releases if r.version == "2.7.2")
    assert release.notes == () and release.notes_missing

    shown = show_markdown(settings, project["path"], capsys, "--period", "30d")
    digest_part = shown.split("### Releases", 1)[1].split("###", 1)[0]
    assert f"- **{md('2.7.2')}** (2026-11-11, " in digest_part
    assert "No release notes in this commit: see the project's changelog." in digest_part
    assert change_block(shown, bare.short_sha)[1] == (
        "  - This release added no notes of its own: see the project's changelog or release page.")


# --- 2. conventional subjects -------------------------------------------------------------------


def test_conventional_prefixes_become_the_category_and_scope_not_the_headline(project, settings, capsys):
    sha, changes = project["sha"], project["changes"]
    feat, breaking, docs = changes[sha["feat"]], changes[sha["breaking"]], changes[sha["docs"]]
    assert (feat.headline.text, feat.category, feat.scope) == ("Support nested templates", "feature", "parser")
    assert (breaking.headline.text, breaking.category) == ("Stop deleting the output folder", "fix")
    assert docs.category == "docs"
    assert all(c.headline.source == "developer" for c in (feat, breaking))
    assert feat.subject == "feat(parser): support nested templates"  # the raw subject stays as evidence

    shown = show_markdown(settings, project["path"], capsys)
    head = change_block(shown, feat.short_sha)[0]
    assert head.endswith(f": Support nested templates [{DEV}]")
    assert "[feature, src \u00b7 parser]" in head
    # The prefix is never a headline: it appears only quoted as the developer's subject in the evidence.
    assert not any("feat(parser):" in line for line in shown.splitlines() if "Evidence:" not in line)


def test_a_short_conventional_subject_keeps_the_developers_words(project):
    docs = project["changes"][project["sha"]["docs"]]
    assert docs.headline == provenance.Said("Explain hooks", Provenance(Source.DEVELOPER))
    assert docs.needs_model != "headline"


# --- 3. security advisories ---------------------------------------------------------------------


def test_an_advisory_id_makes_a_security_fix_named_once(project, settings, capsys):
    cve = project["changes"][project["sha"]["cve"]]
    assert cve.category == "security" and cve.advisories == ("CVE-2025-66471",)
    assert cve.headline.text == CVE_SUBJECT and cve.refs == ()
    assert [f["path"] for f in cve.files] == ["uv.lock"]

    digest = project["service"].digest(project["handle"].id, "30d")
    assert [line.text for line in digest.security] == [CVE_SUBJECT]
    assert digest.security[0].text.count("CVE-2025-66471") == 1
    assert digest.security[0].shas == (cve.sha,)

    shown = show_markdown(settings, project["path"], capsys, "--period", "30d")
    security = shown.split("### Security fixes", 1)[1].split("###", 1)[0]
    assert f"- {md(CVE_SUBJECT)} [{DEV}] ({cve.short_sha})" in unglossed(security)  # jargon explained inline
    assert f"advisories {md('CVE-2025-66471')}" in change_block(shown, cve.short_sha)[-1]


# --- 4. merges of pull requests -----------------------------------------------------------------


def _merge(repo: git.Repo, branch: str, title: str, body: str | None, when) -> str:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    messages = ["-m", title] + (["-m", body] if body else [])
    with repo.git.custom_environment(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp):
        repo.git.merge("--no-ff", branch, *messages)
    return repo.head.commit.hexsha


def test_a_pull_request_merge_is_headed_by_its_title_and_a_bare_merge_says_nothing(settings, tmp_path):
    repo = make_repo(tmp_path / "login", branch=None, identity=True)
    commit_files(repo, {"app/login.py": "TIMEOUT = 5\n"}, "Add the login page", day(0))
    trunk = repo.active_branch.name
    repo.git.checkout("-b", "fix-login-timeout")
    commit_files(repo, {"app/login.py": "TIMEOUT = 30\n"}, "Raise the login timeout to thirty seconds", day(1),
                 author="Alice Smith")
    repo.git.checkout(trunk)
    commit_files(repo, {"app/home.py": "TITLE = 'Home'\n"}, "Add a home page title", day(1, 2))
    pr = _merge(repo, "fix-login-timeout", "Merge pull request #42 from alice/fix-login-timeout",
                "Fix the login timeout on slow networks", day(2))
    repo.git.checkout("-b", "dev")
    commit_files(repo, {"app/profile.py": "NAME = ''\n"}, "Add an empty profile page", day(3))
    repo.git.checkout(trunk)
    commit_files(repo, {"app/home.py": "TITLE = 'Welcome'\n"}, "Greet visitors on the home page", day(3, 2))
    repo.git.checkout("dev")
    bare = _merge(repo, trunk, f"Merge branch '{trunk}' into dev", None, day(4))

    service, handle, _ = narrate_here(settings, repo.working_tree_dir, Scripted(), batch_size=4)
    changes = {c.sha: c for c in service.changes(handle.id)}
    merged = changes[pr]
    assert merged.is_merge and merged.subject == "Merge pull request #42 from alice/fix-login-timeout"
    assert merged.headline == provenance.Said("Fix the login timeout on slow networks", Provenance(Source.PULL_REQUEST))
    assert "#42" in merged.refs and merged.category == "fix"
    # The title heads the change; it is not repeated as the developer's explanation: the model was
    # asked for a sentence (the fake's says nothing new, so none is shown).
    assert merged.narrative is not None and merged.explanation is None

    plain = changes[bare]
    assert plain.is_merge and plain.needs_model == "headline"
    row = next(c for c in service.store.list_commits(handle.id) if c.sha == bare)
    assert row.details["informative"] is False and row.details["uninformative"] == "bare merge"
    # The digest lists the pull request by its title, once.
    digest = service.digest(handle.id, "30d")
    assert [line.text for line in digest.fixes] == ["Fix the login timeout on slow networks"]
    assert provenance.label(digest.fixes[0].provenance) == "pull request title"


# --- 5. subjects that say nothing ---------------------------------------------------------------


def test_an_uninformative_subject_is_headed_by_the_models_diff_summary_labelled_as_such(project, settings, capsys):
    wip = project["changes"][project["sha"]["wip"]]
    assert wip.subject == "wip" and wip.needs_model == "headline"
    assert wip.headline == provenance.Said(WIP_ANSWER, Provenance(Source.MODEL, headline=True))
    assert provenance.MODEL_HEADLINE == "summary written by the model from the diff"
    assert wip.explanation is None
    # The model saw exactly the diff-only prompt (the one it was trained on), never the subject.
    info = next(c for c in recent_commits(project["repo"]) if c.sha == wip.sha)
    expected = prompts.commit_prompt([f.path for f in info.files], cut_patch(info.patch, Budget().patch_tokens)[0])
    asked = [m for m in project["backend"].seen if "log_page" in m[-1]["content"] and "this change" in m[-1]["content"]]
    assert asked == [expected]

    shown = show_markdown(settings, project["path"], capsys)
    block = change_block(shown, wip.short_sha)
    assert block[0].endswith(f": {md(WIP_ANSWER)} [summary written by the model from the diff]")
    assert block[-1].startswith("  - Evidence: ") and "developer's subject \u201cwip\u201d" in block[-1]
    assert block[-1].endswith(" [git facts]")


def test_a_model_headline_that_fails_the_check_falls_back_to_git_facts(settings, tmp_path, monkeypatch):
    settings = model_headlines_on(monkeypatch, settings)
    repo, sha = make_project(tmp_path / "pagesmith", fix_commit=True)
    backend = Scripted((("say what this change does", "MAX_PAGES"), "Raises the page limit to 500 pages."))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    fix = next(c for c in service.changes(handle.id) if c.sha == sha["fix"])
    assert fix.subject == "fix" and fix.needs_model == "headline"
    assert fix.headline.text == "Changed 1 file, +3/-0 lines in src."
    assert fix.headline.provenance == Provenance(Source.GIT)
    assert provenance.label(fix.headline.provenance) == "git facts"
    assert fix.narrative.flags["dropped"] == "faithfulness" and "500" in fix.narrative.flags["unsupported"]


def test_model_headlines_are_shown_only_where_measured_to_beat_git_facts(settings, tmp_path):
    # auto (the default) follows the adapter's evaluation: without one, or where it says the model's
    # headlines lose to a line of git facts, that line heads an uninformative subject and the model is
    # not asked; off never asks; on always does.
    repo, sha = make_project(tmp_path / "pagesmith")
    cases = [("auto", None, False), ("auto", {"shown_by_default": True}, True),
             ("auto", {"shown_by_default": False}, False), ("off", {"shown_by_default": True}, False), ("on", None, True)]
    for n, (setting, entry, shown) in enumerate(cases):
        model = tmp_path / f"model{n}"  # a local model folder, never loaded: the scripted backend answers
        model.mkdir()
        if entry is not None:
            (model / "evaluation.json").write_text(json.dumps({"tasks": {"headline": entry}}))
        home = tmp_path / f"home{n}"
        here = dataclasses.replace(settings, home=home, db_url=f"sqlite:///{home / 'narrator.db'}", model=str(model),
                                   adapter=None, model_headlines=setting)
        home.mkdir()
        backend = Scripted((("say what this change does", "log_page"), WIP_ANSWER))
        service, handle, _ = narrate_here(here, repo.working_tree_dir, backend, batch_size=4)
        wip = next(c for c in service.changes(handle.id) if c.sha == sha["wip"])
        asked = any("this change" in text and "log_page" in text and "titled" not in text for text in backend.texts())
        assert (asked, wip.headline.source == "model") == (shown, shown), (setting, entry)
        if shown:
            assert wip.headline.text == WIP_ANSWER
            assert provenance.label(wip.headline.provenance) == provenance.MODEL_HEADLINE
        else:
            assert wip.headline == provenance.Said("Changed 1 file, +5/-0 lines in src.", Provenance(Source.GIT)), wip.headline


def test_a_git_facts_headline_does_not_break_the_digest_or_show(settings, tmp_path, capsys):
    repo, sha = make_project(tmp_path / "pagesmith", fix_commit=True)
    backend = Scripted((("say what this change does", "MAX_PAGES"), "Raises the page limit to 500 pages."))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    digest = service.digest(handle.id, "30d-commits")
    assert digest.counts["changes"] == 11
    shown = show_markdown(settings, Path(repo.working_tree_dir), capsys, "--period", "30d-commits")
    assert change_block(shown, sha["fix"][:8])[0].endswith(f": {md('Changed 1 file, +3/-0 lines in src.')} [git facts]")


# --- 6. the project's own description -----------------------------------------------------------


def test_package_metadata_then_the_readme_prose_describe_the_project(project, settings, capsys):
    descriptions = project["service"].overview(project["handle"].id).descriptions
    assert [(d.text, d.source) for d in descriptions] == [
        ("Static site builder for small teams.", "package"), (README_PROSE, "readme")]
    assert provenance.label(descriptions[0].provenance) == "package description (pyproject.toml)"
    assert provenance.label(descriptions[1].provenance).startswith("README")
    assert not any(bit in descriptions[1].text for bit in ("shields.io", "<", "[!", "logo"))

    shown = show_markdown(settings, project["path"], capsys)
    about = shown.split("## What this software does", 1)[1].split("## Its main parts", 1)[0]
    package_line, readme_line = [line for line in about.splitlines() if line.strip()][:2]
    assert package_line.startswith(md("Static site builder for small teams.") + " [package description (")
    assert md("pyproject.toml") in package_line
    assert readme_line.startswith(md(README_PROSE) + " [README")


def test_a_package_json_description_comes_before_the_readme(settings, tmp_path, capsys):
    repo = make_repo(tmp_path / "renamer", branch=None, identity=True)
    commit_files(repo, {
        "package.json": '{\n  "name": "renamer",\n  "version": "1.0.0",\n  "description": "Renames holiday photos by the date they were taken"\n}\n',
        "README.md": "# renamer\n\nA command line tool that sorts a folder of photos into one folder per day.\n",
        "index.js": "function rename(photo) {\n  return photo.date + '.jpg';\n}\n",
    }, "Start the photo renamer", day(0))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, Scripted(), batch_size=4)
    descriptions = service.overview(handle.id).descriptions
    assert [(d.text, d.source) for d in descriptions] == [
        ("Renames holiday photos by the date they were taken.", "package"),
        ("A command line tool that sorts a folder of photos into one folder per day.", "readme")]
    assert "package.json" in provenance.label(descriptions[0].provenance)
    shown = show_markdown(settings, Path(repo.working_tree_dir), capsys)
    assert md("Renames holiday photos by the date they were taken.") + " [package description (" in shown
    assert md("A command line tool that sorts a folder of photos into one folder per day.") + " [README" in shown


def test_description_labels_name_the_file_they_were_read_from(project):
    package, readme = project["service"].overview(project["handle"].id).descriptions
    labels = (provenance.label(package.provenance), provenance.label(readme.provenance))
    assert labels == ("package description (pyproject.toml)", "README (README.md)")


# --- 7. model sentences checked against the subject ---------------------------------------------


def _drafter_repo(path: Path) -> tuple[git.Repo, str]:
    repo = make_repo(path, branch=None, identity=True)
    commit_files(repo, {".github/release-drafter.yml": "template: $CHANGES\n", "README.md": "# Site\n\nA website.\n"},
                 "Start the website project", day(0))
    return repo, commit_files(repo, {".github/release-drafter.yml": None}, DROP_SUBJECT, day(1))


def test_a_model_sentence_that_contradicts_the_subject_is_dropped(settings, tmp_path, capsys):
    repo, drop = _drafter_repo(tmp_path / "site")
    backend = Scripted(((f"A developer titled this change: {DROP_SUBJECT}",), CONTRADICTING))
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    assert any(DROP_SUBJECT in text for text in backend.texts())  # it was asked
    change = next(c for c in service.changes(handle.id) if c.sha == drop)
    assert change.explanation is None
    assert change.narrative.flags["dropped"] == "contradicts the subject"
    assert change.narrative.flags["raw"] == CONTRADICTING and change.narrative.text == ""
    assert change.headline == provenance.Said(DROP_SUBJECT, Provenance(Source.DEVELOPER))
    shown = show_markdown(settings, Path(repo.working_tree_dir), capsys)
    assert "release drafter branch" not in shown.lower()
    block = change_block(shown, drop[:8])
    assert block[0].endswith(f": {DROP_SUBJECT} [{DEV}]")
    # No explanation under it: only its plain reading from facts (issue 17), then the evidence.
    assert len(block) == 3 and block[1].startswith("  - In plain words: ") and block[2].startswith("  - Evidence: ")


def test_a_model_sentence_that_agrees_is_kept_and_labelled(project, settings, capsys):
    drop = project["changes"][project["sha"]["drop"]]
    assert drop.headline == provenance.Said(DROP_SUBJECT, Provenance(Source.DEVELOPER))
    assert (drop.explanation.text, drop.explanation.source) == (AGREEING, "model")
    assert provenance.label(drop.explanation.provenance) == "written by the model (checked)"
    shown = show_markdown(settings, project["path"], capsys)
    assert change_block(shown, drop.short_sha)[1] == f"  - {md(AGREEING)} [{md('written by the model (checked)')}]"


# --- 8. provenance markers in show, and its periods ---------------------------------------------


def test_show_puts_each_marker_on_its_own_kind_of_line(project, settings, capsys):
    sha, changes = project["sha"], project["changes"]
    shown = show_markdown(settings, project["path"], capsys)
    speed, drop, wip = changes[sha["speed"]], changes[sha["drop"]], changes[sha["wip"]]
    assert change_block(shown, speed.short_sha)[0].endswith(f": Speed up page rendering [{DEV}]")
    assert change_block(shown, drop.short_sha)[1].endswith(f"[{md('written by the model (checked)')}]")
    assert _line(shown, md(README_PROSE)).endswith("]") and f"{md(README_PROSE)} [README" in shown
    # Every change ends with its evidence from git; every digest sentence is marked as git facts.
    evidence = [line for line in shown.splitlines() if line.startswith("  - Evidence: ")]
    assert len(evidence) == len(changes) and all(line.endswith(" [git facts]") for line in evidence)
    assert "1 file, +5/-0 lines" in change_block(shown, wip.short_sha)[-1]
    lately = shown.split("## What changed lately: ", 1)[1].split("\n\n", 2)[1]
    assert lately.splitlines() and all(line.endswith("[git facts]") for line in lately.splitlines())


def test_show_periods(project, settings, capsys):
    week = show_markdown(settings, project["path"], capsys)  # the 7 days up to today (tests take 2 Dec 2026)
    assert "## What changed lately: the last 7 days (26 Nov - 2 Dec 2026)" in week
    assert md("No changes were recorded in the last 7 days.") + " [git facts]" in week
    active = show_markdown(settings, project["path"], capsys, "--period", "7d-commits")
    assert "## What changed lately: the last 7 days with commits (5 - 11 Nov 2026)" in active
    month = show_markdown(settings, project["path"], capsys, "--period", "30d-commits")
    assert "## What changed lately: the last 30 days with commits (13 Oct - 11 Nov 2026)" in month
    assert md("In the last 30 days with commits, 1 person made 10 changes across 4 areas.") + " [git facts]" in month
    november = show_markdown(settings, project["path"], capsys, "--period", "2026-11-01..2026-11-30")
    assert "## What changed lately: 1 - 30 Nov 2026" in november
    assert md("In the period 1 - 30 Nov 2026, 1 person made 10 changes") in november
    quiet = show_markdown(settings, project["path"], capsys, "--period", "2026-12-01..2026-12-31")
    assert md("No changes were recorded in the period 1 - 31 Dec 2026.") + " [git facts]" in quiet


@pytest.mark.parametrize("period,words", [
    ("yesterday", "is not a period"), ("2026-11-31..2026-12-01", "is not a date range"),
    ("2026-11-30..2026-11-01", "ends before it starts"),
    ("0001-01-01..0001-01-07", "starts (0001-01-01) before 1970-01-01: git records no earlier day"),
    ("7d-commit", "use 7d, 30d, 90d, 7d-commits, 30d-commits, 90d-commits or FROM..TO"),
])
def test_show_refuses_a_bad_period_in_one_line(project, settings, capsys, period, words):
    with pytest.raises(SystemExit) as exit_:
        main(["show", str(project["path"]), "--db", settings.db_url, "--period", period])
    assert exit_.value.code != 0
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if "error:" in line]
    assert len(errors) == 1 and words in errors[0] and captured.err.strip().splitlines()[-1] == errors[0]


# --- 9. the developer's own explanation ---------------------------------------------------------


def test_a_message_body_explains_the_change_and_the_model_is_not_asked(project, settings, capsys):
    speed = project["changes"][project["sha"]["speed"]]
    assert speed.headline == provenance.Said("Speed up page rendering", Provenance(Source.DEVELOPER))
    assert speed.explanation == provenance.Said(
        "Pages are now cached between builds, so a site rebuilds in half the time.", Provenance(Source.DEVELOPER))
    assert speed.needs_model is None and speed.narrative is None
    assert not any("Speed up page rendering" in text for text in project["backend"].texts())
    shown = show_markdown(settings, project["path"], capsys)
    assert change_block(shown, speed.short_sha)[1] == (
        f"  - {md('Pages are now cached between builds, so a site rebuilds in half the time.')} [{DEV}]")


def test_a_sentence_of_filler_under_a_subject_adds_nothing_and_is_dropped():
    from narrator.checks.headlines import adds_nothing, check_explanation

    shown = "Files changed: AUTHORS.md\n\nDiff:\n+* Audrey M. Roy Greenfeld (lead)\n-* Audrey Roy Greenfeld"
    subject = "Update with current lead status"
    verdict = check_explanation("The new code is more concise and easier to read.", shown, subject)
    assert (verdict.text, verdict.dropped) == ("", "adds nothing to the subject")
    assert not adds_nothing(subject, "The list of authors now names Audrey Greenfeld as the lead.", shown)


def test_a_sentence_that_claims_what_git_denies_is_dropped():
    from narrator.checks.headlines import check_explanation, contradicts_git

    edited = [{"path": "docs/tutorials/tutorial1.rst", "change": "modified", "added": 4, "removed": 4}]
    shown = "Files changed: docs/tutorials/tutorial1.rst\n\nDiff:\n-Audrey Roy\n+Audrey M. Roy Greenfeld"
    moved = check_explanation("The documentation for the tutorial is now in a different directory.", shown,
                              "In docs, fix my name and username", edited)
    assert (moved.text, moved.dropped) == ("", "contradicts git")
    assert contradicts_git("Removes the old tutorial.", [{"path": "a.rst", "change": "added", "added": 9, "removed": 0}])
    assert not contradicts_git("Renames the tutorial page.", [{"path": "b.rst", "change": "renamed", "added": 0, "removed": 0}])
    assert not contradicts_git("Adds the author's full name to the tutorial.", edited)


def test_a_release_whose_subject_says_little_is_headed_by_its_version_and_never_sent_to_the_model(settings, tmp_path):
    repo = make_repo(tmp_path / "bumped", branch=None, identity=True)
    commit_files(repo, {"pyproject.toml": PYPROJECT.format(version="4.16.5"), "app.py": "X = 1\n"}, "Start", day(0))
    sha = commit_files(repo, {"pyproject.toml": PYPROJECT.format(version="4.17.0")}, "bump: 4.17.0", day(1))
    backend = Scripted()
    service, handle, _ = narrate_here(settings, repo.working_tree_dir, backend, batch_size=4)
    change = next(c for c in service.changes(handle.id) if c.sha == sha)
    assert change.category == "release" and change.version == "4.17.0"
    assert not any(sha[:8] in text for text in backend.texts()) and change.needs_model is None
    assert change.headline.text in ("Release 4.17.0", "4.17.0")


def test_model_sentences_that_negate_or_read_like_another_subject_are_dropped():
    from narrator.checks.headlines import check_explanation

    shown = "Files changed: lib/branches/expand.js\n\nDiff:\n+const isSameChannel = (a, b) => a === b;\n+test('isSameChannel')"
    subject = "Prevent template evaluation syntax in branch expansion"
    negated = check_explanation("The isSameChannel test is not supported in the current version.", shown, subject)
    assert negated.dropped == "contradicts the subject"
    second = check_explanation("Remove the isSameChannel helper from the branches.", shown, subject)
    assert second.dropped in ("reads like a commit subject", "contradicts git")
    kept = check_explanation("Branch names are now compared with isSameChannel before expansion.", shown, subject)
    assert kept.dropped is None and kept.text


def test_show_and_report_the_last_days_of_the_calendar(project, settings, capsys, tmp_path):
    """Period arithmetic past the period's end (the period before, weekly buckets) never overflows."""
    quiet = show_markdown(settings, project["path"], capsys, "--period", "9999-12-01..9999-12-31")
    assert md("No changes were recorded in the period 1 - 31 Dec 9999.") + " [git facts]" in quiet
    assert main(["report", str(project["path"]), "--db", settings.db_url, "--period", "9999-12-01..9999-12-31",
                 "--out", str(tmp_path / "far.md")]) == 0
    far = (tmp_path / "far.md").read_text()
    assert md("What changed: 1 - 31 Dec 9999") in far
    # The charts stop at today: months up to the year 9999 would be 96,000 empty buckets.
    assert "Changes per week by kind of change" in far and "to 9999-12-31" not in far
