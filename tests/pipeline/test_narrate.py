"""Narration end to end with the fake model: what is stored, what is cached, what resumes."""

from __future__ import annotations

import re

import pytest

from db.errors import NarratorError
from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import run_job
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files, model_sentences_on
from tests.helpers.narration import narrate_here


class ExplodingBackend(FakeBackend):
    """Fails after ``limit`` prompts, like a worker killed half way."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def generate(self, prompts, max_new_tokens=64):
        if self.calls + len(prompts) > self.limit:
            raise RuntimeError("worker killed")
        return super().generate(prompts, max_new_tokens)


class Grounded(FakeBackend):
    """Like the fake, but a sentence under a subject names a word of the diff, as a useful one would."""

    def generate(self, prompts, max_new_tokens=64):
        answers = super().generate(prompts, max_new_tokens)
        for i, messages in enumerate(prompts):
            text = messages[-1]["content"]
            if text.startswith("A developer titled this change"):
                subject = text.split("\n", 1)[0].lower()
                added = " ".join(line for line in text.split("\n") if line.startswith("+") and not line.startswith("+++"))
                word = next(w for w in re.findall(r"[A-Za-z]{4,}", added) if w.lower() not in subject + " from with")
                answers[i] = f"It now covers {word.lower()} for the people who use it."
        return answers


class Answering(FakeBackend):
    """Gives the same answer to every prompt (an invented detail, say)."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer

    def generate(self, prompts, max_new_tokens=64):
        self.calls += len(prompts)
        return [self.answer] * len(prompts)


@pytest.fixture
def settings(settings, monkeypatch):
    """This module is about how the model's code summaries and sentences are made, stored and shown:
    shown, whatever an evaluation says (the defaults are tested in ``test_model_tasks_shown.py``)."""
    return model_sentences_on(monkeypatch, settings)


def _add_top_level_code(repo):
    """Code at the top level: shop/ is no longer the whole product (which its README speaks for), so
    it gets a model summary of its own."""
    commit_files(repo, {"serve.py": "from shop.cart import total\n"}, "Serve the shop", START.replace(day=12))


def test_narrates_commits_units_files_folders_and_overview(settings, sample_repo):
    backend = Grounded()
    service, repo, report = narrate_here(settings, sample_repo.working_tree_dir, backend)
    # Every model answer is stored, and so are the developers' own docstrings (without a model call).
    assert report.commits == 5 and report.narrated > backend.calls > 0
    view = service.overview(repo.id)
    assert view.summary is not None and view.summary.text and not view.summary.stale
    assert view.summary.source == "model"
    assert [(d.text, d.source) for d in view.descriptions] == [
        ("A small web shop that lists products and takes orders.", "readme")]
    assert {p.area for p in view.parts} >= {"shop", "(top level)"}
    assert all(p.narrative for p in view.parts if p.area == "shop")
    assert {p.area: p.role for p in view.parts}["tests"] == "tests"
    changes = service.changes(repo.id)
    assert [c.subject for c in changes][0] == "Test the cart total"  # newest first
    # Every change is headed by the developer's own subject; the model only adds a sentence under it.
    assert all(c.headline.text == c.subject and c.headline.source == "developer" for c in changes)
    assert all(c.explanation and c.explanation.source == "model" for c in changes)
    fix = next(c for c in changes if c.subject.startswith("Fix crash"))
    assert fix.category == "fix" and fix.area == "shop" and fix.added == 2 and fix.removed == 0
    code = {m.area: m for m in service.code(repo.id)}
    cart = next(f for f in code["shop"].files if f.path == "shop/cart.py")
    assert [u.name for u in cart.units] == ["add_item", "total"]
    assert all(u.narrative and u.narrative.text for u in cart.units)
    documented = next(u for u in cart.units if u.name == "add_item")
    assert (documented.narrative.text, documented.narrative.source) == ("Add an item to the cart.", "docstring")


