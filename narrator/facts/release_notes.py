"""Release notes a commit adds: plain entries of CHANGELOG/NEWS files and changelog folders, and the
entries that warn existing users (Breaking, Removed, Deprecated); edits of old entries do not count.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Callable
from itertools import repeat

from narrator.facts.diffs import _patch_files
from narrator.facts.messages import first_sentences
from narrator.facts.paths import is_release_notes_path
from narrator.text import unmarked

_plain = functools.lru_cache(maxsize=1 << 14)(unmarked)
"""``narrator.text.unmarked``, remembered: a changelog line a commit adds comes back in the hunks of
the later commits that edit lines near it (three in four of a long history's lines are seen before)."""


_UNDERLINE = re.compile(r"^\s*([=\-~^*+#`'\".:_])\1{2,}\s*$")
_VERSION_LINE = re.compile(
    r"^\s*(?:#+\s*)?\[?(?:v(?:ersion)?\s*)?\d+(?:\.\d+)+[^\s\]]*\]?(?:\s*[-–—:(].*)?$|^\s*\(?\d{4}-\d{2}-\d{2}\)?\s*$"
    r"|^\s*\[?unreleased\]?\s*(?:[-–—:(].*)?$", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_FENCE = re.compile(r"^(?:```|~~~(?!~))")
_LINK_REFERENCE = re.compile(r"^\[[^\]]+\]:\s*\S")
_LETTER = re.compile(r"[A-Za-z]")
_BARE_URL = re.compile(r"(?:\S*:\s*)?https?://\S+")


_EDITED = 0.6
"""Similarity (``difflib`` ratio of the plain texts) from which an added line is an edit of a removed one."""
_MOST_PAIRS = 4000
"""Most removed x added line pairs compared in one hunk; beyond it only identical texts pair up."""


@functools.lru_cache(maxsize=64)  # read by release_notes and affecting_notes of one commit
def _added_lines(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The ``+`` lines of a file's hunks that add something: a ``+`` line that rewrites a ``-`` line of
    the same hunk (a typo fixed in an old entry, a link updated) is an edit and is left out."""
    hunks: list[list[str]] = []
    for line in lines:
        if line.startswith("@@") or not hunks:
            hunks.append([])
        hunks[-1].append(line)
    added: list[str] = []
    for hunk in hunks:
        plus = [line for line in hunk if line.startswith("+")]
        if not plus:
            continue
        removed = [_plain(line[1:]) for line in hunk if line.startswith("-")]
        if len(removed) * len(plus) > _MOST_PAIRS:  # too many to compare: identical texts pair up
            left = Counter(removed)
            for line in plus:
                text = _plain(line[1:])
                if left[text]:
                    left[text] -= 1
                else:
                    added.append(line)
            continue
        for line in plus:
            if not removed:  # nothing left to pair with: the text need not be worked out
                added.append(line)
                continue
            text = _plain(line[1:])
            edited = _edit_of(text)
            match = next((i for i, old in enumerate(removed) if old == text or text and edited(old)), None)
            if match is None:
                added.append(line)
            else:
                del removed[match]  # one removed line pairs with one added line
    return tuple(added)


def _edit_of(new: str) -> Callable[[str], bool]:
    """Whether a text is an edit of ``new`` (``difflib`` ratio at least ``_EDITED``), the cheap bounds
    first; one matcher serves every text ``new`` is compared with (it indexes ``new`` once)."""
    matcher: difflib.SequenceMatcher | None = None

    def edited(old: str) -> bool:
        nonlocal matcher
        if 2.0 * min(len(old), len(new)) / (len(old) + len(new)) < _EDITED:  # real_quick_ratio, from lengths
            return False
        # The ratio counts at least the longest block the two share, so at least their longest
        # common start or end: an edit near one end (a link fixed, a typo) needs no matcher.
        if 2.0 * _common_end(old, new) / (len(old) + len(new)) >= _EDITED:
            return True
        # quick_ratio: the characters the two share, counted as it counts them (a multiset
        # intersection), without its loop over every character.
        ours, theirs = _characters(old), _characters(new)
        if 2.0 * sum(map(min, ours.values(), map(theirs.get, ours, repeat(0)))) / (len(old) + len(new)) < _EDITED:
            return False
        if matcher is None:
            matcher = difflib.SequenceMatcher(None, "", new, autojunk=False)
        matcher.set_seq1(old)
        return matcher.ratio() >= _EDITED

    return edited


def _common_end(a: str, b: str) -> int:
    """The length of the longer of ``a`` and ``b``'s common prefix and common suffix."""
    longest = 0
    for flip in (False, True):
        low, high = 0, min(len(a), len(b))
        while low < high:  # the common part is a[:low] (or a[-low:]); find the longest by halves
            middle = (low + high + 1) // 2
            if (a[len(a) - middle:] == b[len(b) - middle:]) if flip else (a[:middle] == b[:middle]):
                low = middle
            else:
                high = middle - 1
        longest = max(longest, low)
    return longest


@functools.lru_cache(maxsize=1 << 10)  # a removed line is compared with each added line of its hunk
def _characters(text: str) -> Counter[str]:
    """How many times each character occurs in ``text`` (not to be changed: it is shared)."""
    return Counter(text)


def _note_entries(lines: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Plain ``(entry, bulleted)`` pairs from the lines one release-notes file's diff adds (not edits)."""
    added = []
    in_code = False
    for line in (line[1:] for line in _added_lines(lines)):
        # Code blocks and shell sessions show commands, not what changed.
        if _FENCE.match(line.strip()):  # a long ~~~~ line is an RST underline
            in_code = not in_code
            continue
        if not in_code and not line.lstrip().startswith(("$ ", "> $", ">>> ")):
            added.append(line)
    entries: list[str] = []
    entries_bulleted: list[bool] = []
    joinable = False                     # may the next plain line continue the last entry?
    in_comment = in_front = False
    for i, line in enumerate(added):
        stripped = line.strip()
        if i == 0 and stripped == "---":
            in_front = True
            continue
        if in_front:
            in_front = stripped != "---"
            continue
        if in_comment or stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = "-->" not in stripped
            continue
        following = added[i + 1] if i + 1 < len(added) else ""
        if (not stripped or stripped.startswith("#") or _UNDERLINE.match(stripped) or _VERSION_LINE.match(stripped)
                or _LINK_REFERENCE.match(stripped) or stripped.startswith(".. ") or _UNDERLINE.match(following)):
            joinable = False
            continue
        bullet = _BULLET.match(line)
        text = _plain(_BULLET.sub("", line) if bullet else line)
        lead = _BOLD_LEAD.match(_BULLET.sub("", line) if bullet else line)
        if lead:
            # "**Pretty-printed JSON in templates.** The jsonify extension ..." - the bold lead is the entry.
            bullet, text = True, _plain(lead.group(1))
        if not _LETTER.search(text) or _BARE_URL.fullmatch(text) or text.lower().startswith("full changelog"):
            continue
        if not bullet and joinable and entries and (line[:1].isspace() or not entries_bulleted[-1]):
            entries[-1] = f"{entries[-1]} {text}"
            continue
        entries.append(text)
        entries_bulleted.append(bool(bullet))
        joinable = True
    return list(zip(entries, entries_bulleted))


_NOTE_CHARS = 220
_BOLD_LEAD = re.compile(r"^\s*\*\*([^*]{3,}?)\*\*")
_CREDIT = re.compile(r"^(?:@[\w-]+|thanks\b|thank you\b|special thanks\b|many thanks\b|kudos\b|contributors?\b|"
                     r"new contributors?\b|huge thanks\b)", re.I)


def release_notes(patch: str, limit: int = 5) -> list[str]:
    """Up to ``limit`` plain entries the diff adds to release notes, unique, in order.

    Release notes are CHANGELOG*/CHANGES*/HISTORY*/NEWS*/RELEASE*NOTES* files (any folder, any
    extension) and files under changelog folders (changelog/, changelog.d/, changes/, .changes/,
    newsfragments/, news/, .changeset/). Headings, version/date lines, RST underlines, link
    references, HTML comments, front matter, code blocks, shell sessions and blank lines are
    skipped; bullet markers and Markdown/RST markup are removed; wrapped lines are joined to their
    entry. When the notes hold a list, only its items count; each note is cut to its first sentence.
    """
    entries: list[str] = []
    for path, lines in _patch_files(patch):
        if is_release_notes_path(path):
            # Credits ("Thanks to @x", "@x for ...") say who helped, not what changed.
            notes = [(text, bulleted) for text, bulleted in _note_entries(lines) if not _CREDIT.match(text)]
            # Where a file's notes are a list, the list is the account; a prose introduction is not.
            listed = any(bulleted for _, bulleted in notes)
            entries += [text for text, bulleted in notes if bulleted or not listed]
    found: list[str] = []
    for text in entries:
        note = first_sentences(text, limit=1, max_chars=_NOTE_CHARS)
        if note and not note.endswith(":") and note not in found:
            found.append(note)
    return found[:limit]


_HEADING = re.compile(r"^\s*(?:#+\s*(?P<md>.+?)\s*#*|\*\*(?P<bold>[^*]+?)\*\*:?|__(?P<under>[^_]+?)__:?)\s*$")
_AFFECTING_HEADING = re.compile(r"\b(?:breaking|backwards?[- ]incompatib\w*|incompatib\w*|removed|removals?|deprecat\w*|changed|"
                                r"behaviou?r changes?|changes in behaviou?r)\b", re.I)
_AFFECTING_ENTRY = re.compile(r"^\W*(?P<mark>breaking(?: changes?)?|removed|deprecated)\W*[:\]]", re.I)


def affecting_notes(patch: str, limit: int = 3) -> list[tuple[str, str]]:
    """``(heading, entry)`` for entries the diff adds to release notes that warn existing users.

    An entry warns when it sits under a heading that says Breaking, Changed, Removed, Deprecated
    or Incompatible (a Markdown ``#`` heading, a bold line or an underlined RST title, added or
    already there), or opens with such a mark ("- **Breaking:** drop Node 14"). Edits of old
    entries (``_added_lines``) do not count. Up to ``limit``, in order.
    """
    found: list[tuple[str, str]] = []
    for path, lines in _patch_files(patch):
        if not is_release_notes_path(path):
            continue
        added = Counter(_added_lines(lines))
        left = sum(added.values())  # added lines not yet read: none left, nothing more to find here
        heading = ""
        for i, line in enumerate(lines):
            if not left:
                break
            if line.startswith(("-", "@@")):
                continue
            text, following = line[1:], lines[i + 1][1:] if i + 1 < len(lines) else ""
            match = _HEADING.match(text)
            if match or (text.strip() and _UNDERLINE.match(following) and not _UNDERLINE.match(text)):
                heading = _plain(next(g for g in match.groups() if g) if match else text)
                continue
            if not line.startswith("+") or not added[line] or not re.search(r"[A-Za-z]", text) or _UNDERLINE.match(text):
                continue
            added[line] -= 1
            left -= 1
            mark = _AFFECTING_ENTRY.match(text)
            if _AFFECTING_HEADING.search(heading) or mark:
                found.append((mark["mark"] if mark else heading, _plain(_BULLET.sub("", text))))
                if len(found) >= limit:
                    return found
    return found
