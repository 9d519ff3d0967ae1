"""Measures of the sentences a manager reads: whether every word is plain English (``uncommon_words``,
``is_plain``), whether code or markup shows (``code_marks``), both over a page (``sentence_measures``), and
whether each count a line states matches the changes it links to (``count_mismatches``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence


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
