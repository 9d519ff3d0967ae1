"""A git diff read as its files and the lines of their hunks (shared by version and release-notes reading)."""

from __future__ import annotations

import functools
import re

@functools.lru_cache(maxsize=8)  # read by version_change, release_notes and affecting_notes of one commit
def _patch_files(patch: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(new path, lines of its hunks with their +/-/space marker) for each file of a git diff."""
    files: list[tuple[str, list[str]]] = []
    in_hunk = False                      # header lines ("--- a/x", "index ...") come before the first @@
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            match = re.match(r'diff --git "?a/.*?"? "?b/(.*?)"?$', line)
            files.append((match.group(1) if match else line.split()[-1], []))
            in_hunk = False
        elif files and (line.startswith("@@") or in_hunk and line[:1] in ("+", "-", " ", "")):
            in_hunk = True
            files[-1][1].append(line)
    return tuple((path, tuple(lines)) for path, lines in files)
