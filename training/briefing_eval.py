"""The briefing's change kind measured on held-out repositories against the rules, and what every
measurement of a model task shares: the cases' manifest, loading the model, generating its answers.

Change kind (``kinds``), on the conventional commits of one split's repositories, sampled evenly over
them (``training.examples.even_sample``), every method judged against the developer's own type:

- ``rules``: ``briefing_tasks.rules_kind`` (``facts.categorize`` + ``impact``), shown only what the
  model is shown (the subject without its prefix, the paths and the diff);
- ``generation``: the model's free answer to ``change_kind_prompt`` (greedy), read by
  ``prompts.read_change_kind``; an answer that names no kind is counted wrong ("unreadable");
- ``scoring``: the same LoRA model used as a classifier with no new weights: the kind whose word is
  the likeliest start of the answer (the summed log-probability of its tokens after the prompt), and
  "breaking" when "<kind>, breaking" is a likelier whole answer than "<kind>" alone;
- ``rules+scoring`` (and ``rules+generation``): the rules decide where they are sure, the model
  everywhere else. The rules are **sure** when the paths alone decide (``rules_sure``): every file is
  documentation, tests, dependency files or CI configuration. Where they read only the subject's
  words, or fell back to "maintenance" because nothing matched, they are unsure.

Each method gets accuracy with a 95% bootstrap interval, per-kind precision/recall/F1 and the
breaking flag's (``briefing_tasks.kinds_report``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from db.errors import DataError, TrainingError
from narrator.model import kind_model, prompts
from training.batches import fit_messages, pad_id_of
from training.briefing_tasks import CONVENTIONAL, KindRow, change_kind_example, kind_rows, kinds_report, rules_kind
from training.dataset import check_prompt_version
from training.examples import Example, even_sample

UNREADABLE = "unreadable"
"""What a free answer that names no kind is recorded as (always wrong)."""
KIND_TOKENS = 8
"""New tokens a free change-kind answer may take ("maintenance, breaking" and the end of the turn)."""


# --- the held-out cases -----------------------------------------------------------------------------


def briefing_manifest(data: Path) -> dict:
    """``DATA/briefing.json`` (``prepare-briefing``), its prompt version checked against narration's."""
    path = data / "briefing.json"
    if not path.is_file():
        raise DataError(f"No briefing.json in {data}: run python -m training prepare-briefing --out {data} first")
    check_prompt_version(data)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise DataError(f"{path} is not valid JSON") from None


@dataclass(frozen=True)
class KindCase:
    """One held-out commit: what the rules see with the developer's label, and the model's prompt."""

    row: KindRow
    example: Example


def kind_cases(data: Path, shared: Path, split: str = "test", limit: int | None = None, seed: int = 0) -> list[KindCase]:
    """The ``change_kind`` cases of ``split``'s repositories, ``limit`` of them taken evenly over the repositories.

    The rows are read again from ``shared`` (the rules need every path, which a prompt lists only up to
    12 of), with the split seed and bot setting ``prepare-briefing`` recorded in ``DATA/briefing.json``;
    their prompts are the prepared file's (checked: the same number of examples).
    """
    manifest = briefing_manifest(data)
    rows, _ = kind_rows(shared, split, int(manifest.get("seed", 0)), bool(manifest.get("include_bots")))
    prepared = manifest.get("tasks", {}).get("change_kind", {}).get("examples", {}).get(split)
    if prepared is not None and prepared != len(rows):
        raise DataError(f"{shared / CONVENTIONAL} gives {len(rows)} {split} commits but {data} was prepared with "
                        f"{prepared}: run python -m training prepare-briefing again")
    if not rows:
        raise DataError(f"No change_kind {split} commits in {shared / CONVENTIONAL}")
    cases = [KindCase(row, change_kind_example(row)) for row in rows]
    by_example = {id(case.example): case for case in cases}
    return [by_example[id(example)] for example in even_sample([case.example for case in cases], limit, seed)]


# --- the rules ----------------------------------------------------------------------------------------


def rules_sure(row: KindRow) -> bool:
    """Whether the rules decide ``row``'s kind from its paths alone (``kind_model.rules_sure``)."""
    return kind_model.rules_sure(row.paths)


# --- the model ------------------------------------------------------------------------------------------


def _prompt_ids(tokenizer, messages: list[dict], max_length: int, room: int) -> list[int]:
    return fit_messages(tokenizer, messages, max(16, max_length - room))


