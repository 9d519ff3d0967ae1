"""Which of the cocktail study's claims held, and whether a run should replace the shipped adapter.

Everything here reads the result dicts of ``training.study`` (one per run, plus the base model) and is
pure. A claim holds only where every comparison it makes is separated beyond its 95% bootstrap interval
(the paired interval of the two runs' CE difference on the same examples); a comparison that goes the
other way beyond it makes it "did not hold"; anything else is "not shown". Shipping a run asks more: its
own interval must lie below the shipped adapter's on every task. A four-task study (``four_task``) gets
its own claims (``four_task_claims``). Nothing here imports torch, so the dashboard can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from training.study_rates import DEFAULT_LR, DEFAULT_OPTIMIZER, OTHER_LR, TRANSFER_LRS

TASK_LABELS = {"codesearchnet": "CodeSearchNet", "commitpackft": "CommitPackFT", "change_kind": "change kind",
               "user_note": "note for users"}
"""How the write-up's Table 1 names each task (as ``training.launch.TASK_NAMES``)."""
TASK_SHORT = {"codesearchnet": "CSN", "commitpackft": "CPFT", "change_kind": "Kind", "user_note": "Note"}
"""Each task's name in table headers."""
CONTROLS = {"codesearchnet": 1.0, "commitpackft": 0.0}
"""The single-task control of each task: the ratio that trains on it alone."""
BRIEFING = ("change_kind", "user_note")
"""The briefing's tasks, measured only by a four-task study."""
MIX_SHORT = {"codesearchnet": "csn", "commitpackft": "commit", "change_kind": "kind", "user_note": "note"}
"""Each task's ``--mix`` short name, in the order a mix column lists the shares."""

REFERENCES = ("base", "shipped")
"""Results that are not runs of the grid: the base model and the compared (shipped) adapter."""

Outcome = Literal["better", "worse", "tie"]
Verdict = Literal["held", "did not hold", "not shown", "not measured"]


# ---- finding and comparing runs ------------------------------------------------------------


def four_task(results: list[dict]) -> bool:
    """Whether ``results`` are a four-task study's (a run measured on a briefing task)."""
    return any(r.get(task) for r in results for task in BRIEFING)


def measured_tasks(results: list[dict]) -> list[str]:
    """The tasks a study's table shows: the first two always (as before), the briefing's when measured."""
    return [*CONTROLS, *(task for task in BRIEFING if any(r.get(task) for r in results))]


def shares(mix: str | None) -> dict[str, float]:
    """``{task: share}`` of a run's recorded ``mix`` (``codesearchnet=0.25,...``); {} without one."""
    parts = (item.partition("=") for item in (mix or "").split(",") if item.strip())
    return {name.strip(): float(share) for name, _, share in parts}


def find_mix(results: list[dict], mix: dict[str, float]) -> dict | None:
    """The run of a four-task study trained on ``mix`` (``{task: share}``, tasks left out at 0), or None."""
    def same(run: dict) -> bool:
        given = shares(run.get("mix"))
        return bool(given) and all(math.isclose(given.get(t, 0.0), mix.get(t, 0.0)) for t in {*given, *mix})

    return next((r for r in results if r.get("name") not in REFERENCES and same(r)), None)


def find(results: list[dict], ratio: float, optimizer: str | None = None, lr: float | None = None) -> dict | None:
    """The result of the run with ``ratio`` (and ``optimizer``/``lr`` when given), or None."""
    for result in results:
        if result.get("ratio") is None or result.get("name") in REFERENCES:
            continue
        if (math.isclose(result["ratio"], ratio) and (optimizer is None or result["optimizer"] == optimizer)
                and (lr is None or math.isclose(result["lr"], lr))):
            return result
    return None


