"""The four-task cocktail: code -> summary, diff -> subject, change kind and a note for users, mixed,
trained and validated per task on a tiny in-process model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from db.errors import DataError
from narrator.model import prompts
from tests.helpers.tiny_model import wide_tiny_base  # noqa: F401  (fixtures)
from tests.helpers.training import code_example, commit_example, config, kind_example, note_example
from training.dataset import check_prompt_version
from training.examples import even_sample, write_examples
from training.mixture import Mixture
from training.trainer import train

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py

FOUR = "csn=0.25,commit=0.25,kind=0.25,note=0.25"


@pytest.fixture(scope="module")
def four_tasks(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("four")
    for task, make in (("codesearchnet", code_example), ("commitpackft", commit_example),
                       ("change_kind", kind_example), ("user_note", note_example)):
        write_examples(folder / task / "train.jsonl", [make(i) for i in range(12)])
        write_examples(folder / task / "val.jsonl", [make(i) for i in range(100, 104)])
    for name in ("manifest.json", "briefing.json"):
        (folder / name).write_text(json.dumps({"prompt_version": prompts.PROMPT_VERSION}))
    return folder


def test_a_four_task_mixture_draws_each_task_in_its_share():
    pools = {"codesearchnet": list(range(400)), "commitpackft": list(range(1000, 1300)),
             "change_kind": list(range(2000, 3000)), "user_note": list(range(5000, 5100))}
    mixture = Mixture.parse("csn=0.4,commit=0.2,kind=0.3,note=0.1", seed=1)
    assert mixture.parts == (("codesearchnet", 0.4), ("commitpackft", 0.2), ("change_kind", 0.3), ("user_note", 0.1))
    stream = mixture.draw(pools)

    def task(item: int) -> str:
        return next(name for name, pool in pools.items() if item in pool)

    # The notes are scarcest for their share (100 / 0.1 = 1000 drawn in all), and every share is exact.
    assert Counter(map(task, stream)) == {"codesearchnet": 400, "commitpackft": 200, "change_kind": 300, "user_note": 100}
    assert Counter(map(task, Mixture.parse(FOUR, size=2000).draw(pools))) == {
        "codesearchnet": 500, "commitpackft": 500, "change_kind": 500, "user_note": 500}  # notes repeat, asked for
    assert Mixture.parse(FOUR).spec() == "codesearchnet=0.25,commitpackft=0.25,change_kind=0.25,user_note=0.25"


@pytest.mark.parametrize("text, message", [
    ("csn=0.5,review=0.5", "--mix takes TASK=SHARE"),
    ("csn=0.5,kind", "--mix takes TASK=SHARE"),
    ("csn=half,kind=0.5", "is not a share"),
    ("csn=0.5,kind=0.6", "sum to 1"),
    ("csn=0.5,codesearchnet=0.5", "each task once"),
])
def test_a_bad_mix_is_one_line(text, message):
    with pytest.raises(DataError, match=message):
        Mixture.parse(text)


def test_the_cli_refuses_a_bad_mix_before_any_work(tmp_path, capsys):
    from training.__main__ import main

    code = main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--mix", "csn=0.5,kind=0.6"])
    assert code == 1
    assert "sum to 1" in capsys.readouterr().err


def test_a_four_task_run_trains_every_task_and_reports_validation_ce_for_each(wide_tiny_base, four_tasks, tmp_path):
    result = train(config(four_tasks, tmp_path / "adapter", wide_tiny_base, tmp_path / "runs.db", mix=FOUR, max_steps=12,
                          eval_every=6), progress=False)
    assert result.mix["drawn"] == {"codesearchnet": 12, "commitpackft": 12, "change_kind": 12, "user_note": 12}
    assert result.mix["prompt_version"] == prompts.PROMPT_VERSION
    assert set(result.evaluation) == {"codesearchnet", "commitpackft", "change_kind", "user_note"}
    from training.runs import RunLog

    run = RunLog(f"sqlite:///{tmp_path / 'runs.db'}").get_run(result.run_id)
    assert run.config["mix"] == "codesearchnet=0.25,commitpackft=0.25,change_kind=0.25,user_note=0.25"
    for task in result.evaluation:
        assert run.final[task]["ce"] < run.baseline[task]["ce"], task  # step 0 is the base model


def test_the_ratio_still_mixes_the_two_prepared_tasks_and_validates_all_present(wide_tiny_base, four_tasks, tmp_path):
    result = train(config(four_tasks, tmp_path / "adapter", wide_tiny_base, tmp_path / "runs.db", ratio=0.5, max_steps=2),
                   progress=False)
    assert result.mix["drawn"] == {"codesearchnet": 12, "commitpackft": 12}
    assert set(result.evaluation) == {"codesearchnet", "commitpackft", "change_kind", "user_note"}


def test_briefing_data_prepared_with_other_prompts_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"prompt_version": prompts.PROMPT_VERSION}))
    assert check_prompt_version(tmp_path) == prompts.PROMPT_VERSION
    (tmp_path / "briefing.json").write_text(json.dumps({"prompt_version": "2020-01-01.1"}))
    with pytest.raises(DataError, match="run python -m training prepare-briefing again"):
        check_prompt_version(tmp_path)


def test_an_even_sample_takes_every_repository_in_turn():
    examples = [kind_example(i, "a/one") for i in range(10)] + [kind_example(i, "b/two") for i in range(3)] \
        + [kind_example(i, "c/three") for i in range(5)]
    picked = even_sample(examples, 9, seed=0)
    assert Counter(e.source.split(":")[1] for e in picked) == {"a/one": 3, "b/two": 3, "c/three": 3}
    assert even_sample(examples, 9, seed=0) == picked
    assert Counter(e.source.split(":")[1] for e in even_sample(examples, 12)) == {"a/one": 5, "b/two": 3, "c/three": 4}
    assert even_sample(examples, None) == examples


def test_evaluate_measures_all_four_tasks_of_a_data_folder(wide_tiny_base, tmp_path, capsys):
    from training.__main__ import main

    data = tmp_path / "data"
    write_examples(data / "codesearchnet" / "val.jsonl", [code_example(i) for i in range(4)])
    write_examples(data / "change_kind" / "val.jsonl", [kind_example(i, "a/one") for i in range(4)]
                   + [kind_example(i, "b/two") for i in range(4)])
    write_examples(data / "user_note" / "val.jsonl", [note_example(i) for i in range(3)])
    code = main(["evaluate", "--adapter", "none", "--base", wide_tiny_base, "--data", str(data), "--split", "val",
                 "--limit", "2", "--quant", "none", "--device", "cpu", "--threads", "1", "--json"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert {task: r["examples"] for task, r in results.items()} == {"codesearchnet": 2, "change_kind": 2, "user_note": 2}