def generate(model, tokenizer, examples: list[Example], max_new_tokens: int, max_length: int = 384,
             batch_size: int = 8) -> list[str]:
    """The model's greedy answer to each example's prompt (prompts cut as in training), in order."""
    import torch

    pad = pad_id_of(tokenizer)
    device = next(model.parameters()).device
    answers: list[str] = [""] * len(examples)
    encoded = [_prompt_ids(tokenizer, e.messages, max_length, max_new_tokens) for e in examples]
    order = sorted(range(len(examples)), key=lambda i: len(encoded[i]))  # less padding
    model.eval()
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        width = max(len(encoded[i]) for i in chosen)
        ids = torch.full((len(chosen), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chosen), width), dtype=torch.long)
        for row, i in enumerate(chosen):  # left padding: every answer starts at the same column
            ids[row, width - len(encoded[i]):] = torch.tensor(encoded[i])
            mask[row, width - len(encoded[i]):] = 1
        with torch.no_grad():
            out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), max_new_tokens=max_new_tokens,
                                 do_sample=False, pad_token_id=pad, eos_token_id=tokenizer.eos_token_id)
        for row, i in enumerate(chosen):
            answers[i] = tokenizer.decode(out[row, width:], skip_special_tokens=True).strip()
    return answers


def _read_prompt(model, prompt: list[int]):
    """``(log-probabilities of the answer's first token, the prompt's keys and values)``."""
    import torch

    out = model(input_ids=torch.tensor([prompt], device=next(model.parameters()).device), use_cache=True)
    return torch.log_softmax(out.logits[0, -1].float(), dim=-1), out.past_key_values


def _continued(model, cache, first, answer: list[int]) -> float:
    """The summed log-probability of ``answer`` after the prompt whose ``cache`` and first-token ``first``
    log-probabilities are given (the cache is copied, never extended)."""
    import torch

    total = float(first[answer[0]])
    if len(answer) > 1:
        more = model(input_ids=torch.tensor([answer[:-1]], device=first.device), past_key_values=copy.deepcopy(cache),
                     use_cache=True)
        steps = torch.log_softmax(more.logits[0].float(), dim=-1)
        total += float(sum(steps[j, token] for j, token in enumerate(answer[1:])))
    return total


def _greedy(model, cache, first, eos: int, max_new_tokens: int) -> list[int]:
    """The greedy answer after the prompt (what ``generate`` with ``do_sample=False`` gives), from a copy of its cache."""
    import torch

    cache = copy.deepcopy(cache)
    tokens = [int(first.argmax())]
    while tokens[-1] != eos and len(tokens) < max_new_tokens:
        out = model(input_ids=torch.tensor([tokens[-1:]], device=first.device), past_key_values=cache, use_cache=True)
        tokens.append(int(out.logits[0, -1].argmax()))
    return tokens


def answer_logprobs(model, prompt: list[int], answers: list[list[int]]) -> list[float]:
    """The summed log-probability of each token sequence in ``answers`` right after ``prompt``; the prompt
    is read once and each answer continues from a copy of its keys and values."""
    import torch

    with torch.no_grad():
        first, cache = _read_prompt(model, prompt)
        return [_continued(model, cache, first, answer) for answer in answers]


@dataclass(frozen=True)
class KindAnswer:
    """The model's two readings of one change-kind prompt, from a single pass over the prompt."""

    free: str
    """Its greedy free answer (read with ``prompts.read_change_kind``)."""
    kind: str
    """By scoring: the kind whose word is the likeliest start of the answer."""
    breaking: bool
    """By scoring: "<kind>, breaking" is a likelier whole answer than "<kind>"."""
    scores: dict[str, float]
    """Each kind's log-probability as the answer's first tokens."""


def kind_answers(model, tokenizer, examples: list[Example], max_length: int = 384) -> list[KindAnswer]:
    """``KindAnswer`` of each example (see the module docstring); prompts cut as in training."""
    import torch

    words = {kind: prompts.prompt_token_ids(tokenizer, kind) for kind in prompts.CHANGE_KINDS}
    eos = tokenizer.eos_token_id
    room = max(len(prompts.prompt_token_ids(tokenizer, prompts.change_kind_answer(kind, True))) for kind in prompts.CHANGE_KINDS) + 1
    model.eval()
    results = []
    with torch.no_grad():
        for example in examples:
            first, cache = _read_prompt(model, _prompt_ids(tokenizer, example.messages, max_length, max(room, KIND_TOKENS)))
            scores = {kind: _continued(model, cache, first, ids) for kind, ids in words.items()}
            kind = max(scores, key=scores.get)
            plain, breaking = (_continued(model, cache, first, prompts.prompt_token_ids(tokenizer, prompts.change_kind_answer(kind, flag)) + [eos])
                               for flag in (False, True))
            free = tokenizer.decode(_greedy(model, cache, first, eos, KIND_TOKENS), skip_special_tokens=True).strip()
            results.append(KindAnswer(free, kind, breaking > plain, {k: round(v, 4) for k, v in scores.items()}))
    return results


