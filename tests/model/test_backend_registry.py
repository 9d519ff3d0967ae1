"""One table of model backends (``narrator.model.registry``): a backend added through the public hook is
checked, named and built by the same lookups as the built-in ones, and narration runs on it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from db.errors import ModelError
from narrator.model import backends, registry
from narrator.model.embedded import EMBEDDED_NAME
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from narrator.settings import Settings
from tests.conftest import model_sentences_on


class MockBackend:
    """Answers every prompt with the same sentence, naming the voice its spec gave (``mock:VOICE``)."""

    def __init__(self, spec: str) -> None:
        self.voice = spec.removeprefix("mock:")
        self.name = spec
        self.adapter = None
        self.calls = 0
        self.generated_tokens = 0
        self.load_seconds = 0.0

    def generate(self, prompts, max_new_tokens=64):
        self.calls += len(prompts)
        return [f"The {self.voice} mock describes this part." for _ in prompts]


def _check_mock(spec: str) -> None:
    if not spec.removeprefix("mock:"):
        raise ModelError(f"Bad model {spec!r}: mock:VOICE needs a voice")


@pytest.fixture
def mock_kind():
    """The mock registered through the public hook for one test, then removed."""
    built: list[MockBackend] = []

    def build(settings: Settings) -> MockBackend:
        built.append(MockBackend(settings.model))
        return built[-1]

    kind = registry.register_backend(registry.BackendKind(
        "mock", matches=lambda spec: spec.startswith("mock:"), check=_check_mock, build=build,
        model_name=lambda spec: spec))
    backends.forget_backends()
    yield built
    registry.unregister_backend(kind.name)
    backends.forget_backends()


def test_a_registered_backend_is_checked_named_built_and_narrates(settings, sample_repo, mock_kind, monkeypatch):
    settings = model_sentences_on(monkeypatch, settings)  # code summaries asked of the model and shown
    with pytest.raises(ModelError, match=r"^Bad model 'mock:': mock:VOICE needs a voice$"):
        dataclasses.replace(settings, model="mock:")  # Settings checks every spec through its kind
    mocked = dataclasses.replace(settings, model="mock:calm")
    assert backends.describe(mocked) == ("mock:calm", None)
    assert mocked.task_folder is None  # a kind that takes no adapter has no evaluation to speak for it

    service = NarratorService(mocked)
    repo = service.add_repository(sample_repo.working_tree_dir)
    narrate_repository(mocked, service.store, repo.id, Budget(batch_size=4))  # no backend given: the registry's
    assert len(mock_kind) == 1 and mock_kind[0].calls > 0
    code = {m.area: m for m in service.code(repo.id)}
    total = next(u for f in code["shop"].files if f.path == "shop/cart.py" for u in f.units if u.name == "total")
    assert (total.narrative.text, total.narrative.source) == ("The calm mock describes this part.", "model")


def test_without_the_mock_its_spec_falls_to_the_hugging_face_kind(settings, mock_kind):
    registry.unregister_backend("mock")
    assert backends.describe(dataclasses.replace(settings, model="mock:calm")) == ("hf:mock:calm", None)
    assert registry.kind_of("mock:calm").name == "huggingface"


@pytest.mark.parametrize(("spec", "kind", "name"), [
    ("fake", "fake", "fake"), ("fake:0.5", "fake", "fake"), ("fake:wait:gate", "fake", "fake"),
    ("openai:http://127.0.0.1:8000/v1/", "openai", "openai:http://127.0.0.1:8000/v1#default"),
    ("openai:http://127.0.0.1:8000/v1#qwen", "openai", "openai:http://127.0.0.1:8000/v1#qwen"),
    ("embedded", "embedded", EMBEDDED_NAME),
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "huggingface", "hf:HuggingFaceTB/SmolLM2-135M-Instruct"),
])
def test_each_built_in_spec_finds_its_kind_and_keeps_its_cache_name(tmp_path: Path, spec, kind, name):
    """The names go into every cache key: the registry must give the ones narratives were cached under."""
    assert registry.kind_of(spec).name == kind
    assert backends.describe(Settings(home=tmp_path, model=spec)) == (name, None)


def test_the_built_in_kinds_are_tried_before_the_fallback():
    names = [kind.name for kind in registry.backend_kinds()]
    assert names[:3] == ["fake", "openai", "embedded"] and names[-1] == "huggingface"
