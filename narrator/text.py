"""Untrusted text made safe to print or render: control characters out, markup escaped.

Commit messages, READMEs, folder names and model answers can say anything. Before such text
reaches a terminal, a Markdown page or an HTML report it goes through one of these:

- :func:`plain` drops what a terminal or a renderer would act on instead of showing: ANSI escape
  sequences (colours, cursor moves, OSC hyperlinks and window titles), the other C0 and C1 control
  characters (BEL, backspace, carriage return, ...), and invisible formatting characters such as
  the bidi overrides U+202E/U+2066 that make text read differently from what it says.
- :func:`markdown_text` escapes, after that, every character Markdown would act on where it stands,
  so ``<script>``, ``[x](javascript:...)``, ``*``, ``_`` and backticks render as the characters
  they are, while commas, full stops and the like stay as written. The dashboard and
  ``narrator show`` share it.
- :func:`html_text` is :func:`plain` then ``html.escape``, for HTML reports.

:func:`link_text` reads Markdown the other way, for text taken from a changelog, a README or a
docstring: each link becomes its text, however its URL is written. :func:`unmarked` does that and
more for people's words (a commit's subject and body, a changelog entry): Sphinx and MyST roles,
backticks and emphasis become the text they mark.
"""

from __future__ import annotations

import html
import re
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
# always literal text. Only the characters that could start markup where they stand are escaped:
_ALWAYS = re.compile(r"([\\`*\[\]<$~|])"                 # code, emphasis, links, HTML, Streamlit's $math$,
                                                         # GFM ~strikethrough~ and | tables
                     r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # _emphasis_ (snake_case is not emphasis)
                     r"|:(?=[A-Za-z/+])"                   # :red[...] directives, :emoji:, scheme:
                     r"|&(?=#?\w+;)")                      # &amp; and other entities
# At a line's start: headings, quotes, list items, setext underlines and thematic breaks.
_LINE_START = re.compile(r"^(?:#{1,6}(?=\s|$)|>|[+-](?=\s|$)|([=-])\1*\s*$|\d{1,9}(?=[.)](?:\s|$)))")
_AFTER_LINK = re.compile(r"[()]")
"""Parentheses are markup only right after a link's ``]``: escaped where the text holds a bracket,
and an opening one at its very start, where it could follow a ``]`` the caller wrote."""
_AFTER_TAG = re.compile(r">")
"""``>`` closes a tag only after a ``<``: escaped where the text holds one (and at a line start)."""


def _escaped(line: str, brackets: bool, tags: bool) -> str:
    """One line of :func:`plain` text as Markdown that shows it literally."""
    escaped = _ALWAYS.sub(lambda m: "\\" + m.group(0), line)
    if brackets:
        escaped = _AFTER_LINK.sub(r"\\\g<0>", escaped)
    elif escaped.startswith("("):
        escaped = "\\" + escaped
    if tags:
        escaped = _AFTER_TAG.sub(r"\\>", escaped)
    lead = _LINE_START.match(escaped)
    if lead:  # "1. x" -> "1\\. x", "# x" -> "\\# x": the mark after the digits, else the mark itself
        cut = lead.end() if lead.group(0)[0].isdigit() else 0
        escaped = escaped[:cut] + "\\" + escaped[cut:]
    return escaped


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
    shown = plain(text, keep_newlines)
    brackets, tags = "[" in shown or "]" in shown, "<" in shown
    if not keep_newlines:
        return _escaped(shown, brackets, tags)
    return "  \n".join(_escaped(line.strip(), brackets, tags) for line in shown.split("\n"))


def html_text(text: str | None, keep_newlines: bool = False) -> str:
    """``text`` for HTML: :func:`plain`, then every ``<``, ``>``, ``&`` and quote escaped."""
    return html.escape(plain(text, keep_newlines), quote=True)


