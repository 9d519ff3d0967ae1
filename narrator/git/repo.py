"""Open a git repository (a local folder, or a clone of a URL) so that reading it is safe.

With ``narrator.git.files`` (the files at HEAD) and ``narrator.git.commits`` (the history), the only
modules that talk to git. Everything downstream (units, prompts, the dashboard) works on the plain
dataclasses they return.

Sources are either a local folder or a clone URL. Clone URLs are limited to ``https://``,
``ssh://`` and scp-like ``user@host:path``; everything else (``ext::`` helpers, ``file://``,
anything that git could read as an option) is refused before git sees it, because the source comes
from a user and git's transports can run commands. The repository itself is untrusted too: every
``git.Repo`` opened here runs git under ``git_safety_env``, so its own config, hooks and remotes
cannot make git run a command.

A password or token written into an https URL (``https://alice:secret@host/x.git``) is a secret the
user lends to git, not part of the repository's name. ``open_repository`` takes it out at once: the
source is recorded, shown and logged as ``https://host/x.git`` (``without_credentials``), the clone's
remote is that clean URL (so its ``config`` holds no secret), and the user name and password are kept
in a file of their own, ``<clone folder>/.credentials/<clone name>`` (mode 0600, in a 0700 folder).
git gets them from a credential helper of ours, passed per command in the same command-line config
as ``SAFE_GIT_CONFIG``: an empty ``credential.helper`` first drops every helper the user's or the
system's config named, then ``credential.https://host.helper`` prints that file for a ``get``, for
that scheme, host and port only (a redirect to another host gets nothing). So a later run given the
clean URL (``narrate --all``, the dashboard) still fetches, and a URL given again with a new password
replaces the old one. A secret never reaches the database, a page, a report, a log or an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from db.files import write_atomic
from narrator.errors import RepoError

log = logging.getLogger(__name__)

STALE_CLONE_AGE = 24 * 3600
"""Seconds after which a clone's temporary folder is removed even if its process id is alive again
(a recycled id): no clone takes that long, each network call is bounded by a timeout."""


CLONE_PROTOCOLS = ("https", "ssh")
"""Transports git may use when cloning (scp-like ``git@host:path`` is ssh)."""

# The branch a clone's fetched default branch is stored under (the clone is bare: nobody checks it out).
_CLONE_BRANCH = "refs/heads/main"

def validate_source(source: str) -> str:
    """Check a user-given source and return it normalized.

    A local folder comes back as its absolute path; an https, ssh or scp-like URL comes back
    stripped of surrounding whitespace. Anything else raises ``RepoError`` with a one-line reason.
    """
    if not isinstance(source, str) or not source.strip():
        raise RepoError("No repository given: pass a folder path or a clone URL (https://, ssh:// or git@host:path).")
    text = source.strip()
    shown = printable(text)
    # Control and invisible formatting characters have no place in a path or URL and can hide
    # what a string really says (newlines split log lines, bidi marks reorder text).
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise RepoError(f"Refused source {shown}: it contains control characters.")
    # git parses a leading '-' as an option (--upload-pack=... runs a command).
    if text.startswith("-"):
        raise RepoError(f"Refused source {shown}: it looks like a command-line option.")
    # <transport>::<address> hands the address to a remote helper; ext:: runs it as a command.
    transport = re.match(r"^([A-Za-z0-9+._-]*)::", text)
    if transport:
        raise RepoError(
            f"Refused source {shown}: the '{transport.group(1)}::' transport is not allowed; "
            "use https://, ssh:// or git@host:path."
        )
    # A space followed by '-' becomes an option as soon as anyone splits the string on whitespace.
    if re.search(r"\s-", text):
        raise RepoError(f"Refused source {shown}: it looks like a command-line option.")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme:
        return _validate_url(text, scheme.group(1).lower(), shown)

    local = Path(text).expanduser()
    try:
        found = local.exists()
        resolved = local.resolve() if found else local  # /proc/self/cwd, symlinks, ../: the real folder
        is_dir = found and local.is_dir()
    except (OSError, RuntimeError) as err:  # a folder we may not enter; a symlink loop
        raise RepoError(f"Could not read {shown}: {getattr(err, 'strerror', None) or err}") from None
    if found:
        if GIT_FOLDER in local.parts or GIT_FOLDER in resolved.parts:
            raise RepoError(f"Refused source {shown}: {INSIDE_GIT_FOLDER}")
        if not is_dir:
            raise RepoError(f"{text} is not a folder.")
        return str(resolved)
    scp = _SCP_LIKE.fullmatch(text)
    if scp:
        if re.search(r"\s", text):
            raise RepoError(f"Refused source {shown}: a URL cannot contain spaces.")
        return text
    if GIT_FOLDER in local.parts:  # the same answer whether such a folder exists or not
        raise RepoError(f"Refused source {shown}: {INSIDE_GIT_FOLDER}")
    raise RepoError(f"No such folder: {text}")


GIT_FOLDER = ".git"
INSIDE_GIT_FOLDER = "it is a .git folder or inside one; give the project folder that holds it."
"""Why a path to git's own folder is refused: read through it, the project would be added twice."""


