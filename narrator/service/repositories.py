"""The repositories the service knows: listing, finding by path or URL, and adding (validating,
opening or cloning) one; the only git the service runs."""

from __future__ import annotations

from pathlib import Path

from db.errors import NarratorError, RepoError
from narrator.git.repo import is_shallow, open_repository
from narrator.service.admission import check_source_allowed
from narrator.git.sources import (
    looks_like_url,
    names_git_folder,
    remember_credentials,
    repository_name,
    validate_source,
    without_credentials,
)
from narrator.service.views import RepoView, _repo_view


NO_REPOSITORY_AT_PATH = "No git repository at that path."
"""The dashboard's one answer for a local path it cannot add (missing, a file, not a repository...)."""


class Repositories:
    """``NarratorService``'s repositories (uses ``self.store`` and ``self.settings``)."""

    exposed: bool = False
    """Whether the asker is a dashboard bound beyond this computer (``narrator.service.access.ScopedService``)."""

    def repositories(self) -> list[RepoView]:
        return [_repo_view(r) for r in self.store.list_repositories()]

    def repository(self, repo_id: int) -> RepoView:
        row = self.store.get_repository(repo_id)
        if row is None:
            raise NarratorError(f"No repository with id {repo_id}.")
        return _repo_view(row)

    @staticmethod
    def canonical_source(source: str) -> str:
        """The form a source is stored under: URLs without credentials, local folders as real paths."""
        source = validate_source(source.strip())
        if "://" not in source and "@" not in source.split("/")[0]:
            source = str(Path(source).expanduser().resolve())
        return without_credentials(source)

    def find(self, source: str) -> RepoView:
        """A repository already in the cache, by the path or URL it was added with.

        A local folder that was moved or deleted since is still found by its old path, so what was
        narrated can be read (``RepoView.folder_gone`` says so).
        """
        try:
            canonical = self.canonical_source(source)
        except NarratorError:  # e.g. "No such folder": it may be one that was narrated, then moved
            row = self._gone_folder(source)
            if row is None:
                raise
            return _repo_view(row)
        row = self.store.find_repository(canonical)
        if row is None:
            raise NarratorError(f"{canonical} has not been narrated yet: run 'python -m narrator narrate {canonical}' first.")
        return _repo_view(row)

    def _gone_folder(self, source: str):
        """The cached repository once added from the local folder ``source``, now missing."""
        try:
            folder = Path(source.strip()).expanduser()
            return None if folder.exists() else self.store.find_repository(str(folder.resolve()))
        except (OSError, ValueError):  # not a path at all (a NUL byte, say): nothing was added from it
            return None

    def add_repository(self, source: str, visitor: bool = False) -> RepoView:
        """Validate, open (or clone) and record a repository; an existing one is returned as is.

        A password in a URL is kept for git alone (``narrator.git.sources.remember_credentials``), also when
        the repository was added before: the URL is recorded without it. ``visitor`` True (the
        dashboard): a local path that cannot be added gets one answer, ``NO_REPOSITORY_AT_PATH``,
        whatever the reason, so that a visitor cannot learn which paths exist on this computer.
        A folder outside the configured roots, or a URL to a host not configured, is refused first
        (``narrator.service.admission``; ``exposed``: a dashboard bound beyond this computer).
        """
        check_source_allowed(source, self.settings, self.exposed)
        try:
            canonical = self.canonical_source(source)
            if looks_like_url(canonical):
                remember_credentials(source.strip(), self.settings.clone_dir)
            existing = self.store.find_repository(canonical)
            if existing is not None:
                return _repo_view(existing)
            repo = open_repository(canonical, self.settings.clone_dir)
        except RepoError:
            if not visitor or names_git_folder(source) or looks_like_url(source):
                raise
            raise RepoError(NO_REPOSITORY_AT_PATH) from None
        repo_id = self.store.upsert_repository(canonical, repository_name(canonical),
                                               str(repo.working_tree_dir or repo.git_dir), repo.head.commit.hexsha,
                                               shallow=is_shallow(repo))
        return self.repository(repo_id)
