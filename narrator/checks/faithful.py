"""The faithfulness check: model text may only repeat specifics that occur in its input.

A 135M model left to itself invents details ("a fix for versions 10.3 and 10.8" where the diff has
none). Every number, version and code-like identifier in a model's answer is looked up in the input
it was given; a sentence carrying one that is not there is dropped, and what was dropped is recorded
as a flag on the narrative. The check also tidies the answer into at most a few plain sentences.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field

from narrator.facts.sentences import ANSWER, split_sentences

CHECK_VERSION = 8
"""Part of every narrative's cache key: a stricter or looser check redoes the narratives."""

# Specifics a reader would take as facts: numbers and versions (10, 3.2, v1.2.3, 50%), and
# identifiers that only code has (snake_case, camelCase, dotted.names, names with digits).
_NUMBER = re.compile(r"(?<![\w.])v?\d+(?:[.,]\d+)*%?")
_IDENTIFIER = re.compile(
    r"\b(?:[A-Za-z_]+\w*_\w+"  # snake_case / _private
    r"|[a-z]+[A-Z]\w*"  # camelCase
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"  # dotted.name
    r"|[A-Za-z]+\d\w*)\b"  # name2 / sha1 / md5sum
)
_CODE_FENCE = re.compile(r"```.*?(```|$)", re.S)
_MARKUP = re.compile(r"[`*]+|^\s*[#>]+\s*", re.M)  # underscores stay: they are part of names


@dataclass(frozen=True)
class Checked:
    """A model answer after the check."""

    text: str
    """The sentences that survived, joined by spaces ('' when none did)."""
    removed: list[str] = field(default_factory=list)
    """The unsupported specifics that made a sentence go."""
    dropped: int = 0
    """How many sentences were dropped (unsupported, repeated or past the limit)."""

    @property
    def flags(self) -> dict:
        """What to store with the narrative so the dashboard can say it was edited."""
        return {"unsupported": self.removed, "dropped_sentences": self.dropped} if self.dropped else {}


# Abbreviations of plain English that look like dotted names.
_PLAIN = {"e.g", "i.e", "etc.", "vs"}


def claims(sentence: str) -> list[str]:
    """The numbers, versions and code-like identifiers a sentence states."""
    found = [m.group(0).rstrip(".,") for m in _NUMBER.finditer(sentence)]
    found += [m.group(0) for m in _IDENTIFIER.finditer(sentence)]
    return [c for c in found if c and c.lower() not in _PLAIN]


def _supported(claim: str, source: str, source_lower: str) -> bool:
    if claim[0].isdigit() or claim[0] in "vV" and claim[1:2].isdigit():
        digits = claim.lstrip("vV").rstrip("%")
        # A number must appear as a whole number in the input: "10" is not supported by "100".
        return re.search(rf"(?<![\d.]){re.escape(digits)}(?![\d])", source) is not None
    return claim.lower() in source_lower


def sentences(text: str) -> list[str]:
    """Split plain text into sentences, after removing code blocks and Markdown marks."""
    text = _CODE_FENCE.sub(" ", text)
    text = _MARKUP.sub("", text)
    text = re.sub(r"^\s*(?:[-+]|\d+[.)])\s+", "", text, flags=re.M)
    text = " ".join(text.split())
    return split_sentences(text, ANSWER)


_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")


def _without_unsupported_asides(sentence: str, source: str, source_lower: str) -> str:
    """Drop parenthetical asides that state something unsupported; the rest may still stand."""
    def keep(match: re.Match) -> str:
        aside = match.group(0)
        return aside if all(_supported(c, source, source_lower) for c in claims(aside)) else ""

    return _PARENTHETICAL.sub(keep, sentence)


_LETTERS = re.compile(r"[A-Za-z]+")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "ly", "s", "d", "e")


@functools.lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """A list of English words (lower case; the ``english-words`` package, MIT), loaded once."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2", "gcide"], lower=True))


def _stems(word: str) -> set[str]:
    """``word`` and the forms it has without a common ending: 'templates' -> 'template', 'templat'."""
    found = {word}
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            found.add(word[: -len(suffix)])
    return found


def invented_words(sentence: str, source_lower: str, source_words: set[str]) -> list[str]:
    """Words the model made up by mangling a word of its input ("cookiecuts" from "cookiecutters").

    A word of six letters or more counts as invented when neither it nor its stem occurs in the input,
    it is no English word, and it shares its first letters (at least 70% of it) with a word of the
    input. A word unlike any in the input is left alone: nothing shows it is wrong.
    """
    invented = []
    source_stems = {stem for other in source_words for stem in _stems(other)}
    for word in _LETTERS.findall(sentence):
        lower = word.lower()
        if len(lower) < 6 or lower in source_lower or _stems(lower) & source_stems:
            continue
        if any(stem in _english() for stem in _stems(lower)):
            continue
        need = max(5, int(0.7 * len(lower) + 0.999))
        if any(os.path.commonprefix([lower, other]).__len__() >= need for other in source_words):
            invented.append(word)
    return invented


def check(answer: str, source: str, max_sentences: int = 3) -> Checked:
    """Keep at most ``max_sentences`` sentences of ``answer`` whose specifics all occur in ``source``.

    ``source`` is everything the model was shown (the prompt's text). A parenthetical aside with an
    unsupported specific is cut out first; a sentence still carrying one, or a word it invented by
    mangling one of the input's (``invented_words``), is dropped. Sentences that
    repeat an earlier one, that are too short to say anything (under three words), that end in a
    colon, or that were cut off by the token limit (no closing punctuation after an earlier sentence)
    are dropped too.
    """
    source_lower = source.lower()
    source_words = {w.lower() for w in _LETTERS.findall(source) if len(w) >= 5}
    kept: list[str] = []
    removed: list[str] = []
    dropped = 0
    found = sentences(answer)
    for sentence in found:
        trimmed = _without_unsupported_asides(sentence, source, source_lower)
        aside_cut = trimmed != sentence
        removed += [c for c in claims(sentence) if c not in claims(trimmed)]
        unsupported = [c for c in claims(trimmed) if not _supported(c, source, source_lower)]
        unsupported += invented_words(trimmed, source_lower, source_words)
        if len(found) == 1 and not trimmed.endswith((".", "!", "?", ":")) and len(trimmed.split()) >= 3:
            # A lone line without a full stop is how a tuned model writes a commit subject: the
            # model stopped by itself. (A cut-off answer shows up as a fragment after sentences.)
            trimmed += "."
        complete = (trimmed.endswith((".", "!", "?")) and len(trimmed.split()) >= 3
                    and not trimmed.rstrip(".").endswith(":"))
        repeated = trimmed.lower() in (k.lower() for k in kept)
        if unsupported or repeated or not complete or len(kept) >= max_sentences:
            removed += unsupported
            dropped += 1
            continue
        if aside_cut:
            dropped += 1  # an aside was cut: flag the narrative as edited
        kept.append(trimmed)
    return Checked(" ".join(kept), removed, dropped)