def looks_like_url(source: str) -> bool:
    """True when ``source`` has the shape of a clone URL (``scheme://`` or scp-like ``host:path``).

    By its shape alone: whether a local file of that name exists plays no part.
    """
    text = source.strip()
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) or _SCP_LIKE.fullmatch(text))


def names_git_folder(source: str) -> bool:
    """True when ``source``, as typed, names a ``.git`` folder or a path inside one."""
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source.strip()) and GIT_FOLDER in Path(source.strip()).parts


# user@host:path, git's scp-like ssh syntax. A colon before any slash is what makes git read it as ssh.
_SCP_LIKE = re.compile(r"(?:[A-Za-z0-9._~+-]+@)?(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):[^:].*")


def _validate_url(text: str, scheme: str, shown: str) -> str:
    if scheme == "file":
        raise RepoError(f"Refused source {shown}: file:// URLs are not accepted; give the folder path instead.")
    if scheme == "http":
        raise RepoError(f"Refused source {shown}: plain http:// is not allowed; use https://.")
    if scheme not in CLONE_PROTOCOLS:
        raise RepoError(
            f"Refused source {shown}: the '{scheme}://' protocol is not allowed; use https://, ssh:// or git@host:path."
        )
    if re.search(r"\s", text):
        raise RepoError(f"Refused source {shown}: a URL cannot contain spaces.")
    parts = urllib.parse.urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise RepoError(f"Refused source {shown}: the URL has a malformed port.") from None
    if not parts.hostname:
        raise RepoError(f"Refused source {shown}: the URL has no host name.")
    # ssh://-oProxyCommand=... once made ssh run a command (CVE-2017-1000117).
    if parts.hostname.startswith("-") or (parts.username or "").startswith("-"):
        raise RepoError(f"Refused source {shown}: it looks like a command-line option.")
    if not parts.path.strip("/"):
        raise RepoError(f"Refused source {shown}: the URL names no repository path.")
    return text


def _is_url(normalized: str) -> bool:
    """True for a validated clone URL, False for a validated local folder (always absolute)."""
    return not normalized.startswith("/")


# ---------------------------------------------------------------------------------------------
# Credentials written into a URL

def without_credentials(source: str) -> str:
    """``source`` with any password or token taken out of its URL; other sources come back as given.

    ``https://alice:secret@host/x.git`` becomes ``https://host/x.git`` (the user name goes too: a
    lone user name is often a token). An ssh URL keeps its user, which ssh logs in as, and loses
    only a password, which git never gives ssh anyway. (Migration 0007 applies the same rule.)
    """
    return _SSH_PASSWORD.sub(r"\1@", _HTTP_USERINFO.sub(r"\1", source, count=1), count=1)


# Everything between the scheme and the last '@' before the path: git reads the same (so does urlsplit).
_HTTP_USERINFO = re.compile(r"^(https?://)[^/\s?#]*@", re.IGNORECASE)
_SSH_PASSWORD = re.compile(r"^(ssh://[^/\s:@?#]*):[^/\s?#]*@", re.IGNORECASE)


def _url_credentials(url: str) -> tuple[str, str | None] | None:
    """The user name and password (percent-decoded) written into an https URL, or None."""
    if not re.match(r"^https://", url, re.IGNORECASE):
        return None
    parts = urllib.parse.urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if not at:
        return None
    user, colon, password = userinfo.partition(":")
    found = (urllib.parse.unquote(user), urllib.parse.unquote(password) if colon else None)
    # git's credential protocol is one key=value per line: a line break would add keys of its own.
    if any(unicodedata.category(ch) == "Cc" for value in found if value for ch in value):
        raise RepoError(f"Refused source {printable(url)}: its user name or password contains control characters.")
    return found


