"""Summaries of code and sentences under an informative subject measured on held-out repositories: the
name rule, which cases are measured (the test split only, never a training repository, prompts as
narration sends them), the entries' policy and ``--record``; on a tiny in-process model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from db.errors import DataError
from narrator.git.commits import cut_patch
from narrator.model import prompts
from narrator.pipeline.tasks import Budget
from tests.helpers.tiny_model import blank_adapter  # noqa: F401  (fixtures)
from tests.helpers.training import FIX_DIFF, conventional_row, csn_row, write_jsonl
from training import model_tasks
from training.__main__ import main
from training.briefing_tasks import prepare_briefing
from training.dataset import PrepareConfig, prepare
from training.sentence_eval import explanation_cases, name_words, summary_cases, training_repositories
from training.sources import SourceSpec
from training.splits import SplitPlan

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py

EXPLAINED = "Adding an empty item no longer crashes the shop for its users."


def _functions(repo: str, count: int) -> list[dict]:
    word = repo.split("/")[1]
    return [csn_row(f"Return the total price of the {word} cart number {i}.", name=f"total_{word}_price{i}", repo=repo,
                    code=f"def total_{word}_price{i}(cart):\n    return sum(cart) + {i}\n") for i in range(count)]


@pytest.fixture(scope="module")
def code_data(tmp_path_factory) -> tuple[Path, Path]:
    """``(shared, data)``: held-out functions of owner/alpha, owner/bravo and owner/both (given as test),
    and training functions of owner/both, owner/charlie, owner/delta: owner/both is in both."""
    root = tmp_path_factory.mktemp("code")
    held = write_jsonl(root / "shared" / "held" / "python.jsonl",
                       _functions("owner/alpha", 2) + _functions("owner/bravo", 2) + _functions("owner/both", 1))
    seen = write_jsonl(root / "shared" / "seen" / "python.jsonl",
                       [row for repo in ("owner/both", "owner/charlie", "owner/delta") for row in _functions(repo, 3)])
    prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{seen}@train"), SourceSpec.parse(f"csn:{held}@test")),
                          out=root / "data", plan=SplitPlan(caps=(None,) * 3)))
    return root / "shared", root / "data"


def _commit(repo: str, type_: str, subject: str, body: str, **extra) -> dict:
    return {**conventional_row(repo, type_, subject, **extra), "body": body}


@pytest.fixture(scope="module")
def commit_data(tmp_path_factory) -> tuple[Path, Path]:
    """``(shared, data)``: ten repositories of conventional commits (two held out), one explained fix each,
    prepared by prepare-briefing."""
    root = tmp_path_factory.mktemp("commits")
    for n in range(10):
        repo = f"owner{n}/project{n}"
        write_jsonl(root / "shared" / "conventional_commits" / f"owner{n}+project{n}.jsonl", [
            _commit(repo, "fix", "handle an empty item in the cart", f"{EXPLAINED}\n\nSigned-off-by: A <a@b.c>"),
            _commit(repo, "feat", "add a wish list", ""),  # nobody explained it: no target
            _commit(repo, "chore", "update dependency lodash to v5", "Updates lodash to the latest major version today.",
                    scope="deps"),  # narration adds no sentence to a dependency update
            _commit(repo, "fix", "wip", "Handles the empty cart case in the shop at last."),  # the subject says nothing
        ])
    (root / "shared" / "release_notes").mkdir(parents=True)
    write_jsonl(root / "shared" / "release_notes" / "owner0+project0.jsonl", [])
    prepare_briefing(root / "shared", root / "data")
    return root / "shared", root / "data"


# --- the name rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, words", [
    ("parse_config", "Parse config."), ("parseConfig", "Parse config."), ("Config.parse_file", "Parse file."),
    ("Server::readHTTPBody", "Read HTTP body."), ("Watcher.ignore?", "Ignore."), ("$load-user2", "Load user 2."),
    ("", ""), ("__", ""),
])
def test_the_name_rule_turns_a_units_own_name_into_words(name, words):
    assert name_words(name) == words


# --- which cases ----------------------------------------------------------------------------------------


def test_summaries_are_the_test_functions_of_repositories_no_task_trains_on(code_data):
    shared, data = code_data
    assert {"owner/both", "owner/charlie", "owner/delta"} <= training_repositories(data, shared)
    cases = summary_cases(data, shared)
    assert sorted(case.repo for case in cases) == ["owner/alpha"] * 2 + ["owner/bravo"] * 2  # owner/both trains
    alpha = next(case for case in cases if case.name == "total_alpha_price1")
    code = "def total_alpha_price1(cart):\n    return sum(cart) + 1"
    assert alpha.example.messages == prompts.unit_prompt(code, "total_alpha_price1", "function", "shop/cart.py", "python")
    assert alpha.example.target == "Return the total price of the alpha cart number 1."
    assert sorted(case.repo for case in summary_cases(data, shared, limit=2)) == ["owner/alpha", "owner/bravo"]


def test_summaries_refuse_prompts_that_are_not_todays_unit_prompt(code_data, tmp_path):
    import shutil

    shared, data = code_data
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    test = copy / "codesearchnet" / "test.jsonl"
    test.write_text(test.read_text().replace("In one short sentence, say what", "Say what"))
    with pytest.raises(DataError, match="not today's unit prompts"):
        summary_cases(copy, shared)


def test_explanations_are_explained_commits_of_the_test_repositories_as_narration_asks(commit_data):
    shared, data = commit_data
    briefing = json.loads((data / "briefing.json").read_text())["tasks"]["change_kind"]["repositories"]
    cases = explanation_cases(data, shared)
    assert sorted(case.repo for case in cases) == sorted(briefing["test"])  # one explained fix each, no other
    case = cases[0]
    assert case.example.target == EXPLAINED and case.subject == "Handle an empty item in the cart"
    patch = cut_patch(FIX_DIFF.strip("\n"), Budget().patch_tokens)[0]
    assert case.example.messages == prompts.explain_prompt("Handle an empty item in the cart", ["shop/cart.py"], patch)
    assert case.files == ({"path": "shop/cart.py", "change": "modified", "added": 2, "removed": 0},)
    assert not set(case.repo for case in cases) & training_repositories(data, shared)


def test_explanations_leave_out_a_test_repository_another_task_trains_on(commit_data, tmp_path):
    import shutil

    shared, data = commit_data
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    held = sorted(json.loads((data / "briefing.json").read_text())["tasks"]["change_kind"]["repositories"]["test"])
    assert len(held) == 2
    seen = write_jsonl(tmp_path / "seen" / "python.jsonl", _functions(held[0], 1))
    (copy / "manifest.json").write_text(json.dumps({"prompt_version": prompts.PROMPT_VERSION,
                                                    "splits_by_source": {f"csn:{seen}@train": {"train": 1, "val": 0, "test": 0}}}))
    assert sorted(case.repo for case in explanation_cases(copy, shared)) == held[1:]


# --- the entries ----------------------------------------------------------------------------------------


def _scores(agrees: float) -> dict:
    return {"agrees": agrees, "agrees_ci95": [max(0.0, agrees - 0.1), min(1.0, agrees + 0.1)], "passes_checks": 70}


@pytest.mark.parametrize("agrees, shown", [(0.3, False), (0.99, False), (1.0, True)])
def test_a_sentence_task_is_shown_by_default_only_when_every_sentence_was_right(agrees, shown):
    summary = model_tasks.summary_entry({"summaries": 80, "repositories": 16, "agree_at": 0.5, "name_rule": _scores(0.2),
                                         "base": _scores(0.1), "adapter": _scores(agrees)}, "python -m training summaries")
    assert summary["shown_by_default"] is shown and summary["replaced"] == 1.0 and summary["model"] == agrees
    assert summary["name_rule"] == 0.2 and summary["base"] == 0.1 and "16 held-out repositories" in summary["metric"]
    explanation = model_tasks.explanation_entry({"explanations": 80, "repositories": 5, "agree_at": 0.5,
                                                 "adapter": _scores(agrees)}, "python -m training explanations")
    assert explanation["shown_by_default"] is shown and explanation["replaced"] == 1.0 and "base" not in explanation
    assert explanation["replaced_by"].startswith("nothing: the subject stands alone")


def test_summaries_and_explanations_are_recorded_beside_the_other_tasks(tiny_base, blank_adapter, code_data, commit_data,  # noqa: F811
                                                                        capsys):
    model_tasks.record(blank_adapter, "change_kind", {"title": "Kind of change", "model": 0.5, "replaced": 0.4,
                                                      "replaced_by": "the rules", "shown_by_default": True})
    shared, data = code_data
    assert main(["summaries", "--adapter", str(blank_adapter), "--base", tiny_base, "--data", str(data), "--shared-data",
                 str(shared), "--device", "cpu", "--compare", "--limit", "3", "--record", "--json"]) == 0
    summaries = json.loads(capsys.readouterr().out)
    assert summaries["summaries"] == 3 and summaries["repositories"] == 2
    assert summaries["base"]["agrees"] == summaries["adapter"]["agrees"]  # a blank adapter changes nothing
    # The rule's names ("Total alpha price 0.") pass the check; none says what the docstring says.
    assert summaries["name_rule"]["passes_checks"] == 3 and summaries["name_rule"]["agrees"] == 0.0
    shared, data = commit_data
    assert main(["explanations", "--adapter", str(blank_adapter), "--base", tiny_base, "--data", str(data), "--shared-data",
                 str(shared), "--device", "cpu", "--record"]) == 0
    assert "Sentences under an informative subject" in capsys.readouterr().out
    tasks = model_tasks.read(blank_adapter)["tasks"]
    assert set(tasks) == {"change_kind", "code_summary", "explanation"}
    summary = tasks["code_summary"]
    assert summary["model"] == summaries["adapter"]["agrees"] and summary["name_rule"] == 0.0
    assert summary["command"] == "python -m training summaries --data DATA --adapter ADAPTER --compare --limit 3 --record"
    assert tasks["explanation"]["command"] == "python -m training explanations --data DATA --adapter ADAPTER --record"
    assert tasks["explanation"]["shown_by_default"] == (tasks["explanation"]["model"] >= 1.0)


def test_bad_input_is_one_line(code_data, commit_data, tmp_path, capsys):
    shared, data = code_data
    assert main(["summaries", "--data", str(data), "--shared-data", str(shared), "--adapter", "none", "--limit", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --limit must be at least 1"
    assert main(["summaries", "--data", str(data), "--shared-data", str(shared), "--adapter", "none", "--record"]) == 1
    assert "--record needs an adapter" in capsys.readouterr().err
    assert main(["explanations", "--data", str(tmp_path), "--shared-data", str(shared), "--adapter", "none"]) == 1
    assert "No briefing.json" in capsys.readouterr().err
    assert main(["summaries", "--data", str(commit_data[1]), "--shared-data", str(shared), "--adapter", "none"]) == 1
    assert "No manifest.json" in capsys.readouterr().err
    assert main(["explanations", "--data", str(data), "--shared-data", str(tmp_path / "nowhere"), "--adapter", "none"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
