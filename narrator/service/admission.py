"""Where a repository may be added from: local folders inside the configured roots
(``CODE_NARRATOR_ALLOWED_ROOTS``), clone URLs to the configured hosts (``CODE_NARRATOR_ALLOWED_HOSTS``).

Checked once, in ``NarratorService.add_repository``, whoever adds (the command line or the
dashboard), before anything reads the source.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from narrator.git.safety import printable
from narrator.git.sources import reads_as_url
from narrator.service.roles import NotAllowed
from narrator.settings import Settings

ALLOWED_ROOTS_ENV = "CODE_NARRATOR_ALLOWED_ROOTS"
ALLOWED_HOSTS_ENV = "CODE_NARRATOR_ALLOWED_HOSTS"


def url_host(url: str) -> str | None:
    """The host name of an https/ssh URL or of scp-like ``user@host:path``, lower-case."""
    if "://" in url:
        try:
            return (urllib.parse.urlsplit(url).hostname or "").lower() or None
        except ValueError:
            return None
    host = url.split(":", 1)[0].rsplit("@", 1)[-1]
    return host.strip("[]").lower() or None


def check_source_allowed(source: str, settings: Settings, exposed: bool) -> None:
    """Refuse a source outside the configured roots or hosts, before anything reads it.

    A local folder must lie inside one of ``settings.allowed_roots`` once ``~``, ``..`` and every symlink
    are resolved (a link inside a root to a folder outside it is outside). With no roots set a
    folder is accepted, except on an ``exposed`` dashboard (bound beyond this computer), which
    refuses every local folder until roots are set. A URL must name one of ``settings.allowed_hosts`` when
    hosts are set. The answer never says whether a folder exists.
    """
    text = source.strip()
    # Decided as validate_source decides it, first: a 'host:path' URL also resolves as a folder below
    # the working folder, maybe in a root.
    if reads_as_url(text):
        return _check_host(text, settings)
    roots = settings.allowed_roots
    real = _real_path(text)
    if real is not None and any(real == root or real.is_relative_to(root) for root in roots):
        return
    if roots:
        raise NotAllowed(f"Refused source: that folder is outside the folders repositories may be added from "
                         f"({ALLOWED_ROOTS_ENV}).")
    if exposed:
        raise NotAllowed(f"Local folders cannot be added on a shared dashboard until {ALLOWED_ROOTS_ENV} "
                         "names the folders they may come from.")


def _real_path(text: str) -> Path | None:
    """``text`` as a folder with ``~``, ``..`` and every symlink resolved (None: not a path at all)."""
    try:
        return Path(text).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        return None


def _check_host(url: str, settings: Settings) -> None:
    hosts = settings.allowed_hosts
    host = url_host(url)
    if hosts and host not in hosts:
        raise NotAllowed(f"Refused source: {printable(host or 'that host')} is not among the hosts repositories "
                         f"may be cloned from ({ALLOWED_HOSTS_ENV}).")
