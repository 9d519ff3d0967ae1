"""The cocktail study: its grid, the bootstrap intervals, the claims paragraph, and the command end to end."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from db.errors import TrainingError
from narrator.model import prompts
from training.__main__ import main
from training.bootstrap import bootstrap_ci
from training.config import ROOT, TrainConfig
from training.examples import Example, write_examples
from training.study import run_study
from training.study_grid import GRID, StudyConfig, StudyRun, select, unique
from training.study_measure import summarize
from training.study_claims import claims, claims_paragraph, compare, find, paired_difference, shipping, verdict
from training.study_report import markdown_table

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py

CSN_ONLY, MIX_ADAMW = "csn-only-adagrad-lr2e-04", "mix-50-adamw-lr2e-04"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    for split, n in (("train", 8), ("val", 2), ("test", 4)):
        write_examples(folder / "codesearchnet" / f"{split}.jsonl", [
            Example("codesearchnet", lang, prompts.unit_prompt(f"def add{i}(a, b): return a + b", f"add{i}",
                                                               "function", "calc.py", lang),
                    "This function adds two numbers and returns the sum.")
            for i in range(n) for lang in ("go", "python")])
        write_examples(folder / "commitpackft" / f"{split}.jsonl", [
            Example("commitpackft", lang, prompts.commit_prompt(["calc.go"], f"-x := {i}\n+x := {i + 1}"),
                    "Fix crash when the input list is empty.") for i in range(n) for lang in ("go", "python")])
    return folder


# ---- the grid ------------------------------------------------------------------------------


def test_grid_covers_the_study_once_each():
    keys = [run.key for run in GRID]
    assert len(keys) == len(set(keys)) == 12 and len({run.name for run in GRID}) == 12
    wanted = [(1.0, "adagrad", 2e-4), (0.0, "adagrad", 2e-4), (0.4, "adagrad", 2e-4), (0.5, "adagrad", 2e-4),
              (0.7, "adagrad", 2e-4), (0.5, "adamw", 2e-4), (0.5, "adagrad", 1e-3), (0.5, "adamw", 1e-3),
              *((ratio, "adagrad", lr) for ratio in (1.0, 0.0) for lr in (5e-5, 2e-4, 1e-3))]
    assert set(wanted) == set(keys)
    assert unique((StudyRun.of(0.5), StudyRun("again", 0.5, "adagrad", 2e-4))) == (StudyRun.of(0.5),)
    with pytest.raises(TrainingError, match=r"No study run named nope \(python -m training study --help lists them\)"):
        select(GRID, ("nope",))
    assert select(GRID, ("mix-50-adamw-lr2e-04", "csn-only-adagrad-lr2e-04")) == (GRID[0], GRID[5])  # grid order


# ---- bootstrap intervals -------------------------------------------------------------------


def test_bootstrap_ci_contains_the_mean_narrows_with_more_examples_and_is_seeded():
    rng = random.Random(1)
    widths = []
    for n in (20, 200, 2000):
        values = [rng.gauss(2.0, 0.5) for _ in range(n)]
        low, high = bootstrap_ci(values)
        assert low <= sum(values) / n <= high
        assert bootstrap_ci(values) == (low, high)  # same seed, same interval
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]
    values, weights = [1.0, 3.0], [3, 1]
    low, high = bootstrap_ci(values, weights=weights, resamples=200)
    assert low <= 1.5 <= high and 1.0 <= low and high <= 3.0  # token-weighted mean 1.5
    with pytest.raises(ValueError):
        bootstrap_ci([])


def test_summarize_pools_tokens_per_task_and_language():
    examples = [Example("codesearchnet", lang, [{"role": "user", "content": "x"}], "t") for lang in ("go", "go", "ruby")]
    summary = summarize(examples, [(4.0, 2), (2.0, 2), (9.0, 3)])
    assert summary["ce"] == pytest.approx(15 / 7) and summary["tokens"] == 7 and summary["examples"] == 3
    assert summary["ce_ci"][0] <= summary["ce"] <= summary["ce_ci"][1]
    assert summary["per_language"]["go"]["ce"] == pytest.approx(1.5) and summary["per_language"]["ruby"]["ce"] == 3.0


# ---- the claims ----------------------------------------------------------------------------


def result(name: str, ratio: float, optimizer: str = "adagrad", lr: float = 2e-4, csn: float = 2.0,
           cpft: float = 2.0, spread: float = 0.05) -> dict:
    def task(ce):
        return {"ce": ce, "ppl": 0.0, "ce_ci": [ce - spread, ce + spread], "per_language": {}}

    return {"name": name, "ratio": ratio, "optimizer": optimizer, "lr": lr, "steps": 2, "seconds": 1.0,
            "codesearchnet": task(csn), "commitpackft": task(cpft), "bleu": None}


def full_study(**changes) -> list[dict]:
    """Every grid run at CE 2.0 on both tasks, with the named runs' (csn, cpft) changed."""
    results = [result("base", 0.0, csn=3.0, cpft=3.0) | {"ratio": None, "optimizer": None, "lr": None}]
    for run in GRID:
        csn, cpft = changes.get(run.name, (2.0, 2.0))
        results.append(result(run.name, run.ratio, run.optimizer, run.lr, csn, cpft))
    return results


