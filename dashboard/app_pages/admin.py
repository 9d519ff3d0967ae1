"""Admin page: train adapters, watch and compare runs, and choose the adapter narration uses.

Locked: until this browser session enters the admin password (``dashboard.auth``) the page shows
the password box and nothing else. Everything else goes through ``training.launch``, which starts
training in a worker process, so this page never loads torch and returns at once. At the end it
shows the cocktail study: ``<home>/study/results.json`` when a study was run there
(``python -m training study --out <home>/study``), else the one committed in ``training/study_results``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import get_args

import plotly.graph_objects as go
import streamlit as st

from dashboard import auth, shared, signin, widgets
from dashboard.app_pages import admin_accounts
from dashboard.app_pages import admin_repositories
from dashboard.app_pages import admin_subscriptions
from dashboard.wording import plain
from narrator.settings import MODEL_TASK_TITLES, MODEL_TASKS, ROOT, Settings, load_settings
from training.config import OptimizerName, Quant, SchedulerName
from training.run_views import Progress, RunView
from training.launch import TASK_NAMES, TrainingService, train_defaults
from training.study_claims import claims_paragraph, shipping
from training.study_report import load_results, table_rows

settings = shared.service().settings


# ---- the lock ------------------------------------------------------------------------------


def unlock() -> None:
    """Form callback: check the typed password; never keep it in the session."""
    try:
        right = auth.check(settings.home, st.session_state.get("admin_password") or "")
    except auth.LockedOut as refused:  # too many wrong passwords, from any session: say until when
        st.session_state["admin_wrong"] = str(refused)
    else:
        if right:
            st.session_state[auth.UNLOCKED_KEY] = True
        else:
            time.sleep(auth.WRONG_PASSWORD_DELAY)
            st.session_state["admin_wrong"] = "Wrong password."
    st.session_state["admin_password"] = ""


st.title("Admin")
# Signed in (a shared dashboard, or accounts exist): an admin account opens the page, a viewer is refused.
if not signin.admin_gate(st.session_state.get(shared.WHO_KEY, shared.NOBODY)) and not auth.unlocked():
    with st.form("admin_login"):
        st.text_input("Admin password", type="password", key="admin_password")
        st.form_submit_button("Unlock", on_click=unlock)
    wrong = st.session_state.pop("admin_wrong", None)
    if wrong:
        st.error(wrong)
    st.stop()


# ---- small pieces --------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _training_for(home: str, db_url: str, _settings: Settings) -> TrainingService:
    return TrainingService(_settings)


training = _training_for(str(settings.home), settings.db_url, settings)


def notice(kind: str, text: str) -> None:
    st.session_state["admin_notice"] = (kind, text)


def run_label(run: RunView) -> str:
    return f"#{run.id} {run.name} ({run.status})"


def duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '2 h 5 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def progress_text(run: RunView, progress: Progress) -> str:
    parts = [f"{run.name}: {progress.phase or run.status}"]
    if progress.step:
        parts.append(f"step {progress.step}" + (f" of {progress.total_steps}" if progress.total_steps else ""))
    if progress.loss is not None:
        parts.append(f"loss {progress.loss:.3f}")
    if progress.eta_seconds is not None:
        parts.append(f"about {duration(progress.eta_seconds)} left")
    return " · ".join(parts)


def eval_figure(rows: list[dict], metric: str, title: str) -> go.Figure:
    """Validation ``metric`` (``ce`` or ``ppl``) over steps: one line per run and task."""
    runs = {row["run_id"] for row in rows}
    lines: dict[str, list[dict]] = {}
    for row in rows:
        task = TASK_NAMES.get(row["task"], row["task"])
        lines.setdefault(task if len(runs) == 1 else f"{row['run']} · {task}", []).append(row)
    figure = go.Figure()
    for name, points in lines.items():
        figure.add_trace(go.Scatter(name=name, x=[p["step"] for p in points], y=[p[metric] for p in points],
                                    mode="lines+markers"))
    figure.update_layout(title=title, xaxis_title="Step", yaxis_title=metric.upper(), legend_title_text="",
                         margin=dict(l=10, r=10, t=40, b=10), height=320)
    return figure


def study_figure(results: list[dict]) -> go.Figure:
    """Test CE of each study run side by side: one bar per run and task, its 95% interval as error bars."""
    figure = go.Figure()
    for task, name in TASK_NAMES.items():
        measured = [r for r in results if r.get(task)]
        figure.add_trace(go.Bar(name=name, x=[r["name"] for r in measured], y=[r[task]["ce"] for r in measured],
                                error_y=dict(type="data", symmetric=False,
                                             array=[r[task]["ce_ci"][1] - r[task]["ce"] for r in measured],
                                             arrayminus=[r[task]["ce"] - r[task]["ce_ci"][0] for r in measured])))
    figure.update_layout(barmode="group", title="Test cross-entropy per run", yaxis_title="CE", legend_title_text="",
                         margin=dict(l=10, r=10, t=40, b=10), height=360)
    return figure


NUMBERS = {"Baseline CE": "%.3f", "Tuned CE": "%.3f", "Baseline PPL": "%.2f", "Tuned PPL": "%.2f",
           "CE reduction %": "%.1f"}


# ---- callbacks -----------------------------------------------------------------------------


def launch() -> None:
    """Form callback: start a run from the chosen sources and settings."""
    state = st.session_state
    sources = list(state.get("admin_repos") or [])
    for kind, key in (("csn", "admin_csn"), ("commitpackft", "admin_commitpackft")):
        sources += [f"{kind}:{line.strip()}" for line in (state.get(key) or "").splitlines() if line.strip()]
    options = {name: state[f"admin_{name}"] for name in train_defaults()}
    options["max_steps"] = options["max_steps"] or None  # 0 in the form: no limit
    started = {}
    name = state.get("admin_run_name", "")
    error = widgets.guarded(lambda: started.update(run=training.start(name, sources, options)), "Starting training")
    if error:
        notice("error", error)
        return
    notice("success", f"Started {started['run'].name}: preparing the data, then training.")
    state["admin_run_name"] = default_name()


def cancel(run_id: int) -> None:
    error = widgets.guarded(lambda: training.cancel(run_id), "Cancelling")
    if error:
        notice("error", error)
    else:
        notice("info", f"Cancelled run {run_label(training.run(run_id))}.")


def activate(which: int | None) -> None:
    error = widgets.guarded(lambda: training.activate(which), "Changing the adapter")
    if error:
        notice("error", error)
    else:
        what = f"the adapter of run {run_label(training.run(which))}" if which is not None else "the plain model"
        notice("success", f"Narration now uses {what}. "
                          "Narratives written before show as out of date and are redone on demand.")


def default_name() -> str:
    return f"run-{datetime.now():%Y%m%d-%H%M%S}"


# ---- the page ------------------------------------------------------------------------------

lock_col, _ = st.columns([1, 5])
if lock_col.button("Lock", key="admin_lock", help="Hide this page again until the password is entered."):
    st.session_state[auth.UNLOCKED_KEY] = False
    st.rerun()

shown = st.session_state.pop("admin_notice", None)
if shown:
    kind, text = shown
    {"error": st.error, "success": st.success}.get(kind, st.info)(plain(text))

active = training.active_adapter()
if active.run_id is not None:
    st.markdown(f"Narration uses the adapter of run **{plain(run_label(training.run(active.run_id)))}**.")
elif active.path:
    st.markdown("Narration uses the project's own adapter." if active.origin == "shipped"
                else "Narration uses an adapter from elsewhere.")
else:
    st.markdown("Narration uses the plain model, without an adapter.")
if active.path:
    st.caption(plain(active.path))
if active.origin == "environment":
    st.warning("CODE_NARRATOR_ADAPTER is set for this dashboard, so it wins: "
               "an adapter chosen here applies once it is unset.")
if not active.applies:
    st.caption(plain(f"The narration model ({settings.model}) does not take an adapter."))


def _figure(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def model_task_rows(now: Settings) -> list[dict]:
    """One row per model task a manager may be shown (``MODEL_TASKS``): how it was measured on held-out
    repositories (the active adapter's ``evaluation.json``), whether it is shown by default, and the
    setting that overrides that."""
    measured = now.evaluation()
    rows = []
    for task, variable in MODEL_TASKS.items():
        entry = measured.get(task) or {}
        rows.append({
            "task": str(entry.get("title") or MODEL_TASK_TITLES[task]),
            "metric": str(entry.get("metric") or "not measured: not shown by default"),
            "model": _figure(entry.get("model")),
            "what it replaces": (f"{entry.get('replaced_by') or '—'}: {_figure(entry.get('replaced'))}"
                                 if entry else "—"),
            "shown by default": "yes" if entry.get("shown_by_default") is True else "no",
            "setting": f"{variable}={now.shown(task)}",
        })
    return rows


st.subheader("Model tasks")
st.caption("Each model task a manager may be shown, measured on repositories it never saw. Under auto, one is "
           "shown only where it beat what it would replace; on or off overrides that.")
st.dataframe(model_task_rows(load_settings(home=settings.home, db_url=settings.db_url)), hide_index=True,
             key="admin_model_tasks")


def live_runs() -> None:
    """Runs training now, with their progress and a Cancel button (polls while any runs)."""
    running = [r for r in training.runs() if r.active]
    if not running:
        if st.session_state.pop("admin_watching", False):
            st.rerun()  # a run just ended: redraw the whole page so its results show
        st.caption("No run is training now.")
        return
    st.session_state["admin_watching"] = True
    for run in running:
        progress = training.progress(run.id)
        bar, button = st.columns([5, 1], vertical_alignment="center")
        bar.progress(progress.fraction, text=plain(progress_text(run, progress)))
        button.button("Cancel", key=f"admin_cancel_{run.id}", on_click=cancel, args=(run.id,))


runs = training.runs()
by_id = {r.id: r for r in runs}

st.header("Now training")
# Poll every two seconds only while a run trains; when the last one ends the fragment reruns the page.
st.fragment(live_runs, run_every=2 if any(r.active for r in runs) else None)()

train_tab, runs_tab, compare_tab, adapter_tab = st.tabs(["Train", "Runs", "Compare", "Adapters"])

with train_tab:
    defaults = train_defaults()
    st.session_state.setdefault("admin_run_name", default_name())
    for name, value in defaults.items():
        st.session_state.setdefault(f"admin_{name}", 0 if value is None else value)
    repositories = dict((source, name) for name, source in training.repository_sources())
    with st.form("admin_train_form"):
        st.text_input("Run name", key="admin_run_name",
                      help=plain(f"Data and adapter go to {training.runs_dir}/<name>/."))
        st.multiselect("Repositories added to the dashboard", list(repositories), key="admin_repos",
                       format_func=lambda s: repositories.get(s, s),
                       help="Their documented functions and their commits become training examples.")
        left, right = st.columns(2)
        left.text_area("CodeSearchNet files or folders (.jsonl), one per line", key="admin_csn")
        right.text_area("CommitPackFT files or folders (.jsonl), one per line", key="admin_commitpackft")
        a, b, c, d, e = st.columns(5)
        a.selectbox("Optimizer", get_args(OptimizerName), key="admin_optimizer")
        b.selectbox("Schedule", get_args(SchedulerName), key="admin_scheduler")
        c.number_input("Learning rate", min_value=1e-7, max_value=1.0, format="%.1e", step=1e-5,
                       key="admin_learning_rate")
        d.number_input("Batch size", min_value=1, max_value=512, step=1, key="admin_batch_size")
        e.selectbox("Quantization", get_args(Quant), key="admin_quant",
                    help="nf4 = QLoRA (4-bit base, CUDA); auto = nf4 on a GPU, none on CPU")
        a.number_input("Epochs", min_value=1, max_value=100, step=1, key="admin_epochs")
        b.number_input("Most steps (0: no limit)", min_value=0, step=10, key="admin_max_steps")
        c.slider("Share of code → summary examples", 0.0, 1.0, step=0.05, key="admin_ratio",
                 help="The rest of the cocktail is diff → message examples.")
        d.number_input("Evaluate every (steps)", min_value=0, step=10, key="admin_eval_every")
        e.number_input("Validation examples per task", min_value=1, step=10, key="admin_eval_examples")
        st.form_submit_button("Start training", type="primary", on_click=launch)

with runs_tab:
    if not runs:
        st.info("No training runs yet. Start one on the Train tab.")
    else:
        st.dataframe([{"Run": r.id, "Name": r.name, "Status": r.status, "Step": r.step,
                       "Loss": r.last_loss, "Started": r.created_at, "Ended": r.finished_at, "Note": r.error or ""}
                      for r in runs], hide_index=True)
        if st.session_state.get("admin_run") not in by_id:
            st.session_state["admin_run"] = runs[0].id
        chosen = by_id[st.selectbox("Run", list(by_id), key="admin_run", format_func=lambda i: run_label(by_id[i]))]
        if chosen.error:
            (st.warning if chosen.status in ("interrupted", "cancelled") else st.error)(plain(chosen.error))
        config = chosen.config
        st.caption(plain(f"Sources: {', '.join(chosen.sources) or 'a prepared folder'} · ratio {config.get('ratio')} · "
                         f"{config.get('optimizer')} · lr {config.get('learning_rate')} · "
                         f"batch {config.get('batch_size')} · {chosen.step} steps"))
        table = training.table1(chosen.id)
        if table:
            st.subheader("Baseline against tuned")
            tuned_at = max(evaluation["step"] for evaluation in chosen.final.values())
            st.dataframe(table, hide_index=True,
                         column_config={k: st.column_config.NumberColumn(format=f) for k, f in NUMBERS.items()})
            st.caption("On validation data. Baseline: the evaluation before training (the base model). "
                       f"Tuned: the latest evaluation, at step {tuned_at}.")
            evaluations = training.evaluations([chosen.id])
            ce_col, ppl_col = st.columns(2)
            ce_col.plotly_chart(eval_figure(evaluations, "ce", "Cross-entropy"), key="admin_ce_chart")
            ppl_col.plotly_chart(eval_figure(evaluations, "ppl", "Perplexity"), key="admin_ppl_chart")
        else:
            st.caption("No evaluation recorded yet.")
        with st.expander("All settings"):
            st.json(chosen.config)

with compare_tab:
    if len(runs) < 2:
        st.info("Compare runs side by side once there are two or more.")
    else:
        picked = st.multiselect("Runs to compare", list(by_id), key="admin_compare",
                                format_func=lambda i: run_label(by_id[i]))
        if picked:
            rows = training.compare(picked)
            scores = {column for row in rows for column in row if column.endswith(("CE", "%"))}
            st.dataframe(rows, hide_index=True,
                         column_config={c: st.column_config.NumberColumn(format="%.1f" if c.endswith("%") else "%.3f")
                                        for c in scores})
            st.plotly_chart(eval_figure(training.evaluations(picked), "ce", "Validation cross-entropy"),
                            key="admin_compare_chart")

with adapter_tab:
    finished = [r for r in runs if r.adapter]
    if not finished:
        st.info("No finished run has an adapter yet.")
    for run in finished:
        name_col, score_col, button_col = st.columns([3, 3, 1], vertical_alignment="center")
        name_col.markdown(plain(run_label(run)))
        scores = " · ".join(f"{TASK_NAMES.get(task, task)} CE {final['ce']:.3f}" for task, final in run.final.items())
        score_col.caption(plain(scores))
        is_active = active.run_id == run.id
        button_col.button("Active" if is_active else "Make active", key=f"admin_activate_{run.id}",
                          disabled=is_active, on_click=activate, args=(run.id,))
    if active.path:
        st.button("Use the plain model (no adapter)", key="admin_activate_none", on_click=activate, args=(None,))

admin_repositories.section(shared.session_service())
admin_accounts.section(shared.session_service())

# ---- the cocktail study (python -m training study --out <home>/study) -------------------------

STUDY_RESULTS = next((path for path in (settings.home / "study" / "results.json",
                                        ROOT / "training" / "study_results" / "results.json") if path.is_file()), None)
try:
    study = load_results(STUDY_RESULTS) if STUDY_RESULTS else []
except ValueError as bad:
    study = []
    st.warning(plain(str(bad)))
if study:
    st.subheader("Cocktail study")
    st.dataframe(table_rows(study), hide_index=True)
    st.plotly_chart(study_figure(study), key="admin_study_chart")
    st.caption(plain(f"From {STUDY_RESULTS}. " + claims_paragraph(study)))
    st.caption(plain("Ship the winner: " + shipping(study)))

# ---- who gets the briefing (code-narrator send) --------------------------------------------------

admin_subscriptions.section(shared.session_service())
