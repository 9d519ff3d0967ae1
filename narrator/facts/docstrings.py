"""A developer's docstring made into a one-paragraph summary, and Python code without its docstring.

Shared by evaluation (``narrator.eval.metrics``: the reference a summary is scored against) and training
(``training.cleaning``: the target the adapter learns), so the model is scored on the same
reference it was trained towards. Both functions are pure.
"""

from __future__ import annotations

import ast
import html
import re
import textwrap

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
# A raw doc comment's opening mark (/**, /*, //). Not "#": "#name" starts a Javadoc/YARD reference.
_COMMENT_OPEN = re.compile(r"^(?:/\*+|//+)")

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


def _doc_line(line: str) -> str:
    """One docstring line without its comment marks (``/**``, ``*``, ``*/``, ``//``) and spaces."""
    stripped = line.strip()
    if stripped.endswith("*/"):
        stripped = stripped[:-2].rstrip()
    stripped = _COMMENT_OPEN.sub("", stripped).strip()
    return stripped.lstrip("*").strip() if stripped.startswith("*") else stripped


def clean_docstring(text: str) -> str:
    """The summary of a docstring: its first paragraph, without parameter tags or markup.

    Everything from the first block tag (``@param``, ``\\param``, ``:param x:``, ``Args:`` ...) on is
    dropped, as tags come after the description; a docstring that is only tags gives ``""``. A raw
    doc comment (``/** ... */``, ``//`` lines) reads the same as its extracted text.
    """
    kept: list[str] = []
    for line in textwrap.dedent(text.replace("\r\n", "\n")).split("\n"):
        stripped = _doc_line(line)
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


_TRIPLE_QUOTED = re.compile(r"""[ \t]*[rRuU]?(\"\"\"|''')(?:.*?)\1[ \t]*\n?""", re.S)


def strip_python_docstring(code: str) -> str:
    """The function without its docstring, so a summary target is not part of the prompt.

    CodeSearchNet's Python code keeps the docstring in the body (for other languages the doc comment
    precedes the function and is never in the code field), and some of it is Python 2: when ``ast``
    cannot parse the code, the first triple-quoted string goes instead. A body that was only a
    docstring gets ``...`` so it still reads as code.
    """
    source = textwrap.dedent(code)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return _TRIPLE_QUOTED.sub("", code, count=1)
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return code
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return code
    lines = source.split("\n")
    # ast columns count UTF-8 bytes; a docstring may share its line with the ``def`` header.
    start = lines[first.lineno - 1].encode()
    end = lines[first.end_lineno - 1].encode()
    before = start[: first.col_offset].decode()
    after = end[first.end_col_offset :].decode().lstrip(" \t;")
    only = len(node.body) == 1
    replacement = [before + ("..." if only else "") + after] if before.strip() or after.strip() or only else []
    lines[first.lineno - 1 : first.end_lineno] = replacement
    return "\n".join(lines)
