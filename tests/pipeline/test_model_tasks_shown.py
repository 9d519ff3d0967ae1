"""What narration asks the model for when nothing was measured to show it: code without its own words
gets no model summary, files and folders are described by their parts, the project by its own
description, and a subject that says something stands alone. The settings bring each back."""

from __future__ import annotations

import dataclasses

import pytest

from db.errors import ModelError
from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.service.core import NarratorService
from narrator.settings import MODEL_TASKS, load_settings
from tests.conftest import START, commit_files


class Counting(FakeBackend):
    """The fake model, counting the prompts it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def generate(self, prompts, max_new_tokens=64):
        self.asked += len(prompts)
        return super().generate(prompts, max_new_tokens)


def narrate(settings, sample_repo, **shown):
    settings = dataclasses.replace(settings, **shown)
    service, backend = NarratorService(settings), Counting()
    repo = service.add_repository(sample_repo.working_tree_dir)
    report = narrate_repository(settings, service.store, repo.id, Budget(batch_size=4), backend)
    return service, repo, backend, report


def test_by_default_only_people_and_git_describe_the_code_and_the_model_is_not_asked(settings, sample_repo):
    service, repo, backend, report = narrate(settings, sample_repo)
    assert backend.asked == 0 and report.model_calls == 0
    store = service.store
    units = store.latest_narratives(repo.id, "unit")
    # add_item has its docstring; total and Order (none) get nothing of the model's.
    assert {target: (row.text, row.source) for target, row in units.items()} == {
        "shop/cart.py::add_item": ("Add an item to the cart.", "docstring")}
    files = store.latest_narratives(repo.id, "file")
    assert (files["shop/cart.py"].text, files["shop/cart.py"].source) == ("Made of 1 narrated part: add_item.", "git")
    assert all(row.source != "model" for kind in ("file", "module", "overview", "commit", "headline")
               for row in store.latest_narratives(repo.id, kind).values())
    assert store.latest_narratives(repo.id, "overview") == {} and store.latest_narratives(repo.id, "commit") == {}
    overview = service.overview(repo.id)
    assert overview.summary is None
    assert [d.text for d in overview.descriptions] == ["A small web shop that lists products and takes orders."]


def test_a_file_of_several_documented_parts_is_described_by_its_parts_not_a_model_summary(settings, sample_repo):
    commit_files(sample_repo, {"billing/prices.py": 'def net(p):\n    """Price without tax."""\n    return p\n\n\n'
                                                  'def gross(p):\n    """Price with tax."""\n    return p * 1.2\n'},
                 "Add prices", START.replace(day=20))
    service, repo, backend, _ = narrate(settings, sample_repo)
    row = service.store.latest_narratives(repo.id, "file")["billing/prices.py"]
    assert (row.text, row.source, backend.asked) == ("Made of 2 narrated parts: net, gross.", "git", 0)
    folder = service.store.latest_narratives(repo.id, "module")["billing"]
    assert (folder.text, folder.source) == ("Made of 1 narrated part: prices.py.", "git")

    # Shown: the model summarises, and the parts' list gives way (the newest narrative is shown).
    _, _, backend, _ = narrate(settings, sample_repo, model_summaries="on", model_explanations="on")
    assert backend.asked > 0
    shown = service.store.latest_narratives(repo.id, "file")["billing/prices.py"]
    assert shown.source == "model" and service.store.latest_narratives(repo.id, "module")["billing"].source == "model"
    assert service.store.latest_narratives(repo.id, "overview")[""].source == "model"
    assert service.store.latest_narratives(repo.id, "commit"), "a sentence under an informative subject"


def test_summaries_and_explanations_follow_their_own_settings(settings, tmp_path, monkeypatch):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    here = dataclasses.replace(settings, model=str(tmp_path / "model"), adapter=str(adapter))
    assert not here.shows("code_summary") and not here.shows("explanation")
    (adapter / "evaluation.json").write_text('{"tasks": {"code_summary": {"shown_by_default": true},'
                                             ' "explanation": {"shown_by_default": false}}}')
    assert (here.shows("code_summary"), here.shows("explanation")) == (True, False)
    assert dataclasses.replace(here, model_summaries="off").shows("code_summary") is False
    assert dataclasses.replace(here, model_explanations="on").shows("explanation") is True

    monkeypatch.setenv(MODEL_TASKS["code_summary"], " On ")
    monkeypatch.setenv(MODEL_TASKS["explanation"], "OFF")
    assert (load_settings().model_summaries, load_settings().model_explanations) == ("on", "off")
    monkeypatch.setenv(MODEL_TASKS["explanation"], "maybe")
    with pytest.raises(ModelError, match="Unknown value 'maybe' for CODE_NARRATOR_MODEL_EXPLANATIONS"):
        load_settings()


def test_evaluate_judges_what_the_settings_show_unless_asked_to_judge_the_model(settings, sample_repo, tmp_path, capsys):
    import json

    from narrator.eval.evaluate import main

    said = {}
    for name, flags in (("configured", []), ("model", ["--model-text"])):
        assert main([sample_repo.working_tree_dir, "--json", "--db", f"sqlite:///{tmp_path / name}.db", *flags]) == 0
        said[name] = json.loads(capsys.readouterr().out)["narration"]["model_calls"]
    assert said["configured"] == 0 and said["model"] > 0