def test_second_run_makes_no_model_call(settings, sample_repo):
    narrate_here(settings, sample_repo.working_tree_dir, FakeBackend())
    again = FakeBackend()
    _, _, report = narrate_here(settings, sample_repo.working_tree_dir, again)
    assert again.calls == 0 and report.narrated == 0 and report.cached > 0


def test_rerun_after_a_change_narrates_only_what_changed(settings, sample_repo):
    class Recording(FakeBackend):
        def __init__(self):
            super().__init__()
            self.seen = []

        def generate(self, prompts, max_new_tokens=64):
            self.seen += [p[-1]["content"] for p in prompts]
            return super().generate(prompts, max_new_tokens)

    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend())
    cart_before = {u.name: u.narrative for f in service.code(repo.id)[0].files for u in f.units if f.path == "shop/cart.py"}
    commit_files(sample_repo, {"shop/orders.py": "class Order:\n    def cancel(self):\n        return 'cancelled'\n"},
                 "Allow cancelling an order", START.replace(day=12))
    backend = Recording()
    narrate_here(settings, sample_repo.working_tree_dir, backend)
    # The new commit and the changed file's units are narrated; untouched code and commits are not.
    assert any("Allow cancelling an order" in p for p in backend.seen)
    assert any("Order.cancel" in p for p in backend.seen)
    assert not any("add_item" in p and "In one sentence, what does this" in p for p in backend.seen)
    assert not any("Fix crash" in p for p in backend.seen)
    assert service.changes(repo.id)[0].subject == "Allow cancelling an order"
    cart_after = {u.name: u.narrative for f in service.code(repo.id)[0].files for u in f.units if f.path == "shop/cart.py"}
    assert cart_after == cart_before


def test_stale_after_model_change(settings, sample_repo, monkeypatch):
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend())
    from narrator.settings import load_settings

    other = NarratorService(load_settings(model="openai:http://127.0.0.1:9/v1#other"))
    view = other.overview(repo.id)
    assert view.summary.stale
    assert all(c.narrative.stale for c in other.changes(repo.id))
    assert not any(c.narrative.stale for c in service.changes(repo.id))


def test_crash_then_resume_loses_and_duplicates_nothing(settings, sample_repo, tmp_path):
    from narrator.settings import load_settings

    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    job_id = service.store.create_job(repo.id, "narrate", {"commits": 30, "batch_size": 3})
    exploding = ExplodingBackend(limit=7)
    with pytest.raises(RuntimeError):
        run_job(settings, job_id, backend=exploding)
    job = service.job(job_id)
    assert job.status == "failed" and "worker killed" in job.error
    stored_before = service.store.count_narratives(repo.id)
    assert stored_before > 0

    backend = FakeBackend()
    run_job(settings, job_id, backend=backend)
    assert service.job(job_id).status == "done"
    fresh = FakeBackend()
    narrate_here(settings, sample_repo.working_tree_dir, fresh)
    assert fresh.calls == 0
    # The interrupted and the resumed run together called the model exactly as often as one clean
    # run does, and stored as many narratives: nothing lost, nothing twice.
    clean_settings = load_settings(home=tmp_path / "clean")
    clean = FakeBackend()
    clean_service, clean_repo, _ = narrate_here(clean_settings, sample_repo.working_tree_dir, clean)
    assert exploding.calls + backend.calls == clean.calls
    assert service.store.count_narratives(repo.id) == clean_service.store.count_narratives(clean_repo.id)


def test_budget_limits_first_run(settings, sample_repo):
    backend = FakeBackend()
    service, repo, report = narrate_here(settings, sample_repo.working_tree_dir, backend, commits=2, units=1, files=1)
    changes = service.changes(repo.id)
    assert sum(1 for c in changes if c.narrative) == 2
    assert report.units == 1


