"""The change-kind head: fitted on features, chosen and measured against the rules, saved beside the
adapter with its entry in evaluation.json; headlines and notes recorded the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from narrator.model import prompts
from narrator.model.kind_model import KINDS, KindHead, rule_features, rules_sure
from tests.helpers.training import write_shared
from training import model_tasks
from training.__main__ import main
from training.briefing_tasks import prepare_briefing
from training.examples import Example, write_examples
from training.kind_head import answers, choose_method, fit_head, measure

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py


def _features(kinds: list[str], noise: float = 0.1, seed: int = 0):
    """Features whose first seven columns say the kind (plus noise), then three useless ones."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((len(kinds), 10), generator=generator) * noise
    for row, kind in enumerate(kinds):
        x[row, KINDS.index(kind)] += 1.0
    return x


def _data(kinds: list[str], rule_kinds: list[str], sure: list[bool], seed: int = 0) -> dict:
    import torch

    x = torch.cat([_features(kinds, seed=seed), rule_features(rule_kinds, sure)], dim=1)
    return {"x": x, "kinds": kinds, "breaking": [False] * len(kinds), "rule_kinds": rule_kinds,
            "rule_breaking": [False] * len(kinds), "sure": sure, "repos": ["a/b"] * len(kinds)}


def test_the_head_learns_what_its_features_say_and_reads_back_the_same(tmp_path):
    kinds = [KINDS[i % len(KINDS)] for i in range(70)]
    train = _data(kinds, ["maintenance"] * 70, [False] * 70)
    val = _data(kinds[:21], ["maintenance"] * 21, [False] * 21, seed=1)
    head = fit_head(train["x"], train["kinds"], train["breaking"], val["x"], val["kinds"])
    said = head.predict(val["x"])
    assert [kind for kind, _, _ in said] == val["kinds"]
    assert all(not broken and 0 < p <= 1 for _, broken, p in said)  # nothing breaking to learn: never breaking
    assert head.meta["val_accuracy"] == 1.0 and head.meta["kinds"] == list(KINDS)
    head.save(tmp_path)
    again = KindHead.load(tmp_path)
    assert again.predict(val["x"]) == said and again.meta == head.meta
    assert KindHead.load(tmp_path / "none") is None


def test_rules_and_head_keep_the_rules_where_the_paths_decide():
    kinds = [KINDS[i % len(KINDS)] for i in range(70)]
    train = _data(kinds, ["maintenance"] * 70, [False] * 70)
    head = fit_head(train["x"], train["kinds"], train["breaking"], train["x"], train["kinds"])
    # The developers said "fix" and "feature"; the rules were sure of "docs" for the first.
    test = _data(["fix", "feature"], ["docs", "maintenance"], [True, False])
    assert [k for k, _ in answers(head, test, "head", "rules")] == ["fix", "feature"]
    assert [k for k, _ in answers(head, test, "rules+head", "rules")] == ["docs", "feature"]
    # Where the rules are wrong when sure, the head alone measures better, and choose_method sees it.
    assert choose_method(head, test)[0] == "head"
    report = measure(head, test, "head", "rules")
    assert report["methods"]["rules"]["accuracy"] == 0.0 and report["methods"]["head"]["accuracy"] == 1.0
    assert report["methods"]["head"]["vs_rules"]["difference"] == 1.0


def test_rule_features_are_the_kind_one_hot_and_the_sure_flag():
    out = rule_features(["docs", "fix"], [True, False])
    assert out.shape == (2, len(KINDS) + 1)
    assert out[0, KINDS.index("docs")] == 1 and out[0, -1] == 1 and out[0].sum() == 2
    assert out[1, KINDS.index("fix")] == 1 and out[1, -1] == 0 and out[1].sum() == 1
    assert rules_sure(["docs/guide.md"]) and not rules_sure(["shop/cart.py"])


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("briefing")
    shared = write_shared(root / "shared", repos=10)
    prepare_briefing(shared, root / "data")
    patch = "--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -1 +1,2 @@\n def add(item):\n+    if not item: return\n"
    write_examples(root / "data" / "commitpackft" / "test.jsonl", [
        Example("commitpackft", "python", prompts.commit_prompt(["shop/cart.py"], patch), "Handle an empty cart item", f"mine:o{n}/p{n}")
        for n in range(3)])
    return shared, root / "data"


@pytest.fixture()
def adapter(tiny_base, tmp_path) -> Path:
    from training.config import LoraSettings
    from training.model import attach_lora, load_base

    model, _ = load_base(tiny_base, "none", "cpu")
    attach_lora(model, LoraSettings(r=4, alpha=8), seed=0).save_pretrained(tmp_path / "adapter")
    return tmp_path / "adapter"


