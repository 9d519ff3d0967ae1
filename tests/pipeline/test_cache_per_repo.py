"""Narratives belong to their repository; identical prompts reuse the model's answer across them;
two narrations of one repository at once ask the model once."""

from __future__ import annotations

import shutil
import threading

import git
from alembic import command
from sqlalchemy import create_engine, text

from db.narratives import cache_key
from db.store import Store, alembic_config
from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files, model_headlines_on, model_sentences_on
from tests.helpers.narration import narrate_here


def _init_repo(path, when):
    repo = git.Repo.init(path)
    commit_files(repo, {"app.py": "def start_app():\n    return 'ready'\n"}, "init", when)
    return repo


def test_a_copy_of_a_repository_gets_its_own_narratives_from_the_cache(settings, sample_repo, tmp_path, monkeypatch):
    settings = model_sentences_on(monkeypatch, settings)
    first = FakeBackend()
    service, original, _ = narrate_here(settings, sample_repo.working_tree_dir, first)
    assert first.calls > 0
    copy = tmp_path / "elsewhere" / "shop"  # same name: every prompt is the same
    shutil.copytree(sample_repo.working_tree_dir, copy)

    second = FakeBackend()
    _, duplicate, report = narrate_here(settings, copy, second)

    assert second.calls == 0 and report.cached > 0 and report.narrated == 0
    assert service.store.count_narratives(duplicate.id) == service.store.count_narratives(original.id)
    shas = {c.sha for c in service.changes(duplicate.id)}
    assert set(service.store.latest_narratives(duplicate.id, "commit")) == shas
    assert ([c.explanation for c in service.changes(duplicate.id)]
            == [c.explanation for c in service.changes(original.id)])
    assert service.overview(duplicate.id).summary.text == service.overview(original.id).summary.text


def test_unrelated_repositories_with_the_same_init_commit_each_show_it(settings, tmp_path, monkeypatch):
    settings = model_headlines_on(monkeypatch, settings)  # the model's headline is what both must show
    _init_repo(tmp_path / "one", START)
    other = _init_repo(tmp_path / "two", START.replace(year=2025))
    service, _, _ = narrate_here(settings, tmp_path / "one", FakeBackend())

    # The on-demand Narrate of the second repository's commit: answered from the cache, and shown.
    second = FakeBackend()
    _, repo, report = narrate_here(settings, tmp_path / "two", second, only=[("commit", other.head.commit.hexsha)])
    assert second.calls == 0 and report.cached >= 1
    # "init" says nothing: the model's summary of the diff heads it, in both repositories.
    [change] = service.changes(repo.id)
    [first] = service.changes(service.find(str(tmp_path / "one")).id)
    assert change.sha == other.head.commit.hexsha and change.headline.source == "model"
    assert change.headline.text == first.headline.text


def test_put_narrative_keeps_one_row_per_repository_and_key(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'n.db'}")
    a = store.upsert_repository("/a", "a", "/a", None)
    b = store.upsert_repository("/b", "b", "/b", None)
    key = cache_key(kind="unit", text="x")
    for repo_id, words in ((a, "first"), (a, "again"), (b, "second")):
        store.put_narrative(key, repo_id, "unit", "m.py::f", "h", "fake", None, "v1", words)
    assert store.get_narrative(key, a).text == "first"
    assert store.get_narrative(key, b).text == "second"
    assert store.get_narrative(key).text == "first"  # any repository's answer: the oldest
    assert store.count_narratives(a) == store.count_narratives(b) == 1


def test_migration_0004_keeps_rows_and_lets_a_second_repository_store_the_same_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        for rid in (1, 2):
            conn.execute(text("INSERT INTO repositories (id, source, name, local_path, added_at) "
                              "VALUES (:id, :s, :s, :s, '2026-12-01 00:00:00')"), {"id": rid, "s": f"/r{rid}"})
        conn.execute(text(
            "INSERT INTO narratives (key, repo_id, kind, target, input_hash, model, adapter, prompt_version,"
            " text, flags, created_at, source) VALUES ('k', 1, 'unit', 't', 'h', 'fake', NULL, 'v', 'kept',"
            " '{}', '2026-12-01 00:00:00', 'model')"))
    engine.dispose()

    store = Store(url)  # migrates to head
    assert store.get_narrative("k", 1).text == "kept"
    store.put_narrative("k", 2, "unit", "t", "h", "fake", None, "v", "own row")
    assert store.get_narrative("k", 2).text == "own row" and store.get_narrative("k", 1).text == "kept"