def paired_difference(a: dict, b: dict, task: str) -> tuple[float, float, float] | None:
    """CE of ``a`` minus CE of ``b`` on ``task`` and its 95% paired bootstrap interval, or None.

    Paired: both were scored on the same examples (the study's fixed sample), so each resample draws
    the same examples for both and example difficulty cancels out. None unless both results carry
    per-example ``scores`` of the same examples (same count and target tokens).
    """
    sa, sb = (a.get(task) or {}).get("scores"), (b.get(task) or {}).get("scores")
    if not sa or not sb or len(sa) != len(sb) or any(x[1] != y[1] for x, y in zip(sa, sb)):
        return None
    return _paired(tuple(map(tuple, sa)), tuple(map(tuple, sb)))


@lru_cache(maxsize=1024)
def _paired(sa: tuple[tuple[float, int], ...], sb: tuple[tuple[float, int], ...]) -> tuple[float, float, float] | None:
    """``paired_difference`` of two score lists; cached, since a report (and every Admin page render) asks
    for the same pairs again and each bootstrap takes a fraction of a second in pure Python."""
    from training.bootstrap import bootstrap_ci

    pairs = [((ta - tb) / n, n) for (ta, n), (tb, _) in zip(sa, sb) if n]
    if not pairs:
        return None
    tokens = sum(n for _, n in pairs)
    low, high = bootstrap_ci([d for d, _ in pairs], weights=[n for _, n in pairs])
    return sum(d * n for d, n in pairs) / tokens, low, high


def compare(a: dict, b: dict, task: str, paired: bool = True) -> Outcome | None:
    """Whether run ``a`` has lower CE than run ``b`` on ``task`` beyond the 95% intervals.

    With ``paired`` and per-example scores of the same examples on both (``paired_difference``):
    ``better`` when the interval of a's CE minus b's lies wholly below zero, ``worse`` wholly above,
    ``tie`` when it holds zero. Otherwise (or ``paired=False``), the stricter test of the two runs'
    own intervals: ``better`` when a's lies wholly below b's, ``worse`` wholly above, ``tie`` when
    they overlap. None when either run has no measurement of ``task``.
    """
    ma, mb = a.get(task), b.get(task)
    if not ma or not mb:
        return None
    difference = paired_difference(a, b, task) if paired else None
    if difference is not None:
        _, low, high = difference
        return "better" if high < 0 else "worse" if low > 0 else "tie"
    (a_low, a_high), (b_low, b_high) = ma["ce_ci"], mb["ce_ci"]
    if a_high < b_low:
        return "better"
    if a_low > b_high:
        return "worse"
    return "tie"


def verdict(outcomes: list[Outcome | None]) -> Verdict:
    """A claim's verdict from its comparisons (each from the claim's side: ``better`` supports it)."""
    if not outcomes or any(o is None for o in outcomes):
        return "not measured"
    if any(o == "worse" for o in outcomes):
        return "did not hold"
    return "held" if all(o == "better" for o in outcomes) else "not shown"


def _ce(result: dict, task: str) -> str:
    m = result[task]
    return f"{m['ce']:.3f} [{m['ce_ci'][0]:.3f}, {m['ce_ci'][1]:.3f}]"


def _versus(a: dict, b: dict, task: str, outcome: Outcome) -> str:
    word = {"better": "beat", "worse": "lost to", "tie": "was within the intervals of"}[outcome]
    text = f"{a['name']} {word} {b['name']} on {TASK_LABELS[task]} (CE {_ce(a, task)} vs {_ce(b, task)}"
    difference = paired_difference(a, b, task)
    if difference is not None:
        mean, low, high = difference
        text += f"; paired difference {mean:+.3f} [{low:+.3f}, {high:+.3f}]"
    return text + ")"


@dataclass(frozen=True)
class Claim:
    """One of the write-up's claims and what these numbers say of it."""

    claim: str
    verdict: Verdict
    detail: str
    """The comparisons behind the verdict, in words."""


def _comparisons(claim: str, pairs: list[tuple[dict | None, dict | None, str]]) -> Claim:
    if any(a is None or b is None for a, b, _ in pairs):
        return Claim(claim, "not measured", "the runs it needs are not in these results")
    outcomes = [compare(a, b, task) for a, b, task in pairs]
    if any(o is None for o in outcomes):
        return Claim(claim, "not measured", "a run it needs was not evaluated on both tasks")
    return Claim(claim, verdict(outcomes), "; ".join(_versus(a, b, t, o) for (a, b, t), o in zip(pairs, outcomes)))


