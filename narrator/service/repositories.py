"""The repositories the service knows: listing, finding by path or URL, adding (validating, opening
or cloning) one, and removing one (with its clone, never a folder of the user's); the only git the
service runs."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from db.errors import NarratorError, RepoError
from db.repositories import RemovedRepository
from narrator.git.repo import is_shallow, open_repository
from narrator.service.admission import check_source_allowed
from narrator.git.sources import (
    _credential_file,
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


@dataclasses.dataclass(frozen=True)
class Removal(RemovedRepository):
    """What removing a repository deleted: its rows (``RemovedRepository``) and its clone folder, if the
    narrator had cloned it (``clone``: the folder deleted; None: a folder of the user's, left as it is)."""

    clone: str | None = None

    def line(self) -> str:
        """What was removed, in one line for the command line and the dashboard."""
        parts = [f"{self.commits} commits, {self.units} code units, {self.narratives} narratives, {self.jobs} jobs"]
        if self.accounts:
            parts.append(f"{self.accounts} account(s) no longer read it")
        if self.subscriptions_changed:
            parts.append("taken off subscription(s) " + ", ".join(f"#{i}" for i in self.subscriptions_changed))
        if self.subscriptions_removed:
            parts.append("removed subscription(s) " + ", ".join(f"#{i}" for i in self.subscriptions_removed)
                         + " (they named only this repository)")
        parts.append(f"deleted its clone {self.clone}" if self.clone else
                     f"left the folder {self.repo.local_path} as it is")
        return f"Removed {self.repo.name} ({self.repo.source}): " + "; ".join(parts) + "."


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

    def remove_repository(self, repo_id: int) -> Removal:
        """Forget a repository: every row of it (``Store.remove_repository``; refused while a job of it is
        queued or running), then its clone folder when the narrator cloned it from a URL into its own
        ``clone_dir``. A local folder that was added is the user's own: it is never touched."""
        removed = self.store.remove_repository(repo_id)
        if removed is None:
            raise NarratorError(f"No repository with id {repo_id}.")
        self._commit_cache.pop(repo_id, None)
        clone = self._clone_folder(removed.repo.source, removed.repo.local_path)
        if clone is not None:
            shutil.rmtree(clone, ignore_errors=True)
            _credential_file(removed.repo.source, self.settings.clone_dir).unlink(missing_ok=True)
        return Removal(**{f.name: getattr(removed, f.name) for f in dataclasses.fields(removed)},
                       clone=None if clone is None else str(clone))

    def _clone_folder(self, source: str, local_path: str) -> Path | None:
        """The narrator's own clone of ``source``: a URL's folder directly inside ``clone_dir``; else None."""
        if not looks_like_url(source):
            return None
        clones = Path(self.settings.clone_dir).resolve()
        folder = Path(local_path).resolve()
        return folder if folder.parent == clones and folder.name not in ("", ".credentials") else None
