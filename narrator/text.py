"""Untrusted text made safe to print or render: control characters out, markup escaped.

Commit messages, READMEs, folder names and model answers can say anything. Before such text
reaches a terminal, a Markdown page or an HTML report it goes through one of these:

- :func:`plain` drops what a terminal or a renderer would act on instead of showing: ANSI escape
  sequences (colours, cursor moves, OSC hyperlinks and window titles), the other C0 and C1 control
  characters (BEL, backspace, carriage return, ...), and invisible formatting characters such as
  the bidi overrides U+202E/U+2066 that make text read differently from what it says.
- :func:`markdown_text` escapes every ASCII punctuation character after that, so ``<script>``,
  ``[x](javascript:...)``, ``*``, ``_`` and backticks render as the characters they are. The
  dashboard and ``narrator show`` share it.
- :func:`html_text` is :func:`plain` then ``html.escape``, for HTML reports.
"""

from __future__ import annotations

import html
import re
import string
import unicodedata

# ESC [ ... final byte (CSI: colours, cursor moves), ESC ] ... BEL or ESC \ (OSC: titles,
# hyperlinks), and two-byte ESC sequences; the 8-bit CSI (U+009B) too. Removed whole, so no
# "[31m" is left behind when the ESC itself goes.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)
_LINE_BREAK = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# Joiners shape emoji and some scripts; every other format character (Cf) is invisible and goes.
_KEEP_FORMAT = {"\u200c", "\u200d"}

# CommonMark lets a backslash escape any ASCII punctuation character, and an escaped character is
# always literal text. Escaping all of them (rather than a hand-picked list) also covers
# Streamlit's own extensions: `$` math, `:red[...]` colour directives and raw `<tags>`.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def _shown(character: str) -> str:
    if character == "\n" or character in _KEEP_FORMAT:
        return character
    kind = unicodedata.category(character)
    if character == "\t":
        return " "
    if kind in ("Cc", "Cf"):
        return ""
    if kind == "Cs":  # a lone surrogate (undecodable bytes) cannot even be printed
        return "\ufffd"
    return character


def plain(text: str | None, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences, control or invisible formatting characters.

    Line breaks of any kind become ``\\n`` with ``keep_newlines``; without it the text is one line
    (a subject or a headline): breaks and runs of spaces become single spaces. Tabs become spaces.
    """
    if not text:
        return ""
    text = _LINE_BREAK.sub("\n", _ESCAPE_SEQUENCE.sub("", str(text)))
    text = "".join(_shown(character) for character in text)
    if keep_newlines:
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    return " ".join(text.split())


def markdown_text(text: str | None, keep_newlines: bool = False) -> str:
    """Markdown that shows ``text`` exactly as written, with no markup, links or HTML.

    With ``keep_newlines`` line breaks stay as hard breaks, and leading spaces are dropped because
    four of them would otherwise start a code block; without it the result is one line.
    """
    escaped = _PUNCTUATION.sub(r"\\\1", plain(text, keep_newlines))
    return "  \n".join(line.strip() for line in escaped.split("\n")) if keep_newlines else escaped


def html_text(text: str | None, keep_newlines: bool = False) -> str:
    """``text`` for HTML: :func:`plain`, then every ``<``, ``>``, ``&`` and quote escaped."""
    return html.escape(plain(text, keep_newlines), quote=True)