def test_on_demand_commit_narration(settings, sample_repo):
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend(), commits=1)
    target = next(c for c in service.changes(repo.id) if c.narrative is None)
    job_id = service.store.create_job(repo.id, "narrate", {"only": [["commit", target.sha]]})
    backend = FakeBackend()
    run_job(settings, job_id, backend=backend)
    assert backend.calls == 1
    assert next(c for c in service.changes(repo.id) if c.sha == target.sha).narrative is not None


def test_large_diff_is_cut_and_the_narrative_says_so(settings, tmp_path):
    import git

    repo = git.Repo.init(tmp_path / "big")
    commit_files(repo, {"a.txt": "start\n"}, "Start", START)
    commit_files(repo, {f"data/part{i}.txt": "".join(f"line {j}\n" for j in range(1000)) for i in range(10)},
                 "Add ten thousand lines of data", START.replace(day=3))
    service, handle, _ = narrate_here(settings, tmp_path / "big", FakeBackend(), units=0, files=0)
    big = service.changes(handle.id)[0]
    assert big.added == 10_000
    assert big.headline.text == "Add ten thousand lines of data"
    assert "left out" in big.explanation.text.lower() and "9,000 changed lines" in big.explanation.text


def test_fake_model_faithfulness_flags_are_stored(settings, sample_repo):
    inventive = Answering("It changes the shop. It fixes versions 10.3 and 10.8.")
    service, repo, report = narrate_here(settings, sample_repo.working_tree_dir, inventive)
    assert report.flagged > 0
    narrative = service.changes(repo.id)[0].narrative
    assert narrative.text == "It changes the shop." and narrative.source == "model"
    assert "10.3" in narrative.flags["unsupported"]


def test_worker_runs_jobs_queued_while_it_was_busy(settings, sample_repo):
    from narrator.model.backends import forget_backends
    from narrator.pipeline.jobs import work

    forget_backends()
    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    first = service.store.create_job(repo.id, "narrate", {"commits": 1})
    sha = sample_repo.head.commit.parents[0].hexsha
    queued = service.store.create_job(repo.id, "narrate", {"only": [["commit", sha]]})
    work(settings, first, run_job)
    assert service.job(first).status == "done" and service.job(queued).status == "done"
    assert next(c for c in service.changes(repo.id) if c.sha == sha).narrative is not None


def test_starting_the_same_narration_twice_queues_one_job(settings, sample_repo, monkeypatch):
    from narrator.pipeline import jobs

    started = []
    monkeypatch.setattr(jobs, "spawn_worker", lambda settings, store, job_id: started.append(job_id))
    service = NarratorService(settings)
    repo = service.add_repository(str(sample_repo.working_tree_dir))
    a = service.start_narration(repo.id)
    b = service.start_narration(repo.id)
    assert a.id == b.id and started == [a.id]


def test_nothing_is_stale_right_after_narration_and_a_code_change_makes_it_stale(settings, sample_repo):
    _add_top_level_code(sample_repo)
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend(), units=2, files=1)
    views = [c.narrative for c in service.changes(repo.id) if c.narrative]
    for module in service.code(repo.id):
        views += [module.narrative] + [f.narrative for f in module.files] + [u.narrative for f in module.files for u in f.units]
    views += [p.narrative for p in service.overview(repo.id).parts]
    views = [v for v in views if v is not None]
    assert len(views) > 5 and not any(v.stale for v in views)

    commit_files(sample_repo, {"shop/cart.py": "def add_item(cart, item):\n    return cart + [item]\n"},
                 "Simplify adding items", START.replace(day=20))
    # Re-reading the repository without narrating (no model calls) is enough to see what is stale.
    from narrator.pipeline.scan import scan

    scan(settings, service.store, repo.id, 200)
    shop = next(m for m in service.code(repo.id) if m.area == "shop")
    assert shop.narrative.stale
    cart = next(f for f in shop.files if f.path == "shop/cart.py")
    assert [u.name for u in cart.units] == ["add_item"]
    assert cart.units[0].narrative.stale and cart.narrative.stale