def test_kind_head_command_fits_measures_saves_and_records(tiny_base, prepared, adapter, capsys):
    shared, data = prepared
    code = main(["kind-head", "--adapter", str(adapter), "--base", tiny_base, "--data", str(data), "--shared-data", str(shared),
                 "--device", "cpu", "--features", "rules,model,words", "--train", "50", "--val", "10", "--test", "10", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["head"]["features"] == ["model", "words", "rules"] and "w:cart" in report["head"]["vocabulary"]
    assert report["method"] in ("head", "rules+head") and report["examples"] >= 3
    assert set(report["methods"]) == {"rules", report["method"]}
    head = KindHead.load(adapter)
    assert head is not None and head.meta["method"] == report["method"]
    assert head.meta["test"][report["method"]]["accuracy"] == report["methods"][report["method"]]["accuracy"]
    entry = model_tasks.read(adapter)["tasks"]["change_kind"]
    assert entry["model"] == report["methods"][report["method"]]["accuracy"]
    assert entry["replaced"] == report["methods"]["rules"]["accuracy"] and entry["replaced_by"] == "the rules"
    assert entry["shown_by_default"] == (entry["difference_ci95"][0] > 0)
    assert "/tmp" not in entry["command"] and entry["command"].startswith("python -m training kind-head")
    assert "--features model,words,rules --train 50 --val 10 --test 10" in entry["command"]


def test_a_words_and_paths_head_reads_no_model_and_judges_from_the_words(prepared, adapter, capsys):
    import torch

    from narrator.model.kind_model import Head, commit_kinds, head_features

    shared, data = prepared
    assert main(["kind-head", "--adapter", str(adapter), "--base", "/no/such/model", "--data", str(data),
                 "--shared-data", str(shared), "--json"]) == 0  # the model is never loaded
    report = json.loads(capsys.readouterr().out)
    head = KindHead.load(adapter)
    assert head.meta["features"] == ["words", "rules"] and report["head"]["train_examples"] >= 3
    items = [("handle an empty item in the cart", ["shop/cart.py"], "+x"), ("explain how to run the shop", ["docs/guide.md"], "+y")]
    features = head_features(head.meta, None, None, items)
    assert features.shape == (2, len(head.meta["vocabulary"]) + len(KINDS) + 1)
    said = commit_kinds(None, None, Head(head, "head", "rules", "test"), items)
    assert [answer["decided"] for answer in said] == ["model", "model"]
    assert said[1]["kind"] == "docs" and torch.is_tensor(features)


def test_headlines_and_notes_are_recorded_beside_the_other_tasks(tiny_base, prepared, adapter, capsys):
    _, data = prepared
    model_tasks.record(adapter, "change_kind", {"title": "Kind of change", "model": 0.5, "replaced": 0.4,
                                                "replaced_by": "the rules", "shown_by_default": True})
    assert main(["headlines", "--adapter", str(adapter), "--base", tiny_base, "--data", str(data), "--device", "cpu",
                 "--record", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["headlines"] == 3 and 0 <= report["adapter"]["agrees"] <= 1
    assert main(["notes", "--adapter", str(adapter), "--base", tiny_base, "--data", str(data), "--device", "cpu", "--record",
                 "--json"]) == 0
    tasks = model_tasks.read(adapter)["tasks"]
    assert set(tasks) == {"change_kind", "headline", "user_note"}
    assert tasks["headline"]["model"] == report["adapter"]["agrees"] and tasks["headline"]["replaced"] == 1.0
    assert tasks["headline"]["shown_by_default"] == (report["adapter"]["agrees"] >= 1.0)
    note = tasks["user_note"]
    assert note["shown_by_default"] == (note["model_ci95"][0] > note["replaced"])
    assert "Recorded in" in capsys.readouterr().err


def test_bad_input_is_one_line(prepared, adapter, tmp_path, capsys):
    shared, data = prepared
    assert main(["kind-head", "--adapter", str(adapter), "--data", str(data), "--train", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --train must be at least 1"
    assert main(["kind-head", "--adapter", str(adapter), "--data", str(data), "--features", "words,vibes"]) == 1
    assert "--features takes a comma-separated list of model, words, rules" in capsys.readouterr().err
    assert main(["headlines", "--adapter", "none", "--data", str(data), "--record"]) == 1
    assert "--record needs an adapter" in capsys.readouterr().err
    broken = tmp_path / "broken"
    shutil.copytree(adapter, broken)
    (broken / model_tasks.EVALUATION_FILE).write_text("{not json")
    assert model_tasks.read(broken) == {"tasks": {}}  # an unreadable file is no measurement, never a crash
