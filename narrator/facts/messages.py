"""The developer's explanation in a commit message: the first paragraph of its body that explains.

Shared by narration (``narrator.facts.changes``: the explanation shown under a headline) and training
(``training.cleaning``: the explain target), so the model learns to write what narration shows.
"""

from __future__ import annotations

import re

from narrator.facts.sentences import MESSAGE, split_sentences

# Lines of a message body that are bookkeeping, not explanation.
_TRAILER = re.compile(
    r"^(?:[A-Z][\w.-]*-by|Change-Id|Co-authored-by|Bug|Issue|Refs?|Closes|Fixes|Resolves|See|Cc|"
    r"PiperOrigin-RevId|Reviewed-on|Tested-by|Acked-by|Signed-off-by)\s*[:#]",
    re.I,
)
_BOOKKEEPING = re.compile(r"^(?:[A-Z_]+=\S+|-{3,}|Created by MOE:.*|This reverts commit \w+\.?|[-*]?\s*(?:closes|fixes)\s+#\d+\.?)$", re.I)
# Read at run time only: the prepared training data was built without these (see ``message_body``).
_MORE_BOOKKEEPING = re.compile(r"^(?:\*{3,}|[-*]?\s*resolves\s+#\d+\.?|See merge request \S+|"
                               r"\(cherry picked from commit \w+\))$", re.I)
# What dependency bots (Dependabot, Renovate) write around the one line that says what they bumped:
# a list of links, HTML folds ("<details>", "<summary>Release notes</summary>", "<p><em>Sourced
# from ..."), a compatibility badge, instructions to the reader, tables and their metadata.
_BOT_BOOKKEEPING = re.compile(
    r"^(?:[-*]\s*\[[^\]]*\]\([^)]*\)\s*$|</?[A-Za-z][^>]*>|\[!\[|\[//\]:|\||updated-dependencies:|"
    r"(?:Dependabot|Renovate) will\b|You can trigger\b|This PR (?:contains|was generated|has been generated)\b|"
    r"(?:Release notes|Changelog|Commits)\s*$)", re.I)


def _bookkeeping(line: str, training: bool) -> bool:
    return bool(_TRAILER.match(line) or _BOOKKEEPING.match(line) or line.startswith("```")
                or (not training and (_MORE_BOOKKEEPING.match(line) or _BOT_BOOKKEEPING.match(line))))


def message_body(message: str, subject: str, *, training: bool = False) -> str:
    """The message's first explanatory paragraph beyond its subject, or ``""``.

    Trailers (``Signed-off-by:``), bookkeeping (``MOE_MIGRATED_REVID=``, ``See merge request ...``,
    ``(cherry picked from commit ...)``) and a body that only repeats the subject do not count, and a
    list bullet opening the paragraph is dropped. ``training=True`` reads the body as the prepared
    training data was built, so rebuilt data stays byte-identical: only the trailers and the first
    bookkeeping patterns are skipped, and a leading bullet stays. At run time a dependency bot's
    link lists, HTML folds, badges and instructions are bookkeeping too.
    """
    lines = message.replace("\r\n", "\n").strip().split("\n")
    if lines and " ".join(lines[0].split()) == " ".join(subject.split()):
        lines = lines[1:]
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        if _bookkeeping(stripped, training):
            if paragraph:
                break
            continue
        if stripped:
            paragraph.append(stripped.lstrip("-* ").strip() if not (paragraph or training) else stripped)
        elif paragraph:
            break
    body = " ".join(" ".join(paragraph).split())
    if not body or body.lower().rstrip(".") in " ".join(subject.split()).lower().rstrip("."):
        return ""
    return body


def first_sentences(text: str, limit: int = 2, max_chars: int = 300) -> str:
    """The first ``limit`` sentences of ``text`` that fit in ``max_chars``; a first sentence that is
    longer on its own is cut at a word end and ends in an ellipsis."""
    picked = ""
    for sentence in split_sentences(text, MESSAGE, maxsplit=max(limit, 0))[:limit]:  # the rest is never read
        candidate = f"{picked} {sentence}".strip()
        if picked and len(candidate) > max_chars:
            break
        picked = candidate
    if len(picked) <= max_chars:
        return picked
    return picked[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def split_first_sentence(text: str) -> tuple[str, str]:
    """``(first sentence, the rest)`` of ``text``, as :func:`first_sentences` reads sentences."""
    parts = split_sentences(text, MESSAGE, maxsplit=1) or [""]
    return parts[0], parts[1] if len(parts) > 1 else ""
