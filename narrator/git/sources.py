"""Which sources the narrator accepts (a local folder or a clone URL), their names, and the credentials in a URL.

Clone URLs are limited to ``https://``, ``ssh://`` and scp-like ``user@host:path``; everything else
(``ext::`` helpers, ``file://``, anything that git could read as an option) is refused before git sees
it, because the source comes from a user and git's transports can run commands.

A password or token written into an https URL (``https://alice:secret@host/x.git``) is a secret the
user lends to git, not part of the repository's name. ``narrator.git.repo.open_repository`` takes it out
at once: the source is recorded, shown and logged as ``https://host/x.git`` (``without_credentials``),
the clone's remote is that clean URL (so its ``config`` holds no secret), and the user name and password
are kept in a file of their own, ``<clone folder>/.credentials/<clone name>`` (mode 0600, in a 0700
folder). git gets them from a credential helper of ours, passed per command in the same command-line
config as ``SAFE_GIT_CONFIG``: an empty ``credential.helper`` first drops every helper the user's or the
system's config named, then ``credential.https://host.helper`` prints that file for a ``get``, for that
scheme, host and port only (a redirect to another host gets nothing). So a later run given the clean URL
(``narrate --all``, the dashboard) still fetches, and a URL given again with a new password replaces the
old one. A secret never reaches the database, a page, a report, a log or an error.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import unicodedata
import urllib.parse
from pathlib import Path, PurePosixPath

from db.errors import RepoError
from db.files import write_atomic
from narrator.git.safety import CLONE_PROTOCOLS, printable


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
    return bool(_SCHEME.match(text) or _SCP_LIKE.fullmatch(text))


def reads_as_url(source: str) -> bool:
    """True when ``validate_source`` reads ``source`` as a clone URL: ``scheme://``, or scp-like
    ``host:path`` where no folder of that name exists (one that does is a folder)."""
    text = source.strip()
    # os.path.exists: a name too long or with a NUL byte is no folder (Path.exists raises for some).
    return bool(_SCHEME.match(text) or (_SCP_LIKE.fullmatch(text) and not os.path.exists(os.path.expanduser(text))))


def names_git_folder(source: str) -> bool:
    """True when ``source``, as typed, names a ``.git`` folder or a path inside one."""
    return not _SCHEME.match(source.strip()) and GIT_FOLDER in Path(source.strip()).parts


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
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
    if _SCHEME.match(text):
        tail = urllib.parse.urlsplit(text).path
    elif reads_as_url(text):
        tail = text.split(":", 1)[1]
    else:
        tail = str(Path(text).expanduser().resolve()) if text else ""
    name = PurePosixPath(tail.rstrip("/")).name
    if name == ".git":  # a path to the .git folder itself: name the project, not the folder
        name = PurePosixPath(tail.rstrip("/")).parent.name
    name = name.removesuffix(".git")
    return name or "repository"


def _clone_folder_name(url: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", repository_name(url)).lstrip(".-")[:40] or "repository"
    return f"{name}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
