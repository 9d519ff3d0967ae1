"""The cocktail study's report: the Table-1 rows, the CE chart and the README (``write_report``).

Everything here reads the result dicts of ``training.study`` and is pure except ``write_report``; which
claims held comes from ``training.study_claims``. A four-task study (``four_task``) gets its own table
columns (one per task, change kind's accuracy beside its CE). Nothing here imports torch, so the
dashboard can use it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from db.files import write_atomic
from training.config import shareable_path
from training.study_claims import (
    CONTROLS,
    MIX_SHORT,
    TASK_LABELS,
    TASK_SHORT,
    _ce,
    claims_paragraph,
    four_task,
    shares,
    shipping,
)


# ---- the table and the chart ---------------------------------------------------------------


def mix_text(result: dict) -> str:
    """A four-task result's shares as ``25/25/25/25`` (csn/commit/kind/note), its ratio's for a two-task one."""
    given = shares(result.get("mix")) or ({"codesearchnet": result["ratio"], "commitpackft": 1 - result["ratio"]}
                                          if result.get("ratio") is not None else {})
    return "/".join(f"{round(100 * given.get(task, 0.0))}" for task in MIX_SHORT) if given else "—"


def four_task_rows(results: list[dict]) -> list[dict]:
    """A four-task study's Table 1: run, mix, optimiser, lr, then per task its CE with the 95% interval and
    the change against the base model (change kind also its accuracy); then summary BLEU. Perplexity is
    ``results.json``'s (one column per task keeps the table readable)."""
    base = next((r for r in results if r.get("name") == "base"), None)
    rows = []
    for r in results:
        row = {"run": r["name"], f"mix ({'/'.join(MIX_SHORT.values())})": mix_text(r),
               "optimiser": r["optimizer"] or "—", "lr": "—" if r["lr"] is None else f"{r['lr']:g}"}
        for task, short in TASK_SHORT.items():
            m, b = r.get(task), (base or {}).get(task)
            row[f"{short} CE [CI]"] = _ce(r, task) if m else "—"
            row[f"{short} vs base"] = f"{(m['ce'] - b['ce']) / b['ce']:+.1%}" if m and b and r is not base else "—"
            if task == "change_kind":
                row["Kind accuracy"] = f"{m['accuracy']:.1%}" if m and m.get("accuracy") is not None else "—"
        row["BLEU"] = "—" if r.get("bleu") is None else f"{r['bleu']:.2f}"
        rows.append(row)
    return rows


def table_rows(results: list[dict]) -> list[dict]:
    """One row per result, Table-1 style: run, ratio, optimiser, lr, and per task its CE with the 95%
    interval, the change against the base model and the perplexity; then summary BLEU (a four-task
    study's: ``four_task_rows``)."""
    if four_task(results):
        return four_task_rows(results)
    base = next((r for r in results if r.get("name") == "base"), None)
    rows = []
    for r in results:
        row = {"run": r["name"], "ratio": "—" if r["ratio"] is None else f"{r['ratio']:.2f}",
               "optimiser": r["optimizer"] or "—", "lr": "—" if r["lr"] is None else f"{r['lr']:g}"}
        for task in CONTROLS:
            short, m, b = TASK_SHORT[task], r.get(task), (base or {}).get(task)
            row[f"{short} CE [CI]"] = _ce(r, task) if m else "—"
            row[f"{short} vs base"] = f"{(m['ce'] - b['ce']) / b['ce']:+.1%}" if m and b and r is not base else "—"
            row[f"{short} PPL"] = f"{m['ppl']:.2f}" if m else "—"
        row["BLEU"] = "—" if r.get("bleu") is None else f"{r['bleu']:.2f}"
        rows.append(row)
    return rows


def language_rows(results: list[dict]) -> list[dict]:
    """One row per result: its CE on each task's languages (``results.json`` ``per_language``)."""
    columns = sorted({(task, lang) for r in results for task in TASK_LABELS for lang in (r.get(task) or {})
                      .get("per_language", {})})
    return [{"run": r["name"], **{f"{TASK_SHORT[task]} {lang}":
                                  f"{r[task]['per_language'][lang]['ce']:.3f}"
                                  if lang in (r.get(task) or {}).get("per_language", {}) else "—"
                                  for task, lang in columns}} for r in results]


def markdown_table(results: list[dict], rows: list[dict] | None = None) -> str:
    """``rows`` (default: ``table_rows(results)``) as a Markdown table."""
    rows = table_rows(results) if rows is None else rows
    if not rows:
        return ""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(row[c]) for c in head) + " |" for row in rows]
    return "\n".join(lines)


