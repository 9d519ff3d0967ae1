"""The reference preprocessing: turn raw docstrings and commit messages into clean targets, and the
filters that decide which rows are kept.

All functions are pure. A ``*_problem`` function returns None for a row that passes and a short
reason otherwise; the reasons are counted in the manifest, so an admin sees why rows went.
"""

from __future__ import annotations

import ast
import html
import re
import textwrap
from dataclasses import dataclass

# A documentation block tag ends the description: Javadoc/JSDoc/PHPDoc/YARD (@param, @return ...),
# Doxygen (\param), Sphinx fields (:param x:, :returns:, :raises X:) and RST directives (.. note::).
# Tags that carry the summary itself (@brief, @summary, @description) keep their text instead.
_SUMMARY_TAG = re.compile(r"^[@\\](?:brief|summary|description|desc)\b\s*(.*)$", re.I)
_BLOCK_TAG = re.compile(r"^(?:[@\\][A-Za-z][\w-]*\b|:[A-Za-z][\w ]*(?:\s+[^:]+)?:(?:\s|$)|\.\.\s+[\w-]+::)")
# Google/NumPy style section headers: "Args:", "Returns:", or a header underlined by dashes.
_SECTION = re.compile(
    r"^(?:Args|Arguments|Parameters|Params|Returns?|Raises|Throws|Yields|Examples?|Notes?|Attributes|"
    r"Keyword Arguments|Kwargs|Other Parameters|See Also|Warnings?|Todo|References)\s*:?\s*$"
)
_UNDERLINE = re.compile(r"^[-=~]{3,}\s*$")
_HTML_PARAGRAPH = re.compile(r"^<p\b", re.I)

_INLINE_LINK = re.compile(r"\{@(?:link|linkplain)\s+[^\s}]+\s+([^}]+)\}")  # {@link Foo#bar label} -> label
_INLINE_TAG = re.compile(r"\{@\w+\s*([^}]*)\}")  # {@code x}, {@link Foo#bar}, {@inheritDoc}
# Only real HTML tags: "List<String>" in a summary is a type, not markup.
_HTML_TAG = re.compile(
    r"</?(?:p|a|b|i|u|s|em|strong|code|pre|tt|br|hr|ul|ol|li|dl|dt|dd|div|span|sup|sub|blockquote|"
    r"table|tr|td|th|h[1-6]|img|var|kbd|samp|cite)\b[^>]*/?>",
    re.I,
)
_RST_ROLE = re.compile(r":(?:[\w-]+:)+`~?([^`]+)`")  # :class:`Foo`, :py:meth:`~a.b`
_BACKTICKS = re.compile(r"`+([^`]+)`+")
_RDOC_CODE = re.compile(r"\+(\w[\w.:]*)\+")  # RDoc +code+
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_YARD_REF = re.compile(r"\{#?([A-Za-z_][\w:#.?!]*)\}")  # YARD {Pry::REPL}, {#before}
_GENERIC = re.compile(
    r"^(?:see|refer|please\s+(?:see|refer)|for\s+(?:more|details)|same\s+as|alias\s+(?:for|of)|"
    r"deprecated|inherit|todo|fixme)\b",
    re.I,
)

# Lines of a commit message body that are bookkeeping, not explanation.
_TRAILER = re.compile(
    r"^(?:[A-Z][\w.-]*-by|Change-Id|Co-authored-by|Bug|Issue|Refs?|Closes|Fixes|Resolves|See|Cc|"
    r"PiperOrigin-RevId|Reviewed-on|Tested-by|Acked-by|Signed-off-by)\s*[:#]",
    re.I,
)
_BOOKKEEPING = re.compile(r"^(?:[A-Z_]+=\S+|-{3,}|Created by MOE:.*|This reverts commit \w+\.?|[-*]?\s*(?:closes|fixes)\s+#\d+\.?)$", re.I)
# A sentence ends at . ! or ? before a space, but not inside "e.g." / "i.e." / "vs.".
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)\s+")


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


