"""Where a sentence ends: the one sentence splitter, with the rules of each kind of text it reads.

A sentence ends at an end mark (``.``, ``!``, ``?``) followed by whitespace, where the next sentence
may start. The kinds of text differ in how careful that has to be, so each reader names its rules:

- :data:`MESSAGE`: a commit message's body, a changelog entry. Not after "e.g.", "i.e." or an
  initial ("Audrey M. Roy"); the next sentence starts with a capital, a quote or a parenthesis.
- :data:`PROSE`: a project's own description (package metadata, a README). Also ``…``; closing
  quotes and brackets after the mark stay with their sentence; not after common abbreviations
  ("etc.", "Dr.") or any single letter; the next sentence may also start with a digit.
- :data:`ANSWER`: a model's answer, checked sentence by sentence: every end mark before a capital,
  a quote or a parenthesis ends one, so an answer cannot hide a claim behind an abbreviation.
- :data:`BODY`: training targets cut from a message body: not after "e.g.", "i.e." or "vs.",
  whatever follows.

A version such as "1.2.3" never ends a sentence inside it (no whitespace follows its dots), and a
newline is whitespace like any other.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """How one kind of text ends its sentences."""

    marks: str = ".!?"
    """Characters that end a sentence."""
    closers: str = ""
    """Quotes and brackets that, right after an end mark, still belong to its sentence."""
    starts: str | None = "[A-Z\"'(]"
    """A regular expression for how the next sentence starts; None: anything after whitespace."""
    not_after: str | None = None
    """A regular expression for the text ending with an end mark that makes it end no sentence (an
    abbreviation, an initial); matched with re.I when ``ignore_case``."""
    ignore_case: bool = False
    """``not_after`` matches in any case."""

    def __post_init__(self) -> None:
        if not self.marks:
            raise ValueError("marks must name at least one end mark")


def _words(*words: str) -> str:
    """Alternatives for literal words, as in a regular expression."""
    return "|".join(re.escape(w) for w in words)


_ABBREVIATIONS = ("e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "dr", "no", "approx", "incl", "inc", "ltd", "st", "fig")

# A full stop after an initial ("Audrey M. Roy") or in "e.g."/"i.e." does not end a sentence.
MESSAGE = Rules(not_after=rf"(?:(?<=[\s(])[A-Z]|\b(?:{_words('e.g', 'i.e')}))\.")
# Nor, in a project's description, after a common abbreviation or any single letter, whatever the mark.
PROSE = Rules(
    marks=".!?…",
    closers="\"'’”)]",
    starts="[\"'“(\\[]?[A-Z0-9]",
    not_after=(rf"(?<!\S)(?:{_words(*_ABBREVIATIONS)}|(?-i:[a-zA-Z\u212a]))"  # the last word before the mark,
               r"\.*\s*[.!?…]"),                                        # even set apart from it
    ignore_case=True,
)
ANSWER = Rules()
BODY = Rules(starts=None, not_after=rf"\b(?:{_words('e.g', 'i.e', 'vs')})\.")

_LONGEST_EXCEPTION = 64
"""How far before an end mark ``not_after`` looks (no abbreviation is longer)."""


@functools.lru_cache(maxsize=None)
def _patterns(rules: Rules) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """An end mark with the closers and whitespace after it; what before a mark makes it no end."""
    closers = f"[{re.escape(rules.closers)}]*" if rules.closers else ""
    starts = f"(?={rules.starts})" if rules.starts else ""
    end = re.compile(f"[{re.escape(rules.marks)}]{closers}(?P<space>\\s+){starts}")
    if rules.not_after is None:
        return end, None
    return end, re.compile(f"(?:{rules.not_after})\\Z", re.I if rules.ignore_case else 0)


def split_sentences(text: str, rules: Rules = MESSAGE, maxsplit: int = 0) -> list[str]:
    """The sentences of ``text``, each stripped; ``[]`` for blank text.

    With ``maxsplit`` above 0, at most that many splits are made and the last item is the rest of
    the text, unsplit (a reader that wants the first sentences need not read the others).
    """
    end, not_after = _patterns(rules)
    out: list[str] = []
    start = 0
    for match in end.finditer(text):
        if maxsplit and len(out) == maxsplit:
            break
        after_mark = match.start() + 1
        if not_after and not_after.search(text, max(start, after_mark - _LONGEST_EXCEPTION), after_mark):
            continue
        out.append(text[start:match.start("space")].strip())
        start = match.end()
    if rest := text[start:].strip():
        out.append(rest)
    return out
