"""Removing a repository (``NarratorService.remove_repository``, ``python -m narrator remove``): every row
of it goes, a subscription that named only it goes, the narrator's own clone goes, a folder of the user's
stays; refused to a viewer and while a job of it is queued; and ``accounts repos`` changing what a viewer reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import AccountRepository, Commit, Job, Narrative, Unit
from db.repositories import RepositoryBusy
from narrator.__main__ import main
from narrator.git import safety
from narrator.service import accounts_cli
from narrator.service.access import ScopedService
from narrator.service.core import NarratorService
from narrator.service.roles import NotAllowed, Principal
from tests.conftest import make_sample_repo
from tests.helpers.narration import narrated_shop_and_till
from tests.helpers.repos import quiet_git_config, upstream  # noqa: F401  (fixtures)

PASSWORD = "correct horse"


@pytest.fixture
def two_narrated(settings, tmp_path, monkeypatch):
    return narrated_shop_and_till(settings, tmp_path, monkeypatch)


def rows_of(service: NarratorService, repo_id: int) -> dict[str, int]:
    with service.store.session() as s:
        return {table.__tablename__: s.scalar(select(func.count()).select_from(table).where(table.repo_id == repo_id))
                for table in (Commit, Unit, Narrative, Job, AccountRepository)}


def test_removing_a_local_repository_deletes_its_rows_and_leaves_its_folder(two_narrated):
    service, (shop, till) = two_narrated
    service.add_account("vera", "viewer", PASSWORD, repositories=["shop", "till"])
    only_shop = service.subscribe("email", "ada@example.com", [shop.id])
    both = service.subscribe("email", "bob@example.com", [shop.id, till.id])
    every = service.subscribe("email", "cy@example.com", None)
    before = rows_of(service, shop.id)
    assert before["commits"] and before["units"] and before["narratives"] and before["jobs"]
    till_before = rows_of(service, till.id)

    removed = service.remove_repository(shop.id)

    assert set(rows_of(service, shop.id).values()) == {0}
    assert rows_of(service, till.id) == {**till_before, "account_repositories": 1}
    assert [r.id for r in service.repositories()] == [till.id]
    assert service.store.get_account("vera").repo_ids == {till.id}
    subscriptions = {row.id: row.repo_ids for row in service.store.list_subscriptions()}
    assert only_shop.id not in subscriptions  # else it would get every repository
    assert subscriptions[both.id] == [till.id] and subscriptions[every.id] is None
    assert (Path(shop.source) / ".git").is_dir()  # the user's own folder is never touched
    assert removed.clone is None and removed.commits == before["commits"]
    line = removed.line()
    assert line.startswith(f"Removed shop ({shop.source})") and f"left the folder {shop.source} as it is" in line
    assert f"removed subscription(s) #{only_shop.id}" in line and "\n" not in line


def test_removing_a_cloned_repository_deletes_its_clone_only(settings, upstream, monkeypatch):
    url, origin = upstream
    monkeypatch.setattr(safety, "CLONE_PROTOCOLS", ("https", "ssh", "file"))  # the https URL is a folder here
    service = NarratorService(settings)
    repo = service.add_repository(url)
    clone = Path(service.store.get_repository(repo.id).local_path)
    assert clone.is_dir() and clone.parent == settings.clone_dir
    removed = service.remove_repository(repo.id)
    assert removed.clone == str(clone.resolve()) and not clone.exists()
    assert Path(origin.working_tree_dir, ".git").is_dir() and settings.clone_dir.is_dir()
    assert service.repositories() == []


def test_removal_is_refused_to_a_viewer_and_while_a_job_of_it_is_queued(two_narrated):
    service, (shop, _) = two_narrated
    viewer = ScopedService(service, Principal("vera", "viewer"))
    with pytest.raises(NotAllowed, match="Removing a repository is for admins; vera may read briefings only."):
        viewer.remove_repository(shop.id)
    job_id = service.store.create_job(shop.id, "narrate")
    with pytest.raises(RepositoryBusy, match=rf"shop is being narrated \(job #{job_id}, queued\)") as busy:
        service.remove_repository(shop.id)
    assert "\n" not in str(busy.value)
    assert rows_of(service, shop.id)["narratives"] and service.repository(shop.id).name == "shop"


def test_the_remove_command_prints_what_it_removed_and_one_line_for_an_unknown_repository(two_narrated, tmp_path,
                                                                                             capsys):
    service, (shop, till) = two_narrated
    assert main(["remove", shop.source]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Removed shop (") and "narratives" in out and "left the folder" in out
    for unknown in (shop.source, str(make_sample_repo(tmp_path / "never").working_tree_dir), str(tmp_path / "nowhere")):
        assert main(["remove", unknown]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: No repository was added as {unknown}: nothing removed."]
    assert [r.id for r in service.repositories()] == [till.id]


def test_accounts_repos_changes_what_a_viewer_reads(two_narrated, capsys):
    service, (shop, till) = two_narrated
    service.add_account("vera", "viewer", PASSWORD, repositories=["shop"])

    def reads() -> list[int]:
        return [r.id for r in ScopedService(service, service.account_principal("vera")).repositories()]

    assert reads() == [shop.id]
    assert accounts_cli.main(["repos", "vera", "--repo", "till"]) == 0
    assert capsys.readouterr().out.strip() == "vera reads till."
    assert reads() == [till.id]
    assert accounts_cli.main(["repos", "vera", "--all"]) == 0
    assert reads() == [shop.id, till.id]
    assert accounts_cli.main(["repos", "vera", "--repo", "nothing"]) == 1
    assert capsys.readouterr().err.strip() == "error: No repository 'nothing'"
    assert accounts_cli.main(["repos", "nobody", "--all"]) == 1
    assert capsys.readouterr().err.strip() == "error: No account named 'nobody'."
    service.add_account("ada", "admin", PASSWORD)
    assert accounts_cli.main(["repos", "ada", "--repo", "shop"]) == 1
    assert "limit viewers only" in capsys.readouterr().err
    assert reads() == [shop.id, till.id]
