"""A repository's history: its commits, their changed files, and their patches cut to a budget.

Commits are read with ``git diff-tree`` in the parent -> commit direction (root commits against the
empty tree, merges against their first parent), so a patch's ``+`` lines are what the commit added.
The oldest commits of a shallow clone have parents the clone lacks: they are kept, marked
``parent_missing``, with no changes listed (diffing them against nothing would claim they added
every file). Messages are decoded in the encoding their commit declares.
``cut_patch`` keeps a commit prompt inside a token budget and says in plain words what it left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import git

from narrator.git import dates as gitdates
from narrator.git.files import skip_reason_for_path
from narrator.git.repo import read_object, reading, shallow_boundary

PROGRESS_EVERY = 100
"""Commits read with their patches between two progress reports (a few a second)."""


@dataclass(frozen=True)
class FileChange:
    """How one file changed in a commit."""

    path: str
    """New path (the old path for deletions)."""
    change: str
    """'added', 'modified', 'deleted' or 'renamed'."""
    added: int
    """Lines added (0 for binary files)."""
    removed: int
    """Lines removed (0 for binary files)."""
    binary: bool
    """True when git could not count lines because the content is binary."""
    old_path: str | None = None
    """The path before a rename; None otherwise."""


@dataclass(frozen=True)
class CommitInfo:
    """A commit with everything needed to explain it."""

    sha: str
    subject: str
    """First line of the message."""
    message: str
    """Full message."""
    author: str
    email: str
    date: datetime
    """Authored date, timezone-aware."""
    parents: tuple[str, ...]
    files: tuple[FileChange, ...]
    added: int
    """Total lines added."""
    removed: int
    """Total lines removed."""
    patch: str
    """Unified diff from the first parent (the empty tree for a root commit) to this commit."""
    tags: tuple[str, ...] = ()
    """Tags pointing at this commit (annotated tags by the commit they tag)."""
    parent_missing: bool = False
    """A shallow clone's oldest commit: its parent is not in the clone, so what it changed is
    unknown and ``files`` and ``patch`` are empty (it is not a root commit: ``parents`` names them)."""
    date_note: str | None = None
    """Why ``date`` is not simply the author date as written (a zone set aside, a date that could not
    be read): see ``narrator.git.dates``; None when it is."""

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def is_root(self) -> bool:
        return not self.parents


# ---------------------------------------------------------------------------------------------
# Sources: validate, open, clone


def recent_commits(repo: git.Repo, limit: int | None = None, since: datetime | None = None,
                   progress: Callable[[int], None] | None = None) -> list[CommitInfo]:
    """Commits reachable from HEAD, newest first, each with its changed files and patch.

    ``since`` keeps commits committed at or after that moment. A repository without commits gives
    an empty list; one git cannot read (a missing or corrupt object) raises ``RepoError``.
    ``progress(n)`` is told how many have been read, every ``PROGRESS_EVERY`` commits.
    """
    if not repo.head.is_valid():
        return []
    options: dict[str, object] = {}
    if limit is not None:
        options["max_count"] = limit
    if since is not None:
        options["since"] = since.isoformat()
    with reading(repo):
        tags = tags_by_commit(repo)
        boundary = shallow_boundary(repo)
        commits = []
        for commit in repo.iter_commits("HEAD", **options):
            commits.append(_describe_commit(repo, commit, tags.get(commit.hexsha, ()), commit.hexsha in boundary))
            if progress is not None and len(commits) % PROGRESS_EVERY == 0:
                progress(len(commits))
        return commits


def read_commits(repo: git.Repo, shas: list[str]) -> list[CommitInfo]:
    """These commits (full shas of this repository), each with its changed files and patch."""
    with reading(repo):
        tags = tags_by_commit(repo)
        boundary = shallow_boundary(repo)
        return [_describe_commit(repo, repo.commit(sha), tags.get(sha, ()), sha in boundary) for sha in shas]


def tags_by_commit(repo: git.Repo) -> dict[str, tuple[str, ...]]:
    """Every tag of the repository by the sha of the commit it marks."""
    # %(*objectname) is the tagged object of an annotated tag (empty for a lightweight tag).
    raw = repo.git.execute(["git", "for-each-ref", "refs/tags", "--format=%(objectname) %(*objectname) %(refname:short)"])
    found: dict[str, list[str]] = {}
    for line in raw.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3:
            continue
        direct, peeled, name = parts
        found.setdefault(peeled or direct, []).append(name)
    return {sha: tuple(sorted(names)) for sha, names in found.items()}


def _describe_commit(repo: git.Repo, commit: git.Commit, tags: tuple[str, ...] = (),
                     parent_missing: bool = False) -> CommitInfo:
    raw = read_object(repo, commit.binsha)
    message, encoding = _message_and_encoding(raw)
    author, committer = gitdates.header_idents(raw, encoding)
    when, date_note = gitdates.commit_date(author and author.stamp, committer and committer.stamp)
    files, patch = ([], "") if parent_missing else _changes(repo, commit)
    return CommitInfo(
        sha=commit.hexsha,
        subject=message.strip().split("\n", 1)[0].strip(),
        message=message.strip(),
        author=gitdates.author_name(author.name if author else ""),
        email=author.email if author else "",
        date=when,
        parents=tuple(p.hexsha for p in commit.parents),
        files=tuple(files),
        added=sum(f.added for f in files),
        removed=sum(f.removed for f in files),
        patch=patch,
        tags=tags,
        parent_missing=parent_missing,
        date_note=date_note,
    )


def _message_and_encoding(raw: bytes) -> tuple[str, str]:
    """A raw commit object's message, decoded as its ``encoding`` header says, and that encoding.

    GitPython 3.1 never finds that header (it compares 10 bytes with the 9 of b"encoding "), so
    a Latin-1 message came out with replacement characters; it also reads a malformed date or
    author line wrongly, or fails on it, so those are read from the raw header too
    (``narrator.git.dates``). Without the header, or with a name Python does not know, the text is
    read as UTF-8, git's default.
    """
    header, _, body = raw.partition(b"\n\n")
    encoding = "utf-8"
    for line in header.split(b"\n"):  # continuation lines (signatures) start with a space
        if line.startswith(b"encoding "):
            encoding = line[len(b"encoding "):].decode("ascii", "replace").strip()
    try:  # a name Python does not know, or a codec that is no text encoding ('hex', 'idna')
        return body.decode(encoding, "replace"), encoding
    except (LookupError, UnicodeError):
        return body.decode("utf-8", "replace"), "utf-8"


SUBMODULES = "--ignore-submodules=none"
"""Given to every diff: without it git reads each submodule's settings from the repository's
``.gitmodules``, and stops at one it refuses (``update = !command``, never run: git no longer allows it
there) with "invalid value", as if the repository were damaged. A changed submodule is then listed
as the one-line change of its commit, whatever its ``ignore`` setting says."""


def _changes(repo: git.Repo, commit: git.Commit) -> tuple[list[FileChange], str]:
    """The files a commit changed and its patch, from its first parent (or the empty tree)."""
    # Gotcha: GitPython's commit.diff(parent) runs parent <- commit, the reverse of what a reader
    # expects. diff-tree with (first parent, commit) gives the usual direction: '+' lines are new.
    # A root commit is compared with the empty tree; a merge with its first parent, i.e. what the
    # merge brought into the branch.
    # (--root with a single commit compares it with the empty tree, whatever the hash algorithm.)
    compared = [commit.parents[0].hexsha, commit.hexsha] if commit.parents else ["--root", commit.hexsha]
    raw = repo.git.execute(
        ["git", "diff-tree", "-r", "-M", "-z", "--raw", "--numstat", "-p", "--no-commit-id", "--no-color",
         "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", SUBMODULES, *compared],
        stdout_as_string=False,
    )
    return _parse_diff_tree(raw)


CHANGE_BY_STATUS = {"A": "added", "C": "added", "D": "deleted", "M": "modified", "T": "modified", "R": "renamed"}


def _parse_diff_tree(raw: bytes) -> tuple[list[FileChange], str]:
    """Parse ``diff-tree -z --raw --numstat -p`` output.

    The layout is: raw records (``:modes shas status\\0path\\0[new path\\0]``), then one numstat
    record per file in the same order (``added\\tremoved\\tpath\\0``, or for renames
    ``added\\tremoved\\t\\0old\\0new\\0``), then an empty record, then the patch text.
    """
    tokens = raw.split(b"\0")
    pos = 0
    entries: list[tuple[str, str, str | None]] = []  # (status, path, old path)
    while pos < len(tokens) and tokens[pos].startswith(b":"):
        status = tokens[pos].split()[-1].decode()[:1]
        if status in ("R", "C"):
            old, new = tokens[pos + 1], tokens[pos + 2]
            entries.append((status, new.decode("utf-8", "replace"), old.decode("utf-8", "replace")))
            pos += 3
        else:
            entries.append((status, tokens[pos + 1].decode("utf-8", "replace"), None))
            pos += 2
    files: list[FileChange] = []
    for status, path, old_path in entries:
        added_text, removed_text, inline_path = tokens[pos].split(b"\t", 2)
        pos += 1 if inline_path else 3
        binary = added_text == b"-"
        files.append(
            FileChange(
                path=path,
                change=CHANGE_BY_STATUS.get(status, "modified"),
                added=0 if binary else int(added_text),
                removed=0 if binary else int(removed_text),
                binary=binary,
                old_path=old_path if status == "R" else None,
            )
        )
    # The patch starts after the empty record that ends the numstat block; it may contain NULs
    # itself only inside binary content, which git does not print without --binary.
    patch = b"\0".join(tokens[pos + 1:]) if entries else b""
    return files, patch.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# Cutting patches to a budget


def approx_tokens(text: str) -> int:
    """A model-independent token estimate: one token per four characters, rounded up."""
    return (len(text) + 3) // 4


@dataclass
class _Section:
    path: str | None   # None for text before the first 'diff --git' line
    text: str
    changed: int       # '+'/'-' lines inside hunks
    minor: bool        # a lockfile, vendored or generated file: shown only if room is left


def _split_patch(patch: str) -> list[_Section]:
    sections: list[_Section] = []
    for chunk in re.split(r"(?m)^(?=diff --git )", patch):
        if not chunk:
            continue
        path = None
        if chunk.startswith("diff --git "):
            header = chunk.split("\n", 1)[0]
            match = re.match(r'diff --git "?a/.*?"? "?b/(.*?)"?$', header)
            path = match.group(1) if match else header[len("diff --git "):]
        hunks = chunk.split("\n@@", 1)
        changed = 0
        if len(hunks) == 2:
            changed = sum(1 for line in hunks[1].split("\n") if line[:1] in ("+", "-"))
        minor = path is not None and skip_reason_for_path(path) is not None
        sections.append(_Section(path=path, text=chunk, changed=changed, minor=minor))
    return sections


def without_files(patch: str, leave_out: Callable[[str], bool]) -> str:
    """``patch`` without the files whose path ``leave_out`` picks (text before the first file is kept)."""
    return "".join(s.text for s in _split_patch(patch) if s.path is None or not leave_out(s.path))


def cut_patch(patch: str, max_tokens: int) -> tuple[str, str | None]:
    """Cut a unified diff to about ``max_tokens`` tokens (see ``approx_tokens``).

    Returns ``(cut, note)``: ``cut`` never exceeds the budget; ``note`` is None when nothing was
    cut, else a plain sentence naming what was left out. Whole files are kept, smallest first, so
    a single huge file does not hide many small changes; lockfiles and generated files go last.
    Then as much of the first remaining file as fits is shown, cut at a line boundary.
    """
    if approx_tokens(patch) <= max_tokens:
        return patch, None
    budget = max(0, max_tokens) * 4
    sections = _split_patch(patch)
    whole: set[int] = set()
    for i in sorted(range(len(sections)), key=lambda i: (sections[i].path is not None, sections[i].minor, len(sections[i].text))):
        if len(sections[i].text) <= budget:
            whole.add(i)
            budget -= len(sections[i].text)

    partial: tuple[int, str, int] | None = None  # (index, shown text, changed lines shown)
    for i, section in enumerate(sections):
        if i in whole or section.minor or section.path is None:
            continue
        shown, shown_changed = _head_of(section.text, budget)
        if shown_changed:
            partial = (i, shown, shown_changed)
        break

    pieces: list[str] = []
    for i, section in enumerate(sections):
        if i in whole:
            pieces.append(section.text)
        elif partial and partial[0] == i:
            pieces.append(partial[1] if partial[1].endswith("\n") else partial[1] + "\n")
    cut = "".join(pieces)

    left_out: list[str] = []
    if partial:
        section = sections[partial[0]]
        left_out.append(f"the rest of {section.path} ({section.changed - partial[2]:,} changed lines)")
    dropped = [s for i, s in enumerate(sections) if i not in whole and (not partial or i != partial[0]) and s.path]
    if dropped:
        names = ", ".join(s.path for s in dropped[:5]) + (f" and {len(dropped) - 5:,} others" if len(dropped) > 5 else "")
        lines = sum(s.changed for s in dropped)
        left_out.append(
            f"{len(dropped):,} more file{'s' if len(dropped) != 1 else ''} ({names}; {lines:,} changed lines)"
        )
    if not left_out:
        left_out.append("part of the change")
    return cut, "Left out to fit the size limit: " + " and ".join(left_out) + "."


def _head_of(text: str, budget: int) -> tuple[str, int]:
    """The longest run of whole lines from the start of ``text`` that fits ``budget`` characters
    (one character is kept back for a final newline), and how many changed lines it shows."""
    used = 0
    changed = 0
    in_hunks = False
    kept: list[str] = []
    for line in text.splitlines(keepends=True):
        if used + len(line) > budget - 1:
            break
        kept.append(line)
        used += len(line)
        if line.startswith("@@"):
            in_hunks = True
        elif in_hunks and line[:1] in ("+", "-"):
            changed += 1
    return "".join(kept), changed
