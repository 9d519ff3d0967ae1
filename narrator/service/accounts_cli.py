"""``code-narrator accounts add|list|remove|passwd|repos``: the sign-in accounts of a shared dashboard.

Made here, on the server, so the first admin exists before the dashboard is exposed. A password is
never an argument (it would show in ``ps`` and the shell's history): it is asked twice without echo
on a terminal, else read from the first line of standard input
(``printf '%s\\n' "$PW" | code-narrator accounts add alice --role admin``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from narrator.entry import run_command
from narrator.service.accounts import AccountError
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from narrator.text import plain


def read_password(stdin=None) -> str:
    """A new password: asked twice without echo on a terminal, else the first line of standard input."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AccountError("The two passwords differ.")
        return first
    line = stdin.readline()
    if not line:
        raise AccountError("No password on standard input.")
    return line.rstrip("\r\n")


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Manage who may sign in to a shared dashboard.")
    p.add_argument("--db", help="SQLAlchemy URL of the cache (default: a SQLite file in the user data folder)")
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="add an account (the password is asked, or read from standard input)")
    add.add_argument("name")
    add.add_argument("--role", choices=("admin", "viewer"), default="viewer", help="admin or viewer (default)")
    add.add_argument("--email", help="the e-mail an OpenID Connect provider signs this person in with")
    add.add_argument("--repo", action="append", dest="repos", metavar="REPO",
                     help="a repository (name, source or id) a viewer reads; repeat it; default: every one")
    add.add_argument("--no-password", action="store_true", help="sign in through the provider only (needs --email)")
    sub.add_parser("list", help="list the accounts")
    remove = sub.add_parser("remove", help="remove an account")
    remove.add_argument("name")
    passwd = sub.add_parser("passwd", help="set an account's password (asked, or read from standard input)")
    passwd.add_argument("name")
    repos = sub.add_parser("repos", help="change the repositories a viewer reads")
    repos.add_argument("name")
    which = repos.add_mutually_exclusive_group(required=True)
    which.add_argument("--repo", action="append", dest="repos", metavar="REPO",
                       help="a repository (name, source or id) the viewer reads; repeat it")
    which.add_argument("--all", action="store_true", help="every repository")
    return p


def run(args: argparse.Namespace) -> int:
    service = NarratorService(load_settings(db_url=args.db))
    if args.action == "add":
        password = None if args.no_password else read_password()
        row = service.add_account(args.name, args.role, password, args.email, args.repos)
        print(f"Added {row.name} ({row.role}).")
    elif args.action == "list":
        names = {r.id: r.name for r in service.repositories()}
        for row in service.accounts():
            reads = "every repository" if row.repo_ids is None else ", ".join(
                plain(names.get(i, str(i))) for i in sorted(row.repo_ids)) or "no repository"
            sign_in = " and ".join(filter(None, ("password" if row.password else None, row.email and f"e-mail {row.email}")))
            print(f"{row.name}\t{row.role}\t{sign_in}\t{reads}")
    elif args.action == "remove":
        service.remove_account(args.name)
        print(f"Removed {args.name}.")
    elif args.action == "repos":
        row = service.set_account_repositories(args.name, None if args.all else args.repos)
        names = {r.id: r.name for r in service.repositories()}
        reads = "every repository" if row.repo_ids is None else ", ".join(
            plain(names.get(i, str(i))) for i in sorted(row.repo_ids))
        print(f"{row.name} reads {reads}.")
    else:
        if service.store.get_account(args.name) is None:
            raise AccountError(f"No account named {args.name!r}.")
        service.set_account_password(args.name, read_password())
        print(f"Changed the password of {args.name}.")
    return 0


def main(argv: list[str], prog: str = "code-narrator accounts") -> int:
    args = parser(prog).parse_args(argv)
    return run_command(lambda: run(args))

