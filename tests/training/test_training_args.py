"""``python -m training``: every argument is checked before any work, and a bad one is one line.

A bad value used to cost minutes (``study --compare /no/such`` prepared the data, then failed) or end
in a traceback (``study --threads -1``). Here every function that does work fails the test if it is
reached, so each case proves its check runs first.
"""

from __future__ import annotations

import pytest

from training.__main__ import main

MISSING = "/no/such/path"


@pytest.fixture
def no_work(monkeypatch):
    """Data preparation, training, evaluation and benchmarking fail the test if they start."""
    import training.throughput
    import training.dataset
    import training.cross_entropy
    import training.study
    import training.study_data
    import training.sweep
    import training.trainer

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for module, name in ((training.dataset, "prepare"), (training.study_data, "prepare_study_data"),
                         (training.study, "run_study"), (training.trainer, "train"), (training.sweep, "run_sweep"),
                         (training.cross_entropy, "evaluate_files"), (training.throughput, "bench")):
        monkeypatch.setattr(module, name, must_not_run)


def cases(tmp: str) -> list[tuple[list[str], str]]:
    file = f"{tmp}/file.txt"  # an existing file where a folder is wanted
    study = ["study", "--out", f"{tmp}/study"]
    train = ["--data", tmp, "--out", f"{tmp}/adapter"]
    return [
        ([*study, "--threads", "-1"], "error: Bad study setting: threads must be at least 1, not -1"),
        ([*study, "--compare", MISSING], f"error: No adapter in {MISSING} to compare with"),
        ([*study, "--compare", tmp], f"error: No adapter in {tmp} to compare with"),
        ([*study, "--steps", "0"], "error: Bad study setting: steps must be at least 1"),
        ([*study, "--eval-examples", "0"], "error: Bad study setting: eval_examples must be at least 1"),
        ([*study, "--save-every", "-1"], "error: Bad study setting: save_every must not be negative"),
        ([*study, "--device", "gpu0"], "error: Bad study setting: device must be cpu, cuda or cuda:N, not 'gpu0'"),
        ([*study, "--data", MISSING], f"error: No such data folder: {MISSING}"),
        ([*study, "--csn", MISSING], f"error: No such --csn file or folder: {MISSING}"),
        ([*study, "--model", MISSING], f"error: No such base model folder: {MISSING}"),
        ([*study, "--only", "no-such-run"], "error: No study run named no-such-run"),
        (["study", "--out", file], f"error: --out {file} is a file, not a folder"),
        (["train", *train, "--threads", "0"], "error: Bad training setting: threads must be at least 1, not 0"),
        (["train", *train, "--ratio", "-0.1"], "error: Bad training setting: ratio must be between 0 and 1"),
        (["train", *train, "--max-steps", "0"], "error: Bad training setting: max_steps must be at least 1"),
        (["train", *train, "--lora-dropout", "1"], "error: Bad training setting: LoRA dropout must be in [0, 1)"),
        (["train", *train, "--device", "tpu"], "error: Bad training setting: device must be cpu, cuda or cuda:N"),
        (["train", *train, "--base", MISSING], f"error: No such base model folder: {MISSING}"),
        (["train", "--data", MISSING, "--out", f"{tmp}/a"], f"error: No such data folder: {MISSING}"),
        (["train", "--data", tmp, "--out", file], f"error: --out {file} is a file, not a folder"),
        (["sweep", "--data", MISSING, "--out", f"{tmp}/s", "--grid", "lr=1e-3,2e-3"],
         f"error: No such data folder: {MISSING}"),
        (["sweep", *train, "--threads", "-2", "--grid", "lr=1e-3"], "error: Bad training setting: threads must be"),
        (["prepare", "--source", f"csn:{file}", "--source", f"commitpackft:{MISSING}", "--out", f"{tmp}/p"],
         f"error: No such file or folder: {MISSING}"),
        (["prepare", "--source", f"mine:{MISSING}", "--out", f"{tmp}/p"], f"error: No such folder: {MISSING}"),
        (["prepare", "--source", f"csn:{file}", "--out", f"{tmp}/p", "--hub-rows", "0"],
         "error: hub_rows and max_commits must be positive"),
        (["prepare", "--source", f"csn:{file}", "--out", f"{tmp}/p", "--fractions", "0.5,0.5,0.5"],
         "error: fractions must be three non-negative shares"),
        (["prepare", "--source", f"csn:{file}", "--out", file], f"error: --out {file} is a file, not a folder"),
        (["evaluate", "--adapter", "none", "--csn", file, "--limit", "0"], "error: --limit must be at least 1"),
        (["evaluate", "--adapter", "none", "--csn", file, "--per-language", "-1"],
         "error: --per-language must be at least 1"),
        (["evaluate", "--adapter", "none", "--csn", file, "--batch-size", "0"], "error: --batch-size must be at least 1"),
        (["evaluate", "--adapter", "none", "--csn", file, "--device", "x"], "error: device must be cpu, cuda or cuda:N"),
        (["evaluate", "--adapter", "none", "--csn", MISSING], f"error: No such file: {MISSING}"),
        (["evaluate", "--adapter", "none", "--data", MISSING], f"error: No such data folder: {MISSING}"),
        (["evaluate", "--adapter", MISSING, "--csn", file], f"error: No adapter in {MISSING}"),
        (["bench", "--threads", "0"], "error: threads must be at least 1, not 0"),
        (["bench", "--device", "gpu"], "error: device must be cpu, cuda or cuda:N, not 'gpu'"),
        (["bench", "--base", MISSING], f"error: No such base model folder: {MISSING}"),
    ]


@pytest.mark.parametrize("case", range(len(cases("TMP"))), ids=lambda i: " ".join(cases("TMP")[i][0][:1] +
                                                                                      cases("TMP")[i][0][-2:]))
def test_a_bad_argument_is_one_line_before_any_work(case, no_work, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("not a folder\n")
    args, message = cases(str(tmp_path))[case]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err
