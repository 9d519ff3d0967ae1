"""The four-task study (``--grid four``): each task alone, equal quarters and weighted mixes, every run
measured on all four tasks' held-out examples (change kind also by accuracy), on a tiny in-process model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from db.errors import TrainingError
from narrator.model import prompts
from tests.helpers.training import code_example, commit_example, kind_example, note_example
from training.__main__ import main
from training.examples import TASKS, write_examples
from training.mixture import Mixture
from training.study import run_study
from training.study_grid import FOUR_GRID, GRID, StudyConfig
from training.study_claims import claims, shipping
from training.study_report import table_rows

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py

QUARTERS, KIND_ALONE = "quarters-adagrad-lr2e-04", "kind-alone-adagrad-lr2e-04"


def write_four(folder: Path, briefing: bool = True) -> Path:
    """Train, val and test files of the two prepared tasks and (with ``briefing``) of the briefing's two."""
    makers = {"codesearchnet": code_example, "commitpackft": commit_example}
    if briefing:
        makers |= {"change_kind": kind_example, "user_note": lambda i: note_example(i, f"acme/app{i % 2}")}
    for task, make in makers.items():
        for split, start, n in (("train", 0, 8), ("val", 100, 2), ("test", 200, 4)):
            write_examples(folder / task / f"{split}.jsonl", [make(i) for i in range(start, start + n)])
    (folder / "manifest.json").write_text(json.dumps({"prompt_version": prompts.PROMPT_VERSION}))
    if briefing:
        (folder / "briefing.json").write_text(json.dumps({"prompt_version": prompts.PROMPT_VERSION}))
    return folder


def test_the_four_task_grid_has_each_task_alone_quarters_and_weighted_mixes():
    assert len({run.key for run in FOUR_GRID}) == len({run.name for run in FOUR_GRID}) == len(FOUR_GRID) == 9
    mixes = {run.name: dict(Mixture.parse(run.mix).parts) for run in FOUR_GRID}
    assert all(run.ratio is None for run in FOUR_GRID) and not {r.name for r in FOUR_GRID} & {r.name for r in GRID}
    for task in TASKS:
        assert any(parts == {task: 1.0} for parts in mixes.values())  # every task alone
    assert mixes[QUARTERS] == {task: 0.25 for task in TASKS}
    assert mixes["kind-heavy-adagrad-lr2e-04"]["change_kind"] == mixes["note-heavy-adagrad-lr2e-04"]["user_note"] == 0.4
    with pytest.raises(ValueError, match="grid must be one of two, four"):
        StudyConfig(data=Path("d"), out=Path("o"), grid="three")


def test_a_four_task_study_writes_a_row_per_run_with_ce_for_all_four_tasks(tiny_base, tmp_path, capsys):
    data, out = write_four(tmp_path / "data"), tmp_path / "study"
    assert main(["study", "--grid", "four", "--data", str(data), "--out", str(out), "--model", tiny_base,
                 "--steps", "2", "--eval-examples", "3", "--db", f"sqlite:///{tmp_path}/runs.db", "--quiet",
                 "--compare", "none", "--only", KIND_ALONE, QUARTERS]) == 0
    assert "(3 results)" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in results] == ["base", KIND_ALONE, QUARTERS]  # grid order
    for r in results:
        for task in TASKS:
            m = r[task]
            assert m["examples"] == 3 and m["ce_ci"][0] <= m["ce"] <= m["ce_ci"][1] and m["ppl"] > 1
        kind = r["change_kind"]
        assert 0 <= kind["accuracy"] <= 1 and len(kind["correct"]) == 3
        assert kind["accuracy"] == sum(kind["correct"]) / 3
    assert results[2]["mix"] == "codesearchnet=0.25,commitpackft=0.25,change_kind=0.25,user_note=0.25"
    trained = json.loads((out / "runs" / QUARTERS / "training.json").read_text())
    assert trained["mix"]["drawn"] == {task: 8 for task in TASKS} and trained["steps"] == 2

    rows = [line for line in (out / "README.md").read_text().splitlines() if line.startswith("| ")]
    assert rows[0] == ("| run | mix (csn/commit/kind/note) | optimiser | lr | CSN CE [CI] | CSN vs base | CPFT CE [CI] "
                       "| CPFT vs base | Kind CE [CI] | Kind vs base | Kind accuracy | Note CE [CI] | Note vs base | BLEU |")
    assert [row.split(" | ")[:2] for row in rows[1:4]] == [["| base", "—"], [f"| {KIND_ALONE}", "0/0/100/0"],
                                                          [f"| {QUARTERS}", "25/25/25/25"]]
    note = results[2]["user_note"]["ce"], results[0]["user_note"]["ce"]
    assert rows[3].split(" | ")[12] == f"{(note[0] - note[1]) / note[1]:+.1%}"
    assert rows[3].split(" | ")[10] == f"{results[2]['change_kind']['accuracy']:.1%}"
    readme = (out / "README.md").read_text()
    assert "(1) Equal quarters beat each task trained alone, on that task: not measured" in readme
    assert "Change kind is also measured by accuracy" in readme


