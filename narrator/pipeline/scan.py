"""Read a repository into facts: every commit's row, the units of its files, their input hashes.

The first stage of a narration and all of the first look: nothing here asks the model. Every
commit's facts come from one streaming ``git log`` pass (``narrator.pipeline.history_pass``), the latest ones again
with their patches for the model; the input hashes say when a narrative is out of date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

from db.store import Store
from narrator.facts import changes
from narrator.facts.paths import area_of, busiest_area
from narrator.git.commits import CommitInfo, read_commits, recent_commits, tags_by_commit
from narrator.git.files import SourceFile, scan_source_files
from narrator.git.repo import is_shallow, open_repository, reading
from narrator.git.units import Unit, cut_units
from narrator.pipeline import history_pass as gitlog
from narrator.settings import Settings

UNIT_CHARS = 1200
"""How much of a unit its prompt shows, and so what its input hash covers."""

HISTORY_CHUNK = 1000
"""Commit fact rows stored per transaction while the history is read."""
READING_HISTORY = "Reading the repository: the history"
READING_CHANGES = "Reading the repository: latest changes and patches"
Progress = Callable[[int, int, str], None]
"""Told (done, total, message) as the repository is read, as ``narrator.pipeline.narration.Progress``."""



def content_hash(value: object) -> str:
    """A short stable hash of any JSON-able value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


def commit_hash(commit: CommitInfo) -> str:
    """A commit's input hash (the same for its fact row and its narrative, so staleness compares)."""
    return content_hash([commit.sha, commit.patch])


def unit_hash(unit: Unit, unit_chars: int) -> str:
    """A unit's input hash: of the code its prompt shows (the first ``unit_chars`` characters).

    The same for its fact row and its narrative. Hashing the whole unit instead would mark a unit
    edited past the cut as out of date for good: narrating it again sends the same prompt, gets
    the cached answer, and stores nothing new.
    """
    return content_hash(unit.code[:unit_chars])


def area_hash(file_hashes: Iterable[str]) -> str:
    """An area's input hash: the hashes of all its files, narrated or not."""
    return content_hash(sorted(file_hashes))


def unit_target(unit: Unit) -> str:
    return f"{unit.path}::{unit.name}"


def file_hash(unit_hashes: Iterable[str]) -> str:
    """A file's input hash: its units' hashes, so stale detection needs no git."""
    return content_hash(sorted(unit_hashes))


# --- planning -----------------------------------------------------------------------------------


def scan(settings: Settings, store: Store, repo_id: int, commit_limit: int | None,
         unit_chars: int = UNIT_CHARS, progress: Progress | None = None):
    """Read the repository, record its commits and units (facts), and return what was read.

    Every commit's facts are recorded (``record_history``), commits the branch no longer reaches are
    marked so, tags added since are recorded (``record_tags``); the latest ``commit_limit`` commits
    are read again with their patches, for the model, and returned with their rows. ``progress``
    hears how far each pass has read, from the first commits on.
    """
    progress = progress or (lambda done, total, message: None)
    repo_row = store.get_repository(repo_id)
    repo = open_repository(repo_row.source, settings.clone_dir, timeout=120)
    scanned = scan_source_files(repo)
    files = list(scanned.files)
    head = repo.head.commit.hexsha
    with ThreadPoolExecutor(1) as pool:
        # The files are cut into units while the history is read: this fills the moments the
        # history waits on git (the units need nothing from it).
        cutting = pool.submit(_cut, files, unit_chars)
        record_history(store, repo_id, repo, head, repo_row.head_sha, progress)
        units_by_file, unit_rows = cutting.result()
    record_tags(store, repo_id, repo)
    wanted = gitlog.count_commits(repo, head, commit_limit) if repo.head.is_valid() else 0
    progress(0, wanted, READING_CHANGES)
    commits = recent_commits(repo, limit=commit_limit, progress=lambda n: progress(n, wanted, READING_CHANGES))
    rows = {c.sha: commit_row(c) for c in commits}
    store.upsert_commits(repo_id, list(rows.values()))
    # After the history: the head recorded is one whose history is stored.
    store.upsert_repository(repo_row.source, repo_row.name, str(repo.working_tree_dir or repo.git_dir),
                            head, shallow=is_shallow(repo))
    store.replace_units(repo_id, unit_rows)
    return repo, files, scanned, commits, rows, units_by_file


def _cut(files: list[SourceFile], unit_chars: int) -> tuple[dict[str, list[Unit]], list[dict]]:
    """The units of each file, and their rows to store."""
    units_by_file = {f.path: cut_units(f) for f in files}
    return units_by_file, [
        dict(path=u.path, name=u.name, kind=u.kind, start_line=u.start_line, end_line=u.end_line,
             module=area_of(u.path), input_hash=unit_hash(u, unit_chars))
        for units in units_by_file.values() for u in units
    ]


