"""Clone a URL into a bare repository of ours, or update the clone made before.

A clone is fetched into a temporary folder and renamed into place, so a failed clone never looks
like one; temporary folders left by a killed process are removed; a clone made before credentials
were kept apart (``narrator.git.sources``) has its secret moved out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from db.errors import RepoError
from narrator.git.safety import _harden, _redact, _short_reason
from narrator.git.sources import (
    _clone_folder_name,
    _credential_config,
    _credential_file,
    remember_credentials,
    without_credentials,
)

log = logging.getLogger(__name__)

STALE_CLONE_AGE = 24 * 3600
"""Seconds after which a clone's temporary folder is removed even if its process id is alive again
(a recycled id): no clone takes that long, each network call is bounded by a timeout."""


# The branch a clone's fetched default branch is stored under (the clone is bare: nobody checks it out).
_CLONE_BRANCH = "refs/heads/main"


def _clone_or_update(url: str, clone_dir: Path, timeout: float) -> git.Repo:
    """Clone (or update) ``url``, a URL without credentials (``remember_credentials`` kept them)."""
    _remove_stale_staging(clone_dir)
    target = clone_dir / _clone_folder_name(url)
    if not target.exists():
        _adopt_clone_with_secret_url(url, clone_dir, target)
    credentials = _credential_config(url, clone_dir)
    if target.exists():
        try:
            repo = _harden(git.Repo(target), network=True, extra=credentials)
        except (InvalidGitRepositoryError, NoSuchPathError):
            shutil.rmtree(target, ignore_errors=True)  # a leftover that is not a clone: start again
        else:
            try:
                _fetch_default_branch(repo, timeout)
            except RepoError as err:
                log.warning("Using the existing copy of %s: %s", _redact(url), err)
            return repo

    # Fetch into a temporary folder and rename it into place, so an interrupted or failed clone
    # never leaves a half-filled folder that looks like a clone.
    clone_dir.mkdir(parents=True, exist_ok=True)
    staging = clone_dir / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        repo = _harden(git.Repo.init(staging, bare=True), network=True, extra=credentials)
        repo.git.symbolic_ref("HEAD", _CLONE_BRANCH)
        repo.create_remote("origin", url, allow_unsafe_protocols=False)
        _fetch_default_branch(repo, timeout)
        repo.close()
        try:
            staging.rename(target)
        except OSError:  # another process cloned the same URL meanwhile; keep theirs
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if not target.exists():  # nothing was cloned: a kept password would serve nothing
            _credential_file(url, clone_dir).unlink(missing_ok=True)
        raise
    return _harden(git.Repo(target), network=True, extra=credentials)


_STAGING = re.compile(r"\..+\.tmp-(\d+)")
"""The name of a clone's temporary folder: ``.<clone name>.tmp-<pid of the process cloning>``."""


def _remove_stale_staging(clone_dir: Path) -> None:
    """Remove the temporary folders of clones whose process is gone (``kill -9``, a power cut).

    A folder is kept while its process is alive, unless it is older than ``STALE_CLONE_AGE`` (the
    process id was recycled); our own process's folders belong to a clone running now.
    """
    try:
        entries = list(clone_dir.iterdir())
    except OSError:  # no clone made yet
        return
    for entry in entries:
        found = _STAGING.fullmatch(entry.name)
        if found is None or entry.is_symlink() or not entry.is_dir():
            continue
        pid = int(found.group(1))
        try:
            age = time.time() - entry.stat().st_mtime
        except OSError:
            continue
        if pid != os.getpid() and (not _process_alive(pid) or age > STALE_CLONE_AGE):
            log.info("Removing %s, left by an interrupted clone", entry.name)
            shutil.rmtree(entry, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    except OSError:
        return False
    return True


def _adopt_clone_with_secret_url(url: str, clone_dir: Path, target: Path) -> None:
    """Move a clone made before credentials were kept apart into ``target``, its secret taken out.

    Such a clone is named after the URL with its password, and its ``config`` holds that URL. Its
    remote becomes ``url``, the password goes to the credentials file, and nothing is fetched again.
    """
    prefix = target.name.rsplit("-", 1)[0] + "-"
    for entry in sorted(clone_dir.iterdir()) if clone_dir.is_dir() else ():
        if not entry.name.startswith(prefix) or entry == target or not (entry / "config").is_file():
            continue
        try:
            old = git.Repo(entry)
            remote = old.remote("origin").url  # read from the config file by GitPython, no git run
        except (InvalidGitRepositoryError, NoSuchPathError, ValueError, OSError):
            continue
        if remote == url or without_credentials(remote) != url:
            continue
        remember_credentials(remote, clone_dir)
        with old.config_writer() as config:
            config.set_value('remote "origin"', "url", url)
        old.close()
        with contextlib.suppress(OSError):
            entry.rename(target)
        return


def _fetch_default_branch(repo: git.Repo, timeout: float) -> None:
    """Fetch the remote's HEAD (its default branch) into our branch, with the tags on its history.

    No other branches. Tags are kept because a tag marks a release; git's tag auto-following brings
    only the tags that point into the history fetched (a new tag on an old commit too, but not a tag
    moved or deleted upstream). The ``+`` of the refspec follows a force-push: the branch becomes the
    upstream's even when that is no fast-forward, and ``narrator.pipeline.scan`` marks the commits left behind.
    """
    # GitPython's Repo.clone_from ignores kill_after_timeout (it runs git as a background process),
    # so the clone is an init + Remote.fetch, which honours the timeout and the same unsafe checks.
    # ``repo`` was opened with ``_harden(..., network=True)``: the fetch runs under _git_network_env.
    progress = git.RemoteProgress()  # collects stderr lines, which the error alone may lack
    try:
        repo.remote("origin").fetch(
            refspec=f"+HEAD:{_CLONE_BRANCH}",
            progress=progress,
            kill_after_timeout=timeout,
            allow_unsafe_protocols=False,
            allow_unsafe_options=False,
            update_head_ok=True,  # the bare repository's HEAD points at the branch we update
        )
    except GitCommandError as err:
        reason = _short_reason(err, progress.other_lines)
        if "timed out" in reason or "kill_after_timeout" in reason:
            reason = f"no answer within {timeout:g} seconds"
        elif "couldn't find remote ref head" in reason.lower():
            reason = "the remote repository is empty (no commits yet)"
        raise RepoError(f"Could not clone URL: {reason}") from None
    except (git.exc.UnsafeProtocolError, git.exc.UnsafeOptionError) as err:
        raise RepoError(f"Could not clone URL: {err}") from None
