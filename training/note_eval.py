"""The briefing's generated sentences measured on held-out repositories: the note for users against
the people's own notes, and the headline from a diff against the developer's own subject.

Note for users (``notes``): the model's note for each held-out ``user_note`` example against the
note its developer wrote: smoothed BLEU-4 (``narrator.eval.metrics.smoothed_bleu4``, CodeXGLUE's) and
ROUGE-L F1 (``narrator.eval.metrics.rouge_l``), averaged over notes, and how many notes pass narration's
checks for a model sentence (``narrator.checks.headlines.check_headline``: every specific must be in the
prompt), base model vs adapter, beside the subject itself read as the note (the words a briefing shows
without a model).

Headlines (``headlines``): each model's headline for a diff-only commit against its developer's subject,
with ``agrees`` (passes the checks and ROUGE-L F1 >= ``AGREES``).
"""

from __future__ import annotations

from pathlib import Path

from db.errors import DataError
from narrator.model import prompts
from training.briefing_eval import _models, briefing_manifest, generate
from training.dataset import check_prompt_version, load_split
from training.examples import Example, even_sample

NOTE_TOKENS = 48
"""New tokens a note for users may take."""


# --- note for users -------------------------------------------------------------------------------------


def note_cases(data: Path, split: str = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
    """The prepared ``user_note`` examples of ``split``, ``limit`` of them taken evenly over the repositories."""
    briefing_manifest(data)
    examples = load_split(data, "user_note", split)
    if not examples:
        raise DataError(f"No user_note {split} examples in {data}")
    return even_sample(examples, limit, seed)


def first_sentence_line(text: str) -> str:
    """The first non-empty line of a model's note, without a list bullet (what a briefing would show)."""
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    return line.strip().lstrip("-*• ").strip()


SUBJECT_LINE = "A developer titled this change: "
"""How ``prompts.user_note_prompt`` opens: the subject follows, on the prompt's first line."""


def subject_of(example: Example) -> str:
    """The subject a ``user_note`` prompt shows (as narration heads it): the words a briefing has anyway."""
    user = next(m["content"] for m in example.messages if m["role"] == "user")
    first = user.splitlines()[0] if user else ""
    return first[len(SUBJECT_LINE):] if first.startswith(SUBJECT_LINE) else ""


def _note_scores(examples: list[Example], notes: list[str], agree_at: float | None = None,
                 passed: list[bool] | None = None) -> dict:
    """BLEU-4 and ROUGE-L of ``notes`` against the examples' targets, how many pass narration's checks
    (``passed``, when the caller applied another task's check; else a headline's), and, with ``agree_at``,
    ``agrees``: the share that pass them with ROUGE-L F1 >= ``agree_at``."""
    from narrator.checks.headlines import check_headline
    from narrator.eval.metrics import rouge_l, smoothed_bleu4
    from training.bootstrap import bootstrap_ci

    bleu = [smoothed_bleu4(e.target, note) for e, note in zip(examples, notes)]
    rouge = [100 * rouge_l(e.target, note) for e, note in zip(examples, notes)]
    sources = [next(m["content"] for m in e.messages if m["role"] == "user") for e in examples]
    if passed is None:
        passed = [bool(check_headline(note, source).text) for note, source in zip(notes, sources)]
    scores = {"bleu4": round(sum(bleu) / len(bleu), 2), "bleu4_ci95": [round(v, 2) for v in bootstrap_ci(bleu)],
              "rouge_l": round(sum(rouge) / len(rouge), 2), "rouge_l_ci95": [round(v, 2) for v in bootstrap_ci(rouge)],
              "passes_checks": sum(passed), "empty": sum(not note for note in notes),
              "examples": [{"people": e.target, "note": note, "passes_checks": ok}
                           for e, note, ok in list(zip(examples, notes, passed))[:8]]}
    if agree_at is not None:
        agree = [float(ok and score >= 100 * agree_at) for ok, score in zip(passed, rouge)]
        scores["agrees"] = round(sum(agree) / len(agree), 4)
        scores["agrees_ci95"] = [round(v, 4) for v in bootstrap_ci(agree)]
    return scores


def notes_evaluation(examples: list[Example], model, tokenizer, adapter: Path | None = None, compare: bool = False,
                     max_length: int = 384, batch_size: int = 8) -> dict:
    """``{label: {"bleu4", "rouge_l", "passes_checks", ...}}`` of each model's notes against the people's, and of
    the ``subject`` itself as the note (what a briefing shows without a model)."""
    results: dict = {"notes": len(examples), "repositories": len({e.source for e in examples}),
                     "subject": _note_scores(examples, [subject_of(e) for e in examples])}
    for label, context in _models(model, adapter, compare):
        with context():
            notes = [first_sentence_line(text) for text in generate(model, tokenizer, examples, NOTE_TOKENS, max_length,
                                                                   batch_size)]
        results[label] = _note_scores(examples, notes)
    return results


# --- headlines (diff -> subject) --------------------------------------------------------------------------

AGREES = 0.5
"""ROUGE-L F1 with the developer's own subject at or above which a model headline says what they said."""
HEADLINE_TOKENS = 32


def headline_cases(data: Path, split: str = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
    """The prepared diff-only ``commitpackft`` examples of ``split`` (the prompt narration sends when a
    subject says nothing), ``limit`` of them taken evenly over the repositories."""
    check_prompt_version(data)
    opening = prompts.commit_prompt([], "")[-1]["content"].split("\n", 1)[0]
    examples = [e for e in load_split(data, "commitpackft", split)
                if next(m["content"] for m in e.messages if m["role"] == "user").startswith(opening)]
    if not examples:
        raise DataError(f"No diff-only commitpackft {split} examples in {data}")
    return even_sample(examples, limit, seed)


def headlines_evaluation(examples: list[Example], model, tokenizer, adapter: Path | None = None, compare: bool = False,
                         max_length: int = 384, batch_size: int = 8) -> dict:
    """Each model's headline for a diff against the developer's own subject: BLEU-4, ROUGE-L, how many pass
    narration's checks, and ``agrees``: the share that pass them and say what the developer said (ROUGE-L
    F1 >= ``AGREES``): the headline's precision, by a measure a reader can rerun."""
    results: dict = {"headlines": len(examples), "agree_at": AGREES}  # prepared commits name their data set, not their repository
    for label, context in _models(model, adapter, compare):
        with context():
            lines = [first_sentence_line(text) for text in generate(model, tokenizer, examples, HEADLINE_TOKENS,
                                                                   max_length, batch_size)]
        results[label] = _note_scores(examples, lines, AGREES)
    return results