def record_history(store: Store, repo_id: int, repo, head: str, old_head: str | None,
                   progress: Progress | None = None) -> int:
    """Store the facts of every commit of ``head``'s history not stored yet; returns how many.

    Also keeps ``reachable`` and ``seq`` (git's topological order) of the stored commits true to
    ``head``'s history. When ``old_head`` (the head the last scan recorded) is in that history and
    its whole history is stored, only the commits after it are listed and read: nothing older
    changes. Otherwise (a first scan, a reset, amend, rebase or force-push, a scan interrupted half
    way) one ``git rev-list`` lists the whole history: commits it lacks become unreachable (their
    rows and narratives stay, for reuse), those it has are reachable again and numbered afresh,
    and the whole history is read with the commits already stored skipped.
    Stored facts are never rewritten here: a commit read with its patch keeps that row.
    ``progress`` hears how many of the commits to read have been, every ``HISTORY_CHUNK``.
    """
    stored = store.commit_order(repo_id)
    old = stored.get(old_head) if old_head else None
    # seq 0: a row from before commits were numbered, whose reachability was never checked.
    fast_forward = (old is not None and old[1] and old[0] > 0 and gitlog.is_ancestor(repo, old_head, head)
                    and gitlog.count_commits(repo, old_head) <= sum(reachable for _, reachable in stored.values()))
    if fast_forward and old_head == head:
        return 0
    after = old_head if fast_forward else None
    newest_first = topo_order(repo, head, after)
    base = old[0] if fast_forward else 0
    seq = {sha: base + len(newest_first) - n for n, sha in enumerate(newest_first)}
    store.set_history_order(repo_id, {sha: seq[sha] for sha in seq if sha in stored}, complete=not fast_forward)
    rows: list[dict] = []
    recorded = read = 0
    unread = sum(1 for sha in newest_first if sha not in stored)
    tell = progress or (lambda done, total, message: None)
    tell(0, unread, READING_HISTORY)
    for commit in gitlog.read_history(repo, head, after, stored):
        rows.append({**commit_row(commit, full_patch=False), "seq": seq.get(commit.sha, 0)})
        read += 1
        if len(rows) >= HISTORY_CHUNK:
            recorded += store.upsert_commits(repo_id, rows)
            rows = []
            tell(read, unread, READING_HISTORY)
    return recorded + store.upsert_commits(repo_id, rows)


def topo_order(repo, head: str, after: str | None = None) -> list[str]:
    """The shas of ``head``'s history (only those after ``after`` with one), newest first in git's
    topological order: a commit always before its parents, whatever their dates say."""
    with reading(repo):
        listed = repo.git.rev_list("--topo-order", head, *([f"^{after}"] if after else []))
    return listed.split()


def record_tags(store: Store, repo_id: int, repo) -> int:
    """Bring the stored facts of every commit whose tags changed up to date; returns how many.

    A tag added later to an old commit (or moved, or deleted) changes its facts: a version tag makes
    it a release. Every tag is compared with what is stored, whatever the commit's age; only the
    commits that differ are read again.
    """
    with reading(repo):
        tags = tags_by_commit(repo)
    stored = store.stored_tags(repo_id, tags)
    changed = sorted(sha for sha, names in stored.items() if tuple(names) != tags.get(sha, ()))
    if not changed:
        return 0
    # Only what the tags decide: the row's date, author and input hash stay as they were read.
    rows = [{"sha": row["sha"], "category": row["category"], "headline": row["headline"], "details": row["details"]}
            for row in map(commit_row, read_commits(repo, changed))]
    store.upsert_commits(repo_id, rows)
    return len(rows)


def commit_row(commit: CommitInfo, full_patch: bool = True) -> dict:
    """The stored facts of a commit: from git and the developer's words, no model.

    ``full_patch`` False: the commit was read without its whole patch (``narrator.pipeline.history_pass``), so it
    gets no input hash; the hash is set once the commit is read for the model. Texts longer than
    ``narrator.limits`` allows are stored cut, with a marker.
    """
    commit = changes.within_limits(commit)
    headline, category, facts = changes.commit_details(commit)
    return dict(
        sha=commit.sha, subject=commit.subject, message=commit.message, author=commit.author,
        email=commit.email, date=commit.date,
        area=busiest_area([(c.path, c.added + c.removed) for c in commit.files]),
        category=category, headline=headline, details=facts.to_json(),
        files=[dict(path=c.path, change=c.change, added=c.added, removed=c.removed) for c in commit.files],
        added=commit.added, removed=commit.removed, is_merge=commit.is_merge,
        input_hash=commit_hash(commit) if full_patch else None,
    )
