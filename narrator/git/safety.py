"""Run git on an untrusted repository: the environment every git command gets, and messages without secrets.

The repository itself is untrusted: every ``git.Repo`` the narrator opens runs git under
``git_safety_env``, so its own config, hooks and remotes cannot make git run a command. Network calls
never prompt and use only ``CLONE_PROTOCOLS``. git's own words are shortened and passwords written into
URLs hidden (``printable``, ``_short_reason``) before they reach an error, a log or a page.
"""

from __future__ import annotations

import os
import re

import git
from git.exc import GitCommandError


CLONE_PROTOCOLS = ("https", "ssh")
"""Transports git may use when cloning (scp-like ``git@host:path`` is ssh)."""


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

