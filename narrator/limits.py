"""How long a text read from a repository may be, stored or shown: one place for every cap.

Git accepts a commit subject of a megabyte. Kept whole, one such commit made the PDF report take
minutes (a long paragraph costs ReportLab time growing with the square of its length) and froze
the dashboard's Changes page for two minutes. Texts are cut when a commit is recorded
(``narrator.pipeline.scan.commit_row``) and again when shown (rows stored before these caps), and a cut
text says so and by how much, so nobody mistakes it for the whole.
"""

from __future__ import annotations

import re

SUBJECT_CHARS = 500
"""A commit subject, and the headline made from it (real subjects are under 100 characters)."""

MESSAGE_CHARS = 20_000
"""A whole commit message (the longest real ones, a squashed merge's list, are a few thousand)."""

NAME_CHARS = 200
"""An author's name or e-mail address."""

PARAGRAPH_CHARS = 20_000
"""One paragraph of a report, whatever it comes from (README words, a description, a note)."""


def cut(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters; else its first ``limit`` and a marker.

    The marker says how much was left out: ``… [cut: 1,048,076 more characters]``, counted from
    the whole text also when ``text`` was cut before (a stored subject, cut again to be shown). A
    missing text (None) stays missing.
    """
    if text is None or len(text) <= limit:
        return text
    # A text cut before (a stored subject) keeps the count of what its first cut left out.
    already = _CUT_MARKER.search(text)
    body, left_out = (text[:already.start()], int(already[1].replace(",", ""))) if already else (text, 0)
    if len(body) <= limit:
        return text
    return f"{body[:limit].rstrip()} \u2026 [cut: {len(body) - limit + left_out:,} more characters]"


_CUT_MARKER = re.compile(r" \u2026 \[cut: ([0-9,]+) more characters\]\Z")
"""The marker ``cut`` ends a text with; group 1 is how many characters it left out."""