def test_two_narrations_of_one_repository_at_once_ask_the_model_once(settings, sample_repo, tmp_path):
    solo_settings = settings.__class__(**{**settings.__dict__, "home": tmp_path / "solo",
                                          "db_url": f"sqlite:///{tmp_path / 'solo.db'}"})
    solo = FakeBackend()
    narrate_here(solo_settings, sample_repo.working_tree_dir, solo)

    backends = [FakeBackend(delay=0.05), FakeBackend(delay=0.05)]
    messages: list[list[str]] = [[], []]
    repo_id = NarratorService(settings).add_repository(sample_repo.working_tree_dir).id

    def run(i: int) -> None:
        store = Store(settings.db_url)  # each run its own connection pool, as two processes would have
        narrate_repository(settings, store, repo_id, Budget(batch_size=3), backends[i],
                           lambda done, total, message: messages[i].append(message))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(b.calls for b in backends) == solo.calls
    assert any("Waiting for another narration" in m for ms in messages for m in ms)


def _unit_view(service, repo_id, name):
    return next(u for m in service.code(repo_id) for f in m.files for u in f.units if u.name == name)


def test_a_unit_edited_past_the_prompt_cut_is_current_after_narrating_again(settings, tmp_path, monkeypatch):
    settings = model_sentences_on(monkeypatch, settings)
    body = "".join(f"    step_{i} = compute_value({i}) + offset_value\n" for i in range(60))  # ~3,000 chars
    repo = git.Repo.init(tmp_path / "long")
    commit_files(repo, {"calc.py": f"def long_calculation(offset_value):\n{body}    return step_0\n"}, "Add the calculation", START)
    service, view, _ = narrate_here(settings, tmp_path / "long", FakeBackend())
    assert not _unit_view(service, view.id, "long_calculation").narrative.stale

    # An edit near the end of the unit, beyond the part of it the prompt shows.
    commit_files(repo, {"calc.py": f"def long_calculation(offset_value):\n{body}    return step_59\n"},
                 "Return the last step", START.replace(day=3))
    again = FakeBackend()
    narrate_here(settings, tmp_path / "long", again)
    narrative = _unit_view(service, view.id, "long_calculation").narrative
    assert narrative is not None and not narrative.stale
    # ...and a change inside the part the prompt shows is narrated anew.
    commit_files(repo, {"calc.py": f"def long_calculation(offset_value):\n    offset_value += 1\n{body}    return step_59\n"},
                 "Start one higher", START.replace(day=4))
    third = FakeBackend()
    narrate_here(settings, tmp_path / "long", third)
    assert third.calls >= 1 and not _unit_view(service, view.id, "long_calculation").narrative.stale


def test_a_bare_clone_and_a_detached_head_get_their_own_rows(settings, sample_repo, tmp_path):
    service, original, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend())
    bare = tmp_path / "bare" / "shop.git"
    git.Repo.clone_from(sample_repo.working_tree_dir, bare, bare=True)
    detached = tmp_path / "detached" / "shop"
    clone = git.Repo.clone_from(sample_repo.working_tree_dir, detached)
    clone.git.checkout(clone.head.commit.hexsha)  # a detached HEAD at the same commit
    expected = set(service.store.latest_narratives(original.id, "commit")) | set(
        service.store.latest_narratives(original.id, "headline"))
    for path in (bare, detached):
        backend = FakeBackend()
        _, repo, _ = narrate_here(settings, path, backend)
        got = set(service.store.latest_narratives(repo.id, "commit")) | set(service.store.latest_narratives(repo.id, "headline"))
        assert got == expected


def test_migrations_0004_and_0005_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    store = Store(url)
    repo_id = store.upsert_repository("/src", "src", "/src", None, shallow=True)
    store.put_narrative("k", repo_id, "unit", "t", "h", "fake", None, "v", "kept")
    store.close()
    command.downgrade(alembic_config(url), "0003")
    command.upgrade(alembic_config(url), "head")
    store = Store(url)
    assert store.get_narrative("k", repo_id).text == "kept"
    assert store.get_repository(repo_id).shallow is False  # the flag is set again by the next scan
