"""The whole history in one streaming ``git log`` pass: every commit's facts, no patch per commit.

``narrator.git.commits`` reads a patch per commit, which a model prompt needs but which takes minutes
over a long history. A commit's facts (date, author, files with their counts, tags, message) come
from one ``git log --raw --numstat -z`` instead, parsed as git writes it. Only two of the facts read
a diff: release notes and a changed version field (``reads_diff``), so one ``git diff-tree
--stdin`` reads the diffs of just those files, of just the commits that touched them.

What this pass gives differs from ``narrator.git.commits`` in two ways, both on purpose:

* a merge lists no files: what it brought is its branch's commits, read themselves (comparing it
  with its first parent as well would count every line twice and double git's time);
* ``patch`` holds only the diffs of ``reads_diff`` files, enough for ``changes.commit_details``
  and nothing for a prompt: the commits a model explains are read again by ``narrator.git.commits``.

Messages come re-encoded to UTF-8 by git (``--encoding=UTF-8``) from whatever their commit declares.
The oldest commits of a shallow clone keep their ``parent_missing`` mark, with no files.
"""

from __future__ import annotations

import queue
import re
import threading
from collections import deque
from collections.abc import Container, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import IO

import git
from git.exc import GitCommandError

from narrator.facts.paths import notes_folder
from narrator.facts.releases import reads_diff
from narrator.git import dates as gitdates
from narrator.git.commits import CHANGE_BY_STATUS, SUBMODULES, CommitInfo, FileChange, tags_by_commit
from narrator.git.repo import git_stream, read_object, reading, shallow_boundary

LOG_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%at%x00%ad%x00%ct%x00%cd%x00%B"
"""A record separator, then sha, parents, author, email, the author's and the committer's seconds as
written and raw dates (``--date=raw``: seconds and zone), and the raw message, NUL-separated."""
_HEADER_FIELDS = LOG_FORMAT.count("%x00") + 1

LOG_OPTIONS = (
    "--raw", "--numstat", "-z", "--no-abbrev", "-M", "--diff-merges=off", "--encoding=UTF-8",
    # Porcelain honours the repository's config: these pin what the plumbing of narrator.git.commits does.
    "--no-color", "--no-ext-diff", "--no-textconv", "--no-mailmap", "--no-show-signature",
    "--diff-algorithm=myers", "-O/dev/null", "--date=raw", f"--format={LOG_FORMAT}", SUBMODULES,
)
_DIFF_OPTIONS = ("diff-tree", "--stdin", "-r", "-M", "-p", "--root", "--no-color", "--no-ext-diff", "--no-textconv",
                 "--src-prefix=a/", "--dst-prefix=b/", SUBMODULES)
_SHA_LINE = re.compile(rb"^[0-9a-f]{40}(?:[0-9a-f]{24})?\n?$")
_CHUNK = 1 << 20
DIFF_BATCH = 500
"""Commits per ``git diff-tree --stdin`` of the diffs the facts read."""


def is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    """Whether commit ``older`` is in ``newer``'s history (False when ``older`` is gone, say rewritten)."""
    try:
        return repo.is_ancestor(older, newer)
    except (GitCommandError, ValueError):
        return False


def count_commits(repo: git.Repo, revision: str, limit: int | None = None) -> int:
    """How many commits ``revision``'s history holds; with ``limit``, at most that many (git stops
    there: a long history is not walked to count 30)."""
    with reading(repo):
        counted = repo.git.rev_list("--count", *([f"--max-count={max(0, limit)}"] if limit is not None else []), revision)
        return int(counted.strip() or 0)


