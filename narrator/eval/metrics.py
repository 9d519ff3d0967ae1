"""The measurements behind ``python -m narrator.eval.evaluate``: summary BLEU and category accuracy.

- ``smoothed_bleu4`` is the CodeXGLUE code-to-text metric, reproduced from ``smooth_bleu``,
  ``computeMaps`` and ``bleuFromMaps`` in microsoft/CodeXGLUE
  ``Code-Text/code-to-text/evaluator/bleu.py`` (itself adapted from the NIST ``mteval-v11a.pl``
  script by way of Moses): lowercase, ``splitPuncts``, the NIST normalisation, BLEU-4 with Lin &
  Och (2004) add-one smoothing on the 2- to 4-gram orders, and that script's brevity penalty
  ``min(0, 1 - (r + 1) / (c + 1))``. A corpus score is the mean of sentence scores, as there.
  Numbers therefore compare with published CodeXGLUE results.
- ``summary_bleu`` runs a backend on held-out CodeSearchNet/CodeXGLUE functions with the prompt
  and faithfulness check narration uses, so it scores what a reader would see.
- ``category_accuracy`` checks ``facts.categorize`` against the category a conventional-commit
  prefix states, with the prefix hidden from it.
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
from narrator.facts import categories as facts

# clean_reference: the name evaluation has always used for the shared docstring cleaning.
from narrator.facts.docstrings import clean_docstring as clean_reference
from narrator.facts.docstrings import strip_python_docstring
from narrator.facts.subjects import read_subject
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


# --- commit categories --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefixedCommit:
    """What ``category_accuracy`` reads of a commit (any object with these attributes will do)."""

    subject: str
    body: str
    paths: list[str]
    author: str
    email: str
    tagged: bool
    version: str | None


_TYPE_CATEGORY = {
    "feat": "feature",
    "fix": "fix",
    "docs": "docs",
    "test": "tests",
    "tests": "tests",
    "deps": "dependencies",
    "release": "release",
    "security": "security",
    **dict.fromkeys(("perf", "refactor", "style", "chore", "build", "ci", "revert"), "maintenance"),
}
_DEPENDENCY_SCOPES = {"deps", "deps-dev", "dependencies"}  # Dependabot writes chore(deps-dev) too


def expected_category(conventional_type: str, scope: str | None) -> tuple[str, str] | None:
    """(label for the tally, category) that a conventional-commit prefix states, or None if unknown."""
    kind = conventional_type.lower()
    scope = (scope or "").lower()
    if kind in ("build", "chore") and scope in _DEPENDENCY_SCOPES:
        return f"{kind}({scope})", "dependencies"
    if kind == "chore" and scope == "release":
        return "chore(release)", "release"
    category = _TYPE_CATEGORY.get(kind)
    return (kind, category) if category else None


def category_accuracy(commits: Iterable[PrefixedCommit]) -> dict:
    """How often ``facts.categorize`` on the subject without its prefix agrees with the prefix.

    Only commits whose prefix maps to a category count (``wip:`` or a missing prefix do not). The
    prefix's type is not passed to ``categorize``: the point is to see how well the rest of the
    commit (headline, paths, body, author, tag) tells the category.
    """
    total = correct = 0
    by_type: dict[str, dict[str, int]] = {}
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for commit in commits:
        subject = read_subject(commit.subject, commit.body)
        if not subject.conventional_type:
            continue
        expected = expected_category(subject.conventional_type, subject.scope)
        if expected is None:
            continue
        label, want = expected
        got = facts.categorize(subject.headline, list(commit.paths), body=commit.body, author=commit.author,
                               email=commit.email, tagged=commit.tagged, version=commit.version)
        tally = by_type.setdefault(label, {"n": 0, "correct": 0})
        tally["n"] += 1
        total += 1
        if got == want:
            tally["correct"] += 1
            correct += 1
        confusion[want][got] += 1
    return {
        "commits": total,
        "correct": correct,
        "accuracy": correct / total if total else None,
        "by_type": dict(sorted(by_type.items())),
        "confusion": {want: dict(got) for want, got in sorted(confusion.items())},
    }


# --- plain words and code in the sentences a manager reads --------------------------------------------

COMMON_ZIPF = 4.0
"""A word at least this frequent in ``wordfreq``'s English list (Zipf scale: 4 is once per 10,000 words,
"fix" 4.75, "page" 5.1; "login" 3.5, "deadlock" 3.0, "revalidation" 1.7) counts as common."""

_TOKEN = re.compile(r"[\w'’]+")
_DATE_WORDS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec utc".split())
"""Parts of dates as the pages print them ('27 Jul 2026'): plain like the numbers around them."""
_ENDINGS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"))


def _forms(word: str) -> list[str]:
    """The word and what it reads as without a possessive, plural, -ed or -ing ending ('fixes' -> 'fix')."""
    word = re.sub(r"['’]s$", "", word.lower().replace("’", "'"))
    forms = [word]
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            forms.append(word[: -len(ending)] + replacement)
    return forms


def _is_common(word: str) -> bool:
    from wordfreq import zipf_frequency  # its word lists ship in the wheel: nothing is downloaded

    return any(zipf_frequency(form, "en") >= COMMON_ZIPF for form in _forms(word))


def fine_words(names: Iterable[str]) -> frozenset[str]:
    """The lower-case words of people's and project names, which count as plain wherever they appear."""
    return frozenset(w for name in names for w in re.split(r"[\W_]+", name.lower()) if w)