def load_model(adapter: Path | None, base: str | None = None, device: str | None = None, threads: int | None = None):
    """``(model, tokenizer)``: the base model with ``adapter`` (None: a base alone, still a peft-free model)."""
    import torch

    from narrator.model.transformers_backend import pick_device
    from training.config import resolve_quant
    from training.model import load_adapter, load_base, resolve_base

    if threads:
        torch.set_num_threads(threads)
    device = pick_device(device)
    model, tokenizer = load_base(resolve_base(base), resolve_quant("auto", device), device)
    if adapter is not None:
        model = load_adapter(model, adapter)
    model.eval()
    return model, tokenizer


def _models(model, adapter: Path | None, compare: bool):
    """``(label, context)`` of each model to measure: the adapter switched off for ``base``."""
    from contextlib import nullcontext

    if adapter is None:
        return [("base", nullcontext)]
    pairs = [("base", model.disable_adapter)] if compare else []
    return pairs + [("adapter", nullcontext)]


# --- change kind ----------------------------------------------------------------------------------------


def combine(rules: list[tuple[str, bool]], sure: list[bool], model: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Rules + model: the rules' answer where they are sure (or the model's is unreadable), else the model's."""
    return [rule if confident or guess[0] == UNREADABLE else guess for rule, confident, guess in zip(rules, sure, model)]


def _report(cases: list[KindCase], predicted: list[tuple[str, bool]]) -> dict:
    return kinds_report([(case.row.kind, kind) for case, (kind, _) in zip(cases, predicted)],
                        [(case.row.breaking, flag) for case, (_, flag) in zip(cases, predicted)])


def versus_rules(cases: list[KindCase], rules: list[tuple[str, bool]], predicted: list[tuple[str, bool]]) -> dict:
    """A method's accuracy minus the rules' on the same commits, with a paired 95% bootstrap interval
    (commits resampled together): the model measurably beats the rules when the interval is above 0."""
    from training.bootstrap import bootstrap_ci

    differences = [float(mine[0] == case.row.kind) - float(rule[0] == case.row.kind)
                   for case, rule, mine in zip(cases, rules, predicted)]
    low, high = bootstrap_ci(differences)
    return {"difference": round(sum(differences) / len(differences), 4), "ci95": [round(low, 4), round(high, 4)]}


def kinds_evaluation(cases: list[KindCase], model=None, tokenizer=None, adapter: Path | None = None,
                     compare: bool = False, max_length: int = 384, batch_size: int = 8, shown: int = 10) -> dict:
    """The rules and, with a model, each model's generation, scoring and rules + model (see the module
    docstring) on ``cases``; ``model`` None measures the rules alone.

    ``{"methods": {name: kinds_report + "vs_rules"}, "predictions": {name: [kind of each case]},
    "examples": [the first ``shown`` cases with each model's free answer], ...}``.
    """
    rules = [rules_kind(case.row.subject, case.row.paths, case.row.patch) for case in cases]
    sure = [rules_sure(case.row) for case in cases]
    methods = {"rules": _report(cases, rules)}
    answers: dict[str, list[str]] = {}
    predictions: dict[str, list[str]] = {"label": [case.row.kind for case in cases], "rules": [kind for kind, _ in rules]}
    if model is not None:
        examples = [case.example for case in cases]
        for label, context in _models(model, adapter, compare):
            with context():
                said = kind_answers(model, tokenizer, examples, max_length)
            free = [answer.free for answer in said]
            read = [prompts.read_change_kind(text) or (UNREADABLE, False) for text in free]
            by_score = [(answer.kind, answer.breaking) for answer in said]
            for method, predicted in (("generation", read), ("scoring", by_score),
                                      ("rules+scoring", combine(rules, sure, by_score)),
                                      ("rules+generation", combine(rules, sure, read))):
                methods[f"{label} {method}"] = {**_report(cases, predicted), "vs_rules": versus_rules(cases, rules, predicted)}
                predictions[f"{label} {method}"] = [kind for kind, _ in predicted]
            methods[f"{label} generation"]["unreadable"] = sum(kind == UNREADABLE for kind, _ in read)
            answers[f"{label} answer"] = free
            answers[f"{label} scoring"] = [kind for kind, _ in by_score]
    repositories = sorted({case.row.repo for case in cases})
    return {"commits": len(cases), "repositories": len(repositories), "rules_sure": sum(sure),
            "unsure_rule": "the rules are sure when the paths alone decide (all documentation, tests, dependency "
                           "files or CI configuration); elsewhere (words alone, or the maintenance fallback) the model decides",
            "methods": methods,
            "predictions": {**predictions, "rules_sure": sure, "repo": [case.row.repo for case in cases]},
            "examples": [{"repo": case.row.repo, "subject": case.row.subject, "label": case.example.target,
                          "rules": rules[i][0], "rules_sure": sure[i], **{name: said[i] for name, said in answers.items()}}
                         for i, case in enumerate(cases[:shown])]}


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise TrainingError("--limit must be at least 1")