def test_a_single_task_control_that_beats_the_cocktail_makes_the_claim_fail():
    results = full_study(**{"mix-50-adagrad-lr2e-04": (1.9, 1.5), CSN_ONLY: (1.5, 3.0),
                            "cpft-only-adagrad-lr2e-04": (3.0, 1.8)})
    first = claims(results)[0]
    assert first.verdict == "did not hold"
    assert "mix-50-adagrad-lr2e-04 lost to csn-only-adagrad-lr2e-04 on CodeSearchNet" in first.detail
    assert "mix-50-adagrad-lr2e-04 beat cpft-only-adagrad-lr2e-04 on CommitPackFT" in first.detail
    paragraph = claims_paragraph(results)
    assert "(1) The 50/50 cocktail beats single-task training on each task: did not hold" in paragraph


def test_claims_hold_only_beyond_the_intervals():
    winning = full_study(**{"mix-50-adagrad-lr2e-04": (1.5, 1.5)})  # AdamW ties with Adagrad at lr 1e-3
    cocktail, ratios, optimizers, transfer = claims(winning)
    assert (cocktail.verdict, ratios.verdict, optimizers.verdict) == ("held", "held", "not shown")
    assert transfer.verdict == "held"  # all tie at 2.0: the first lr is best on both
    tied = full_study(**{"mix-50-adagrad-lr2e-04": (1.95, 1.95)})  # within 0.05 of 2.0
    assert claims(tied)[0].verdict == "not shown"
    moved = full_study(**{"csn-only-adagrad-lr1e-03": (1.0, 2.0), "cpft-only-adagrad-lr5e-05": (2.0, 1.0)})
    assert claims(moved)[3].verdict == "did not hold" and "lr 0.001" in claims(moved)[3].detail
    # CodeSearchNet's best lr is within the intervals of CommitPackFT's best there: not refuted, not shown.
    close = full_study(**{"csn-only-adagrad-lr1e-03": (1.0, 2.0), "cpft-only-adagrad-lr5e-05": (2.0, 1.96)})
    assert claims(close)[3].verdict == "not shown"
    assert [c.verdict for c in claims(moved[:3])] == ["not measured"] * 4
    assert compare(winning[1], winning[1], "codesearchnet") == "tie" and verdict([]) == "not measured"
    assert markdown_table(winning).splitlines()[2].startswith("| base | — | — | — | 3.000 [2.950, 3.050]")


def scored(name: str, per_example: list[float], ratio: float = 0.5) -> dict:
    """A result whose CE per task comes from per-example scores of 4 target tokens each."""
    def task():
        scores = [[ce * 4, 4] for ce in per_example]
        ce = sum(per_example) / len(per_example)
        return {"ce": ce, "ppl": 0.0, "ce_ci": [min(per_example), max(per_example)], "per_language": {},
                "scores": scores}

    return {"name": name, "ratio": ratio, "optimizer": "adagrad", "lr": 2e-4, "steps": 2, "seconds": 1.0,
            "codesearchnet": task(), "commitpackft": task(), "bleu": None}


