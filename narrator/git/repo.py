"""Open a git repository (a local folder, or a clone of a URL) so that reading it is safe, and read from it.

With ``narrator.git.files`` (the files at HEAD) and ``narrator.git.commits`` (the history), the only
modules that talk to git. Everything downstream (units, prompts, the dashboard) works on the plain
dataclasses they return. Which sources are accepted is ``narrator.git.sources``; how git is kept from
running a command the repository names is ``narrator.git.safety``; cloning is ``narrator.git.clones``.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from db.errors import RepoError
from narrator.git.clones import _clone_or_update
from narrator.git.safety import _harden, _redact, _short_reason
from narrator.git.sources import _is_url, remember_credentials, validate_source


def open_repository(source: str, clone_dir: Path, timeout: float = 600.0) -> git.Repo:
    """Open a local repository, or clone (or update) a URL into ``clone_dir``.

    URLs are fetched into a bare repository named after the URL, so reading files never depends
    on a checkout. An existing clone is updated; if the update fails (say, offline) the copy already
    there is used. ``timeout`` bounds each git network call in seconds. Every git command later
    run on the returned repository runs under ``git_safety_env``.
    """
    normalized = validate_source(source)
    if _is_url(normalized):
        label = remember_credentials(normalized, Path(clone_dir))
        repo = _clone_or_update(label, Path(clone_dir), timeout)
    else:
        label = normalized
        try:
            repo = _harden(git.Repo(normalized), network=False)
        except NoSuchPathError:
            raise RepoError(f"No such folder: {normalized}") from None
        except InvalidGitRepositoryError:
            raise RepoError(f"{normalized} is not a git repository.") from None
        except OSError as err:
            raise RepoError(f"Could not read {normalized}: {err.strerror or err}") from None
    _require_commits(repo, label)
    return repo


def _require_commits(repo: git.Repo, label: str) -> None:
    try:
        repo.git.rev_parse("--verify", "--quiet", "HEAD^{commit}")
    except GitCommandError as err:
        reason = _short_reason(err)
        if "dubious ownership" in reason:
            raise RepoError(f"{label} belongs to another user, so git refuses to read it (see git config safe.directory).") from None
        try:  # HEAD names a commit that cannot be read, or names none yet?
            head = repo.git.rev_parse("--verify", "--quiet", "HEAD")
        except GitCommandError:
            raise RepoError(f"{label} is an empty repository (no commits yet).") from None
        raise RepoError(f"Could not read {label}: its latest commit {head[:12]} is missing or corrupt. "
                        f"{DAMAGED}") from None


# ---------------------------------------------------------------------------------------------
# Reading: damaged objects, shallow history

DAMAGED = "The repository is damaged: 'git fsck' there names what is broken."


@contextmanager
def reading(repo: git.Repo) -> Iterator[None]:
    """Turn git failing to read the repository (a missing or corrupt object) into one RepoError line.

    Only git's own failures are caught (``GitCommandError``; a ValueError from GitPython's object
    reader is turned into one where it is read, see ``read_object``), so a bug keeps its traceback.
    """
    try:
        yield
    except GitCommandError as err:
        raise RepoError(f"Could not read {repo_label(repo)}: {_short_reason(err)}. {DAMAGED}") from None


def read_object(repo: git.Repo, sha: str | bytes) -> bytes:
    """The raw content of one object (hex or binary sha), or RepoError when it is missing or corrupt."""
    binsha = sha if isinstance(sha, bytes) else bytes.fromhex(sha)
    try:
        return repo.odb.stream(binsha).read()
    except ValueError:  # GitPython: "SHA ... could not be resolved, git returned: b'... missing'"
        raise RepoError(f"Could not read {repo_label(repo)}: git object {binsha.hex()[:12]} is missing or corrupt. "
                        f"{DAMAGED}") from None


@contextmanager
def git_stream(repo: git.Repo, args: list[str], stdin: bytes | None = None) -> Iterator[IO[bytes]]:
    """The standard output of ``git <args>``, to read as git writes it (a long log never sits in memory).

    git runs the way every other command on ``repo`` does, i.e. under the hardened environment
    ``open_repository`` gave it (``git_safety_env``). ``stdin`` is written from a thread, so git
    can go on writing while it reads. git failing (a missing or corrupt object) raises the same one
    line as ``reading``, once the caller has read what it wanted.
    """
    with reading(repo):
        process = repo.git.execute(["git", *args], as_process=True,
                                   istream=subprocess.PIPE if stdin is not None else None)
        feeder = None
        if stdin is not None:
            def feed() -> None:
                with contextlib.suppress(OSError):  # git stopped early: its exit status says why
                    process.proc.stdin.write(stdin)
                    process.proc.stdin.close()
            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
        try:
            yield process.proc.stdout
            process.proc.stdout.read()  # whatever the caller left, so that git can finish
        except BaseException:
            process.proc.kill()
            raise
        finally:
            if feeder is not None:
                feeder.join()
        process.wait()  # raises GitCommandError, which ``reading`` turns into one line


def repo_label(repo: git.Repo) -> str:
    return _redact(str(repo.working_tree_dir or repo.git_dir))


def is_shallow(repo: git.Repo) -> bool:
    """True for a shallow clone (``git clone --depth N``): its oldest commits' parents are not in it."""
    return repo.git.rev_parse("--is-shallow-repository").strip() == "true"


def shallow_boundary(repo: git.Repo) -> frozenset[str]:
    """The commits of a shallow clone whose parents it lacks (none for a full repository).

    git lists them one per line in ``$GIT_DIR/shallow`` (gitrepository-layout); ``--git-path``
    finds that file wherever GIT_DIR is, relative to the folder git runs in.
    """
    if not is_shallow(repo):
        return frozenset()
    listing = Path(repo.git.working_dir) / repo.git.rev_parse("--git-path", "shallow").strip()
    try:
        return frozenset(line.strip() for line in listing.read_text().splitlines() if line.strip())
    except OSError:
        return frozenset()
