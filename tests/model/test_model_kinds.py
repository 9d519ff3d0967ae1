"""The change-kind head at narration time: a commit's impact group from the model's kind of change where
the model-kind setting shows it, from the rules otherwise (no head, no local model, the setting off), and
the plain reading saying which, and the bench timing the head. A tiny model built here narrates; the
head is made by hand, so what it says is known."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from narrator.facts.commit_facts import CommitFacts
from narrator.facts.provenance import label
from narrator.facts.reading import MODEL_SOURCE
from narrator.model import kind_model
from narrator.model.transformers_backend import TransformersBackend
from narrator.model.kind_model import KINDS, KindHead
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files
from tests.helpers.tiny_model import build_tiny_model

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py

HIDDEN = 32
"""The tiny model's hidden size: the head reads 4 * HIDDEN model features, then the rules' (len(KINDS) + 1)."""


@pytest.fixture(scope="module")
def tiny_deep(tmp_path_factory):
    """A tiny model deep enough for the head's layers (``kind_model.LAYERS``), loaded once."""
    folder = build_tiny_model(tmp_path_factory.mktemp("tiny-deep"), layers=21)
    return folder, TransformersBackend(str(folder), device="cpu", batch_size=4)


def docs_head(method: str) -> KindHead:
    """A head that calls every change documentation, 90% sure, and nothing breaking."""
    import torch

    width = 4 * HIDDEN + len(KINDS) + 1
    bias = torch.full((len(KINDS),), -10.0)
    bias[KINDS.index("docs")] = 0.0
    bias[KINDS.index("fix")] = math.log(1 / 9)  # docs 0.9, fix 0.1 (the rest is near nothing)
    return KindHead(torch.zeros(width), torch.ones(width), torch.zeros((width, len(KINDS))), bias,
                    torch.zeros((width, 2)), torch.tensor([0.0, -math.inf]),
                    {"method": method, "breaking_method": "rules"})


def fix_head() -> KindHead:
    """A head that calls every change a fix in the code users get, 90% sure, and nothing breaking."""
    import torch

    width = 4 * HIDDEN + len(KINDS) + 1
    bias = torch.full((len(KINDS),), -10.0)
    bias[KINDS.index("fix")] = 0.0
    bias[KINDS.index("docs")] = math.log(1 / 9)
    return KindHead(torch.zeros(width), torch.ones(width), torch.zeros((width, len(KINDS))), bias,
                    torch.zeros((width, 2)), torch.tensor([0.0, -math.inf]),
                    {"method": "rules+head", "breaking_method": "rules"})


def shop(path):
    import git

    repo = git.Repo.init(path)
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return sum(cart)\n"}, "Add the cart", START)
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return sum(cart or [])\n"},
                 "Fix crash on an empty cart", START.replace(day=3))
    commit_files(repo, {"tests/test_cart.py": "def test_total():\n    assert True\n"}, "Cover the cart",
                 START.replace(day=4))
    return repo


def narrate(settings, folder, repo, backend, name: str, **shown):
    home = settings.home.parent / name
    home.mkdir()
    here = dataclasses.replace(settings, home=home, db_url=f"sqlite:///{home / 'narrator.db'}", model=str(folder),
                               adapter=None, **shown)
    service = NarratorService(here)
    handle = service.add_repository(repo.working_tree_dir)
    narrate_repository(here, service.store, handle.id, Budget(commits=5, units=0, files=0, batch_size=4), backend)
    return here, service, handle, {c.subject: c for c in service.changes(handle.id)}


def test_the_head_decides_a_commits_impact_where_the_setting_shows_it(settings, tmp_path, tiny_deep, monkeypatch):
    folder, backend = tiny_deep
    repo = shop(tmp_path / "shop")

    # No head beside the model: the rules, and no model kind recorded.
    _, _, _, changes = narrate(settings, folder, repo, backend, "no-head", model_kinds="on")
    fix = changes["Fix crash on an empty cart"]
    assert (fix.impact.group, fix.impact.model) == ("fixed", None) and fix.reading_provenance != MODEL_SOURCE

    docs_head("rules+head").save(folder)
    try:
        here, service, handle, changes = narrate(settings, folder, repo, backend, "on", model_kinds="on")
        fix, tests = changes["Fix crash on an empty cart"], changes["Cover the cart"]
        # The head decides where the rules are unsure, and says so in the reading and its tooltip.
        assert (fix.impact.group, fix.impact.kind) == ("internal", "docs")
        assert fix.impact.model == pytest.approx(0.9, abs=0.01)
        assert "the model judged it documentation work (90% sure)" == fix.impact.why
        assert "(kind of change judged by the model, 90% sure)" in fix.reading
        assert label(fix.reading_provenance) == "git facts; the kind of change judged by the model"
        # Only tests changed: the rules are sure, so they decide ('rules+head').
        assert (tests.impact.group, tests.impact.kind, tests.impact.model) == ("internal", "tests", None)
        stored = {c.sha: CommitFacts.from_json(c.details) for c in service.store.list_commits(handle.id)}
        entry = stored[fix.sha].model_kind
        assert (entry.kind, entry.decided, entry.method) == ("docs", "model", "rules+head")
        assert stored[fix.sha].rules_impact.group == "fixed"
        assert stored[tests.sha].model_kind.decided == "rules"

        # A re-run reuses the recorded kinds: the model is not asked again.
        monkeypatch.setattr(kind_model, "commit_kinds", lambda *a, **k: pytest.fail("judged again"))
        narrate_repository(here, service.store, handle.id, Budget(commits=5, units=0, files=0, batch_size=4), backend)
        again = {c.subject: c for c in service.changes(handle.id)}
        assert again["Fix crash on an empty cart"].impact == fix.impact
        monkeypatch.undo()

        # The setting off, or auto without an evaluation that shows it: the rules, as before.
        for name, shown in (("off", "off"), ("auto", "auto")):
            _, _, _, changes = narrate(settings, folder, repo, backend, name, model_kinds=shown)
            fix = changes["Fix crash on an empty cart"]
            assert (fix.impact.group, fix.impact.model) == ("fixed", None), name
            assert "judged by the model" not in fix.reading

        # 'head': the head decides every commit, the tests-only one too.
        docs_head("head").save(folder)
        _, _, _, changes = narrate(settings, folder, repo, backend, "head", model_kinds="on")
        assert changes["Cover the cart"].impact.kind == "docs" and changes["Cover the cart"].impact.model is not None
    finally:
        for name in (kind_model.HEAD_FILE, kind_model.META_FILE):
            (folder / name).unlink(missing_ok=True)