def test_runs_on_the_same_examples_are_compared_pairwise():
    rng = random.Random(3)
    hard = [rng.uniform(1.0, 4.0) for _ in range(60)]  # examples differ a lot in difficulty
    a, b = scored("a", [x - 0.1 for x in hard]), scored("b", hard)  # a is better on every example
    assert compare(a, b, "codesearchnet", paired=False) == "tie"  # the runs' own intervals overlap
    mean, low, high = paired_difference(a, b, "codesearchnet")
    assert mean == pytest.approx(-0.1) and low <= mean <= high < 0
    assert compare(a, b, "codesearchnet") == "better" and compare(b, a, "commitpackft") == "worse"
    noisy = scored("c", [x + rng.choice((-0.5, 0.5)) for x in hard])
    assert compare(noisy, b, "codesearchnet") == "tie"
    other = scored("d", hard[:59])  # not the same examples: back to the runs' intervals
    assert paired_difference(a, other, "codesearchnet") is None and compare(a, other, "codesearchnet") == "tie"
    cocktail = claims([a, scored("csn-only", hard, ratio=1.0), scored("cpft-only", hard, ratio=0.0)])[0]
    assert cocktail.verdict == "held" and "a beat csn-only on CodeSearchNet (CE " in cocktail.detail
    assert "; paired difference -0.100 [" in cocktail.detail


def test_a_run_is_shipped_only_when_it_beats_the_shipped_adapter_on_both_tasks():
    results = full_study(**{"mix-50-adamw-lr1e-03": (1.5, 1.5), "mix-70-adagrad-lr2e-04": (1.0, 2.0)})
    shipped = result("shipped", 0.5, "adamw", 2e-4, csn=1.8, cpft=1.8)
    results.insert(1, shipped)
    assert find(results, 0.5, "adamw", 2e-4)["name"] == "mix-50-adamw-lr2e-04"  # never the shipped adapter
    verdict_text = shipping(results)
    assert verdict_text.startswith("mix-50-adamw-lr1e-03 beat the shipped adapter on both tasks")
    assert "it is the one to ship" in verdict_text
    results[1] = shipped | result("shipped", 0.5, "adamw", 2e-4, csn=1.52, cpft=1.3)
    verdict_text = shipping(results)
    assert verdict_text.startswith("No run beat the shipped adapter (2 steps, adamw) on both tasks")
    assert "the closest, mix-70-adagrad-lr2e-04: mix-70-adagrad-lr2e-04 beat shipped on CodeSearchNet" in verdict_text
    assert "No shipped adapter was measured" in shipping(results[:1] + results[2:])


def test_the_closest_run_is_described_by_its_paired_difference_from_the_shipped_adapter():
    rng = random.Random(5)
    hard = [rng.uniform(1.0, 4.0) for _ in range(60)]
    closest = scored("mix-50-adamw-lr1e-03", [x + 0.1 for x in hard])
    shipped = scored("shipped", hard) | {"optimizer": "adamw"}
    verdict_text = shipping([shipped, closest])
    assert verdict_text.startswith("No run beat the shipped adapter (2 steps, adamw)")  # own intervals overlap
    assert "mix-50-adamw-lr1e-03 lost to shipped on CodeSearchNet (CE " in verdict_text
    assert "mix-50-adamw-lr1e-03 lost to shipped on CommitPackFT (CE " in verdict_text
    assert "within the intervals" not in verdict_text and "; paired difference +0.100 [" in verdict_text


# ---- the command ---------------------------------------------------------------------------


