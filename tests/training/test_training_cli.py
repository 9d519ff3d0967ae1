"""``python -m training``: bad input gives one line and a non-zero exit; the commands' output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from narrator.model import prompts
from tests.helpers.cli import ROOT
from tests.helpers.tiny_model import build_wide_tiny_model
from training.__main__ import main
from training.throughput import bench_mode
from training.config import TrainConfig
from training.examples import Example, write_examples
from training.sweep import grid, parse_axis, run_sweep

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "training", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    for split, n in (("train", 8), ("val", 2), ("test", 2)):
        write_examples(folder / "codesearchnet" / f"{split}.jsonl", [
            Example("codesearchnet", "go", prompts.unit_prompt(f"func Add{i}(a, b int) int {{ return a + b }}", f"Add{i}",
                                                                "function", "calc.go", "go"),
                    "This function adds two numbers and returns the sum.") for i in range(n)])
        write_examples(folder / "commitpackft" / f"{split}.jsonl", [
            Example("commitpackft", "go", prompts.commit_prompt(["calc.go"], f"-x := {i}\n+x := {i + 1}"),
                    "Fix crash when the input list is empty.") for i in range(n)])
    return folder


def test_train_flags_read_their_defaults_and_choices_from_train_config(monkeypatch):
    from dataclasses import fields
    from typing import get_args

    from training.__main__ import build_parser
    from training.config import LoraSettings, OptimizerName, Quant, SchedulerName

    def parsed():
        return build_parser().parse_args(["train", "--data", "d", "--out", "o"])

    args, config = parsed(), TrainConfig(data="d", out="o")
    for field in fields(TrainConfig):
        if field.name not in ("lora", "resume"):
            assert getattr(args, field.name) == getattr(config, field.name), field.name
    assert LoraSettings(**{f.name: getattr(args, f"lora_{f.name}") for f in fields(LoraSettings)}) == config.lora
    actions = {a.dest: a for a in build_parser()._subparsers._group_actions[0].choices["train"]._actions}
    assert tuple(actions["quant"].choices) == get_args(Quant)
    assert tuple(actions["optimizer"].choices) == get_args(OptimizerName)
    assert tuple(actions["scheduler"].choices) == get_args(SchedulerName)
    # One place for each default: changing the dataclass changes the flag.
    monkeypatch.setattr(TrainConfig.__dataclass_fields__["batch_size"], "default", 7)
    monkeypatch.setattr(LoraSettings.__dataclass_fields__["r"], "default", 3)
    assert (parsed().batch_size, parsed().lora_r) == (7, 3)


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "/no/such/data", "--out", "/tmp/x"], "error: No such data folder: /no/such/data"),
    (["train", "--data", ".", "--out", "/tmp/x", "--ratio", "1.5"], "error: Bad training setting: ratio must be between 0 and 1, not 1.5"),
    (["prepare", "--source", "csn:/no/such/file.jsonl", "--out", "/tmp/x"], "error: No such file or folder: /no/such/file.jsonl"),
    (["prepare", "--source", "nonsense", "--out", "/tmp/x"], "error: Bad source 'nonsense'"),
    (["evaluate", "--adapter", "none", "--json"], "error: Name what to evaluate"),
])
def test_bad_input_is_one_line_without_traceback(args, message):
    result = run_cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_empty_data_and_empty_files_are_reported(tmp_path, capsys):
    (tmp_path / "codesearchnet").mkdir()
    (tmp_path / "codesearchnet" / "train.jsonl").write_text("")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--db", f"sqlite:///{tmp_path}/r.db"]) == 1
    assert capsys.readouterr().err == f"error: No training examples in {tmp_path} (expected codesearchnet/train.jsonl, commitpackft/train.jsonl)\n"
    (tmp_path / "val.jsonl").write_text("")
    assert main(["evaluate", "--adapter", "none", "--csn", str(tmp_path / "val.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: No examples in {tmp_path / 'val.jsonl'}\n"
    assert main(["evaluate", "--adapter", str(tmp_path), "--csn", str(tmp_path / "missing.jsonl")]) == 1
    assert capsys.readouterr().err == f"error: No such file: {tmp_path / 'missing.jsonl'}\n"


def test_data_prepared_with_older_prompts_is_refused(data_dir, tmp_path, capsys):
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "manifest.json").write_text(json.dumps({"prompt_version": "2000-01-01.1"}))
    assert main(["train", "--data", str(stale), "--out", str(tmp_path / "o"), "--db", f"sqlite:///{tmp_path}/r.db"]) == 1
    assert capsys.readouterr().err == (f"error: {stale} was prepared with prompt version 2000-01-01.1 but narration now "
                                       f"uses {prompts.PROMPT_VERSION}: run python -m training prepare again\n")


def test_train_then_evaluate_and_list_runs(tiny_base, data_dir, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/runs.db"
    out = tmp_path / "adapter"
    assert main(["train", "--data", str(data_dir), "--out", str(out), "--base", tiny_base, "--max-steps", "2",
                 "--ratio", "0.5", "--db", db, "--eval-examples", "2", "--quiet", "--lora-r", "4"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["steps"] == 2 and trained["mix"]["parts"] == [["codesearchnet", 0.5], ["commitpackft", 0.5]]

    assert main(["evaluate", "--adapter", str(out), "--base", tiny_base, "--csn", str(data_dir / "codesearchnet" / "test.jsonl"),
                 "--commitpackft", str(data_dir / "commitpackft" / "test.jsonl"), "--limit", "1", "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert set(evaluated) == {"codesearchnet", "commitpackft"}
    assert evaluated["codesearchnet"]["examples"] == 1 and evaluated["codesearchnet"]["ppl"] > 1

    test_file = data_dir / "codesearchnet" / "test.jsonl"
    languages = {json.loads(line)["language"] for line in test_file.read_text().splitlines()}
    assert main(["evaluate", "--adapter", str(out), "--base", tiny_base, "--csn", str(test_file),
                 "--per-language", "1", "--json"]) == 0
    stratified = json.loads(capsys.readouterr().out)
    assert stratified["codesearchnet"]["examples"] == len(languages)

    assert main(["evaluate", "--adapter", str(out), "--base", tiny_base, "--data", str(data_dir), "--split", "val",
                 "--compare", "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert set(compared) == {"base", "adapter"} and set(compared["base"]) == {"codesearchnet", "commitpackft"}

    assert main(["runs", "--db", db, "--json"]) == 0
    [run] = json.loads(capsys.readouterr().out)
    assert run["status"] == "done" and run["step"] == 2 and set(run["final"]) == {"codesearchnet", "commitpackft"}
    assert run["config"]["base"] == tiny_base and run["config"]["lora"]["r"] == 4


def test_train_while_another_run_is_active_is_one_line_and_no_run(tiny_base, data_dir, tmp_path, capsys, monkeypatch):
    from db.store import Store
    from training import trainer

    db = f"sqlite:///{tmp_path}/runs.db"
    store = Store(db)
    running = store.create_training_run("from the dashboard", {}, pid=os.getpid())
    # Refused before any work: no data read, no model loaded.
    monkeypatch.setattr(trainer, "train", lambda *a, **k: pytest.fail("trained while another run was active"))
    assert main(["train", "--data", str(data_dir), "--out", str(tmp_path / "adapter"), "--base", tiny_base,
                 "--max-steps", "1", "--db", db, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"error: A training run is already running (run {running}); wait for it or cancel it on the Admin page.")
    assert [r.id for r in store.list_training_runs()] == [running]
    store.close()


def test_sweep_runs_one_recorded_run_per_grid_point(tiny_base, data_dir, tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/runs.db"
    assert main(["sweep", "--data", str(data_dir), "--out", str(tmp_path / "sweep"), "--base", tiny_base, "--db", db,
                 "--max-steps", "1", "--eval-examples", "1", "--quiet", "--grid", "colour=red"]) == 1
    assert capsys.readouterr().err.startswith("error: Cannot sweep over colour; choose from ")
    assert main(["sweep", "--data", str(data_dir), "--out", str(tmp_path / "sweep"), "--base", tiny_base, "--db", db,
                 "--max-steps", "1", "--eval-examples", "1", "--quiet", "--grid", "optimizer=adamw,sgd",
                 "--grid", "lr=1e-3"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["point"] for r in results] == ["optimizer=adamw,learning_rate=0.001", "optimizer=sgd,learning_rate=0.001"]
    assert all(r["status"] == "done" for r in results)
    assert main(["runs", "--db", db, "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert sorted(r["config"]["optimizer"] for r in runs) == ["adamw", "sgd"]


def test_sweep_grid_and_a_failing_point(tmp_path):
    base = TrainConfig(data=tmp_path, out=tmp_path / "s")
    points = grid(base, {"ratio": parse_axis("ratio", "0.4,0.7"), "lora_r": parse_axis("lora_r", "8,16")})
    assert [(p.config.ratio, p.config.lora.r) for p in points] == [(0.4, 8), (0.4, 16), (0.7, 8), (0.7, 16)]
    assert points[0].config.out == tmp_path / "s" / "ratio=0.4,lora_r=8"

    def fake_train(config):
        if config.ratio == 0.7:
            raise RuntimeError("out of memory")
        return None

    outcome = run_sweep(points, fake_train)
    assert [r["status"] for r in outcome] == ["done", "done", "failed", "failed"]
    assert outcome[2]["error"] == "RuntimeError: out of memory"


def test_bench_measures_fp32_and_nf4_steps(tmp_path):
    folder = build_wide_tiny_model(tmp_path / "tiny64")
    for quant in ("none", "nf4"):
        result = bench_mode(folder, quant, steps=2, batch_size=2, max_length=128)
        assert result.quant == quant and result.seconds_per_step > 0
        assert result.target_tokens_per_second > 0 and result.peak_rss_mb > 50