def test_a_note_for_users_is_asked_for_a_change_the_head_calls_a_fix_the_rules_called_tidying(settings, tmp_path,
                                                                                             tiny_deep):
    """Notes are chosen by impact group after the head has judged: the rules' maintenance, the head's fix."""
    folder, backend = tiny_deep
    repo = shop(tmp_path / "shop")
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return sum(cart or [0])\n"}, "Change how the cart total is summed",
                 START.replace(day=5))
    _, service, handle, changes = narrate(settings, folder, repo, backend, "rules", model_notes="on")
    change = changes["Change how the cart total is summed"]
    assert change.impact.group == "internal" and change.sha not in service.store.latest_narratives(handle.id, "note")
    fix_head().save(folder)
    try:
        _, service, handle, changes = narrate(settings, folder, repo, backend, "head", model_kinds="on", model_notes="on")
    finally:
        for name in (kind_model.HEAD_FILE, kind_model.META_FILE):
            (folder / name).unlink(missing_ok=True)
    change = changes["Change how the cart total is summed"]
    assert (change.impact.group, change.impact.model) == ("fixed", pytest.approx(0.9, abs=0.01))
    # The tiny model's note is nonsense and the checks drop it, but it was asked for, after the head.
    assert change.sha in service.store.latest_narratives(handle.id, "note")


def test_a_server_or_the_fake_model_never_reads_a_head(settings, tmp_path):
    folder = tmp_path / "adapter"
    docs_head("head").save(folder)
    for model in ("fake", "openai:http://127.0.0.1:9/v1"):
        here = dataclasses.replace(settings, model=model, adapter=str(folder), model_kinds="on")
        assert here.task_folder is None and kind_model.head_for(here, lambda: ("x", None)) is None
    local = dataclasses.replace(settings, model=str(tmp_path / "missing-model"), adapter=str(folder))
    assert local.task_folder == folder and kind_model.head_for(local, lambda: ("m", "a")).method == "head"


def test_auto_shows_a_model_task_only_where_its_evaluation_says_so(settings, tmp_path, monkeypatch):
    from db.errors import ModelError
    from narrator.settings import load_settings

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    here = dataclasses.replace(settings, model=str(tmp_path / "model"), adapter=str(adapter))
    assert not any(here.shows(task) for task in ("change_kind", "user_note", "headline")), "no evaluation: none"
    (adapter / "evaluation.json").write_text('{"tasks": {"change_kind": {"shown_by_default": true},'
                                             ' "headline": {"shown_by_default": false}}}')
    assert (here.shows("change_kind"), here.shows("headline"), here.shows("user_note")) == (True, False, False)
    assert dataclasses.replace(here, model_kinds="off").shows("change_kind") is False
    assert dataclasses.replace(here, model_notes="on").shows("user_note") is True
    assert dataclasses.replace(here, model="fake").shows("change_kind") is False, "the fake model is not the one measured"
    (adapter / "evaluation.json").write_text("{not json")
    assert not here.shows("change_kind")

    monkeypatch.setenv("CODE_NARRATOR_MODEL_NOTES", " ON ")
    assert load_settings().model_notes == "on"
    monkeypatch.setenv("CODE_NARRATOR_MODEL_KINDS", "sometimes")
    with pytest.raises(ModelError, match="Unknown value 'sometimes' for CODE_NARRATOR_MODEL_KINDS: use auto, on or off"):
        load_settings()


def test_the_bench_times_the_head_on_every_commit_it_narrates(settings, tmp_path, monkeypatch, capsys):
    from narrator.eval import bench

    folder = build_tiny_model(tmp_path / "tiny")
    docs_head("rules+head").save(folder)
    repo = shop(tmp_path / "shop")
    judge = kind_model.commit_kinds
    # Only the narration's figures: the history, first-look and command figures have their own tests.
    for name in ("history_figures", "first_look_figures", "command_figures"):
        monkeypatch.setattr(bench, name, lambda *args: {})
    assert bench.main([repo.working_tree_dir, "--model", str(folder), "--commits", "5", "--units", "2",
                       "--batch-size", "4"]) == 0
    figures = json.loads(capsys.readouterr().out)
    # Each of the three commits judged once, by the real head on the real model; the timer is gone after.
    assert figures["kind_head_commits"] == figures["commits_in_cache"] == 3
    assert figures["kind_head_seconds"] is not None and figures["kind_head_ms_per_commit"] > 0
    assert figures["kind_head_cpu_ms_per_commit"] > 0
    assert 0 < figures["kind_head_share_of_model_seconds"] <= 1
    assert kind_model.commit_kinds is judge

    # The fake model reads no head: nothing judged, no figure made up.
    fake = bench.measure(repo.working_tree_dir, 5, 0, "fake", None, 4)
    assert (fake["kind_head_commits"], fake["kind_head_ms_per_commit"], fake["kind_head_share_of_model_seconds"]) == (0, None, None)