def test_study_command_writes_results_and_report_and_a_rerun_skips_finished_runs(tiny_base, data_dir, tmp_path, capsys):
    out, db = tmp_path / "study", f"sqlite:///{tmp_path}/runs.db"
    args = ["study", "--data", str(data_dir), "--out", str(out), "--model", tiny_base, "--steps", "2",
            "--eval-examples", "4", "--db", db, "--quiet", "--only", MIX_ADAMW, CSN_ONLY]
    assert main(args) == 0
    assert "(3 results)" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert [r["name"] for r in results] == ["base", CSN_ONLY, MIX_ADAMW]  # grid order
    for r in results:
        for task in ("codesearchnet", "commitpackft"):
            m = r[task]
            assert m["examples"] == 4 and m["ce_ci"][0] <= m["ce"] <= m["ce_ci"][1] and m["ppl"] > 1
            assert set(m["per_language"]) == {"go", "python"}
        assert r["bleu"] is None
    assert results[1]["ratio"] == 1.0 and results[2]["optimizer"] == "adamw" and results[2]["steps"] == 2
    readme = (out / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| ")]
    assert rows[0] == ("| run | ratio | optimiser | lr | CSN CE [CI] | CSN vs base | CSN PPL | CPFT CE [CI] "
                       "| CPFT vs base | CPFT PPL | BLEU |")
    assert [row.split(" | ")[0] for row in rows[1:4]] == ["| base", f"| {CSN_ONLY}", f"| {MIX_ADAMW}"]
    change = (results[1]["codesearchnet"]["ce"] - results[0]["codesearchnet"]["ce"]) / results[0]["codesearchnet"]["ce"]
    assert rows[2].split(" | ")[5] == f"{change:+.1%}" and rows[1].split(" | ")[5] == "—"
    assert rows[4] == "| run | CSN go | CSN python | CPFT go | CPFT python |"  # CE per language
    assert rows[5].startswith(f"| base | {results[0]['codesearchnet']['per_language']['go']['ce']:.3f} |")
    assert "(1) The 50/50 cocktail beats single-task training on each task: not measured" in readme
    assert (out / "ce.svg").read_text().startswith("<svg")

    def no_training(config):
        raise AssertionError(f"{config.out.name} was finished and should have been skipped")

    config = StudyConfig(data=data_dir, out=out, steps=2, model=tiny_base, eval_examples=4, db_url=db,
                         only=(MIX_ADAMW, CSN_ONLY))
    (out / "NOTES.md").write_text("Two steps <b>prove</b> nothing.\n")
    assert run_study(config, train=no_training) == results
    assert (out / "README.md").read_text().endswith("## Notes\n\nTwo steps <b>prove</b> nothing.\n")
    with pytest.raises(TrainingError, match="holds a study with other steps"):
        run_study(replace(config, steps=3), train=no_training)


def test_the_study_measures_the_compared_adapter_on_the_same_examples(tiny_base, data_dir, tmp_path, capsys):
    first, db = tmp_path / "first", f"sqlite:///{tmp_path}/runs.db"
    common = ["--data", str(data_dir), "--model", tiny_base, "--steps", "2", "--eval-examples", "4", "--db", db,
              "--quiet", "--only", CSN_ONLY]
    assert main(["study", "--out", str(first), *common]) == 0
    adapter = first / "runs" / CSN_ONLY
    second = tmp_path / "second"
    assert main(["study", "--out", str(second), "--compare", str(adapter), *common]) == 0
    base, shipped, run = json.loads((second / "results.json").read_text())
    assert (shipped["name"], shipped["ratio"], shipped["optimizer"], shipped["steps"]) == ("shipped", 1.0, "adagrad", 2)
    for task in ("codesearchnet", "commitpackft"):
        assert len(shipped[task]["scores"]) == len(run[task]["scores"]) == len(base[task]["scores"]) == 4
        assert [n for _, n in shipped[task]["scores"]] == [n for _, n in run[task]["scores"]]  # same examples
    readme = (second / "README.md").read_text()
    assert "**Ship the winner.** No run beat the shipped adapter (2 steps, adagrad)" in readme
    assert "| shipped | 1.00 | adagrad | 0.0002 |" in readme
    capsys.readouterr()
    assert main(["study", "--out", str(tmp_path / "third"), "--compare", str(tmp_path), *common]) == 1
    assert f"No adapter in {tmp_path} to compare with" in capsys.readouterr().err


def test_without_data_the_study_prepares_its_own_from_the_shared_folder_with_held_out_repositories(tmp_path, capsys):
    from training.examples import read_examples
    from training.study_data import BLEU_SOURCE, prepare_study_data

    shared = tmp_path / "shared"

    def rows(folder: str, lines: list[dict]) -> None:
        (shared / folder).mkdir(parents=True)
        (shared / folder / "python.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))

    def function(i: int, partition: str) -> dict:
        return {"code": f"def scale{i}(x):\n    return x * {i}\n", "func_name": f"scale{i}", "language": "python",
                "docstring": f"Multiply the given number by {i} and return it.", "path": "calc.py",
                "partition": partition}

    def commit(subject: str) -> dict:
        return {"old_contents": "a = 1\n", "new_contents": f"a = {len(subject)}\n", "subject": subject,
                "lang": "Python", "new_file": "app/config.py"}

    rows("csn_style_extracted_more", [function(i, "train") for i in range(2, 12)])
    rows(BLEU_SOURCE, [function(i, "test") for i in range(20, 23)])
    rows("commitpack_style_mined_more", [commit(f"Raise the default limit to {i}") for i in range(2, 12)])
    rows("commitpack_style_mined", [commit(f"Lower the retry count {'again ' * i}now") for i in range(3)])
    data = prepare_study_data(shared, tmp_path / "study")
    assert data == tmp_path / "study" / "data"
    held = read_examples(data / "commitpackft" / "test.jsonl")
    assert sorted(e.target for e in held) == sorted(f"Lower the retry count {'again ' * i}now" for i in range(3))
    assert {e.target for e in read_examples(data / "codesearchnet" / "test.jsonl")} == \
        {f"Multiply the given number by {i} and return it." for i in range(20, 23)}
    assert prepare_study_data(tmp_path / "elsewhere", tmp_path / "study") == data  # prepared once, then reused

    assert main(["study", "--out", str(tmp_path / "other"), "--shared-data", str(tmp_path / "nothing"), "--quiet"]) == 1
    assert f"No study data at {tmp_path / 'nothing'}/csn_style_extracted_more: give --data DIR" in capsys.readouterr().err


def test_an_interrupted_run_resumes_from_its_checkpoint(tiny_base, data_dir, tmp_path):
    from training.trainer import train

    config = StudyConfig(data=data_dir, out=tmp_path / "study", steps=2, model=tiny_base, eval_examples=2,
                         save_every=1, db_url=f"sqlite:///{tmp_path}/runs.db", only=(CSN_ONLY,))
    seen: list[TrainConfig] = []

    def stop_after_one(step, loss):
        raise KeyboardInterrupt

    def interrupted(training):
        return train(training, on_step=stop_after_one, progress=False)

    with pytest.raises(KeyboardInterrupt):
        run_study(config, train=interrupted)

    def recorded(training):
        seen.append(training)
        return train(training, progress=False)

    [base, run] = run_study(config, train=recorded)
    assert seen[0].resume and run["name"] == CSN_ONLY and run["steps"] == 2
    summary = json.loads((tmp_path / "study" / "runs" / CSN_ONLY / "training.json").read_text())
    assert summary["steps"] == 2
    # Committed with an adapter: its folders relative to the repository, no path of this machine.
    assert not Path(summary["config"]["data"]).is_absolute() and not Path(summary["config"]["out"]).is_absolute()
    assert (ROOT / summary["config"]["out"]).resolve() == (tmp_path / "study" / "runs" / CSN_ONLY).resolve()


def test_the_study_readme_names_paths_relative_to_the_repository():
    from training.study_report import readme

    shared = ROOT.parent / "shared" / "data" / "csn"
    text = readme([], {"data": str(ROOT.parent / "study-data"), "csn": str(shared), "compare": str(ROOT / "adapters" / "a"),
                       "steps": 40}, [f"csn:{shared}@test"])
    assert str(ROOT.parent) not in text
    assert "data ../study-data," in text and "csn ../shared/data/csn," in text and "compare adapters/a," in text and "`csn:../shared/data/csn@test`" in text


def test_per_example_scores_pool_to_the_one_mean_ce(tiny_base, data_dir):
    from training.dataset import load_split
    from training.cross_entropy import evaluate_examples, score_examples
    from training.model import load_base

    model, tokenizer = load_base(tiny_base, "none", "cpu")
    examples = load_split(data_dir, "commitpackft", "test")[:5]
    scores = score_examples(model, tokenizer, examples, batch_size=2)
    pooled = evaluate_examples(model, tokenizer, examples, batch_size=2)
    assert sum(total for total, _ in scores) / sum(n for _, n in scores) == pytest.approx(pooled.ce, rel=1e-5)
    assert sum(n for _, n in scores) == pooled.tokens and all(n > 0 for _, n in scores)


def test_with_a_csn_file_every_run_gets_a_summary_bleu(tiny_base, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(tmp_path / "home"))
    csn = tmp_path / "csn.jsonl"
    csn.write_text("".join(json.dumps({"code": f"def add{i}(a, b):\n    return a + b\n", "language": "python",
                                       "docstring": "Add two numbers and return the sum.", "func_name": f"add{i}",
                                       "path": "calc.py"}) + "\n" for i in range(2)))
    config = StudyConfig(data=data_dir, out=tmp_path / "study", steps=1, model=tiny_base, eval_examples=2, csn=csn,
                         db_url=f"sqlite:///{tmp_path}/runs.db")
    results = run_study(config, grid=(StudyRun.of(0.5),))
    assert [r["name"] for r in results] == ["base", "mix-50-adagrad-lr2e-04"]
    assert all(isinstance(r["bleu"], float) and 0 <= r["bleu"] <= 100 for r in results)