def test_adapter_resolution_order(tmp_path, monkeypatch):
    from narrator import settings as settings_module
    from narrator.settings import load_settings, set_active_adapter

    monkeypatch.delenv("CODE_NARRATOR_ADAPTER", raising=False)
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "adapter_config.json").write_text("{}")
    monkeypatch.setattr(settings_module, "SHIPPED_ADAPTER", shipped)
    home = tmp_path / "home"
    assert load_settings(home=home, model="embedded").adapter == str(shipped)
    assert load_settings(home=home, model="fake").adapter is None
    chosen = tmp_path / "retrained"
    set_active_adapter(home, chosen)
    assert load_settings(home=home, model="embedded").adapter == str(chosen.resolve())
    set_active_adapter(home, None)
    assert load_settings(home=home, model="embedded").adapter is None
    monkeypatch.setenv("CODE_NARRATOR_ADAPTER", str(shipped))
    assert load_settings(home=home, model="embedded").adapter == str(shipped)


def test_digest_covers_the_last_seven_days_with_commits_from_facts(settings, sample_repo):
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend())
    # By default the week up to today (the tests take 2 Dec 2026): every sample commit is older.
    assert service.overview(repo.id).digest.period.label == "the last 7 days (26 Nov - 2 Dec 2026)"
    digest = service.digest(repo.id, "7d-commits")
    # Newest commit: day 11 of the month; the week up to it holds the guide and the test commits.
    assert digest.period.label == "the last 7 days with commits (5 - 11 Nov 2026)"
    assert digest.counts == {"changes": 2, "people": 2, "areas": 2}
    assert [line.text for line in digest.internal] == ["1 documentation update", "1 test change"]
    assert all(line.shas for line in digest.summary)
    month = service.digest(repo.id, "30d-commits")
    assert month.counts["changes"] == 5 and [f.text for f in month.features] == [
        "Add orders that can be placed", "Add shopping cart"]
    assert [f.text for f in month.fixes] == ["Fix crash when adding an empty item"]


def test_summaries_that_fail_the_check_fall_back_to_people_and_computed_text(settings, sample_repo):
    _add_top_level_code(sample_repo)
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, Answering("It is version 9.9.9 of it."))
    overview = service.overview(repo.id)
    # No model sentence passed: the project is told by its README alone.
    assert overview.summary is None
    assert overview.descriptions[0].text == "A small web shop that lists products and takes orders."
    shop = next(p for p in overview.parts if p.area == "shop")
    assert shop.narrative is None  # no words of its own (the top level is the main code): not described
    assert all(c.explanation is None for c in service.changes(repo.id))


def test_a_small_budget_covers_every_folder_first(settings, sample_repo):
    service, repo, report = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend(), files=4, units=8)
    parts = {p.area: p for p in service.overview(repo.id).parts}
    # shop ranks first, but docs, tests and the top level each get their best file before shop's second.
    files = {f.path: f for m in service.code(repo.id) for f in m.files}
    assert all(files[path].narrative is not None for path in ("shop/cart.py", "docs/guide.md", "tests/test_cart.py", "README.md"))
    # A tests or docs folder is told by its role; only source code gets a model summary.
    assert parts["shop"].narrative is not None and parts["shop"].role == "source code"
    assert (parts["docs"].role, parts["tests"].role) == ("documentation", "tests")


def test_on_demand_commit_outside_the_recorded_history_is_a_clear_error(settings, sample_repo):
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir, FakeBackend(), commits=1)
    job_id = service.store.create_job(repo.id, "narrate", {"only": [["commit", "f" * 40]]})
    with pytest.raises(NarratorError, match="not among the 5 commits"):
        run_job(settings, job_id, backend=FakeBackend())
    assert service.job(job_id).status == "failed"