def link_text(text: str) -> str:
    """``text`` with every Markdown link or image replaced by its text: ``[the docs](url)``,
    ``![alt](url "title")``, ``[text][ref]`` and ``[text][]`` -> ``the docs``, ``alt``, ``text``.

    Parsed as CommonMark does, not with a regular expression: a URL may hold balanced parentheses
    (``https://en.wikipedia.org/wiki/Go_(game)``), be written ``<with spaces>`` and be followed by a
    title, and link text may hold brackets and images (``[![badge](svg)](url)`` -> ``badge``). A
    bracket that opens no link, or one escaped with a backslash, is left as it is. Brackets and
    parentheses are matched in one pass first, so the work stays linear in the length of ``text``.
    """
    if "[" not in text:  # most lines hold no link: the history pass reads thousands of them
        return text
    pairs = _pairs(text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        # Up to the next backslash, "[" or "!", every character is copied as it is: in one piece.
        special = _LINK_CHARACTER.search(text, i)
        plain_end = special.start() if special else n
        if plain_end > i:
            out.append(text[i:plain_end])
            i = plain_end
            continue
        if text[i] == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        start = i + 1 if text.startswith("![", i) else i
        close = pairs.get(start)
        if text[start:start + 1] == "[" and close is not None:
            end = _link_tail(text, close + 1, pairs)
            if end is not None:
                out.append(link_text(text[start + 1:close]))
                i = end
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


_LINK_CHARACTER = re.compile(r"[\\\[!]")
_PAIR_CHARACTER = re.compile(r"[\\\[\]()\s]")
_MAX_TITLE = 1024
"""Longest ``<destination>`` or title looked for, so a stray ``<`` or quote costs bounded work."""
_BARE_DESTINATION = re.compile(r"(?:[^\s()\\]|\\.)*")


def _pairs(text: str) -> dict[int, int]:
    """Where each bracket and parenthesis closes: ``{index of "[": index of its "]"}`` (nested pairs,
    backslash escapes respected), and the same for ``(`` within a run of non-blank characters (a
    bare link destination holds no spaces). An unclosed ``(`` maps to the blank that ends its run,
    where a title may follow."""
    pairs: dict[int, int] = {}
    brackets: list[int] = []
    parentheses: list[int] = []
    i = 0
    while special := _PAIR_CHARACTER.search(text, i):  # other characters change nothing here
        i = special.start()
        character = text[i]
        if character == "\\":
            i += 1
        elif character == "[":
            brackets.append(i)
        elif character == "]" and brackets:
            pairs[brackets.pop()] = i
        elif character == "(":
            parentheses.append(i)
        elif character == ")" and parentheses:
            pairs[parentheses.pop()] = i
        elif character.isspace():
            for opening in parentheses:
                pairs[opening] = i
            parentheses.clear()
        i += 1
    return pairs


def _link_tail(text: str, i: int, pairs: dict[int, int]) -> int | None:
    """The end of what follows a link's ``[text]`` at ``i``: ``(destination "title")`` or ``[ref]``;
    None when neither follows (a plain bracket)."""
    if text[i:i + 1] == "[":
        close = pairs.get(i)
        return None if close is None or "\n" in text[i:close] else close + 1
    if text[i:i + 1] != "(":
        return None
    close = pairs.get(i)
    if close is not None and text[close] == ")":
        return close + 1  # (destination), its own parentheses balanced
    start = _skip_blanks(text, i + 1)
    if text[start:start + 1] == "<":  # (<destination with spaces or parentheses> ...
        close = text.find(">", start, start + _MAX_TITLE)
        if close < 0 or "\n" in text[start:close]:
            return None
        i = close + 1
    elif start > i + 1:  # ( destination ... : a short one, after blanks
        i = _BARE_DESTINATION.match(text, start, start + _MAX_TITLE).end()
    elif close is not None:  # (destination ... : it ends at a blank
        i = close
    else:
        return None
    i = _skip_blanks(text, i)
    if text[i:i + 1] in ("'", '"', "("):  # a title
        close = text.find(")" if text[i] == "(" else text[i], i + 1, i + _MAX_TITLE)
        if close < 0:
            return None
        i = _skip_blanks(text, close + 1)
    return i + 1 if text[i:i + 1] == ")" else None


def _skip_blanks(text: str, i: int) -> int:
    """The first index from ``i`` that is not a space or tab (a link may not span blank lines)."""
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _role(match: re.Match) -> str:
    """The text a Sphinx role shows: ``~a.b.C`` -> ``C``, ``!x`` -> ``x``, ``title <target>`` -> ``title``."""
    target = match.group(1)
    titled = re.fullmatch(r"(.+?)\s*<[^<>]+>", target)
    if titled:
        return titled.group(1)
    target = target.lstrip("!")
    return target[1:].rsplit(".", 1)[-1] if target.startswith("~") else target


_MARKUP = [  # after links (``link_text``)
    (re.compile(r"`([^`<]+?)\s*<[^>]+>`_{1,2}"), r"\1"),             # RST `text <url>`_
    (re.compile(r"(?::[\w:.+-]+:|\{[\w:.+-]+\})`([^`]+)`"), _role),  # RST :role:`x`, MyST {role}`x`
    (re.compile(r"``([^`]+)``"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*|(?<!\w)__(?=[^_]*\W)([^_]+)__(?!\w)"), r"\1\2"),  # not __init__
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"\1"),
    (re.compile(r"<!--.*?-->"), ""),
]
_MARKUP_NEEDS = (("`",), ("`",), ("`",), ("`",), ("**", "__"), ("*",), ("<!--",))
"""For each entry of ``_MARKUP``, the strings of which every match holds one: without them it is not run."""
_MARKED = re.compile(r"[`\[*]|__|<!--")
"""A character without which no entry of ``_MARKUP`` (or a link) can match: most texts have none."""


def unmarked(text: str) -> str:
    """People's words with their markup turned into the text it marks, on one line.

    Links and images become their text (:func:`link_text`); Sphinx and MyST roles their target as
    shown (``:func:`edit``` and ``{func}`edit``` -> ``edit``, ``:class:`~a.Cart``` -> ``Cart``);
    backticks, ``**bold**``, ``*emphasis*`` and HTML comments go. A name such as ``__init__`` or
    ``snake_case`` is not emphasis and stays; so do tags such as ``<select>``, which may be what a
    change is about (renderers escape them).
    """
    if not _MARKED.search(text):
        return " ".join(text.split())
    text = link_text(text)
    for (pattern, replacement), needs in zip(_MARKUP, _MARKUP_NEEDS):
        if any(map(text.__contains__, needs)):
            text = pattern.sub(replacement, text)
    return " ".join(text.split())
