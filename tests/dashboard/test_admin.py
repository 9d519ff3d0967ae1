"""The Admin page and ``training.launch``: the password lock, launching, watching and cancelling a
run, Table 1 and the charts, comparing runs, and making an adapter the one narration uses.

The dashboard runs in-process with Streamlit's AppTest (fake model unless a test needs adapters to
matter). Narration workers are replaced by a no-op; a launched training worker is either a harmless
``sleep`` (to watch and cancel) or, in one test, the real worker function run in this process on a
tiny model built here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from dashboard import auth, shared
from dashboard.wording import STALE_NOTE, plain
from db.jobs import pid_alive
from narrator.model import prompts
from narrator.model.backends import describe
from narrator.model.transformers_backend import adapter_id
from narrator.pipeline import jobs
from narrator.service.core import NarratorService
from narrator.settings import ROOT, load_settings
from tests.helpers.dashboard import APP, no_worker
from tests.helpers.tiny_model import build_tiny_model
from training import launch as training_launch
from training.run_views import total_steps
from training.runs import RunLog
from training.launch import TrainingService, main

pytestmark = pytest.mark.usefixtures("one_thread")  # see tests/conftest.py

ADMIN = "app_pages/admin.py"
PASSWORD = "correct horse battery staple"
EVIL = "<script>alert(1)</script> **bold** [link](http://example.com)"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("CODE_NARRATOR_HOME", str(folder))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", "fake")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CODE_NARRATOR_ADMIN_PASSWORD", PASSWORD)
    for name in ("CODE_NARRATOR_DB", "CODE_NARRATOR_ADAPTER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    monkeypatch.setattr(auth, "WRONG_PASSWORD_DELAY", 0.2)
    return folder


def admin(password: str | None = None) -> AppTest:
    """The dashboard switched to the Admin page, unlocked with ``password`` when given."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(ADMIN).run()
    if password is not None:
        at.text_input(key="admin_password").input(password)
        at.main.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def main_widgets(at: AppTest) -> dict[str, list]:
    kinds = ("text_input", "text_area", "number_input", "selectbox", "multiselect", "slider", "button",
             "dataframe", "tabs")
    return {kind: list(getattr(at.main, kind)) for kind in kinds if len(getattr(at.main, kind))}


def shown(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "error", "warning", "info", "success")
    return [e.value for kind in kinds for e in getattr(at.main, kind)]


