"""Summary BLEU, one measurement behind ``python -m narrator.eval.evaluate``, and the held-out rows it reads.

- ``smoothed_bleu4`` is the CodeXGLUE code-to-text metric, reproduced from ``smooth_bleu``,
  ``computeMaps`` and ``bleuFromMaps`` in microsoft/CodeXGLUE
  ``Code-Text/code-to-text/evaluator/bleu.py`` (itself adapted from the NIST ``mteval-v11a.pl``
  script by way of Moses): lowercase, ``splitPuncts``, the NIST normalisation, BLEU-4 with Lin &
  Och (2004) add-one smoothing on the 2- to 4-gram orders, and that script's brevity penalty
  ``min(0, 1 - (r + 1) / (c + 1))``. A corpus score is the mean of sentence scores, as there.
  Numbers therefore compare with published CodeXGLUE results.
- ``summary_bleu`` runs a backend on held-out CodeSearchNet/CodeXGLUE functions with the prompt
  and faithfulness check narration uses, so it scores what a reader would see.

Category accuracy is ``narrator.eval.category_accuracy``; the measures of a page's sentences (plain
words, code marks, counts against their links) are ``narrator.eval.page_sentences``.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import sys
import xml.sax.saxutils
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from narrator.checks.faithful import check

# clean_reference: the name evaluation has always used for the shared docstring cleaning.
from narrator.facts.docstrings import clean_docstring as clean_reference
from narrator.facts.docstrings import strip_python_docstring
from narrator.git.files import language_of
from narrator.model import prompts

if TYPE_CHECKING:
    from narrator.model.backends import Backend

# --- smoothed BLEU-4 (CodeXGLUE) --------------------------------------------------------------------

_NGRAM_ORDER = 4

# NIST mteval normalisation, as in CodeXGLUE's bleu.py (which keeps its "apostrophe is missing").
_NORMALIZE_1 = [
    (re.compile(r"<skipped>"), ""),  # strip "skipped" tags
    (re.compile(r"-\n"), ""),  # join end-of-line hyphenation
    (re.compile(r"\n"), " "),  # join lines
]
_NORMALIZE_2 = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # tokenize punctuation
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # period and comma unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash when preceded by a digit
]
_WORD_OR_PUNCT = re.compile(r"[\w]+|[^\s\w]")


def split_puncts(line: str) -> str:
    """CodeXGLUE's ``splitPuncts``: words and single punctuation marks, joined by spaces."""
    return " ".join(_WORD_OR_PUNCT.findall(line))


def _nist_tokens(text: str) -> list[str]:
    for pattern, replacement in _NORMALIZE_1:
        text = pattern.sub(replacement, text)
    text = xml.sax.saxutils.unescape(text, {"&quot;": '"'})
    text = f" {text.lower()} "
    for pattern, replacement in _NORMALIZE_2:
        text = pattern.sub(replacement, text)
    return text.split()


def _ngram_counts(words: list[str]) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for k in range(1, _NGRAM_ORDER + 1):
        for i in range(len(words) - k + 1):
            counts[tuple(words[i : i + k])] += 1
    return counts


def smoothed_bleu4(reference: str, hypothesis: str) -> float:
    """Sentence BLEU-4 of ``hypothesis`` against one ``reference``, 0..100, exactly as CodeXGLUE.

    Identical texts score 100.0; an empty hypothesis scores ``100 * exp(-reference tokens)``.
    """
    ref = _nist_tokens(split_puncts(reference.strip().lower()))
    test = _nist_tokens(split_puncts(hypothesis.strip().lower()))
    ref_counts = _ngram_counts(ref)
    correct = [0] * _NGRAM_ORDER
    for ngram, count in _ngram_counts(test).items():
        correct[len(ngram) - 1] += min(ref_counts.get(ngram, 0), count)
    guess = [max(len(test) - k + 1, 0) for k in range(1, _NGRAM_ORDER + 1)]
    tiny = sys.float_info.min  # the original's guard against log(0): a miss costs about -708
    log_bleu = 0.0
    for k in range(_NGRAM_ORDER):
        add = 1 if k > 0 else 0  # Lin & Och smoothing spares unigrams
        log_bleu += math.log(correct[k] + add + tiny) - math.log(guess[k] + add + tiny)
    log_bleu /= _NGRAM_ORDER
    log_bleu += min(0.0, 1 - (len(ref) + 1) / (len(test) + 1))  # the script's +1 brevity penalty
    return math.exp(log_bleu) * 100.0


def corpus_smoothed_bleu4(pairs: Iterable[tuple[str, str]]) -> float:
    """The mean of ``smoothed_bleu4`` over (reference, hypothesis) pairs (CodeXGLUE's corpus score)."""
    scores = [smoothed_bleu4(reference, hypothesis) for reference, hypothesis in pairs]
    if not scores:
        raise ValueError("corpus_smoothed_bleu4 needs at least one (reference, hypothesis) pair")
    return sum(scores) / len(scores)