def read_history(repo: git.Repo, head: str, old_head: str | None = None,
                 known: Container[str] = frozenset()) -> Iterator[CommitInfo]:
    """Every commit of ``head``'s history that is not in ``old_head``'s, except the ``known`` shas.

    Commits come without patches (see the module docstring) as git writes them, newest first, so
    the caller's work on one overlaps git's on the next; those that touched release notes or a
    version field come later, with the diffs of those files: each batch as soon as its diffs are
    read, between the commits the log still writes (their facts cost the most: the caller works on
    them while git works, not after).
    """
    if not repo.head.is_valid():
        return
    revisions = [head] + ([f"^{old_head}"] if old_head else [])
    with reading(repo):
        tags = tags_by_commit(repo)
        boundary = shallow_boundary(repo)
    # Batches of the commits whose diffs the facts read, each read by one diff-tree while the log
    # goes on (one at a time: git log has the other core).
    batches: deque[tuple[list[CommitInfo], Future[dict[str, str]]]] = deque()
    batch: list[CommitInfo] = []
    with ThreadPoolExecutor(1) as pool:
        with git_stream(repo, ["log", *LOG_OPTIONS, *revisions, "--"]) as out:
            for commit in parse_log(_tokens(out), tags, boundary, known):
                if commit.parent_missing:
                    commit = replace(commit, parents=_parents(repo, commit.sha))
                if not any(reads_diff(f.path) for f in commit.files):
                    yield commit
                else:
                    batch.append(commit)
                    if len(batch) == DIFF_BATCH:
                        batches.append((batch, pool.submit(read_diffs, repo, batch)))
                        batch = []
                while batches and batches[0][1].done():  # read one at a time: they finish in order
                    yield from _with_patches(*batches.popleft())
        if batch:
            batches.append((batch, pool.submit(read_diffs, repo, batch)))
        while batches:
            yield from _with_patches(*batches.popleft())


def _with_patches(commits: list[CommitInfo], diffs: Future[dict[str, str]]) -> Iterator[CommitInfo]:
    patches = diffs.result()
    for commit in commits:
        yield replace(commit, patch=patches.get(commit.sha, ""))


def read_diffs(repo: git.Repo, commits: list[CommitInfo]) -> dict[str, str]:
    """By sha, the diffs of the ``reads_diff`` files of these (non-merge) commits.

    A changelog folder is one pathspec, not a pathspec per note: git matches every path against
    every pathspec, and the facts look only at the files they read anyway.
    """
    specs = sorted({notes_folder(f.path) or f.path for c in commits for f in c.files if reads_diff(f.path)})
    shas = b"".join(c.sha.encode() + b"\n" for c in commits)
    with git_stream(repo, [*_DIFF_OPTIONS, "--", *specs], stdin=shas) as out:
        return split_diffs(out.read())


def _tokens(stream: IO[bytes]) -> Iterator[bytes]:
    """The NUL-separated fields of ``stream``, as they arrive.

    A thread keeps reading, so git never waits on a full pipe while the caller works (say, stores).
    """
    blocks: queue.SimpleQueue[bytes] = queue.SimpleQueue()

    def drain() -> None:
        try:
            while block := stream.read(_CHUNK):
                blocks.put(block)
        finally:
            blocks.put(b"")

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    rest = b""
    while block := blocks.get():
        fields = (rest + block).split(b"\0")
        rest = fields.pop()
        yield from fields
    if rest:
        yield rest