def test_a_part_is_never_described_by_a_class_docstring(settings, tmp_path):
    import git

    repo = git.Repo.init(tmp_path / "tqdm")
    commit_files(repo, {
        "pyproject.toml": '[project]\nname = "tqdm"\ndescription = "Fast, Extensible Progress Meter"\n',
        "tqdm/__init__.py": "from .std import tqdm, TqdmWarning\n",
        "tqdm/std.py": 'class TqdmWarning(Warning):\n    """base class for all tqdm warnings."""\n\n\n'
                       'def tqdm(iterable):\n    return iterable\n',
        "tqdm/_monitor.py": 'class TMonitor:\n    """Monitoring thread for tqdm bars."""\n',
        "stock/ledger.py": 'class Ledger:\n    """A record of every item that enters or leaves the warehouse."""\n\n'
                           '    def add(self, item):\n        self.items.append(item)\n',
        "stock/report.py": 'def weekly(ledger):\n    return len(ledger.items)\n',
    }, "Start the progress meter", START)
    service, handle, _ = narrate_here(settings, tmp_path / "tqdm", FakeBackend())
    parts = {p.area: p for p in service.overview(handle.id).parts}
    # The package is the project's main code: the project's own description speaks for it.
    assert (parts["tqdm"].narrative.text, parts["tqdm"].narrative.source) == ("Fast, Extensible Progress Meter.",
                                                                              "package")
    assert parts["tqdm"].narrative.provenance.origin == "pyproject.toml"
    # Another folder with no words of its own is not described: never by a model's guess (the Code
    # page keeps that), never by a class's docstring.
    assert parts["stock"].narrative is None
    assert service._latest(handle.id, "module")["stock"].source in ("model", "git")
    # A class docstring an earlier version stored as the folder's summary is not shown either.
    row = service._latest(handle.id, "module")["stock"]
    service.store.put_narrative(key="earlier-version", repo_id=handle.id, kind="module", target="stock",
                                input_hash=row.input_hash, model=row.model, adapter=row.adapter,
                                prompt_version=row.prompt_version, source="docstring",
                                text="A record of every item that enters or leaves the warehouse.")
    assert service._latest(handle.id, "module")["stock"].source == "docstring"
    assert next(p for p in service.overview(handle.id).parts if p.area == "stock").narrative is None


def test_a_json_file_is_not_described_by_a_comment_marker_inside_a_string(settings, tmp_path):
    import git

    repo = git.Repo.init(tmp_path / "pkg")
    commit_files(repo, {"package.json": '{"files": ["!test/**/*.test.js"], "ava": {"files": ["test/**/*.js"]}}\n',
                        "index.js": "module.exports = 1;\n"}, "Start the package", START)
    service, handle, _ = narrate_here(settings, tmp_path / "pkg", FakeBackend())
    files = {f.path: f for m in service.code(handle.id) for f in m.files}
    assert files["package.json"].units[0].narrative.source == "model"


def test_a_model_overview_that_repeats_the_project_description_is_not_shown(settings, sample_repo):
    from narrator.checks.headlines import restates

    # The model said again, a little differently, what the README says of the project.
    service, repo, _ = narrate_here(settings, sample_repo.working_tree_dir,
                                Answering("A small web shop that lists the products and takes the orders."))
    overview = service.overview(repo.id)
    assert overview.descriptions[0].text == "A small web shop that lists products and takes orders."
    assert overview.summary is None
    stored = service._latest(repo.id, "overview")[""]
    assert stored.source == "model" and stored.text  # it passed the checks: stored, not shown
    # The rule itself: a longer form of the project's word is still a repeat; a new fact is not.
    described = "Fast, unopinionated, minimalist web framework."
    assert restates("Faster, unopinionated, minimalist web framework.", described)
    assert not restates("It routes requests to handlers and renders views for a web framework.", described)
    # A body line under a headline is another rule: dropped only when it names nothing new.
    from narrator.facts.changes import repeats

    assert not repeats("Fix crash when the cart is empty", "Fix crash when the cart is empty and log it.")
    assert repeats("Fix crash when the cart is empty", "Fix crash when cart is empty.")
