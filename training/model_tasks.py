"""What each model task a manager may be shown measured on held-out repositories, kept beside the adapter.

``ADAPTER/evaluation.json`` holds one entry per task (``change_kind``, ``user_note``, ``headline``,
``code_summary``, ``explanation``):
its title, the metric, the model's figure, the figure of what it would replace, and whether the
model measurably beats it (``shown_by_default``). Narration shows a model task by default only when
its entry says so (``narrator.settings``), and the Admin page prints the table. The commands that
measure write their entry: ``kind-head``, ``notes --record``, ``headlines --record``, ``summaries --record``
and ``explanations --record``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from db.files import write_atomic
from narrator.settings import EVALUATION_FILE, read_evaluation


def read(adapter: Path) -> dict:
    """The adapter's recorded entries (``{"tasks": {}}`` when none), read as narration reads them."""
    return {"tasks": dict(read_evaluation(adapter))}  # a copy: narration's reading is cached


def record(adapter: Path, task: str, entry: dict) -> dict:
    """Write ``entry`` as ``task``'s, keeping the other tasks' entries; the whole file, as written."""
    data = read(adapter)
    data["tasks"][task] = {**entry, "measured_at": datetime.now(timezone.utc).date().isoformat()}
    write_atomic(adapter / EVALUATION_FILE, json.dumps(data, indent=2) + "\n")
    return data


def kind_entry(report: dict, command: str) -> dict:
    """``change_kind``'s entry from ``kind_head.measure``: accuracy against the developers' own types,
    shown by default when the paired interval of its difference from the rules is above zero."""
    method = report["method"]
    mine, rules = report["methods"][method], report["methods"]["rules"]
    low, high = mine["vs_rules"]["ci95"]
    return {"title": "Kind of change", "metric": f"accuracy against the developers' own types on {report['examples']} "
                                                 f"commits of {report['repositories']} held-out repositories",
            "model": mine["accuracy"], "replaced": rules["accuracy"], "replaced_by": "the rules",
            "difference_ci95": [low, high], "shown_by_default": low > 0, "method": method,
            "per_kind_precision": {kind: m["precision"] for kind, m in mine["per_kind"].items()},
            "examples": report["examples"], "command": command}


def note_entry(report: dict, command: str) -> dict:
    """``user_note``'s entry from ``note_eval.notes_evaluation``: ROUGE-L against the people's notes,
    shown by default when the adapter's lower 95% bound is above the subject's own score."""
    mine, subject = report["adapter"], report["subject"]
    return {"title": "Note for users", "metric": f"ROUGE-L F1 against the developers' own notes on {report['notes']} "
                                                 f"changes of {report['repositories']} held-out repositories",
            "model": round(mine["rouge_l"] / 100, 4), "replaced": round(subject["rouge_l"] / 100, 4),
            "replaced_by": "the change's own subject", "model_ci95": [round(v / 100, 4) for v in mine["rouge_l_ci95"]],
            "shown_by_default": mine["rouge_l_ci95"][0] > subject["rouge_l"], "passes_checks": mine["passes_checks"],
            "examples": report["notes"], "command": command}


def headline_entry(report: dict, command: str) -> dict:
    """``headline``'s entry from ``note_eval.headlines_evaluation``: the share of model headlines that
    pass the checks and say what the developer said. What they replace, a line of git facts (which files
    changed where), states only facts, so it is right every time: the model is shown by default only
    when every one of its headlines was right."""
    mine = report["adapter"]
    return {"title": "Headline for a change whose subject says nothing",
            "metric": f"share that pass the checks and agree with the developer's own subject (ROUGE-L F1 >= "
                      f"{report['agree_at']}) on {report['headlines']} changes of the test split's held-out repositories",
            "model": mine["agrees"], "replaced": 1.0, "replaced_by": "a line of git facts (right by construction)",
            "model_ci95": mine["agrees_ci95"], "shown_by_default": mine["agrees"] >= 1.0,
            "passes_checks": mine["passes_checks"], "examples": report["headlines"], "command": command}


def _base(report: dict) -> dict:
    """The base model's figure beside the adapter's, when it was measured (``--compare``)."""
    base = report.get("base")
    return {"base": base["agrees"], "base_ci95": base["agrees_ci95"]} if isinstance(base, dict) else {}


def summary_entry(report: dict, command: str) -> dict:
    """``code_summary``'s entry from ``sentence_eval.summaries_evaluation``: the share of model summaries of
    code that pass narration's check and say what the developer's docstring says, beside the same share of
    the function's name turned into words (``name_rule``). Without the model a unit with no docstring gets
    no sentence and a file or folder is described by its list of parts, facts right by construction: the
    model is shown by default only when every one of its summaries was right."""
    mine, rule = report["adapter"], report["name_rule"]
    return {"title": "Summary of code without its own description",
            "metric": f"share that pass the checks and agree with the developer's own docstring (ROUGE-L F1 >= "
                      f"{report['agree_at']}) on {report['summaries']} functions of {report['repositories']} held-out repositories",
            "model": mine["agrees"], "replaced": 1.0,
            "replaced_by": "the code's own names and list of parts (right by construction)",
            "model_ci95": mine["agrees_ci95"], "shown_by_default": mine["agrees"] >= 1.0,
            "passes_checks": mine["passes_checks"], "name_rule": rule["agrees"], "name_rule_ci95": rule["agrees_ci95"],
            "examples": report["summaries"], "command": command, **_base(report)}


def explanation_entry(report: dict, command: str) -> dict:
    """``explanation``'s entry from ``sentence_eval.explanations_evaluation``: the share of model sentences
    under an informative subject that pass narration's checks and say what the developer's own first
    sentence says. Without the model the subject stands alone: shown by default only when every one was right."""
    mine = report["adapter"]
    return {"title": "Sentence under an informative subject",
            "metric": f"share that pass the checks and agree with the developer's own first sentence of the body "
                      f"(ROUGE-L F1 >= {report['agree_at']}) on {report['explanations']} commits of "
                      f"{report['repositories']} held-out repositories",
            "model": mine["agrees"], "replaced": 1.0, "replaced_by": "nothing: the subject stands alone (right by construction)",
            "model_ci95": mine["agrees_ci95"], "shown_by_default": mine["agrees"] >= 1.0,
            "passes_checks": mine["passes_checks"], "examples": report["explanations"], "command": command, **_base(report)}