def clean_docstring(text: str) -> str:
    """The summary of a docstring: its first paragraph, without parameter tags or markup.

    Everything from the first block tag (``@param``, ``\\param``, ``:param x:``, ``Args:`` ...) on is
    dropped, as tags come after the description; a docstring that is only tags gives ``""``.
    """
    kept: list[str] = []
    for line in textwrap.dedent(text.replace("\r\n", "\n")).split("\n"):
        stripped = line.strip().lstrip("*").strip() if line.strip().startswith("*") else line.strip()
        brief = _SUMMARY_TAG.match(stripped)
        if brief:
            kept.append(brief.group(1))
            continue
        if _UNDERLINE.match(stripped) and kept and kept[-1].strip():
            kept.pop()  # the NumPy section header it underlines
            break
        if _BLOCK_TAG.match(stripped) or _SECTION.match(stripped):
            break
        if _HTML_PARAGRAPH.match(stripped):
            kept.append("")  # Javadoc's <p> starts a new paragraph
        kept.append(stripped)
    paragraph: list[str] = []
    for line in kept:
        if line:
            paragraph.append(line)
        elif paragraph:
            break
    summary = " ".join(paragraph)
    summary = _INLINE_LINK.sub(r"\1", summary)
    summary = _INLINE_TAG.sub(lambda m: m.group(1).lstrip("#").replace("#", "."), summary)
    summary = _HTML_TAG.sub("", summary)
    summary = _RST_ROLE.sub(r"\1", summary)
    summary = _BACKTICKS.sub(r"\1", summary)
    summary = _RDOC_CODE.sub(r"\1", summary)
    summary = _MD_LINK.sub(r"\1", summary)
    summary = _YARD_REF.sub(lambda m: m.group(1).replace("#", "."), summary)
    return " ".join(html.unescape(summary).split())


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


def strip_python_docstring(code: str) -> str:
    """Python code without its function docstring, so the target is not part of the prompt.

    CodeSearchNet's ``func_code_string`` keeps the docstring in the body; for other languages the
    doc comment precedes the function and is never in the code field.
    """
    source = textwrap.dedent(code)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return code
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not node.body:
        return code
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)):
        return code
    lines = source.split("\n")
    del lines[first.lineno - 1 : first.end_lineno]
    if len(node.body) == 1:  # a docstring-only body still needs a statement
        lines.insert(first.lineno - 1, " " * first.col_offset + "...")
    return "\n".join(lines)


# --- diff -> message ------------------------------------------------------------------------------


def commit_body(subject: str, message: str) -> str:
    """What the message says beyond its subject: the first explanatory paragraph, or ``""``.

    Trailers (``Signed-off-by:``), bookkeeping (``MOE_MIGRATED_REVID=``) and a body that only
    repeats the subject do not count.
    """
    lines = message.replace("\r\n", "\n").strip().split("\n")
    if lines and " ".join(lines[0].split()) == " ".join(subject.split()):
        lines = lines[1:]
    paragraph: list[str] = []
    for line in lines:
        stripped = line.strip()
        if _TRAILER.match(stripped) or _BOOKKEEPING.match(stripped) or stripped.startswith("```"):
            if paragraph:
                break
            continue
        if stripped:
            paragraph.append(stripped)
        elif paragraph:
            break
    body = " ".join(" ".join(paragraph).split())
    flat_subject = " ".join(subject.split()).lower().rstrip(".")
    if not body or body.lower().rstrip(".") in flat_subject:
        return ""
    return body


def explain_target(subject: str, message: str, filters: Filters) -> str:
    """The explain target of a commit: the first sentences of its message body, or ``""``.

    At most ``filters.max_explain_sentences`` whole sentences and ``filters.max_explain_chars``
    characters are kept. ``""`` when the body is missing, starts mid-sentence (lower case, often
    the subject running on), does not end a sentence within those limits, has fewer than
    ``filters.min_explain_words`` words, or carries a link.
    """
    body = commit_body(subject, message or "")
    if not body or not body[0].isupper():
        return ""
    kept = ""
    for count, sentence in enumerate(_SENTENCE_END.split(body), 1):
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
