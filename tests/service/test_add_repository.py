"""Adding a repository: one answer for any local path the dashboard cannot add, real paths, no .git folder."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.wording import plain
from db.errors import RepoError
from narrator.service.core import NarratorService
from narrator.service.repositories import NO_REPOSITORY_AT_PATH
from tests.conftest import make_sample_repo
from tests.helpers.dashboard import APP


@pytest.fixture
def service(settings) -> NarratorService:
    return NarratorService(settings)


def unreadable_paths(tmp_path) -> list[str]:
    (tmp_path / "plain").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    import git

    git.Repo.init(tmp_path / "empty")
    return ["/etc/passwd", "/etc", str(tmp_path / "missing"), str(tmp_path / "plain"), str(tmp_path / "notes.txt"),
            str(tmp_path / "empty"), "~/surely-not-here", "-rf"]


def test_a_visitor_gets_one_answer_for_every_path_that_cannot_be_added(service, tmp_path):
    for path in unreadable_paths(tmp_path):
        with pytest.raises(RepoError) as info:
            service.add_repository(path, visitor=True)
        assert str(info.value) == NO_REPOSITORY_AT_PATH, path
    assert service.repositories() == []


def test_the_command_line_keeps_its_specific_messages(service, tmp_path):
    unreadable_paths(tmp_path)
    answers = set()
    for path in ("/etc/passwd", str(tmp_path / "missing"), str(tmp_path / "plain")):
        with pytest.raises(RepoError) as info:
            service.add_repository(path)
        answers.add(str(info.value))
    assert len(answers) == 3


def test_a_url_keeps_its_specific_message_for_a_visitor(service):
    with pytest.raises(RepoError, match="^Refused source .*plain http:// is not allowed"):
        service.add_repository("http://example.com/x.git", visitor=True)


@pytest.mark.parametrize("visitor", [False, True])
def test_paths_are_resolved_and_a_git_folder_is_refused(service, tmp_path, monkeypatch, visitor):
    shop = make_sample_repo(tmp_path / "shop")
    first = service.add_repository(shop.working_tree_dir, visitor=visitor)
    monkeypatch.chdir(shop.working_tree_dir)
    assert service.add_repository("/proc/self/cwd", visitor=visitor).id == first.id
    (tmp_path / "link").symlink_to(tmp_path / "shop")
    assert service.add_repository(str(tmp_path / "link"), visitor=visitor).id == first.id
    assert service.add_repository(str(tmp_path / "shop" / "docs" / ".." ), visitor=visitor).id == first.id
    for inside in (".git", "shop/.git", "shop/.git/objects", "shop/.git/nothing-here"):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(RepoError, match=r"it is a \.git folder or inside one; give the project folder that holds it"):
            service.add_repository(inside, visitor=visitor)
    assert [r.id for r in service.repositories()] == [first.id]


def test_a_link_to_a_git_folder_is_refused(service, tmp_path):
    shop = make_sample_repo(tmp_path / "shop")
    (tmp_path / "sneaky").symlink_to(tmp_path / "shop" / ".git")
    with pytest.raises(RepoError, match=r"\.git folder"):
        service.add_repository(str(tmp_path / "sneaky"))
    with pytest.raises(RepoError, match=f"^{NO_REPOSITORY_AT_PATH}$"):  # the visitor learns nothing more
        service.add_repository(str(tmp_path / "sneaky"), visitor=True)
    assert shop and service.repositories() == []


def test_the_dashboard_form_answers_alike_for_passwd_etc_and_a_missing_path(settings, tmp_path):
    make_sample_repo(tmp_path / "shop")
    NarratorService(settings).add_repository(str(tmp_path / "shop"))  # no first-visit default narration
    errors = []
    for path in ("/etc/passwd", "/etc", str(tmp_path / "missing")):
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.text_input(key="app_add_source").set_value(path)
        next(b for b in at.button if b.label == "Add and narrate").click().run()
        errors.append([e.value for e in at.error])
    assert errors == [[plain(NO_REPOSITORY_AT_PATH)]] * 3
