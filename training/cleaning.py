"""The reference preprocessing: turn raw docstrings and commit messages into clean targets, and the
filters that decide which rows are kept.

All functions are pure. A ``*_problem`` function returns None for a row that passes and a short
reason otherwise; the reasons are counted in the manifest, so an admin sees why rows went.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from narrator.facts.docstrings import clean_docstring, strip_python_docstring  # noqa: F401 (re-exported)
from narrator.facts.messages import message_body
from narrator.facts.sentences import BODY, split_sentences

_GENERIC = re.compile(
    r"^(?:see|refer|please\s+(?:see|refer)|for\s+(?:more|details)|same\s+as|alias\s+(?:for|of)|"
    r"deprecated|inherit|todo|fixme)\b",
    re.I,
)

@dataclass(frozen=True)
class Filters:
    """Keep/drop thresholds of the reference preprocessing (defaults follow the write-up)."""

    min_summary_chars: int = 30
    """Shortest docstring summary kept."""
    max_summary_chars: int = 300
    """Longest docstring summary kept (longer ones are usually not summaries)."""
    min_code_chars: int = 20
    """Shortest function kept."""
    max_code_chars: int = 6000
    """Longest function kept (run time shows at most a few thousand characters)."""
    min_subject_words: int = 3
    """Fewest words in a commit subject ("Fix typo" says nothing a reader can use)."""
    min_explain_words: int = 6
    """Fewest words in an explain target (the start of a message body)."""
    max_explain_sentences: int = 2
    """Most sentences of the body kept as the explain target."""
    max_explain_chars: int = 200
    """Longest explain target; a longer body is cut at a sentence end or left out."""
    max_changed_lines: int = 400
    """Largest commit diff kept, in added plus removed lines."""

    def __post_init__(self) -> None:
        for name in ("min_summary_chars", "max_summary_chars", "min_code_chars", "max_code_chars",
                     "min_subject_words", "min_explain_words", "max_explain_sentences", "max_explain_chars",
                     "max_changed_lines"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.min_summary_chars > self.max_summary_chars:
            raise ValueError("min_summary_chars must not exceed max_summary_chars")
        if self.min_code_chars > self.max_code_chars:
            raise ValueError("min_code_chars must not exceed max_code_chars")


# --- code -> summary ------------------------------------------------------------------------------
# The summary target itself is ``narrator.facts.docstrings.clean_docstring``, shared with evaluation.


def summary_problem(summary: str, filters: Filters) -> str | None:
    """Why a cleaned summary is not kept, or None: the write-up's docstring filter."""
    if len(summary) < filters.min_summary_chars:
        return "summary too short"
    if len(summary) > filters.max_summary_chars:
        return "summary too long"
    if not summary[0].isupper():
        return "summary not capitalised"
    if summary[-1] not in ".!?":
        return "summary without end punctuation"
    if _GENERIC.match(summary):
        return "generic summary"
    return None


def code_problem(code: str, filters: Filters) -> str | None:
    """Why a function's code is not kept (length range), or None."""
    size = len(code.strip())
    if size < filters.min_code_chars:
        return "code too short"
    if size > filters.max_code_chars:
        return "code too long"
    return None


# --- diff -> message ------------------------------------------------------------------------------


def explain_target(subject: str, message: str, filters: Filters) -> str:
    """The explain target of a commit: the first sentences of its message body, or ``""``.

    At most ``filters.max_explain_sentences`` whole sentences and ``filters.max_explain_chars``
    characters are kept. ``""`` when the body is missing, starts mid-sentence (lower case, often
    the subject running on), does not end a sentence within those limits, has fewer than
    ``filters.min_explain_words`` words, or carries a link.
    """
    body = message_body(message or "", subject, training=True)
    if not body or not body[0].isupper():
        return ""
    kept = ""
    for count, sentence in enumerate(split_sentences(body, BODY), 1):  # not inside "e.g.", "i.e.", "vs."
        candidate = f"{kept} {sentence}".strip()
        if count > filters.max_explain_sentences or len(candidate) > filters.max_explain_chars:
            break
        kept = candidate
    if not kept or kept[-1] not in ".!?" or len(kept.split()) < filters.min_explain_words or "://" in kept:
        return ""
    return kept


def commit_problem(subject: str, changed_lines: int, filters: Filters) -> str | None:
    """Why a commit is not kept, or None: no usable subject, merges/reverts, empty or huge diffs."""
    subject = subject.strip()
    if not subject:
        return "no subject"
    lowered = subject.lower()
    if lowered.startswith(("merge ", "merge:", 'revert "', "revert:")):
        return "merge or revert"
    if len(subject.split()) < filters.min_subject_words:
        return "subject too short"
    if changed_lines == 0:
        return "no change"
    if changed_lines > filters.max_changed_lines:
        return "change too large"
    return None