def rouge_l(reference: str, hypothesis: str, beta: float = 1.2) -> float:
    """ROUGE-L F-measure of ``hypothesis`` against one ``reference``, 0..1 (Lin, 2004; the LCS-based score
    of the pycocoevalcap scorer, recall weighted by ``beta`` = 1.2), over lower-case words and single
    punctuation marks (``split_puncts``, as BLEU reads them). An empty text on either side scores 0."""
    ref = split_puncts(reference.strip().lower()).split()
    test = split_puncts(hypothesis.strip().lower()).split()
    if not ref or not test:
        return 0.0
    previous = [0] * (len(test) + 1)  # longest common subsequence, one row of the table at a time
    for word in ref:
        current = [0]
        for j, other in enumerate(test):
            current.append(previous[j] + 1 if word == other else max(previous[j + 1], current[j]))
        previous = current
    common = previous[-1]
    if not common:
        return 0.0
    precision, recall = common / len(test), common / len(ref)
    return (1 + beta**2) * precision * recall / (recall + beta**2 * precision)


# --- held-out code -> summary rows --------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    """One documented function to summarise, with the developer's summary as the reference."""

    code: str
    """The function's code, without its docstring (Python) so the model cannot copy it."""
    reference: str
    """The docstring's first paragraph, without tags or markup."""
    language: str
    """Lower-case language name (``python``, ``java`` ...), or ``unknown``."""
    name: str
    """The function's name as the dataset gives it."""
    path: str
    """The file it came from, or ``""``."""


def first_text(row: dict, *names: str) -> str:
    """The first of ``names`` whose value in ``row`` is a non-blank string, else ``""``."""
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def read_jsonl(path: Path) -> Iterable[dict]:
    """The rows of a JSON-lines file (``.gz`` too); a bad line raises ValueError naming it."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON line ({exc.msg})") from exc


def summary_row(row: dict) -> SummaryRow | None:
    """A ``SummaryRow`` from one CodeSearchNet/CodeXGLUE record, or None when it has no code or summary."""
    code = first_text(row, "code", "original_string", "func_code_string")
    reference = clean_reference(first_text(row, "docstring", "func_documentation_string", "summary"))
    if not code.strip() or not reference:
        return None
    path = first_text(row, "path", "func_path_in_repository")
    language = (first_text(row, "language").strip().lower() or language_of(path) or "unknown")
    if language == "python":
        code = strip_python_docstring(code)
    return SummaryRow(code, reference, language, first_text(row, "func_name", "name") or "function", path)


Row = TypeVar("Row")
"""Anything with a ``language`` attribute (a ``SummaryRow``, a ``training.examples.Example``)."""


def stratified_sample(rows: Sequence[Row], limit: int, seed: int = 0,
                      key: Callable[[Row], str] = lambda row: row.language) -> list[Row]:
    """``limit`` rows taken round-robin over their ``key`` (by default their language; alphabetical),
    each group shuffled by ``seed``."""
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_group[key(row)].append(row)
    queues = []
    for name in sorted(by_group):
        group = by_group[name]
        random.Random(f"{seed}:{name}").shuffle(group)  # str seeds are stable across processes
        queues.append(group)
    picked: list[Row] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        picked += [q[depth] for q in queues if depth < len(q)][: limit - len(picked)]
        depth += 1
    return picked


def read_summary_rows(path: Path, limit: int | None = None, seed: int = 0) -> list[SummaryRow]:
    """Usable rows of a JSON-lines file (``.gz`` too) or of a folder's ``*.jsonl`` files (sorted), in file
    order, or a stratified sample of ``limit``."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) + sorted(path.glob("*.jsonl.gz")) if path.is_dir() else [path]
    rows = [row for file in files for row in map(summary_row, read_jsonl(file)) if row is not None]
    return rows if limit is None else stratified_sample(rows, limit, seed)


# --- model summaries and their BLEU -------------------------------------------------------------------


def unit_summaries(backend: Backend, rows: Sequence[SummaryRow], batch_size: int = 8,
                   unit_chars: int = 1200) -> list[str]:
    """The backend's one-sentence summary of each row, after the faithfulness check ('' when none passed)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    messages = [prompts.unit_prompt(row.code[:unit_chars], row.name, "function", row.path, row.language)
                for row in rows]
    answers: list[str] = []
    for start in range(0, len(messages), batch_size):
        batch = messages[start : start + batch_size]
        for prompt, answer in zip(batch, backend.generate(batch, max_new_tokens=40)):
            source = "\n".join(m["content"] for m in prompt)  # everything the model was shown
            answers.append(check(answer, source, max_sentences=1).text)
    return answers


def summary_bleu(backend: Backend, rows: Sequence[SummaryRow], batch_size: int = 8,
                 unit_chars: int = 1200) -> dict:
    """Smoothed BLEU-4 of the checked summaries against the references, overall and per language.

    An answer the check emptied scores as an empty hypothesis (near 0), so dropping a bad sentence
    costs BLEU; ``empty`` counts them. ``bleu`` is None when there are no rows.
    """
    summaries = unit_summaries(backend, rows, batch_size, unit_chars)
    pairs_by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row, summary in zip(rows, summaries):
        pairs_by_language[row.language].append((row.reference, summary))
    pairs = [(row.reference, summary) for row, summary in zip(rows, summaries)]
    return {
        "bleu": corpus_smoothed_bleu4(pairs) if pairs else None,
        "examples": len(pairs),
        "empty": sum(1 for summary in summaries if not summary),
        "by_language": {lang: corpus_smoothed_bleu4(p) for lang, p in sorted(pairs_by_language.items())},
    }
