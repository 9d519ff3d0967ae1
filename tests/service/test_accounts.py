"""Sign-in accounts: salted hashes, signing in, the lock after wrong passwords (the Admin page's rule),
the provider's e-mail mapped to an account, and ``code-narrator accounts`` with the password on stdin."""

from __future__ import annotations

import subprocess
import sys

import pytest

from db.errors import UserError
from narrator.service.accounts import AccountError, SignInFailed
from narrator.service.core import NarratorService
from narrator.service.passwords import LOCK_SECONDS, MAX_FAILURES, LockedOut
from narrator.service.roles import Principal
from tests.conftest import make_sample_repo
from tests.helpers.cli import ROOT

PASSWORD = "correct horse"


@pytest.fixture
def service(settings) -> NarratorService:
    return NarratorService(settings)


def test_an_account_keeps_only_a_salted_hash_and_signs_in_with_its_password(service):
    service.add_account("ada", "admin", PASSWORD)
    service.add_account("bob", "viewer", PASSWORD)
    ada, bob = service.store.get_account("ada"), service.store.get_account("bob")
    assert PASSWORD not in str(ada.password) and ada.password["salt"] != bob.password["salt"]
    assert ada.password["hash"] != bob.password["hash"]
    assert service.sign_in("ada", PASSWORD) == Principal("ada", "admin")
    for name, password in (("ada", "wrong password"), ("nobody", PASSWORD), ("ada", "")):
        with pytest.raises(SignInFailed, match="^Wrong name or password.$"):
            service.sign_in(name, password)


def test_wrong_passwords_lock_an_account_as_they_lock_the_admin_page(service):
    service.add_account("ada", "admin", PASSWORD)
    service.add_account("bob", "viewer", PASSWORD)
    start = 1_000_000.0
    for i in range(MAX_FAILURES):
        with pytest.raises(SignInFailed):
            service.sign_in("ada", f"guess {i}", now=start + i)
    with pytest.raises(LockedOut, match="Too many wrong passwords: signing in to this account is locked"):
        service.sign_in("ada", PASSWORD, now=start + 10)  # even the right one
    assert service.sign_in("bob", PASSWORD, now=start + 10).name == "bob"  # another account is not locked
    assert service.sign_in("ada", PASSWORD, now=start + 9 + LOCK_SECONDS).name == "ada"


def test_the_providers_email_maps_to_its_account_whatever_its_case(service):
    service.add_account("carol", "viewer", email="Carol@Example.org")
    assert service.principal_for_email("CAROL@example.org") == Principal("carol", "viewer")
    assert service.principal_for_email("mallory@example.org") is None
    assert service.principal_for_email("") is None
    with pytest.raises(SignInFailed):  # an account of the provider alone has no password to guess
        service.sign_in("carol", "")


def test_accounts_refuse_bad_input_and_keep_the_last_admin(service, tmp_path):
    repo = service.add_repository(make_sample_repo(tmp_path / "shop").working_tree_dir)
    for args, message in ((("ada", "admin", "short"), "at least 8"), (("-x", "admin", PASSWORD), "account name"),
                          (("ada", "root", PASSWORD), "Unknown role"), (("ada", "viewer"), "needs a password"),
                          (("ada", "viewer", PASSWORD, "not-an-email"), "not an e-mail"),
                          (("ada", "viewer", PASSWORD, None, ["nope"]), "No repository 'nope'"),
                          (("ada", "admin", PASSWORD, None, ["shop"]), "Admins read every repository")):
        with pytest.raises(AccountError, match=message):
            service.add_account(*args)
    service.add_account("ada", "admin", PASSWORD)
    with pytest.raises(UserError, match="already exists"):
        service.add_account("ada", "viewer", PASSWORD)
    assert service.add_account("vera", "viewer", PASSWORD, repositories=["shop"]).repo_ids == {repo.id}
    with pytest.raises(AccountError, match="last admin"):
        service.remove_account("ada")
    service.remove_account("vera")
    service.remove_account("ada")  # the only account left: nobody is locked out of anything
    assert service.accounts() == []


def accounts_cli(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"CODE_NARRATOR_HOME": str(settings.home), "CODE_NARRATOR_MODEL": "fake", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", "import sys; from narrator.cli import main; sys.exit(main())",
                           "accounts", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_the_accounts_command_reads_the_password_from_stdin_never_argv(settings):
    added = accounts_cli(settings, "add", "ada", "--role", "admin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    listed = accounts_cli(settings, "list")
    assert listed.stdout.split("\t")[:3] == ["ada", "admin", "password"]
    assert NarratorService(settings).sign_in("ada", PASSWORD).role == "admin"
    refused = accounts_cli(settings, "add", "eve", "--password", PASSWORD)  # there is no such option
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr
    short = accounts_cli(settings, "passwd", "ada", stdin="short\n")
    assert short.returncode == 1 and short.stderr.strip() == "error: A password needs at least 8 characters."
    changed = accounts_cli(settings, "passwd", "ada", stdin="a new long password\n")
    assert changed.returncode == 0 and NarratorService(settings).sign_in("ada", "a new long password")
    gone = accounts_cli(settings, "remove", "nobody")
    assert gone.returncode == 1 and gone.stderr.strip() == "error: No account named 'nobody'."


def test_locked_and_wrong_answers_never_tell_which_names_exist(service):
    service.add_account("ada", "admin", PASSWORD)
    service.add_account("carol", "viewer", email="carol@example.org")  # the provider's alone: no password
    start = 1_000_000.0
    for i in range(MAX_FAILURES):  # many unknown names, one wrong guess each
        with pytest.raises(SignInFailed):
            service.sign_in(f"ghost{i}", "wrong password", now=start + i)
    # A further unknown name is answered as a real one is: wrong, not locked.
    for name in ("ghost-next", "ada", "carol"):
        with pytest.raises(SignInFailed, match="^Wrong name or password.$"):
            service.sign_in(name, "wrong password", now=start + 20)
    # and an unknown name guessed over and over locks as a real one does
    for name in ("ghost-next", "ada"):
        for i in range(MAX_FAILURES - 1):
            with pytest.raises(SignInFailed):
                service.sign_in(name, f"guess {i}", now=start + 30 + i)
        with pytest.raises(LockedOut, match="signing in to this account is locked"):
            service.sign_in(name, PASSWORD, now=start + 40)
