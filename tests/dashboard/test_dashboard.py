"""The dashboard, run with Streamlit's AppTest against a small narrated repository (fake model).

Every page is rendered in-process; the repository is narrated synchronously with ``run_job`` first,
and worker processes are replaced by a no-op so nothing runs in the background.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import git
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import shared, wording
from dashboard.shared import PERIOD_KEY
from dashboard.wording import STALE_NOTE, narrative_notes, plain
from narrator.facts.provenance import label
from narrator.facts.reading import GIT_FACTS, MODEL_SOURCE
from narrator.model import prompts
from narrator.pipeline import jobs
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from narrator.service.views import NarrativeView, RepoView
from narrator.settings import Settings, load_settings
from narrator.text import unmarked
from tests.conftest import fake_home, make_sample_repo, model_sentences_on
from tests.helpers.dashboard import APP, EVIL, no_worker, shown


@dataclass
class Narrated:
    settings: Settings
    service: NarratorService
    repo: RepoView


@pytest.fixture(scope="module")
def narrated(tmp_path_factory) -> Narrated:
    """The sample repository, narrated except for its two oldest commits."""
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        mp.setattr(jobs, "spawn_worker", no_worker)
        source = make_sample_repo(tmp_path_factory.mktemp("src") / "shop")
        settings = model_sentences_on(mp, load_settings())  # the summary is shown
        service = NarratorService(settings)
        repo = service.add_repository(source.working_tree_dir)
        run_job(settings, service.start_narration(repo.id, commits=3).id)
        yield Narrated(settings, service, service.repository(repo.id))


def app(page: str | None = "app_pages/overview.py") -> AppTest:
    """The dashboard on ``page`` (None: the default page, the Portfolio).

    Periods end on the latest commit (the period picker's toggle): the sample repository's commits are
    weeks older than the tests' today, and these tests read the digest.
    """
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[PERIOD_KEY + "_commits"] = True
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def evidence_count(at: AppTest) -> int:
    return sum(1 for e in at.expander if e.label == "Evidence")


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_plain_escapes_every_markup_character():
    escaped = plain(EVIL)
    assert unescape(escaped) == EVIL
    assert re.search(r"(?<!\\)[<>*\[\]$:()]", escaped) is None  # no markup character left bare
    assert plain("one\n    two") == "one  \ntwo"  # indentation would start a code block


def test_narrative_notes_say_stale_and_edited():
    now = datetime.now(timezone.utc)
    assert narrative_notes(NarrativeView("Adds a cart.", False, now, "fake", {})) == []
    edited = NarrativeView("Adds a cart.", True, now, "fake", {"unsupported": ["v9"], "dropped_sentences": 2})
    assert narrative_notes(edited) == ["(2 sentences left out: they named things not found in the code)", STALE_NOTE]
    emptied = NarrativeView("", False, now, "fake", {"dropped_sentences": 1})
    assert "left out" in narrative_notes(emptied)[0]


def test_overview_shows_summary_parts_digest_and_chart(narrated):
    overview = narrated.service.overview(narrated.repo.id)
    assert overview.summary is not None
    at = app()
    text = shown(at)
    assert plain(overview.summary.text) in text
    part = next(p for p in overview.parts if p.narrative)
    assert plain(part.narrative.text) in text
    # What changed comes first, then the charts, then what the software does and its parts.
    headers = [h.value for h in at.header]
    order = ["What changed, by impact", "Activity over time", "What this software does", "Its main parts"]
    assert [h for h in headers if h in order] == order
    # The figures for the team running Code Narrator sit in one details section at the bottom.
    [details] = [e for e in at.expander if e.label == "Details for the team running Code Narrator"]
    assert {m.label for m in details.metric} == {"Files read", "Pieces of code", "Changes read", "Narratives"}
    assert details.button(key="overview_narrate") is not None
    assert any(narrated.repo.name in t.value for t in at.title)
    assert len(at.get("plotly_chart")) == 2, "the busiest areas and activity over time are charted"
    assert any(t.startswith("No releases are recorded") for t in text), "the shop has no releases to chart"
    assert any("Narration finished" in c for c in text)


def test_overview_follows_narration_jobs(narrated, monkeypatch):
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service, repo_id = narrated.service, narrated.repo.id
    failed = service.start_narration(repo_id, commits=3)
    service.store.update_job(failed.id, status="failed", error="Could not load model x: not found")
    at = app()
    assert [e.value for e in at.error] == [plain("Narration failed. Could not load model x: not found")]

    at.number_input(key="overview_commits").set_value(3)
    at.button(key="overview_narrate").click().run()
    job = service.latest_job(repo_id)
    assert job.id != failed.id and job.status == "queued"
    assert service.store.get_job(job.id).params["commits"] == 3
    [bar] = at.get("progress")
    assert "Waiting to start" in bar.proto.text

    run_job(narrated.settings, job.id)  # what the worker process would do
    at.run()  # the polling fragment sees the job end and reruns the page
    assert not at.get("progress") and not at.error
    assert any("Narration finished" in c for c in shown(at))


def test_changes_filters_narrow_the_list(narrated):
    key = f"changes_{narrated.repo.id}"
    at = app("app_pages/changes.py")
    assert evidence_count(at) == 5
    newest = narrated.service.changes(narrated.repo.id)[0]
    assert f"**{plain(newest.headline.text)}**" in shown(at)
    # The fake model's sentence under it named nothing new, so the page says it was left out.
    assert newest.narrative.flags["dropped"] == "adds nothing to the subject"
    assert "The model's text was left out: it added nothing the developer had not written." in shown(at)

    at.selectbox(key=f"{key}_author").set_value("Grace Hopper").run()
    assert evidence_count(at) == 2
    at.selectbox(key=f"{key}_category").set_value("tests").run()
    assert evidence_count(at) == 1
    at.selectbox(key=f"{key}_author").set_value(None).run()
    at.selectbox(key=f"{key}_category").set_value(None).run()
    at.selectbox(key=f"{key}_folder").set_value("docs").run()
    assert evidence_count(at) == 1
    at.selectbox(key=f"{key}_folder").set_value(None).run()
    at.date_input(key=f"{key}_dates").set_value((date(2026, 11, 2), date(2026, 11, 3))).run()
    assert evidence_count(at) == 2
    assert not at.exception


def test_changes_narrates_a_commit_on_demand(narrated, monkeypatch):
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    oldest = narrated.service.changes(narrated.repo.id)[-1]
    assert oldest.narrative is None, "the fixture leaves the oldest commits for this test"
    at = app("app_pages/changes.py")
    at.button(key=f"changes_narrate_{oldest.sha}").click().run()
    assert any("Being narrated" in c for c in shown(at))

    job = narrated.service.latest_job(narrated.repo.id)
    run_job(narrated.settings, job.id)  # what the worker process would do
    at.run()  # the watcher sees the job end and reruns the page
    after = next(c for c in narrated.service.changes(narrated.repo.id) if c.sha == oldest.sha)
    assert after.narrative is not None
    assert plain(after.narrative.text) in shown(at)
    assert not [b for b in at.button if b.key == f"changes_narrate_{oldest.sha}"]


def test_code_page_lists_folders_files_and_units(narrated):
    modules = narrated.service.code(narrated.repo.id)
    at = app("app_pages/code.py")
    headers = [h.value for h in at.header]
    assert [plain(m.area) for m in modules] == headers
    labels = {e.label for e in at.expander}
    assert plain("shop/cart.py") in labels
    unit = next(u for m in modules for f in m.files for u in f.units if u.narrative)
    assert plain(unit.narrative.text) in shown(at)

    at.text_input(key=f"code_{narrated.repo.id}_find").input("orders").run()
    assert {e.label for e in at.expander} == {plain("shop/orders.py")}


@pytest.mark.parametrize("source", ["/no/such/folder", "ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", ""])
def test_bad_source_in_add_form_gives_one_error_box(narrated, source):
    at = app()
    at.text_input(key="app_add_source").input(source)
    next(b for b in at.button if b.label == "Add and narrate").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "\n" not in errors[0] and "Traceback" not in errors[0]
    assert len(narrated.service.repositories()) == 1


def test_untrusted_text_is_shown_literally(narrated):
    commit = narrated.service.changes(narrated.repo.id)[0]
    store = narrated.service.store
    store.put_narrative(key="test-evil-commit", repo_id=narrated.repo.id, kind="commit", target=commit.sha,
                        input_hash="x", model=narrated.service.model, adapter=narrated.service.adapter,
                        prompt_version=prompts.PROMPT_VERSION, text=EVIL, flags={})
    at = app("app_pages/changes.py")
    text = shown(at)
    assert plain(EVIL) in text
    assert not any("<script>" in t or "**bold**" in t for t in text), "markup reached the page unescaped"
    assert any(t == "(out of date — will be redone)" for t in text), "its input hash differs: marked stale"

    at.switch_page("app_pages/overview.py").run()
    assert not any(plain(EVIL) in t for t in shown(at)), "the digest is made of facts and people's words, not model text"
    # A developer's subject is untrusted too: as a feature headline in the digest it is shown escaped.
    # Made a change to shipped code, without the impact recorded with it, so that it is worked out
    # again from the new category and files: a new feature, listed by its headline.
    [row] = [c for c in store.list_commits(narrated.repo.id) if c.sha == commit.sha]
    details = {name: value for name, value in row.details.items() if name != "impact"}
    store.upsert_commits(narrated.repo.id, [{
        "sha": commit.sha, "headline": EVIL, "category": "feature", "details": details,
        "files": [{"path": "shop/cart.py", "change": "modified", "added": 1, "removed": 0}]}])
    at.run()
    assert not any("<script>" in t or "**bold**" in t for t in shown(at))
    # Its Markdown reads as text first (narrator.text.unmarked): "**bold**" -> "bold", a link -> its text.
    assert any(plain(unmarked(EVIL)) in t for t in shown(at)), "the digest shows the developer's headline, escaped"


def test_first_visit_adds_this_project(tmp_path, monkeypatch):
    """With no repository yet, the dashboard adds its own checkout and starts narrating it."""
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    root = Path(APP).parents[1]
    at = app(None)  # the notice shows on the first run, whatever the page
    service = NarratorService(load_settings())
    try:
        has_commits = git.Repo(root).head.is_valid()
    except git.InvalidGitRepositoryError:
        has_commits = False
    if has_commits:
        [repo] = service.repositories()
        assert Path(repo.source) == root
        assert service.latest_job(repo.id) is not None, "its narration was started"
        assert any("this project itself" in s.value for s in at.success)
    else:  # a checkout without commits cannot be narrated: the reader is told what to do instead
        assert service.repositories() == []
        assert any("Add a repository to begin" in i.value for i in at.info)


def test_a_narrative_by_another_adapter_is_stale_and_can_be_narrated_again(narrated, monkeypatch):
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    target = narrated.service.changes(narrated.repo.id)[-2]
    assert target.narrative is None, "the fixture leaves the two oldest commits unnarrated"
    narrated.service.store.put_narrative(
        key="test-old-adapter", repo_id=narrated.repo.id, kind="commit", target=target.sha,
        input_hash=target_hash(narrated, target.sha), model=narrated.service.model, adapter="old-adapter@123",
        prompt_version=prompts.PROMPT_VERSION, text="Written by the old adapter.", flags={})
    at = app("app_pages/changes.py")
    again = next(b for b in at.button if b.key == f"changes_narrate_{target.sha}")
    assert again.label == "Narrate again"
    assert "(out of date — will be redone)" in shown(at)
    again.click().run()
    run_job(narrated.settings, narrated.service.latest_job(narrated.repo.id).id)
    at.run()
    fresh = next(c for c in narrated.service.changes(narrated.repo.id) if c.sha == target.sha).narrative
    assert fresh.text != "Written by the old adapter." and not fresh.stale
    assert not [b for b in at.button if b.key == f"changes_narrate_{target.sha}"]


def target_hash(narrated: Narrated, sha: str) -> str:
    return next(c.input_hash for c in narrated.service.store.list_commits(narrated.repo.id) if c.sha == sha)


def test_changes_page_heads_each_change_with_the_developers_words_and_their_source(narrated):
    changes = narrated.service.changes(narrated.repo.id)
    at = app("app_pages/changes.py")
    text = shown(at)
    for change in changes:
        assert f"**{plain(change.headline.text)}**" in text
    assert any(plain("developer's message") in t for t in text), "every headline carries its source label"
    model_sentences = [c.explanation for c in changes if c.explanation and c.explanation.source == "model"]
    assert model_sentences and any(plain("written by the model (checked)") in t for t in text)
    assert any(t.startswith("Developer's message:") for t in text), "the whole message is in the evidence"


def test_changes_page_shows_only_the_commits_a_digest_line_links_to(narrated):
    first, *rest = narrated.service.changes(narrated.repo.id)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["commits"] = first.sha[:12]
    at.run()
    at.switch_page("app_pages/changes.py").run()
    assert not at.exception
    text = shown(at)
    assert f"**{plain(first.headline.text)}**" in text
    assert not any(f"**{plain(c.headline.text)}**" in text for c in rest if c.headline.text != first.headline.text)


def test_overview_digest_lines_carry_sources_and_the_period_can_change(narrated):
    at = app()
    text = shown(at)
    digest = narrated.service.digest(narrated.repo.id, "7d-commits")
    assert plain(digest.summary[0].text) in text
    assert any("git facts" in t for t in text)
    assert at.get("page_link"), "digest lines link to their commits"
    at.segmented_control(key="overview_period").set_value("90d").run()
    month = narrated.service.digest(narrated.repo.id, "90d-commits")
    assert plain(month.summary[0].text) in shown(at)
    assert month.counts["changes"] == 5


def test_overview_blocks_carry_one_source_label_and_each_sentence_its_source_on_hover(narrated):
    """One source label under a block of sentences, not one under every line; each sentence's own
    source and the jargon in it are in its tooltip."""
    at = app()
    digest = narrated.service.digest(narrated.repo.id, "7d-commits")
    lines = [*digest.summary, *digest.by_impact]
    helps = {m.value: m.proto.help for m in at.markdown}
    for line in lines:
        assert helps[plain(line.text)].startswith(f"Source: {label(line.provenance)}.")
    flat = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            flat.append((type(child).__name__, getattr(child, "value", None)))
            walk(child)

    walk(at.main)
    # The briefing's opening comes right after the status line, before the risks and what changed.
    brief = narrated.service.briefing(narrated.repo.id, "7d-commits")
    at_status = flat.index(("Markdown", f"**{plain(brief.status.text)}**"))
    at_opening = [flat.index(("Markdown", plain(line.text))) for line in brief.opening]
    assert at_status < min(at_opening) and max(at_opening) < flat.index(("Markdown", plain(brief.risks.lines[0].text)))
    assert all(helps[plain(line.text)].startswith(f"Source: {label(line.provenance)}.") for line in brief.opening)
    blocks = [b for b in (digest.summary, digest.internal, brief.opening) if len(b) > 1]
    assert blocks, "the sample's week has blocks of several sentences"
    for block in blocks:
        at_line = [flat.index(("Markdown", plain(line.text))) for line in block]
        between = flat[at_line[0]:at_line[-1]]
        assert not any(kind == "Caption" for kind, _ in between), "no label under each sentence"
        after = [value for kind, value in flat[at_line[-1]:] if kind == "Caption"][0]
        assert after == plain(wording.block_label(label(line.provenance) for line in block)), "one label under the block"
    assert wording.block_label(["git facts", "developer's message", "git facts"]) == "\u2714 git facts and developer's message"
    assert wording.block_label(["written by the model (checked)"]).startswith("\u2139")
    assert wording.line_help("Fix a deadlock", "developer's message").startswith("Source: developer's message.\n\nDeadlock: ")
    judged = "Behind the scenes (a change to the tests) (kind of change judged by the model, 90% sure), in lib."
    assert wording.reading_help(judged, MODEL_SOURCE) == "Source: git facts; the kind of change judged by the model."
    assert wording.reading_help("Fixed for users, in lib.", GIT_FACTS) == "Source: git facts."


def test_every_listed_change_shows_its_plain_reading_under_its_headline(narrated):
    """Issue 17: a labelled second line from git facts under people's words, on the Changes page
    and under the Overview's listed headlines (new for users, fixed for users...)."""
    from dashboard.wording import reading_caption

    changes = narrated.service.changes(narrated.repo.id)
    assert all(c.reading for c in changes)
    text = shown(app("app_pages/changes.py"))
    for change in changes:
        assert plain(reading_caption(change.reading)) in text
    brief = narrated.service.briefing(narrated.repo.id, "90d-commits")  # its cart feature and fix
    listed = [line for lines in (brief.digest.affects, brief.digest.security, brief.digest.features,
                                 brief.digest.fixes) for line in lines]
    assert listed and all(brief.reading_of(line.shas) for line in listed)
    at = app()
    at.segmented_control(key="overview_period").set_value("90d").run()
    overview = shown(at)
    for line in listed:
        assert plain(reading_caption(brief.reading_of(line.shas))) in overview


def test_what_depends_only_on_the_history_is_shared_and_read_again_once_commits_are_recorded(narrated):
    """The chart range, releases and the Changes page's choices are worked out once per recorded history
    and day for every session (a long history costs each page nothing again), and again as soon as a
    narration records commits."""
    service, repo_id = narrated.service, narrated.repo.id
    first = shared.per_history(service, "change_filters", repo_id)
    assert shared.per_history(service, "change_filters", repo_id) is first
    assert shared.per_history(service, "chart_range", repo_id) == service.chart_range(repo_id)
    newest = service.changes(repo_id, limit=1)[0]
    missing = next(c for c in ("docs", "tests", "security", "dependencies") if c not in first["categories"])
    service.store.upsert_commits(repo_id, [{"sha": newest.sha, "category": missing}])
    try:
        again = shared.per_history(service, "change_filters", repo_id)
        assert missing in again["categories"] and again == service.change_filters(repo_id)
    finally:
        service.store.upsert_commits(repo_id, [{"sha": newest.sha, "category": newest.category}])


def test_the_server_freezes_the_code_it_has_loaded_once_and_a_test_process_never(monkeypatch):
    """Streamlit's full collection after every page run walks only what runs made, not the objects of
    the loaded code (``shared.freeze_loaded``); only the dashboard's own server freezes."""
    import gc
    import sys

    monkeypatch.setitem(shared._frozen, "modules", 0)
    before = gc.get_freeze_count()
    shared.freeze_loaded()
    assert gc.get_freeze_count() == before, "not `streamlit run`: the collector is left as it is"
    monkeypatch.setitem(sys.modules, "streamlit.web.bootstrap", sys.modules["streamlit"])
    try:
        shared.freeze_loaded()
        frozen = gc.get_freeze_count()
        assert frozen > before
        shared.freeze_loaded()  # no module loaded since: not again
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