def _glossed(sentence: str) -> set[str]:
    """The lower-case words of every spelling of each glossary term the sentence uses (in its sense)."""
    from narrator.facts import glossary

    entries = glossary.load()
    words: set[str] = set()
    for term, _ in glossary.terms_in(sentence):
        for alias in (term, *entries[term]["aliases"]):  # type: ignore[misc]
            words.update(w.lower() for w in _TOKEN.findall(str(alias)))
    return words


def uncommon_words(sentence: str, fine: Iterable[str] = ()) -> list[str]:
    """The words that keep ``sentence`` from being plain English, in order, unique.

    The rule: a word (a run of letters, digits, "_" and apostrophes; hyphens and dots split words) is
    plain when it is common (it, or it without a possessive, plural, -ed or -ing ending, has Zipf >=
    ``COMMON_ZIPF`` in ``wordfreq``'s English list), when it holds a digit (numbers, dates, versions,
    ids such as CVE-2026-2391) or is a month as dates print it ("Jul"), when it is one of ``fine`` (the authors' names and the repository's
    own name, see ``fine_words``), or when it is part of a term ``narrator.facts.glossary`` explains in this
    sentence. A word with "_" in it is code and never plain unless glossed.
    """
    fine = {w.lower() for w in fine}
    glossed: set[str] | None = None
    out: dict[str, None] = {}
    for word in _TOKEN.findall(sentence):
        word = word.strip("'’")
        lower = word.lower().replace("’", "'")
        if (not word or any(ch.isdigit() for ch in word) or lower in fine or lower in _DATE_WORDS
                or re.sub(r"'s$", "", lower) in fine):
            continue
        if "_" not in word and _is_common(word):
            continue
        glossed = _glossed(sentence) if glossed is None else glossed
        if any(form in glossed for form in _forms(word)):
            continue
        out[word] = None
    return list(out)


def is_plain(sentence: str, fine: Iterable[str] = ()) -> bool:
    """True when every word of ``sentence`` is plain (``uncommon_words``)."""
    return not uncommon_words(sentence, fine)