def _credential_file(clean_url: str, clone_dir: Path) -> Path:
    return clone_dir / ".credentials" / _clone_folder_name(clean_url)


def remember_credentials(source: str, clone_dir: Path) -> str:
    """Keep the password written into ``source`` (if any) for later fetches; return the clean source.

    The file is written whole under a temporary name and renamed (``db.files``), 0600 from its creation.
    """
    credentials = _url_credentials(source)
    clean = without_credentials(source)
    if credentials is None:
        return clean
    user, password = credentials
    lines = [f"username={user}"] + ([f"password={password}"] if password is not None else [])
    target = _credential_file(clean, Path(clone_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o700)
    write_atomic(target, "\n".join(lines) + "\n", permissions=0o600)
    return clean


def _credential_config(clean_url: str, clone_dir: Path) -> tuple[tuple[str, str], ...]:
    """The command-line config that lets git read the stored credentials of ``clean_url``, if any.

    An empty ``credential.helper`` empties the list of helpers collected so far (the user's, the
    system's); ours is scoped to the URL's scheme, host and port by git's own URL matching.
    """
    stored = _credential_file(clean_url, clone_dir)
    if not stored.is_file():
        return ()
    parts = urllib.parse.urlsplit(clean_url)
    scope = f"{parts.scheme.lower()}://{parts.netloc}"
    helper = f"!f() {{ test \"$1\" = get && cat {shlex.quote(str(stored))}; }}; f"
    return (("credential.helper", ""), (f"credential.{scope}.helper", helper))


def repository_name(source: str) -> str:
    """A short display name: 'requests' for .../psf/requests.git, or a folder's name."""
    text = source.strip()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        tail = urllib.parse.urlsplit(text).path
    elif _SCP_LIKE.fullmatch(text) and not Path(text).expanduser().exists():
        tail = text.split(":", 1)[1]
    else:
        tail = str(Path(text).expanduser().resolve()) if text else ""
    name = PurePosixPath(tail.rstrip("/")).name
    if name == ".git":  # a path to the .git folder itself: name the project, not the folder
        name = PurePosixPath(tail.rstrip("/")).parent.name
    name = name.removesuffix(".git")
    return name or "repository"


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


def _git_network_env() -> dict[str, str]:
    """Environment for git network calls: never prompt, never use a protocol we did not allow."""
    env = {
        "GIT_TERMINAL_PROMPT": "0",          # no username/password prompt that would hang a worker
        "GCM_INTERACTIVE": "never",          # nor one from Git Credential Manager
        "GIT_PROTOCOL_FROM_USER": "0",       # protocols marked 'user' (e.g. ext) are refused
        "GIT_ALLOW_PROTOCOL": ":".join(CLONE_PROTOCOLS),  # applies to redirects and submodules too
    }
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:
        # BatchMode: fail instead of asking for a passphrase or confirming an unknown host key.
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30"
    return env


# ---------------------------------------------------------------------------------------------
# Running git on an untrusted repository

# Config that beats the narrated repository's own, so that reading it cannot run a command it names.
# Each key names a program git would run, or turns one on; the value turns it off. They reach git
# as GIT_CONFIG_COUNT/KEY_n/VALUE_n, the command-line scope that git reads after .git/config, so
# for these single-valued keys ours wins. Not listed, because other settings already cover them:
# diff.external, diff.<driver>.command and .textconv (diff-tree runs with --no-ext-diff and
# --no-textconv); filter.<driver>.clean/smudge/process (nothing here checks out, adds or runs
# --filters; diff-tree skips its work-tree shortcut for filtered paths); uploadpack.packObjectsHook
# (git itself ignores it in repository config); core.pager (GIT_PAGER below beats it and
# pager.<command>); core.sshCommand, core.gitProxy, credential.helper and protocol.<name>.allow (a
# local repository may reach no transport at all, see ``git_safety_env``; a clone's config is ours).
# GIT_ATTR_SOURCE (git 2.40) would pin .gitattributes too, but attributes only pick drivers, and
# every driver that runs a program is off by the flags above.
SAFE_GIT_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),             # a hook run whenever git reads the index (diff-tree does)
    ("core.hooksPath", os.devnull),          # no hook at all: /dev/null/<hook> never exists
    ("core.askPass", ""),                    # no password program (GIT_TERMINAL_PROMPT=0: no prompt)
    ("core.alternateRefsCommand", "true"),   # run for alternates while fetching; 'true' lists none
    ("log.showSignature", "false"),          # would run gpg for every commit a log shows
    ("gpg.program", "false"),                # and the signature checkers, should anything verify
    ("gpg.openpgp.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.program", "false"),
)