def cocktail_claim(results: list[dict], ratio: float = 0.5, optimizer: str | None = None,
                   lr: float | None = None) -> Claim:
    """The cocktail beats each task's single-task control on that task."""
    optimizer, lr = optimizer or DEFAULT_OPTIMIZER, lr or DEFAULT_LR
    cocktail = find(results, ratio, optimizer, lr)
    pairs = [(cocktail, find(results, control, optimizer, lr), task) for task, control in CONTROLS.items()]
    return _comparisons(f"The {round(ratio * 100)}/{round(100 - ratio * 100)} cocktail beats single-task training "
                        "on each task", pairs)


def ratio_claim(results: list[dict]) -> Claim:
    """50/50 beats 40/60 and 70/30 on each task."""
    half = find(results, 0.5, DEFAULT_OPTIMIZER, DEFAULT_LR)
    pairs = [(half, find(results, other, DEFAULT_OPTIMIZER, DEFAULT_LR), task)
             for other in (0.4, 0.7) for task in CONTROLS]
    return _comparisons("50/50 beats 40/60 and 70/30 on each task", pairs)


def optimizer_claim(results: list[dict]) -> Claim:
    """Adagrad beats AdamW on the 50/50 cocktail, at each learning rate, on each task."""
    pairs = [(find(results, 0.5, "adagrad", lr), find(results, 0.5, "adamw", lr), task)
             for lr in (DEFAULT_LR, OTHER_LR) for task in CONTROLS]
    return _comparisons("Adagrad beats AdamW (50/50, constant schedule with warmup)", pairs)


def best_lr(results: list[dict], ratio: float, task: str, lrs: tuple[float, ...]) -> dict | None:
    """The run with the lowest CE on ``task`` among ``ratio``'s runs at ``lrs`` (None if one is missing)."""
    runs = [find(results, ratio, DEFAULT_OPTIMIZER, lr) for lr in lrs]
    if any(run is None or not run.get(task) for run in runs):
        return None
    return min(runs, key=lambda run: run[task]["ce"])


def transfer_claim(results: list[dict]) -> Claim:
    """The learning rate best on CodeSearchNet alone is also the best on CommitPackFT alone.

    Held when both tasks' lowest CE (point estimates) come at the same learning rate. When they do
    not, it did not hold if CommitPackFT trained at CodeSearchNet's best learning rate is worse beyond
    the intervals than at its own best; otherwise (the two overlap) it is not shown.
    """
    claim = "The learning rate best on CodeSearchNet is also best on CommitPackFT"
    csn_ratio, cpft_ratio = CONTROLS["codesearchnet"], CONTROLS["commitpackft"]
    csn = best_lr(results, csn_ratio, "codesearchnet", TRANSFER_LRS)
    cpft = best_lr(results, cpft_ratio, "commitpackft", TRANSFER_LRS)
    if csn is None or cpft is None:
        return Claim(claim, "not measured", "the learning-rate runs it needs are not in these results")
    detail = (f"best on CodeSearchNet alone: lr {csn['lr']:g} (CE {_ce(csn, 'codesearchnet')}); "
              f"best on CommitPackFT alone: lr {cpft['lr']:g} (CE {_ce(cpft, 'commitpackft')})")
    if math.isclose(csn["lr"], cpft["lr"]):
        return Claim(claim, "held", detail + ", by point estimate")
    transferred = find(results, cpft_ratio, DEFAULT_OPTIMIZER, csn["lr"])
    outcome = compare(transferred, cpft, "commitpackft")
    detail += "; " + _versus(transferred, cpft, "commitpackft", outcome)
    return Claim(claim, "did not hold" if outcome == "worse" else "not shown", detail)


QUARTERS = {task: 0.25 for task in MIX_SHORT}
HALF = {"codesearchnet": 0.5, "commitpackft": 0.5}
KIND_HEAVY = {"codesearchnet": 0.2, "commitpackft": 0.2, "change_kind": 0.4, "user_note": 0.2}
NOTE_HEAVY = {"codesearchnet": 0.2, "commitpackft": 0.2, "change_kind": 0.2, "user_note": 0.4}


