"""How the cocktail study measures a model: the fixed evaluation examples, pooled CE with bootstrap intervals
(overall and per language), change kind's accuracy and unit-summary BLEU."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from db.errors import DataError
from training.bootstrap import bootstrap_ci
from training.examples import BRIEFING_TASKS, PREPARED_TASKS, Example, even_sample
from training.study_grid import StudyConfig


def evaluation_examples(config: StudyConfig) -> dict[str, list[Example]]:
    """The fixed examples every run is measured on: ``eval_examples`` per task, round-robin over languages
    (a briefing task's: over repositories, ``even_sample``). The four-task grid needs every task's examples."""
    from narrator.eval.metrics import stratified_sample
    from training.dataset import check_prompt_version, load_split

    check_prompt_version(config.data)
    sets = {task: stratified_sample(load_split(config.data, task, config.split, required=False),
                                    config.eval_examples, config.seed) for task in PREPARED_TASKS}
    for task in (t for t in config.tasks if t in BRIEFING_TASKS):
        sets[task] = even_sample(load_split(config.data, task, config.split, required=False), config.eval_examples,
                                 config.seed)
    missing = [task for task in config.tasks if not sets[task]] if config.grid == "four" else []
    if missing:
        command = "prepare-briefing" if set(missing) <= set(BRIEFING_TASKS) else "prepare and prepare-briefing"
        raise DataError(f"No {', '.join(missing)} {config.split} examples in {config.data}: the four-task study needs "
                        f"python -m training {command} --out {config.data}")
    if not any(sets.values()):
        raise DataError(f"No {config.split} examples in {config.data} to evaluate on")
    return sets


def summarize(examples: list[Example], scores: list[tuple[float, int]], seed: int = 0) -> dict:
    """Pooled CE (``sum CE / target tokens``), PPL and a 95% bootstrap CI over examples, overall and per language.

    The per-example ``scores`` (summed CE, target tokens) are kept too, in example order, so two results
    on the same examples can be compared pairwise (``training.study_claims.compare``). ``scores`` are ``training.cross_entropy.score_examples`` of ``examples``, in the same order.
    """
    def measure(pairs: list[tuple[float, int]]) -> dict:
        pairs = [(total, tokens) for total, tokens in pairs if tokens]
        tokens = sum(n for _, n in pairs)
        ce = sum(total for total, _ in pairs) / tokens if tokens else float("nan")
        low, high = bootstrap_ci([total / n for total, n in pairs], weights=[n for _, n in pairs], seed=seed) \
            if pairs else (float("nan"), float("nan"))
        return {"ce": ce, "ppl": math.exp(ce), "ce_ci": [low, high], "examples": len(pairs), "tokens": tokens}

    by_language: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for example, score in zip(examples, scores):
        by_language[example.language].append(score)
    return {**measure(scores), "per_language": {lang: measure(pairs) for lang, pairs in sorted(by_language.items())},
            "scores": [[round(total, 4), tokens] for total, tokens in scores]}


def evaluate_model(config: StudyConfig, adapter: Path | None, sets: dict[str, list[Example]]) -> dict:
    """``{task: summarize(...)}`` of the base model with ``adapter`` (None: the base alone)."""
    import torch

    from narrator.model.transformers_backend import pick_device
    from training.config import resolve_quant
    from training.cross_entropy import score_examples
    from training.model import load_adapter, load_base, resolve_base

    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    model, tokenizer = load_base(resolve_base(config.model), resolve_quant("auto", device), device)
    if adapter is not None:
        model = load_adapter(model, adapter)
    measured = {task: summarize(examples, score_examples(model, tokenizer, examples, config.batch_size,
                                                         config.max_length), config.seed) if examples else None
                for task, examples in sets.items()}
    if measured.get("change_kind"):
        measured["change_kind"].update(change_kind_accuracy(model, tokenizer, sets["change_kind"], config))
    return measured


def change_kind_accuracy(model, tokenizer, examples: list[Example], config: StudyConfig) -> dict:
    """How often the model's likeliest kind (``training.briefing_eval.kind_answers``' scoring: no new weights, one
    pass over each prompt) is the developer's, with a 95% bootstrap interval; ``correct`` per example, in order,
    so two runs can be compared pairwise. The rules are compared with in ``python -m training kinds``."""
    from narrator.model.prompts import read_change_kind
    from training.briefing_eval import kind_answers

    answers = kind_answers(model, tokenizer, examples, config.max_length)
    correct = [int(answer.kind == (read_change_kind(example.target) or ("", False))[0])
               for example, answer in zip(examples, answers)]
    low, high = bootstrap_ci([float(c) for c in correct], seed=config.seed)
    return {"accuracy": sum(correct) / len(correct), "accuracy_ci": [low, high], "correct": correct}


def bleu(config: StudyConfig, adapter: Path | None) -> float | None:
    """Smoothed BLEU-4 of unit summaries on ``config.csn`` (``narrator.eval.metrics.summary_bleu``); None without it."""
    if config.csn is None:
        return None
    from narrator.eval.metrics import read_summary_rows, summary_bleu
    from narrator.model.backends import forget_backends, make_backend
    from narrator.settings import load_settings

    rows = read_summary_rows(config.csn, limit=config.bleu_examples, seed=config.seed)
    if not rows:
        raise DataError(f"No usable CodeSearchNet-format rows in {config.csn}")
    settings = load_settings(model=config.model or "embedded", adapter=str(adapter) if adapter else "none",
                             device=config.device)
    try:
        return summary_bleu(make_backend(settings), rows)["bleu"]
    finally:
        forget_backends()  # one model per run: do not keep every run's in memory