def test_a_four_task_study_needs_the_briefing_data_and_its_own_folder(tiny_base, tmp_path, capsys):
    data = write_four(tmp_path / "data", briefing=False)
    args = ["study", "--grid", "four", "--data", str(data), "--out", str(tmp_path / "study"), "--model", tiny_base,
            "--steps", "1", "--eval-examples", "2", "--quiet", "--compare", "none"]
    assert main(args) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: No change_kind, user_note test examples in {data}: the four-task study needs "
        f"python -m training prepare-briefing --out {data}")
    two = StudyConfig(data=data, out=tmp_path / "two", steps=1, model=tiny_base, eval_examples=2,
                      db_url=f"sqlite:///{tmp_path}/runs.db", only=("csn-only-adagrad-lr2e-04",))
    run_study(two)
    write_four(data)
    with pytest.raises(TrainingError, match="holds a study with other grid: pick another --out"):
        run_study(StudyConfig(data=data, out=tmp_path / "two", steps=1, model=tiny_base, eval_examples=2,
                              grid="four", only=(QUARTERS,)), train=lambda config: None)


def measured(ce: float, correct: list[int] | None = None) -> dict:
    return {"ce": ce, "ppl": 0.0, "ce_ci": [ce - 0.05, ce + 0.05], "per_language": {},
            **({"accuracy": sum(correct) / len(correct), "correct": correct} if correct else {})}


def four_results(**ces: dict[str, float]) -> list[dict]:
    """The base and every four-task run at CE 2.0 on every task, with the named runs' CE per task changed."""
    results = [{"name": "base", "ratio": None, "optimizer": None, "lr": None, "steps": 0, "bleu": None,
                **{task: measured(3.0) for task in TASKS}}]
    for run in FOUR_GRID:
        changed = ces.get(run.name.removesuffix("-adagrad-lr2e-04").replace("-", "_"), {})
        results.append({"name": run.name, "ratio": None, "mix": run.mix, "optimizer": run.optimizer, "lr": run.lr,
                        "steps": 2, "bleu": None,
                        **{task: measured(changed.get(task, 2.0), [1, 0] if task == "change_kind" else None)
                           for task in TASKS}})
    return results


def test_four_task_claims_and_shipping_are_judged_on_every_task():
    better = {task: 1.5 for task in TASKS}
    results = four_results(quarters=better, kind_heavy={"change_kind": 1.0}, note_heavy={"user_note": 1.9},
                           csn_commit_half={"codesearchnet": 1.0, "commitpackft": 2.5})
    quarters_win, heavy, cost = claims(results)
    assert quarters_win.verdict == "held" and "quarters-adagrad-lr2e-04 beat note-alone-adagrad-lr2e-04 on note for users" \
        in quarters_win.detail
    assert heavy.verdict == "did not hold"  # kind-heavy wins on change kind, note-heavy loses on notes: 1.9 vs 1.5
    assert "note-heavy-adagrad-lr2e-04 lost to quarters-adagrad-lr2e-04 on note for users" in heavy.detail
    assert cost.verdict == "did not hold"  # the 50/50 wins on CodeSearchNet but loses on CommitPackFT
    row = table_rows(results)[1]
    assert row["Kind accuracy"] == "50.0%" and row["mix (csn/commit/kind/note)"] == "100/0/0/0"
    shipped = {**results[5], "name": "shipped", "mix": None, **{task: measured(1.7) for task in TASKS}}
    verdict = shipping([*results, shipped])
    assert verdict.startswith("quarters-adagrad-lr2e-04 beat the shipped adapter on all 4 tasks")
    shipped |= {"user_note": measured(1.2)}
    assert shipping([*results, shipped]).startswith("No run beat the shipped adapter (2 steps, adagrad) on all 4 tasks")
