"""A cheap first look before a case-insensitive pattern runs: whether a text can hold any of the
substrings every match of the pattern holds, so a long history is read without running most patterns.
"""

from __future__ import annotations

import functools

_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
"""The only characters beyond ASCII that ``re.I`` matches with an ASCII letter: İ and ı (i), ſ (s)
and the Kelvin sign (k)."""


@functools.lru_cache(maxsize=16)  # a commit's body is looked at by several checks; its hash is kept by the string
def _lowered(text: str) -> str | None:
    """``text`` lower-cased, or None when it holds one of ``_FOLDS_TO_ASCII``."""
    if not text.isascii() and not _FOLDS_TO_ASCII.isdisjoint(text):
        return None
    return text.lower()


def may_match(text: str, hints: tuple[str, ...]) -> bool:
    """False only when a case-insensitive pattern whose every match holds one of ``hints`` (lower-case
    ASCII substrings, each spelt with the characters the pattern spells it with) cannot match
    ``text``: a long history is read without running most patterns.

    Exact: beyond ASCII, ``re.I`` matches an ASCII letter only with the few ``_FOLDS_TO_ASCII``
    characters (the Kelvin sign with "k"), and a text holding one always goes to the pattern.
    """
    lower = _lowered(text)
    return lower is None or any(map(lower.__contains__, hints))


def _holds_word(text: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` (lower-case ASCII) is in ``text`` as ``\\b`` reads a whole word (also
    True when ``may_match`` cannot tell)."""
    lower = _lowered(text)
    if lower is None:
        return True
    for word in words:
        start = lower.find(word)
        while start >= 0:
            end = start + len(word)
            # The lower-cased text has the text's length here: only İ lower-cases to two characters.
            if not (start and _is_word_character(text[start - 1])) and not (end < len(text) and _is_word_character(text[end])):
                return True
            start = lower.find(word, start + 1)
    return False


def _is_word_character(character: str) -> bool:
    """``\\w`` of a ``str`` pattern."""
    return character.isalnum() or character == "_"