def fake_adapter(folder: Path, weights: bytes) -> Path:
    """A folder that looks like a saved peft adapter (only its weights' bytes matter here)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text("{}")
    (folder / "adapter_model.safetensors").write_bytes(weights)
    return folder


def record_run(log: RunLog, name: str, out: Path, evals: dict[int, dict[str, float]], *, ratio=0.5,
               optimizer="adagrad", status="done", error=None) -> int:
    """A finished run with validation CE per step and task, as the trainer would have logged it."""
    run_id = log.create_run({"out": str(out), "ratio": ratio, "optimizer": optimizer, "learning_rate": 2e-4,
                             "batch_size": 4, "epochs": 1, "max_steps": max(evals)}, {}, name=name)
    for step, tasks in sorted(evals.items()):
        if step:
            log.log_step(run_id, step, loss=min(tasks.values()), tokens=100, seconds=0.5)
        for task, ce in tasks.items():
            log.log_eval(run_id, step, task, ce, float(torch.tensor(ce).exp()), examples=8)
    log.finish(run_id, status, error)
    return run_id


# --- the password ---------------------------------------------------------------------------


def test_password_hash_is_salted_and_checked(tmp_path):
    first, second = auth.hash_password("s3cret"), auth.hash_password("s3cret")
    assert first["salt"] != second["salt"] and first["hash"] != second["hash"]
    assert auth.matches("s3cret", first) and not auth.matches("s3cret!", first) and not auth.matches("", first)
    # The variable wins over a stored hash, and changing it re-hashes; the file never holds it.
    assert auth.ensure_password(tmp_path, "one") is None and auth.check(tmp_path, "one")
    assert auth.ensure_password(tmp_path, "two") is None and auth.check(tmp_path, "two") and not auth.check(tmp_path, "one")
    assert "two" not in auth.password_file(tmp_path).read_text()
    assert auth.password_file(tmp_path).stat().st_mode & 0o777 == 0o600


def test_admin_page_is_locked_until_the_right_password(home):
    at = admin()
    widgets = {kind: [w.label if kind == "button" else w.key for w in found] for kind, found in main_widgets(at).items()}
    assert widgets == {"text_input": ["admin_password"], "button": ["Unlock"]}, "only the password box while locked"
    assert not at.main.get("plotly_chart") and not at.main.header

    started = time.monotonic()
    at.text_input(key="admin_password").input("wrong guess")
    at.main.form_submit_button[0].click().run()
    assert time.monotonic() - started >= 0.2, "a wrong password waits before answering"
    assert [e.value for e in at.main.error] == ["Wrong password."]
    assert [w.key for w in at.main.text_input] == ["admin_password"] and not at.main.tabs
    assert at.text_input(key="admin_password").value == "", "the typed password is not kept"

    at.text_input(key="admin_password").input(PASSWORD)
    at.main.form_submit_button[0].click().run()
    assert not at.main.error
    assert [t.label for t in at.main.tabs] == ["Train", "Runs", "Compare", "Adapters"]
    assert {"admin_run_name", "admin_csn"} <= {w.key for w in [*at.main.text_input, *at.main.text_area]}
    assert at.selectbox(key="admin_optimizer").value == "adagrad" and at.number_input(key="admin_batch_size").value == 4
    assert "Start training" in [b.label for b in at.main.form_submit_button]
    stored = json.loads((home / "admin.json").read_text())
    assert stored["scheme"] == "scrypt" and PASSWORD not in json.dumps(stored)

    at.button(key="admin_lock").click().run()
    assert not at.main.tabs and [w.key for w in at.main.text_input] == ["admin_password"]


def test_first_start_makes_up_a_password_and_prints_it_once(home, monkeypatch, capsys):
    monkeypatch.delenv("CODE_NARRATOR_ADMIN_PASSWORD")
    admin()
    printed = re.findall(r"admin password .*: (\S+)$", capsys.readouterr().out, re.MULTILINE)
    assert len(printed) == 1
    password = printed[0]
    stored = (home / "admin.json").read_text()
    assert password not in stored and auth.matches(password, json.loads(stored))

    at = admin(password)  # a second start (and any rerun) prints nothing
    assert "admin password" not in capsys.readouterr().out
    assert at.main.tabs and not at.main.error
    assert auth.ensure_password(home) is None, "a new process finds the hash and makes up nothing"


def test_the_eleventh_fast_guess_is_refused_even_when_right_until_the_lock_ends(tmp_path):
    auth.ensure_password(tmp_path, PASSWORD)
    start = 1_000_000.0  # a made-up clock: nothing here sleeps
    assert [auth.check(tmp_path, f"guess {i}", now=start + i) for i in range(auth.MAX_FAILURES)] == [False] * 10
    with pytest.raises(auth.LockedOut, match=r"Too many wrong passwords.*Try again in 51 s") as refused:
        auth.check(tmp_path, PASSWORD, now=start + 18)
    assert refused.value.until == start + 9 + auth.LOCK_SECONDS
    with pytest.raises(auth.LockedOut):
        auth.check(tmp_path, PASSWORD, now=start + 9 + auth.LOCK_SECONDS - 1)
    assert auth.check(tmp_path, PASSWORD, now=start + 9 + auth.LOCK_SECONDS)

    # The right password cleared the count: nine more wrong ones and the right one are all answered.
    later = start + 1000
    assert not any(auth.check(tmp_path, "nope", now=later + i) for i in range(9))
    assert auth.check(tmp_path, PASSWORD, now=later + 9)


def test_bursts_of_nine_wrong_passwords_far_apart_still_lock_at_the_tenth_in_a_row(tmp_path):
    auth.ensure_password(tmp_path, PASSWORD)
    start = 1_000_000.0
    assert not any(auth.check(tmp_path, f"guess {i}", now=start + i) for i in range(9))
    later = start + 16 * 60  # past the 15 minutes after which the count used to start again
    assert not auth.check(tmp_path, "guess 9", now=later)  # the tenth wrong in a row locks
    for guess in ("guess 10", PASSWORD):
        with pytest.raises(auth.LockedOut) as refused:
            auth.check(tmp_path, guess, now=later + 1)
        assert refused.value.until == later + auth.LOCK_SECONDS
    # A day apart: still in a row, so ten more wrong ones lock again, twice as long.
    now = later + auth.LOCK_SECONDS
    assert not any(auth.check(tmp_path, "nope", now=now + day * 86400) for day in range(10))
    with pytest.raises(auth.LockedOut) as refused:
        auth.check(tmp_path, PASSWORD, now=now + 9 * 86400 + 1)
    assert refused.value.until == now + 9 * 86400 + 2 * auth.LOCK_SECONDS


def test_each_further_lock_lasts_longer(tmp_path):
    auth.ensure_password(tmp_path, PASSWORD)
    now = 2_000_000.0
    for lock in (auth.LOCK_SECONDS, 2 * auth.LOCK_SECONDS, 4 * auth.LOCK_SECONDS):
        for _ in range(auth.MAX_FAILURES):
            assert not auth.check(tmp_path, "nope", now=now)
        with pytest.raises(auth.LockedOut) as refused:
            auth.check(tmp_path, PASSWORD, now=now + lock - 1)
        assert refused.value.until == now + lock
        now += lock
    stored = json.loads(auth.attempts_file(tmp_path).read_text())
    assert PASSWORD not in json.dumps(stored) and auth.attempts_file(tmp_path).stat().st_mode & 0o777 == 0o600


def _guess_wrong(home: str, guesses: int, go, answers) -> None:
    """One "browser session" in its own process: ``guesses`` wrong passwords as fast as it can."""
    go.wait()
    seen = []
    for i in range(guesses):
        try:
            seen.append("right" if auth.check(Path(home), f"wrong {os.getpid()} {i}") else "wrong")
        except auth.LockedOut:
            seen.append("locked")
    answers.put(seen)


def test_parallel_processes_share_one_count_of_wrong_passwords(tmp_path):
    import multiprocessing

    auth.ensure_password(tmp_path, PASSWORD)
    context = multiprocessing.get_context("fork")  # the children only hash and lock files
    go, answers = context.Event(), context.Queue()
    workers = [context.Process(target=_guess_wrong, args=(str(tmp_path), 5, go, answers)) for _ in range(4)]
    for worker in workers:
        worker.start()
    go.set()
    seen = [answer for _ in workers for answer in answers.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(seen) == ["locked"] * 10 + ["wrong"] * 10, "20 guesses in 4 processes: 10 answered, 10 refused"
    with pytest.raises(auth.LockedOut):
        auth.check(tmp_path, PASSWORD)


def test_the_admin_page_says_when_it_is_locked(home):
    auth.ensure_password(home, PASSWORD)
    for _ in range(auth.MAX_FAILURES):
        auth.check(home, "someone else's guess")
    at = admin(PASSWORD)
    assert not at.main.tabs, "even the right password is refused while locked"
    errors = [e.value for e in at.main.error]
    assert len(errors) == 1 and errors[0].startswith("Too many wrong passwords") and "Try again in" in errors[0]
    assert [w.key for w in at.main.text_input] == ["admin_password"]


# --- launching, watching, cancelling --------------------------------------------------------


def test_launch_records_the_run_and_cancel_ends_its_process_group(home, tmp_path, monkeypatch):
    commands, real_command = [], training_launch.worker_command

    def sleeper(run_id: int) -> list[str]:
        commands.append(real_command(run_id))
        return ["sleep", "60"]  # started by the real jobs.spawn: own session, log file, pid recorded

    monkeypatch.setattr(training_launch, "worker_command", sleeper)
    csn = tmp_path / "csn" / "python.jsonl"
    csn.parent.mkdir()
    csn.write_text("{}\n")

    at = admin(PASSWORD)
    at.text_input(key="admin_run_name").input("ratio-70")
    at.text_area(key="admin_csn").input(str(csn.parent))
    at.multiselect(key="admin_repos").set_value([at.multiselect(key="admin_repos").options[0]])
    at.selectbox(key="admin_optimizer").set_value("adamw")
    at.number_input(key="admin_learning_rate").set_value(1e-3)
    at.number_input(key="admin_batch_size").set_value(2)
    at.number_input(key="admin_max_steps").set_value(30)
    at.slider(key="admin_ratio").set_value(0.7)
    next(b for b in at.main.form_submit_button if b.label == "Start training").click().run()
    assert not at.main.error, [e.value for e in at.main.error]
    assert any(plain("Started ratio-70") in s for s in shown(at)), shown(at)

    training = TrainingService(load_settings())
    [run] = training.runs()
    assert run.name == "ratio-70" and run.status == "queued" and run.active, "queued until the worker starts"
    folder = home / "training" / "ratio-70"
    assert commands == [[sys.executable, "-m", "training.launch", str(run.id)]]
    assert {k: run.config[k] for k in ("optimizer", "learning_rate", "batch_size", "max_steps", "ratio")} \
        == {"optimizer": "adamw", "learning_rate": 1e-3, "batch_size": 2, "max_steps": 30, "ratio": 0.7}
    assert run.config["data"] == str(folder / "data") and run.config["out"] == str(folder / "adapter")
    assert run.sources == [f"mine:{Path(APP).parents[1]}", f"csn:{csn.parent}"]
    pid = training.store.get_job(run.job_id).pid
    assert training.store.get_job(run.job_id).kind == "train"
    assert pid != os.getpid() and pid_alive(pid) and os.getpgid(pid) == pid
    assert (home / "logs" / f"training-{run.id}.log").is_file()

    [bar] = at.main.get("progress")
    assert bar.proto.text == plain("ratio-70: Preparing the data")
    progress = training.progress(run.id)
    assert (progress.phase, progress.total_steps, progress.eta_seconds) == ("Preparing the data", 30, None)

    at.button(key=f"admin_cancel_{run.id}").click().run()
    assert not pid_alive(pid), "the worker's process group was terminated"
    cancelled = training.run(run.id)
    assert cancelled.status == "cancelled" and cancelled.error == "Cancelled by the admin at step 0."
    at.run()
    assert not at.main.get("progress") and any("No run is training now." in s for s in shown(at))


def test_bad_launch_input_gives_one_line_and_no_run(home):
    at = admin(PASSWORD)
    at.text_area(key="admin_csn").input("/no/such/file.jsonl")
    next(b for b in at.main.form_submit_button if b.label == "Start training").click().run()
    assert [e.value for e in at.main.error] == [plain("No such file or folder: /no/such/file.jsonl")]
    assert TrainingService(load_settings()).runs() == []
    with pytest.raises(Exception, match="Name the run"):
        TrainingService(load_settings()).start("../escape", ["csn:hub"])


def test_a_second_start_while_a_run_is_active_is_one_error_box_and_no_run(home, tmp_path):
    training = TrainingService(load_settings())
    running = training.store.create_training_run("running", {}, pid=os.getpid())
    csn = tmp_path / "python.jsonl"
    csn.write_text("{}\n")
    at = admin(PASSWORD)
    at.text_input(key="admin_run_name").input("second")
    at.text_area(key="admin_csn").input(str(csn))
    next(b for b in at.main.form_submit_button if b.label == "Start training").click().run()
    assert [e.value for e in at.main.error] == [plain(
        f"A training run is already running (run {running}); wait for it or cancel it on the Admin page.")]
    assert [r.name for r in training.runs()] == ["running"]
    assert not (home / "training" / "second").exists()


def test_dead_worker_shows_as_interrupted_and_progress_has_an_eta(home):
    settings = load_settings()
    training = TrainingService(settings)
    config, mix = {"batch_size": 2, "epochs": 1, "max_steps": None}, {"drawn": {"codesearchnet": 10, "commitpackft": 10}}
    run_id = training.log.create_run(config, mix, name="x")
    for step in (1, 2, 3):
        training.log.log_step(run_id, step, 2.0, 50, seconds=2.0)
    assert total_steps(config, mix) == 10 and total_steps({**config, "max_steps": 4}, mix) == 4
    progress = training.progress(run_id)
    assert (progress.phase, progress.total_steps, progress.seconds_per_step) == ("Training", 10, 2.0)
    assert progress.eta_seconds == 14.0, "7 steps left at 2 s each"
    assert progress.fraction == pytest.approx(0.3)

    finished = subprocess.Popen(["true"])
    finished.wait()
    training.store.update_job(training.log.job_id(run_id), pid=finished.pid)
    run = training.run(run_id)
    assert run.status == "interrupted" and "ended at step 3 without finishing" in run.error


# --- results ----------------------------------------------------------------------------------


def test_table1_charts_and_comparison_come_from_the_recorded_metrics(home, tmp_path):
    log = RunLog(load_settings().db_url)
    first = record_run(log, "ratio-50", fake_adapter(tmp_path / "a" / "adapter", b"A"),
                       {0: {"codesearchnet": 2.0, "commitpackft": 2.5}, 50: {"codesearchnet": 1.8, "commitpackft": 2.2},
                        100: {"codesearchnet": 1.6, "commitpackft": 2.0}})
    second = record_run(log, "ratio-70", tmp_path / "b" / "adapter", {0: {"codesearchnet": 2.0, "commitpackft": 2.5},
                                                                      100: {"codesearchnet": 1.5, "commitpackft": 2.1}},
                        ratio=0.7, optimizer="adamw")
    broken = record_run(log, EVIL, tmp_path / "c", {0: {"codesearchnet": 2.0}}, status="failed", error=EVIL)

    (home / "study").mkdir(parents=True)
    (home / "study" / "results.json").write_text("[]")  # no study in home (not the committed one): only the runs' charts
    training = TrainingService(load_settings())
    table = training.table1(first)
    assert [r["Dataset"] for r in table] == ["CodeSearchNet", "CommitPackFT"]
    assert table[0]["Baseline CE"] == 2.0 and table[0]["Tuned CE"] == 1.6
    assert table[0]["Tuned PPL"] == pytest.approx(float(torch.tensor(1.6).exp()))
    assert table[0]["CE reduction %"] == pytest.approx(20.0) and table[1]["CE reduction %"] == pytest.approx(20.0)

    at = admin(PASSWORD)
    # The newest run is chosen first: its name and error are untrusted text, shown literally.
    assert plain(EVIL) in [e.value for e in at.main.error]
    assert not any("<script>" in s or "**bold**" in s for s in shown(at))
    at.selectbox(key="admin_run").set_value(first).run()
    table_frame = next(f.value for f in at.main.dataframe if "Dataset" in f.value.columns)
    assert list(table_frame["Dataset"]) == ["CodeSearchNet", "CommitPackFT"]
    assert list(table_frame["Tuned CE"]) == [1.6, 2.0]
    charts = [json.loads(c.proto.spec) for c in at.main.get("plotly_chart")]
    assert [[t["name"] for t in c["data"]] for c in charts] == [["CodeSearchNet", "CommitPackFT"]] * 2
    assert charts[0]["data"][0]["x"] == [0, 50, 100] and charts[0]["data"][0]["y"] == [2.0, 1.8, 1.6]
    assert charts[1]["layout"]["yaxis"]["title"]["text"] == "PPL"

    at.multiselect(key="admin_compare").set_value([first, second]).run()
    frame = at.main.dataframe[-1].value
    assert list(frame["Run"]) == ["ratio-50", "ratio-70"] and list(frame["Ratio"]) == [0.5, 0.7]
    assert list(frame["Optimizer"]) == ["adagrad", "adamw"] and list(frame["Steps"]) == [100, 100]
    assert list(frame["CodeSearchNet CE"]) == [1.6, 1.5]
    overlay = json.loads(at.main.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in overlay["data"]] == ["ratio-50 · CodeSearchNet", "ratio-50 · CommitPackFT",
                                                    "ratio-70 · CodeSearchNet", "ratio-70 · CommitPackFT"]
    # Only a finished run whose adapter was saved can be made active.
    activate_buttons = {b.key for b in at.main.button if b.key and b.key.startswith("admin_activate_")}
    assert activate_buttons == {f"admin_activate_{first}"}
    assert broken not in {r.id for r in training.runs() if r.adapter}


def test_a_cocktail_study_in_home_is_shown_as_a_table_and_grouped_bars(home):
    def task(ce):
        return {"ce": ce, "ppl": float(torch.tensor(ce).exp()), "ce_ci": [ce - 0.1, ce + 0.1], "per_language": {}}

    results = [{"name": "base", "ratio": None, "optimizer": None, "lr": None, "steps": 0, "seconds": 1.0,
                "codesearchnet": task(3.0), "commitpackft": task(3.2), "bleu": None},
               {"name": EVIL, "ratio": 0.5, "optimizer": "adagrad", "lr": 2e-4, "steps": 2, "seconds": 1.0,
                "codesearchnet": task(2.0), "commitpackft": task(2.4), "bleu": 11.5}]
    committed = ROOT / "training" / "study_results" / "results.json"  # the study this checkout ships, until home has one
    assert any(text.startswith(plain(f"From {committed}. On these numbers")) for text in shown(admin(PASSWORD)))
    (home / "study").mkdir(parents=True)
    (home / "study" / "results.json").write_text(json.dumps(results))
    at = admin(PASSWORD)
    frame = at.main.dataframe[-1].value
    assert list(frame["run"]) == ["base", EVIL] and list(frame["BLEU"]) == ["—", "11.50"]
    assert list(frame["CSN CE [CI]"]) == ["3.000 [2.900, 3.100]", "2.000 [1.900, 2.100]"]
    bars = json.loads(at.main.get("plotly_chart")[-1].proto.spec)
    assert [t["name"] for t in bars["data"]] == ["CodeSearchNet", "CommitPackFT"]
    assert bars["data"][1]["y"] == [3.2, 2.4] and bars["layout"]["barmode"] == "group"
    assert any("On these numbers" in text and plain(str(home)) in text for text in shown(at))
    assert any(text.startswith(plain("Ship the winner: No shipped adapter was measured")) for text in shown(at))
    assert not any("<script>" in text for text in shown(at))

    (home / "study" / "results.json").write_text("not json")
    assert any(plain("is not a study's results") in text for text in shown(admin(PASSWORD)))


def test_the_model_tasks_table_shows_each_tasks_measurement_and_its_setting(home, tmp_path, monkeypatch):
    def table(at):
        return next(frame.value for frame in at.main.dataframe if "shown by default" in frame.value.columns)

    frame = table(admin(PASSWORD))  # the fake model: nothing measured, nothing shown by default
    assert list(frame["task"]) == ["Kind of change", "Note for users", "Headline for a change whose subject says nothing",
                                   "Summary of code without its own description", "Sentence under an informative subject"]
    assert set(frame["metric"]) == {"not measured: not shown by default"} and set(frame["shown by default"]) == {"no"}
    assert list(frame["setting"]) == ["CODE_NARRATOR_MODEL_KINDS=auto", "CODE_NARRATOR_MODEL_NOTES=auto",
                                      "CODE_NARRATOR_MODEL_HEADLINES=auto", "CODE_NARRATOR_MODEL_SUMMARIES=auto",
                                      "CODE_NARRATOR_MODEL_EXPLANATIONS=auto"]

    adapter = fake_adapter(tmp_path / "adapter", b"w")
    (adapter / "evaluation.json").write_text(json.dumps({"tasks": {"change_kind": {
        "title": "Kind of change", "metric": "accuracy on 5 held-out repositories", "model": 0.52, "replaced": 0.45,
        "replaced_by": "the rules", "difference_ci95": [0.03, 0.1], "shown_by_default": True}}}))
    monkeypatch.setenv("CODE_NARRATOR_MODEL", str(tmp_path / "base-model"))  # a local model, never loaded here
    monkeypatch.setenv("CODE_NARRATOR_ADAPTER", str(adapter))
    monkeypatch.setenv("CODE_NARRATOR_MODEL_HEADLINES", "on")
    frame = table(admin(PASSWORD))
    kind, note, headline, _summary, _explanation = frame.to_dict("records")
    assert kind == {"task": "Kind of change", "metric": "accuracy on 5 held-out repositories", "model": "0.520",
                    "what it replaces": "the rules: 0.450", "shown by default": "yes",
                    "setting": "CODE_NARRATOR_MODEL_KINDS=auto"}
    assert (note["metric"], note["shown by default"]) == ("not measured: not shown by default", "no")
    assert headline["setting"] == "CODE_NARRATOR_MODEL_HEADLINES=on"


# --- the adapter narration uses -----------------------------------------------------------------


def test_activating_an_adapter_makes_older_narratives_stale(home, tmp_path, monkeypatch):
    # A local model (never loaded here) so that the adapter is part of what made a narrative.
    monkeypatch.setenv("CODE_NARRATOR_MODEL", str(tmp_path / "base-model"))
    old, new = fake_adapter(tmp_path / "old" / "adapter", b"old"), fake_adapter(tmp_path / "new" / "adapter", b"new")
    from narrator.settings import set_active_adapter

    set_active_adapter(home, old)
    settings = load_settings()
    assert settings.adapter == str(old)
    narrator = NarratorService(settings)
    repo_id = narrator.store.upsert_repository("/somewhere/shop", "shop", "/somewhere/shop", "abc")
    model, adapter = describe(settings)
    narrator.store.put_narrative(key="overview-old", repo_id=repo_id, kind="overview", target="", input_hash="h",
                                 model=model, adapter=adapter, prompt_version=prompts.PROMPT_VERSION,
                                 text="A small web shop.", flags={})
    run_id = record_run(RunLog(settings.db_url), "tuned", new, {0: {"codesearchnet": 2.0}, 10: {"codesearchnet": 1.5}})

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/overview.py").run()  # the Portfolio is the first page
    assert plain("A small web shop.") in [m.value for m in at.main.markdown] and STALE_NOTE not in shown(at)
    before = shared.service()
    assert before is shared.service() and before.adapter == adapter_id(old), "one service per settings"
    at.switch_page(ADMIN).run()
    at.text_input(key="admin_password").input(PASSWORD)
    at.main.form_submit_button[0].click().run()
    assert plain(str(old)) in shown(at) and "Narration uses an adapter from elsewhere." in shown(at)
    at.button(key=f"admin_activate_{run_id}").click().run()
    assert not at.exception
    assert load_settings().adapter == str(new.resolve())
    assert plain(f"Narration now uses the adapter of run #{run_id} tuned (done).") in " ".join(shown(at))
    assert plain(f"#{run_id} tuned (done)") in " ".join(shown(at)) and plain(str(new.resolve())) in shown(at)
    assert at.button(key=f"admin_activate_{run_id}").disabled, "the active adapter's button says so"
    active = TrainingService(load_settings()).active_adapter()
    assert (active.path, active.origin, active.run_id, active.applies) == (str(new.resolve()), "admin", run_id, True)

    # The dashboard's service is keyed by the settings, so the next page builds one with the new adapter.
    after = shared.service()
    assert after is not before and after.adapter == adapter_id(new) and after.overview(repo_id).summary.stale
    at.switch_page("app_pages/overview.py").run()
    assert STALE_NOTE in shown(at)

    with pytest.raises(Exception, match="no adapter_model.safetensors"):
        TrainingService(load_settings()).activate(tmp_path)


# --- the worker, for real, on a tiny model ----------------------------------------------------


@pytest.mark.slow
def test_worker_prepares_and_trains_a_tiny_model_end_to_end(home, tmp_path, monkeypatch):
    base = build_tiny_model(tmp_path / "tiny")
    rows = tmp_path / "rows"
    rows.mkdir()
    (rows / "python.jsonl").write_text("".join(json.dumps({
        "code": f"def total_{i}(cart):\n    return sum(item['price'] * {i} for item in cart)\n",
        "docstring": f"Return the total price of all items in the cart times {i}.", "language": "python",
        "func_name": f"total_{i}", "path": "shop/cart.py"}) + "\n" for i in range(12)))
    (rows / "commits.jsonl").write_text("".join(json.dumps({
        "old_contents": "limit = 1\n", "new_contents": f"limit = {i}\n", "subject": f"Raise the default limit to {i}",
        "lang": "Python", "new_file": "app/config.py"}) + "\n" for i in range(2, 14)))
    monkeypatch.setattr(jobs, "spawn", lambda settings, store, job_id, command, log_name: os.getpid())

    training = TrainingService(load_settings())
    run = training.start("tiny", [f"csn:{rows / 'python.jsonl'}", f"commitpackft:{rows / 'commits.jsonl'}"],
                         {"base": str(base), "max_steps": 2, "batch_size": 2, "eval_every": 0, "eval_examples": 2,
                          "save_every": 0, "quant": "none", "max_length": 128, "threads": 1, "device": "cpu"})
    assert main([str(run.id)]) == 0  # what `python -m training.launch RUN_ID` does, in this process

    done = training.run(run.id)
    assert done.status == "done" and done.step == 2 and done.name == "tiny", done.error
    assert done.adapter == str(home / "training" / "tiny" / "adapter")
    assert done.mix["drawn"] and done.sources == run.sources
    assert (home / "training" / "tiny" / "data" / "manifest.json").is_file()
    assert {r["Dataset"] for r in training.table1(run.id)} == {"CodeSearchNet", "CommitPackFT"}
    assert [m.step for m in training.metrics(run.id, "eval")] == [0, 0, 2, 2]
    assert training.progress(run.id).fraction == 1.0
    assert training.activate(run.id).run_id == run.id
