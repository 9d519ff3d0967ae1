"""Who may see and do what: where repositories may come from (CODE_NARRATOR_ALLOWED_ROOTS and
_HOSTS), the one admin guard a viewer meets on every admin action, and a viewer limited to some
repositories reading only those (list, pages' reads, the Portfolio, the report)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from db.errors import UserError
from narrator.render import exports
from narrator.service.access import ACTIONS, OPEN_READS, REPO_READS, RESULT_READS, ScopedService
from narrator.service.core import NarratorService
from narrator.service.roles import OPERATOR, NotAllowed, Principal
from tests.conftest import make_sample_repo
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.narration import narrated_shop_and_till


def rooted(settings, *roots, hosts=()):
    return dataclasses.replace(settings, allowed_roots=tuple(r.resolve() for r in roots), allowed_hosts=frozenset(hosts))


def test_a_folder_escaping_its_root_by_dotdot_is_refused(settings, tmp_path):
    root = tmp_path / "root"
    make_sample_repo(tmp_path / "outside")
    root.mkdir()
    service = NarratorService(rooted(settings, root))
    with pytest.raises(NotAllowed, match="outside the folders repositories may be added from"):
        service.add_repository(str(root / ".." / "outside"))
    assert service.repositories() == []


def test_a_symlink_inside_a_root_to_a_folder_outside_is_refused(settings, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    make_sample_repo(tmp_path / "outside")
    (root / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    service = NarratorService(rooted(settings, root))
    with pytest.raises(NotAllowed, match="outside the folders"):
        service.add_repository(str(root / "link"))
    with pytest.raises(NotAllowed, match="outside the folders"):
        service.add_repository(str(root / "link"), visitor=True)  # the dashboard gets the same refusal


def test_a_folder_outside_every_root_is_refused_without_saying_whether_it_exists(settings, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    service = NarratorService(rooted(settings, one, two))
    answers = set()
    for path in (make_sample_repo(tmp_path / "elsewhere").working_tree_dir, str(tmp_path / "missing"), "/etc"):
        with pytest.raises(NotAllowed) as refused:
            service.add_repository(path, visitor=True)
        answers.add(str(refused.value))
    assert len(answers) == 1


def test_a_folder_inside_a_root_is_added_and_a_root_may_be_reached_through_a_link(settings, tmp_path):
    real = tmp_path / "real"
    make_sample_repo(real / "shop")
    (tmp_path / "via").symlink_to(real, target_is_directory=True)
    service = NarratorService(rooted(settings, tmp_path / "via"))  # the root resolved too
    repo = service.add_repository(str(tmp_path / "via" / "shop"))
    assert repo.source == str((real / "shop").resolve())


def test_roots_come_from_the_environment_separated_by_pathsep(settings, tmp_path, monkeypatch):
    from narrator.settings import load_settings

    monkeypatch.setenv("CODE_NARRATOR_ALLOWED_ROOTS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b" / "..")]))
    monkeypatch.setenv("CODE_NARRATOR_ALLOWED_HOSTS", "GitHub.com, git.example.org")
    loaded = load_settings()
    assert loaded.allowed_roots == ((tmp_path / "a").resolve(), tmp_path.resolve())
    assert loaded.allowed_hosts == {"github.com", "git.example.org"}


def test_a_relative_root_is_refused_in_one_line_and_spaces_and_a_linked_root_are_read_as_meant(tmp_path, monkeypatch):
    from narrator.settings import load_settings

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    monkeypatch.setenv("CODE_NARRATOR_ALLOWED_ROOTS", f" {tmp_path / 'link'}/ {os.pathsep}~")
    assert load_settings().allowed_roots == ((tmp_path / "real").resolve(), Path.home().resolve())
    monkeypatch.setenv("CODE_NARRATOR_ALLOWED_ROOTS", "repos")  # the dashboard's working folder is not yours
    with pytest.raises(UserError, match="names the relative folder 'repos': give absolute paths"):
        load_settings()
    result = run_cli("show", str(tmp_path), home=tmp_path / "home", CODE_NARRATOR_ALLOWED_ROOTS="repos")
    assert_one_line_error(result, "relative folder 'repos'")


def test_a_url_to_an_unlisted_host_is_refused_and_a_listed_one_goes_on(settings, tmp_path):
    service = NarratorService(rooted(settings, tmp_path, hosts=("git.example.org",)))
    for url in ("https://evil.example.com/team/app.git", "ssh://git@evil.example.com/team/app.git",
                "git@evil.example.com:team/app.git", "https://git.example.org.evil.com/x.git"):
        with pytest.raises(NotAllowed, match="not among the hosts"):
            service.add_repository(url)
    # A listed host passes the check and goes on to git, which cannot reach it here: a RepoError, not a refusal.
    with pytest.raises(Exception) as went_on:
        service.add_repository("https://GIT.example.org:1/team/app.git")
    assert not isinstance(went_on.value, NotAllowed)


def test_with_no_roots_the_command_line_adds_any_folder_and_a_shared_dashboard_none(settings, sample_repo):
    service = NarratorService(settings)
    shared = ScopedService(service, OPERATOR, exposed=True)
    with pytest.raises(NotAllowed, match="until CODE_NARRATOR_ALLOWED_ROOTS"):
        shared.add_repository(sample_repo.working_tree_dir, visitor=True)
    assert service.add_repository(sample_repo.working_tree_dir).name == "shop"


@pytest.fixture
def two_repos(settings, tmp_path, monkeypatch):
    return narrated_shop_and_till(settings, tmp_path, monkeypatch)


def test_a_viewer_calling_each_admin_action_is_refused(two_repos):
    service, (shop, _) = two_repos
    viewer = ScopedService(service, Principal("vera", "viewer"))
    calls = {
        "add_repository": ("/tmp",), "start_narration": (shop.id,), "narrate_on_demand": (shop.id, "commit", "abc"),
        "queue_narration": (shop.id, {}), "resume_interrupted": (), "accounts": (),
        "add_account": ("mallory", "admin", "password1"), "set_account_password": ("vera", "password1"),
        "set_account_repositories": ("vera", None), "remove_account": ("vera",),
    }
    jobs_before = len(service.store.list_jobs())
    for name, args in calls.items():
        with pytest.raises(NotAllowed, match=r"is for admins; vera may read briefings only"):
            getattr(viewer, name)(*args)
    assert len(service.store.list_jobs()) == jobs_before and service.store.count_accounts() == 0
    # Fail closed: every public method of the service is a read named as such, or refused to a viewer.
    public = {n for n in dir(NarratorService) if not n.startswith("_") and callable(getattr(NarratorService, n))}
    for name in public - REPO_READS - OPEN_READS - RESULT_READS:
        assert name in ACTIONS or getattr(viewer, name) is not getattr(service, name)


def test_a_viewer_reads_only_the_repositories_of_their_set(two_repos, settings):
    service, (shop, till) = two_repos
    viewer = ScopedService(service, Principal("vera", "viewer", frozenset({shop.id})))
    assert [r.id for r in viewer.repositories()] == [shop.id]
    assert [row.repo.id for row in viewer.portfolio("90d-commits")] == [shop.id]
    assert viewer.briefing(shop.id, "90d-commits").name == "shop"
    for read in ("repository", "briefing", "overview", "code", "change_page", "change_filters", "activity",
                 "releases", "latest_job"):
        with pytest.raises(NotAllowed, match=f"No repository with id {till.id} for vera"):
            getattr(viewer, read)(till.id)
    with pytest.raises(NotAllowed):
        viewer.job(service.latest_job(till.id).id)
    with pytest.raises(NotAllowed):
        viewer.find(till.source)
    with pytest.raises(NotAllowed):  # the report of a repository outside the set
        exports.build(viewer, [till.id], "90d-commits", "md")
    assert "shop" in exports.build(viewer, [shop.id], "90d-commits", "md").decode()
    admin = ScopedService(service, Principal("ada", "admin", frozenset({shop.id})))  # admins read everything
    assert {r.id for r in admin.repositories()} == {shop.id, till.id}


def test_an_scp_like_url_is_checked_against_the_hosts_even_when_run_from_inside_a_root(settings, tmp_path, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.chdir(root)  # 'host:path' also reads as a folder below here, which is in the root
    service = NarratorService(rooted(settings, root, hosts=("git.example.org",)))
    for url in ("git@evil.example.com:team/app.git", "evil.example.com:team/app.git"):
        with pytest.raises(NotAllowed, match="'evil.example.com' is not among the hosts"):
            service.add_repository(url, visitor=True)
    assert service.repositories() == []
