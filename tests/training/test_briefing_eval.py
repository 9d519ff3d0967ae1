"""The briefing tasks measured: change kind by the rules, the model (free answer, scoring) and rules + model;
notes for users by BLEU-4 and ROUGE-L; on a tiny in-process model and a tiny shared data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrator.eval.metrics import rouge_l
from narrator.model import prompts
from tests.helpers.tiny_model import blank_adapter  # noqa: F401  (fixtures)
from tests.helpers.training import conventional_row, write_shared
from training.__main__ import main
from training.briefing_eval import (
    KIND_TOKENS,
    UNREADABLE,
    answer_logprobs,
    combine,
    generate,
    kind_answers,
    kind_cases,
    load_model,
    rules_sure,
)
from training.briefing_tasks import KindRow, prepare_briefing

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path]:
    """``(shared, data)``: the tiny shared folder (6 repositories) and its prepare-briefing output."""
    root = tmp_path_factory.mktemp("briefing")
    shared = write_shared(root / "shared")
    prepare_briefing(shared, root / "data")
    return shared, root / "data"


def test_rouge_l_is_the_lcs_f_measure_over_words():
    assert rouge_l("The cat sat on the mat.", "the cat sat on the mat.") == 1.0
    # LCS "police the gunman" = 3 of 4 words each way: precision = recall = F = 0.75.
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(0.75)
    # LCS 2 ("a", "c"): precision 2/2, recall 2/4; F_beta=1.2 = (1 + 1.44) * 1 * 0.5 / (0.5 + 1.44 * 1).
    assert rouge_l("a b c d", "a c") == pytest.approx(2.44 * 0.5 / (0.5 + 1.44))
    assert rouge_l("a b", "x y") == 0.0 and rouge_l("", "a") == 0.0 and rouge_l("a", "") == 0.0


def _row(subject: str, paths: list[str]) -> KindRow:
    return KindRow("a/b", subject, paths, "+x", "fix", False)


def test_the_rules_are_sure_only_when_the_paths_alone_decide():
    assert rules_sure(_row("Explain the cart", ["docs/guide.md", "README.md"]))
    assert rules_sure(_row("Cover the cart", ["tests/test_cart.py"]))
    assert rules_sure(_row("Bump lodash", ["package-lock.json"]))
    assert rules_sure(_row("Run on 3.12", [".github/workflows/ci.yml"]))
    assert not rules_sure(_row("Handle an empty cart", ["shop/cart.py"]))  # words alone
    assert not rules_sure(_row("Cart", ["shop/cart.py", "docs/guide.md"]))  # the maintenance fallback


def test_rules_and_model_take_the_model_only_where_the_rules_are_unsure():
    rules = [("docs", False), ("maintenance", False), ("fix", False), ("tests", False)]
    sure = [True, False, False, False]
    model = [("feature", False), ("fix", True), (UNREADABLE, False), ("ci", False)]
    assert combine(rules, sure, model) == [("docs", False), ("fix", True), ("fix", False), ("ci", False)]


def test_scoring_reads_the_prompt_once_and_gives_each_answers_exact_log_probability(tiny_base):
    import torch

    model, tokenizer = load_model(None, tiny_base, "cpu")
    prompt = tokenizer("<|im_start|>user\nWhat kind?<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    answers = [tokenizer(word, add_special_tokens=False)["input_ids"] for word in ("maintenance", "fix", "docs, breaking")]
    assert max(len(a) for a in answers) > 1  # several tokens: the cached continuation is exercised
    cached = answer_logprobs(model, prompt, answers)
    for answer, score in zip(answers, cached):
        with torch.no_grad():  # the whole sequence at once, no cache
            logits = model(input_ids=torch.tensor([prompt + answer])).logits[0]
        steps = torch.log_softmax(logits.float(), dim=-1)
        direct = sum(float(steps[len(prompt) - 1 + j, token]) for j, token in enumerate(answer))
        assert score == pytest.approx(direct, abs=1e-4)


def test_scoring_picks_the_likeliest_of_the_seven_kinds_and_the_free_answer_is_greedy(tiny_base, prepared):
    shared, data = prepared
    model, tokenizer = load_model(None, tiny_base, "cpu")
    cases = kind_cases(data, shared, "test")
    examples = [case.example for case in cases]
    free = generate(model, tokenizer, examples, KIND_TOKENS)
    for answer, generated in zip(kind_answers(model, tokenizer, examples), free):
        assert set(answer.scores) == set(prompts.CHANGE_KINDS) and answer.kind == max(answer.scores, key=answer.scores.get)
        assert isinstance(answer.breaking, bool)
        assert answer.free == generated  # the cached greedy answer is generate()'s


def test_kind_cases_are_the_split_repositories_commits_sampled_evenly(prepared):
    shared, data = prepared
    manifest = json.loads((data / "briefing.json").read_text())
    test_repos = set(manifest["tasks"]["change_kind"]["repositories"]["test"])
    cases = kind_cases(data, shared, "test")
    assert {case.row.repo for case in cases} == test_repos
    assert len(cases) == manifest["tasks"]["change_kind"]["examples"]["test"]  # bots dropped, as prepared
    train = kind_cases(data, shared, "train", limit=4)
    assert len(train) == 4 and len({case.row.repo for case in train}) == 4  # one commit of each of 4 repositories


def test_data_prepared_from_other_rows_is_refused(prepared, tmp_path):
    shared, data = prepared
    other = write_shared(tmp_path / "shared")
    for path in (other / "conventional_commits").glob("*.jsonl"):  # one more commit per repository
        path.write_text(path.read_text() + json.dumps(conventional_row(
            path.stem.replace("+", "/"), "fix", "handle a missing price")) + "\n")
    with pytest.raises(Exception, match="prepare-briefing again"):
        kind_cases(data, other, "test")


def test_kinds_command_compares_rules_generation_scoring_and_both(tiny_base, prepared, blank_adapter, capsys):
    shared, data = prepared
    code = main(["kinds", "--adapter", str(blank_adapter), "--compare", "--base", tiny_base, "--data", str(data),
                 "--shared-data", str(shared), "--device", "cpu", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commits"] == 3 and report["repositories"] == 1 and report["rules_sure"] == 1  # the docs commit
    assert list(report["methods"]) == ["rules"] + [f"{label} {method}" for label in ("base", "adapter")
                                                   for method in ("generation", "scoring", "rules+scoring", "rules+generation")]
    rules = report["methods"]["rules"]
    assert rules["accuracy"] == 1.0 and rules["per_kind"]["fix"] == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    for name, m in report["methods"].items():
        assert m["commits"] == 3 and len(m["accuracy_ci95"]) == 2
    assert [e["rules_sure"] for e in report["examples"]] == [e["rules"] == "docs" for e in report["examples"]]
    # A blank adapter changes nothing: base and adapter agree answer for answer.
    for example in report["examples"]:
        assert example["base answer"] == example["adapter answer"] and example["base scoring"] == example["adapter scoring"]
    predictions = report["predictions"]
    assert predictions["label"] == ["fix", "feature", "docs"] and predictions["rules_sure"] == [False, False, True]
    for label in ("base", "adapter"):
        assert predictions[f"{label} rules+scoring"] == [*predictions[f"{label} scoring"][:2], "docs"]
        scoring = report["methods"][f"{label} scoring"]
        hits = sum(kind == want for kind, want in zip(predictions[f"{label} scoring"], predictions["label"]))
        assert scoring["vs_rules"]["difference"] == pytest.approx(hits / 3 - 1.0, abs=1e-4)  # the rules get all 3
        assert scoring["vs_rules"]["ci95"][0] <= scoring["vs_rules"]["difference"] <= scoring["vs_rules"]["ci95"][1]
    generation = report["methods"]["base generation"]
    assert generation["unreadable"] == sum(prompts.read_change_kind(e["base answer"]) is None for e in report["examples"])

    assert main(["kinds", "--rules-only", "--data", str(data), "--shared-data", str(shared)]) == 0
    out = capsys.readouterr().out
    assert "accuracy 100.0%" in out and "fix" in out


def test_notes_command_scores_bleu_rouge_and_checks_for_base_and_adapter(tiny_base, prepared, blank_adapter, capsys):
    _, data = prepared
    code = main(["notes", "--adapter", str(blank_adapter), "--compare", "--base", tiny_base, "--data", str(data),
                 "--device", "cpu", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["notes"] == 1 and report["repositories"] == 1
    base, adapter = report["base"], report["adapter"]
    assert base["bleu4"] == adapter["bleu4"] and base["rouge_l"] == adapter["rouge_l"]
    assert 0 <= base["bleu4"] <= 100 and 0 <= base["rouge_l"] <= 100
    assert base["examples"][0]["people"] == "Adding an empty item to the cart no longer crashes the shop."
    subject = report["subject"]
    assert subject["examples"][0]["note"] == "Handle empty items" and subject["passes_checks"] == 1
    assert subject["rouge_l"] == pytest.approx(100 * rouge_l("Adding an empty item to the cart no longer crashes the shop.",
                                                             "Handle empty items"), abs=0.01)
    assert 0 <= base["passes_checks"] <= 1


def test_bad_input_is_one_line(prepared, tmp_path, capsys):
    _, data = prepared
    assert main(["kinds", "--data", str(data), "--adapter", str(tmp_path), "--limit", "3"]) == 1
    assert "No adapter in" in capsys.readouterr().err
    assert main(["notes", "--data", str(tmp_path), "--adapter", "none"]) == 1
    assert "No briefing.json" in capsys.readouterr().err
    assert main(["kinds", "--data", str(data), "--adapter", "none", "--limit", "0"]) == 1
    assert "--limit must be at least 1" in capsys.readouterr().err