def four_task_claims(results: list[dict]) -> list[Claim]:
    """A four-task study's claims: equal quarters beat each task alone on it; weighting a briefing task up beats
    equal quarters on it; the two-task 50/50 cocktail beats equal quarters on its own two tasks (what adding
    the briefing tasks costs them)."""
    quarters = find_mix(results, QUARTERS)
    return [
        _comparisons("Equal quarters beat each task trained alone, on that task",
                     [(quarters, find_mix(results, {task: 1.0}), task) for task in MIX_SHORT]),
        _comparisons("Weighting a briefing task up (0.4) beats equal quarters on it",
                     [(find_mix(results, KIND_HEAVY), quarters, "change_kind"),
                      (find_mix(results, NOTE_HEAVY), quarters, "user_note")]),
        _comparisons("Adding the briefing tasks costs the first two (the two-task 50/50 beats equal quarters on each)",
                     [(find_mix(results, HALF), quarters, task) for task in CONTROLS]),
    ]


def claims(results: list[dict]) -> list[Claim]:
    """The write-up's four claims judged on ``results`` (a four-task study's: ``four_task_claims``)."""
    if four_task(results):
        return four_task_claims(results)
    return [cocktail_claim(results), ratio_claim(results), optimizer_claim(results), transfer_claim(results)]


def claims_paragraph(results: list[dict]) -> str:
    """One plain paragraph: each claim, its verdict, and the comparisons behind it."""
    parts = [f"({n}) {c.claim}: {c.verdict} ({c.detail})." for n, c in enumerate(claims(results), 1)]
    return ("On these numbers (mean target-token cross-entropy on the same test examples; a claim holds only "
            "where every comparison it makes is separated beyond its 95% bootstrap interval, the paired interval "
            "of the two runs' difference where both kept per-example scores): " + " ".join(parts))


def _total_ce(result: dict, tasks: list[str] | tuple[str, ...] = tuple(CONTROLS)) -> float:
    """CE summed over ``tasks``: how runs are ranked when one must be picked."""
    return sum(result[task]["ce"] for task in tasks)


def shipping(results: list[dict]) -> str:
    """Which run, if any, beats the shipped adapter on held-out CE on every task beyond the intervals
    (both tasks; all four in a four-task study)."""
    shipped = next((r for r in results if r.get("name") == "shipped"), None)
    if shipped is None:
        return "No shipped adapter was measured (--compare), so no run is judged against it."
    tasks = measured_tasks(results)
    every = "both tasks" if len(tasks) == 2 else f"all {len(tasks)} tasks"
    runs = [r for r in results if r.get("name") not in REFERENCES]
    winners = [r for r in runs if all(compare(r, shipped, task, paired=False) == "better" for task in tasks)]
    if winners:
        best = min(winners, key=lambda r: _total_ce(r, tasks))
        return (f"{best['name']} beat the shipped adapter on {every} beyond both runs' intervals "
                f"({'; '.join(_versus(best, shipped, task, 'better') for task in tasks)}): it is the one to ship.")
    measured = [r for r in runs if all(r.get(task) for task in tasks)]
    closest = min(measured, key=lambda r: _total_ce(r, tasks), default=None)
    # The verdict uses the runs' own intervals; the closest run is described by the paired test, so a
    # run the shipped adapter beats on every example reads "lost to", not "within the intervals of".
    about = f"; the closest, {closest['name']}: " + "; ".join(
        _versus(closest, shipped, task, compare(closest, shipped, task)) if shipped.get(task)
        else f"the shipped adapter was not measured on {TASK_LABELS[task]}" for task in tasks) \
        if closest else ""
    return (f"No run beat the shipped adapter ({shipped.get('steps') or '?'} steps, {shipped.get('optimizer') or '?'}) "
            f"on {every} with the two runs' intervals apart, so it stays shipped{about}.")