_CODE_MARKS = (
    ("backticks", re.compile(r"`")),
    ("role", re.compile(r"\{[a-z][\w-]*\}|(?<![\w:]):[a-z][\w-]*:(?=[`\w])")),
    ("call", re.compile(r"[\w.]*\(\)")),
    ("link", re.compile(r"\]\(|https?://|www\.")),
    ("issue number", re.compile(r"(?<![\w&])#\d+\b")),
    ("path", re.compile(r"(?<![\w/])(?:[\w.-]+/)+[\w-]+\.\w+|(?<![\w/])(?:[\w.-]+/){2,}|(?<![\w/])\w+(?:\.\w+)*/(?=\s|$|[,;)])")),
    ("snake_case", re.compile(r"\b[A-Za-z]\w*_\w*[A-Za-z0-9]\b|\b_+[A-Za-z]\w*")),
    ("camelCase", re.compile(r"\b[A-Za-z]*[a-z][A-Z]\w*|\b[A-Z]{2,}[a-z]\w*")),
    ("dotted.name", re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")),
)
"""What marks a sentence as carrying code or markup, by name. camelCase includes inner capitals after
a run of capitals ("TMonitor"); a dotted name needs letters on both sides of a dot ("e.g." aside)."""
_NOT_CODE = frozenset({"e.g", "i.e", "etc", "vs"})


def code_marks(sentence: str, fine: Iterable[str] = ()) -> list[str]:
    """The code identifiers and markup ``sentence`` carries ('snake_case: rich_fraction', 'backticks: `'),
    in the order of ``_CODE_MARKS``. A glossed term ("PyPI", "JavaScript bundler") or one of ``fine``
    (names: "GitHub" as a project name) is not code."""
    fine = {w.lower() for w in fine}
    glossed: set[str] | None = None
    found = []
    for name, pattern in _CODE_MARKS:
        for match in pattern.finditer(sentence):
            text = match.group()
            if name == "dotted.name" and text.lower() in _NOT_CODE:
                continue
            if name == "camelCase":
                glossed = _glossed(sentence) if glossed is None else glossed
                if text.lower() in fine or any(form in glossed for form in _forms(text)):
                    continue
            found.append(f"{name}: {text}")
    return list(dict.fromkeys(found))


def sentence_measures(sentences: Iterable[tuple[str, str]], fine: Iterable[str] = (), examples: int = 5) -> dict:
    """Plain-word and code shares of (kind, sentence) pairs, overall and per kind, with a few examples
    of each failing sentence. Blank sentences are skipped; a share is None when there are none."""
    fine = frozenset(fine)
    by_kind: dict[str, dict[str, int]] = {}
    not_plain: list[dict] = []
    with_code: list[dict] = []
    total = plain = code = 0
    for kind, sentence in sentences:
        if not sentence or not sentence.strip():
            continue
        words = uncommon_words(sentence, fine)
        marks = code_marks(sentence, fine)
        tally = by_kind.setdefault(kind, {"sentences": 0, "plain": 0, "with_code": 0})
        total += 1
        tally["sentences"] += 1
        if not words:
            plain += 1
            tally["plain"] += 1
        elif len(not_plain) < examples:
            not_plain.append({"kind": kind, "text": sentence, "words": words})
        if marks:
            code += 1
            tally["with_code"] += 1
            if len(with_code) < examples:
                with_code.append({"kind": kind, "text": sentence, "marks": marks})

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    return {
        "rule": f"plain: every word has wordfreq Zipf >= {COMMON_ZIPF:g} (or does without its ending), holds a digit, "
                "is a name of an author or of the repository, or belongs to a term the glossary explains",
        "sentences": total,
        "plain": plain,
        "plain_share": share(plain, total),
        "with_code": code,
        "code_share": share(code, total),
        "by_kind": {kind: {**t, "plain_share": share(t["plain"], t["sentences"]),
                           "code_share": share(t["with_code"], t["sentences"])} for kind, t in by_kind.items()},
        "not_plain_examples": not_plain,
        "code_examples": with_code,
    }


# --- counts against the changes they link to -----------------------------------------------------------

_COUNT = re.compile(r"(?:.*?: )?(\d+) (?!of\b)[a-z(]")


def count_of(text: str) -> int | None:
    """The count a line states: '12' in 'src: 12 changes', '3' in 'Behind the scenes: 3 changes (…)',
    '2' in '2 dependency updates', '7' in 'Releases: 7 (2.3 per 30 days)'; None when it states none at its
    start, or states a part of a whole ('Hotfixes: 3 of 7 releases': its link is to the whole)."""
    match = _COUNT.match(text)
    return int(match.group(1)) if match else None


def count_mismatches(lines: Iterable[tuple[str, Sequence[str]]], total: int | None = None,
                     groups: Iterable[tuple[str, Sequence[str]]] = ()) -> list[str]:
    """What disagrees between counts and their linked changes, in words (empty: all agree).

    ``lines`` are (text, linked shas) whose text states a count (``count_of``): each count must equal
    the number of distinct linked changes. ``groups`` are (name, shas) of groups that split the
    period's ``total`` changes: they must add up to it, with no change in two groups.
    """
    problems = []
    for text, shas in lines:
        stated = count_of(text)
        if stated is not None and stated != len(set(shas)):
            problems.append(f"'{text}' links to {len(set(shas))} changes")
    groups = list(groups)
    if total is not None and groups:
        linked = [s for _, shas in groups for s in shas]
        if len(linked) != total:
            problems.append(f"the groups count {len(linked)} changes, the period {total}")
        if len(set(linked)) != len(linked):
            problems.append("a change is counted in two groups")
    return problems