def parse_log(tokens: Iterable[bytes], tags: dict[str, tuple[str, ...]] | None = None,
              boundary: Container[str] = frozenset(), known: Container[str] = frozenset()) -> Iterator[CommitInfo]:
    """Commits from the fields of ``git log`` run with ``LOG_OPTIONS``.

    After each commit's header (a record separator and the fields of ``LOG_FORMAT``) come its raw records
    (``:modes shas status``, then the path, or old and new paths for a rename or copy) and its
    numstat records (``added\\tremoved\\tpath``, or for a rename ``added\\tremoved\\t`` then the old
    and new paths; ``-`` for a binary file's counts), one per raw record, in the same order. Paths
    are taken by position, never by their look, so no file name can pass for a record.
    """
    tags = tags or {}
    fields = iter(tokens)
    token = next(fields, None)
    while token is not None:
        if not token.startswith(b"\x1e"):
            token = next(fields, None)  # nothing but a separator ends up here
            continue
        header = [token[1:]] + [next(fields, b"") for _ in range(_HEADER_FIELDS - 1)]
        changes: list[tuple[str, bytes, bytes | None]] = []
        counts: list[tuple[bytes, bytes]] = []
        token = next(fields, None)
        while token is not None and not token.startswith(b"\x1e"):
            record = token.lstrip(b"\n")
            if record.startswith(b":"):
                status = record.rsplit(b" ", 1)[-1][:1].decode("ascii", "replace")
                if status in ("R", "C"):
                    old = next(fields, b"")
                    changes.append((status, next(fields, b""), old))
                else:
                    changes.append((status, next(fields, b""), None))
            elif record:
                added, removed, path = (record.split(b"\t", 2) + [b"", b""])[:3]
                if not path:  # a rename: old and new path follow
                    next(fields, None), next(fields, None)
                counts.append((added, removed))
            token = next(fields, None)
        sha = header[0].decode("ascii", "replace")
        if sha in known:
            continue
        yield _commit(header, changes, counts, tags.get(sha, ()), sha in boundary)


def _commit(header: list[bytes], changes: list[tuple[str, bytes, bytes | None]], counts: list[tuple[bytes, bytes]],
            tags: tuple[str, ...], parent_missing: bool) -> CommitInfo:
    """One commit from its fields; a malformed date or author is read as ``narrator.git.dates`` says."""
    sha, parents, author, email, author_seconds, author_raw, committer_seconds, committer_raw, message = (
        field.decode("utf-8", "replace") for field in header)
    files: list[FileChange] = []
    if not parent_missing:  # a shallow clone's oldest commit is compared with nothing: it would "add" every file
        for (status, path, old), (added, removed) in zip(changes, counts):
            binary = added == b"-"
            files.append(FileChange(
                path=path.decode("utf-8", "replace"), change=CHANGE_BY_STATUS.get(status, "modified"),
                added=0 if binary else _count(added), removed=0 if binary else _count(removed), binary=binary,
                old_path=old.decode("utf-8", "replace") if status == "R" and old is not None else None,
            ))
    message = message.strip()
    when, date_note = gitdates.commit_date(_stamp(author_seconds, author_raw), _stamp(committer_seconds, committer_raw))
    return CommitInfo(
        sha=sha, subject=message.split("\n", 1)[0].strip(), message=message, author=gitdates.author_name(author),
        email=email, date=when, parents=tuple(parents.split()), files=tuple(files),
        added=sum(f.added for f in files), removed=sum(f.removed for f in files), patch="", tags=tags,
        parent_missing=parent_missing, date_note=date_note,
    )


def _stamp(seconds: str, raw: str) -> gitdates.Stamp:
    """A date from ``%at`` (the seconds as written) and ``%ad`` (``--date=raw``: seconds and zone)."""
    return gitdates.Stamp(seconds.strip(), raw.split()[-1] if raw.split() else "")


def _count(text: bytes) -> int:
    """A numstat count: its digits, or 0 for anything else."""
    return int(text) if text.isdigit() else 0


def split_diffs(raw: bytes) -> dict[str, str]:
    """``git diff-tree --stdin -p`` output by commit: each commit's patch follows a line with its sha."""
    found: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for line in raw.splitlines(keepends=True):
        if _SHA_LINE.match(line):  # a patch line never is a bare sha: it starts with ' ', '+', '-', '@'...
            current = found.setdefault(line.strip().decode(), [])
        elif current is not None:
            current.append(line)
    return {sha: b"".join(lines).decode("utf-8", "replace") for sha, lines in found.items()}


def _parents(repo: git.Repo, sha: str) -> tuple[str, ...]:
    """A commit's parents as its object names them (a shallow clone's log shows none at its edge)."""
    header = read_object(repo, sha).split(b"\n\n", 1)[0]
    return tuple(line[7:].decode() for line in header.split(b"\n") if line.startswith(b"parent "))