def ce_chart(results: list[dict], font: str = "Helvetica"):
    """A reportlab Drawing: per run, one bar per task of its CE, with its interval as a whisker."""
    from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
    from reportlab.lib.colors import HexColor

    colours = {"codesearchnet": HexColor("#3b7dd8"), "commitpackft": HexColor("#e08a2c")}
    if four_task(results):
        colours |= {"change_kind": HexColor("#4a9e5c"), "user_note": HexColor("#9b59b6")}
    grey = HexColor("#8a8f98")
    left, bottom, top, slot = 40, 90, 20, 8 + 13 * len(colours)
    width, height = max(300, 60 + 110 * len(colours), left + 10 + slot * len(results)), 300
    drawing = Drawing(width, height)
    highs = [m["ce_ci"][1] for r in results for t in colours if (m := r.get(t))]
    tallest = max([h for h in highs if math.isfinite(h)] or [1.0]) * 1.05
    plot_h = height - bottom - top

    def y(value: float) -> float:
        return bottom + plot_h * max(0.0, value) / tallest

    for tick in range(0, 6):
        value = tallest * tick / 5
        drawing.add(Line(left, y(value), width - 10, y(value), strokeColor=HexColor("#dddddd"), strokeWidth=0.5))
        drawing.add(String(left - 4, y(value) - 3, f"{value:.2f}", fontName=font, fontSize=7, textAnchor="end",
                           fillColor=grey))
    for i, result in enumerate(results):
        x = left + i * slot + 4
        for j, (task, colour) in enumerate(colours.items()):
            m = result.get(task)
            if not m:
                continue
            bx = x + j * 13
            drawing.add(Rect(bx, bottom, 12, y(m["ce"]) - bottom, fillColor=colour, strokeColor=None))
            drawing.add(Line(bx + 6, y(m["ce_ci"][0]), bx + 6, y(m["ce_ci"][1]), strokeColor=HexColor("#333333"),
                             strokeWidth=0.8))
        # Long run names: slanted (60 degrees) so that each ends under its own bars.
        cos, sin = math.cos(math.radians(60)), math.sin(math.radians(60))
        drawing.add(Group(String(0, 0, result["name"][:28], fontName=font, fontSize=6, textAnchor="end"),
                          transform=(cos, sin, -sin, cos, x + 12, bottom - 6)))
    drawing.add(Line(left, bottom, width - 10, bottom, strokeColor=grey, strokeWidth=0.7))
    for j, (task, colour) in enumerate(colours.items()):
        drawing.add(Rect(left + j * 110, height - 12, 8, 8, fillColor=colour, strokeColor=None))
        drawing.add(String(left + j * 110 + 11, height - 11, f"{TASK_LABELS[task]} CE", fontName=font, fontSize=7))
    return drawing


_ABSOLUTE = re.compile(r"(?<![\w.])/[^\s@,`]+")
"""An absolute path inside a setting or a source (``csn:/data/x@test``)."""


def _shown(value: object) -> str:
    """A setting as the committed README shows it: every absolute path relative to the repository."""
    return _ABSOLUTE.sub(lambda m: shareable_path(m[0]), str(value))


def readme(results: list[dict], settings: dict, sources: list[str] | None = None, notes: str = "") -> str:
    """The study folder's README.md: settings, data, Table 1, the chart, the claims, the shipping verdict,
    then ``notes`` (people's reading of the numbers, kept in ``NOTES.md`` beside it) under "Notes"."""
    shared = ", ".join(f"{k} {_shown(v)}" for k, v in settings.items() if v is not None)
    data = ["Data (`python -m training prepare`; `@train`/`@test`: every row of that source in that split, so "
            "the test repositories are never trained on): " + ", ".join(f"`{_shown(s)}`" for s in sources) + ".", ""] \
        if sources else []
    return "\n".join([
        "# Cocktail study", "",
        f"Made by `python -m training study` ({shared}). Cross-entropy (CE, nats per target token) on the "
        "same fixed test examples for every run, with 95% bootstrap intervals over examples; "
        "`results.json` has every example's score as well." + (
            " Change kind is also measured by accuracy: how often the kind the model finds likeliest is the "
            "developer's own (`python -m training kinds` compares it with the rules)." if four_task(results) else ""), "",
        *data,
        markdown_table(results), "",
        "![CE per run and task](ce.svg)", "",
        "CE per language:", "",
        markdown_table(results, language_rows(results)), "",
        claims_paragraph(results), "",
        "**Ship the winner.** " + shipping(results), "",
        *(["## Notes", "", notes.strip(), ""] if notes.strip() else []),
    ])


def write_report(out: Path, results: list[dict], settings: dict) -> None:
    """``out/results.json``, ``out/README.md`` (with ``out/NOTES.md`` when there is one) and ``out/ce.svg``."""
    from narrator.render.charts import svg

    data = Path(str(settings.get("data", "")))
    try:
        sources = list(json.loads((data / "manifest.json").read_text()).get("sources", {})) \
            if (data / "manifest.json").is_file() else None
        briefing = json.loads((data / "briefing.json").read_text()).get("tasks", {}) \
            if four_task(results) and (data / "briefing.json").is_file() else {}
    except (OSError, json.JSONDecodeError):
        sources, briefing = None, {}
    if briefing:  # prepare-briefing's: each task's shared folder, split by repository
        sources = [*(sources or []), *(f"{task}:{about.get('source')} (prepare-briefing, "
                                       f"{sum(len(r) for r in about.get('repositories', {}).values())} repositories)"
                                       for task, about in briefing.items())]
    notes = out / "NOTES.md"
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "results.json", json.dumps(results, indent=2) + "\n")
    write_atomic(out / "ce.svg", svg(ce_chart(results)))
    write_atomic(out / "README.md", readme(results, settings, sources, notes.read_text() if notes.is_file() else ""))


def load_results(path: Path) -> list[dict]:
    """A study's ``results.json`` ([] when there is none); ValueError when it is not one."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        results = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a study's results.json ({exc})") from None
    if not isinstance(results, list) or not all(isinstance(r, dict) and "name" in r for r in results):
        raise ValueError(f"{path} is not a study's results.json (expected a list of runs)")
    return results