def git_safety_env(network: bool, extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """Environment for every git command run on a repository the narrator reads.

    ``SAFE_GIT_CONFIG`` overrides the repository's config; the network settings of
    ``_git_network_env`` apply to every command, so a lazy fetch of a partial clone gets them too.
    With ``network`` False (a local folder, read in place) git may use no transport at all: its
    config could otherwise point a fetch at ``ext::``, an ssh or proxy command or a credential
    helper of its choosing. Entries already in the caller's GIT_CONFIG_COUNT are kept, before ours;
    ``extra`` entries come last.
    """
    env = _git_network_env()
    if not network:
        env["GIT_ALLOW_PROTOCOL"] = ""  # an empty list allows no protocol (it beats protocol.*.allow)
    env["GIT_PAGER"] = "cat"             # beats core.pager and pager.<command>; git is never on a tty here
    env["GIT_OPTIONAL_LOCKS"] = "0"      # reading someone's checkout must not rewrite its index
    try:
        start = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        start = 0
    ours = (*SAFE_GIT_CONFIG, *extra)
    for offset, (key, value) in enumerate(ours):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    env["GIT_CONFIG_COUNT"] = str(start + len(ours))
    return env


def _harden(repo: git.Repo, network: bool, extra: tuple[tuple[str, str], ...] = ()) -> git.Repo:
    """Make every later git command on ``repo`` (GitPython's object reads included) run safely.

    ``extra`` is config of ours to pass after ``SAFE_GIT_CONFIG`` (the credential helper of a clone).
    """
    repo.git.update_environment(**git_safety_env(network, extra))
    return repo


def _clone_folder_name(url: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", repository_name(url)).lstrip(".-")[:40] or "repository"
    return f"{name}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _short_reason(err: GitCommandError, other_lines: list[str] | None = None) -> str:
    """The most telling line of git's stderr, credentials removed, on one line.

    ``other_lines`` are stderr lines GitPython's progress parser kept apart from fatal/error
    lines; ssh explains itself there ("ssh: connect to host ...: Connection refused") while git
    only says "Could not read from remote repository".
    """
    stderr = err.stderr if isinstance(err.stderr, str) else (err.stderr or b"").decode("utf-8", "replace")
    lines = [ln.strip() for ln in stderr.replace("\r", "\n").splitlines() if ln.strip()]
    lines = [ln.removeprefix("stderr:").strip().strip("'").strip() for ln in lines]
    telling = [ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))] or lines or [f"git exit code {err.status}"]
    reason = telling[-1]
    for prefix in ("fatal:", "error:"):
        if reason.lower().startswith(prefix):
            reason = reason[len(prefix):].strip()
    if "could not read from remote repository" in reason.lower():
        # git's own advice follows ("Please make sure you have the correct access rights ..."):
        # the first line is the cause.
        details = [ln.strip() for ln in other_lines or [] if ln.strip()]
        if details and not details[0].startswith("Please make sure"):
            reason = details[0]
    return _redact(reason)[:300]


def _redact(text: str) -> str:
    """Hide passwords and tokens written into URLs: https://user:token@host, https://<token>@host."""
    text = re.sub(r"(://[^/\s:@]+):[^/\s@]*@", r"\1:***@", text)
    return re.sub(r"://[^/\s:@]{20,}@", "://***@", text)  # a lone long user name is an access token


def printable(text: str) -> str:
    """A source quoted for an error message: printable, one line, not too long, no secrets."""
    shown = ascii(_redact(text))
    return shown if len(shown) <= 100 else shown[:97] + "..."


# ---------------------------------------------------------------------------------------------
