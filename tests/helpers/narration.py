"""Narrating a repository in the test's own process, a scripted model, and reading ``show``'s Markdown."""

from __future__ import annotations

from datetime import timedelta

from narrator.__main__ import main
from narrator.model import prompts
from narrator.model.backends import Backend
from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget, RunReport
from narrator.service.core import NarratorService
from narrator.service.views import RepoView
from tests.conftest import START


def narrate_here(settings, path, backend: Backend | None = None, *, batch_size: int = 3, only=None,
                 **budget) -> tuple[NarratorService, RepoView, RunReport]:
    """Add the repository at ``path`` and narrate it in this process with ``backend`` (the fake model by
    default) in batches of ``batch_size``; ``budget`` sets the other ``Budget`` fields, ``only`` limits the
    work to (kind, target) pairs."""
    service = NarratorService(settings)
    repo = service.add_repository(str(path))
    report = narrate_repository(settings, service.store, repo.id, Budget(batch_size=batch_size, **budget),
                                backend or FakeBackend(), only=only)
    return service, repo, report


class Scripted(FakeBackend):
    """Answers a prompt with the first rule whose words all occur in it, else like the fake; keeps every prompt."""

    def __init__(self, *rules: tuple[tuple[str, ...], str]) -> None:
        super().__init__()
        self.rules = rules
        self.seen: list[prompts.Messages] = []

    def generate(self, batch, max_new_tokens=64):
        self.seen += batch
        defaults = super().generate(batch, max_new_tokens)
        return [next((answer for words, answer in self.rules if all(w in messages[-1]["content"] for w in words)), default)
                for messages, default in zip(batch, defaults)]

    def texts(self) -> list[str]:
        return [messages[-1]["content"] for messages in self.seen]


def day(n: int, hours: int = 0):
    """``n`` days and ``hours`` hours after the tests' START."""
    return START + timedelta(days=n, hours=hours)


def show_markdown(settings, path, capsys, *extra: str) -> str:
    """``show`` as Markdown, one line per sentence with its source (the terminal text wraps lines and
    leaves git facts unlabelled: tests/render/test_show_text.py)."""
    assert main(["show", str(path), "--db", settings.db_url, "--format", "markdown", *extra]) == 0
    return capsys.readouterr().out


def change_block(text: str, short_sha: str) -> list[str]:
    """The lines ``show`` writes for one change: its headline line and the indented lines under it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("- ") and f" {short_sha} [" in line)
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def diff_of(path, *lines, start=1):
    """A one-hunk diff of ``path`` whose hunk is ``lines``."""
    return f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n@@ -{start},4 +{start},4 @@\n" + "\n".join(lines) + "\n"


def narrated_shop_and_till(settings, tmp_path, monkeypatch) -> tuple[NarratorService, list[RepoView]]:
    """Two sample repositories, 'shop' and 'till', added and narrated (2 commits each) in-process."""
    from narrator.pipeline import jobs
    from narrator.pipeline.narrate import run_job
    from tests.conftest import make_sample_repo
    from tests.helpers.dashboard import no_worker

    monkeypatch.setattr(jobs, "spawn_worker", no_worker)
    service = NarratorService(settings)
    repos = []
    for name in ("shop", "till"):
        repo = service.add_repository(make_sample_repo(tmp_path / name).working_tree_dir)
        run_job(settings, service.start_narration(repo.id, commits=2).id)
        repos.append(repo)
    return service, repos
