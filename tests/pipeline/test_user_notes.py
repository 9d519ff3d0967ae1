"""The model's note for users at run time: only for a change users notice whose people wrote no changelog
line, only when the note setting shows it, after the headline checks, labelled as the model's."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from narrator.model.fake import FakeBackend
from narrator.pipeline.narrate import narrate_repository
from narrator.pipeline.tasks import Budget
from narrator.render import exports as reports
from narrator.render import show as report
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files

EXPORT = "You can now export reports as CSV files."


class NoteWriter(FakeBackend):
    """The fake model, with ``note`` as its answer to every note-for-users prompt (counted in ``notes``)."""

    def __init__(self, note: str = EXPORT) -> None:
        super().__init__()
        self.note, self.notes = note, 0

    def generate(self, prompts, max_new_tokens=64):
        answers = super().generate(prompts, max_new_tokens)
        for i, messages in enumerate(prompts):
            if "Write the release note for it" in messages[-1]["content"]:
                answers[i], self.notes = self.note, self.notes + 1
        return answers


@pytest.fixture
def shop(tmp_path):
    """A feature without a changelog line, a fix with one, and changes of tests and of docs alone."""
    import git

    repo = git.Repo.init(tmp_path / "shop")
    day = START
    commit_files(repo, {"shop/reports.py": "def report(rows):\n    return rows\n", "README.md": "# Shop\n"},
                 "Start the shop", day)
    commit_files(repo, {"shop/reports.py": "def report(rows):\n    return rows\n\n\ndef export_csv(rows):\n"
                                           "    return '\\n'.join(','.join(map(str, r)) for r in rows)\n"},
                 "feat: export reports as CSV", day + timedelta(days=1))
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return sum(cart or [])\n",
                        "CHANGELOG.md": "# Changelog\n\n## Unreleased\n\n- Fixed a crash when the cart is empty.\n"},
                 "fix: crash when the cart is empty", day + timedelta(days=2))
    commit_files(repo, {"tests/test_reports.py": "def test_report():\n    assert True\n"},
                 "test: cover the report", day + timedelta(days=3))
    commit_files(repo, {"docs/guide.md": "# Guide\n\nExport a report from the menu.\n"},
                 "docs: explain the export", day + timedelta(days=4))
    return repo


def narrate(settings, shop, backend, notes: str):
    settings = dataclasses.replace(settings, model_notes=notes)
    service = NarratorService(settings)
    repo = service.add_repository(shop.working_tree_dir)
    narrate_repository(settings, service.store, repo.id, Budget(batch_size=4), backend)
    shas = {c.subject.split(":")[0]: c.sha for c in service.changes(repo.id)}
    return service, repo, shas


def test_a_user_facing_change_without_a_changelog_line_gets_a_checked_note_labelled_the_models(settings, shop):
    backend = NoteWriter()
    service, repo, shas = narrate(settings, shop, backend, "on")
    stored = service.store.latest_narratives(repo.id, "note")
    assert set(stored) == {shas["feat"]} and backend.notes == 1  # not the fix (its own line), tests or docs
    assert (stored[shas["feat"]].text, stored[shas["feat"]].source) == (EXPORT, "model")
    brief = service.briefing(repo.id, "30d")
    assert brief.notes == {shas["feat"]: EXPORT}
    text = reports.build(service, [repo.id], "30d", "md").decode()
    assert f"  - Suggested note (model): {EXPORT} [written by the model (checked)]" in text
    assert "Fixed a crash when the cart is empty" in text and text.count("Suggested note (model)") == 1
    # The terminal's show: under the change's headline (the developer's words) and its plain reading.
    shown = report.markdown(service, repo.id, period="30d").splitlines()
    at = shown.index(f"  - Suggested note (model): {EXPORT} [written by the model (checked)]")
    assert shown[at - 2].startswith("- Export reports as CSV") and shown[at - 1].startswith("  - In plain words:")
    # Cached like every narrative: a second run asks the model nothing.
    again = NoteWriter()
    narrate_repository(dataclasses.replace(settings, model_notes="on"), service.store, repo.id, Budget(batch_size=4), again)
    assert again.notes == 0


def test_no_note_is_written_or_shown_when_the_setting_is_off(settings, shop):
    backend = NoteWriter()
    service, repo, _ = narrate(settings, shop, backend, "off")
    assert backend.notes == 0 and service.store.latest_narratives(repo.id, "note") == {}
    assert service.briefing(repo.id, "30d").notes == {}
    assert "Suggested note" not in reports.build(service, [repo.id], "30d", "md").decode()


def test_a_note_that_fails_the_checks_is_dropped(settings, shop):
    backend = NoteWriter("Adds tests for the PDF exporter in pdfkit.yaml.")  # nothing of it is in the change
    service, repo, shas = narrate(settings, shop, backend, "on")
    row = service.store.latest_narratives(repo.id, "note")[shas["feat"]]
    assert row.text == "" and row.flags["dropped"] and backend.notes == 1
    assert service.briefing(repo.id, "30d").notes == {}
    assert "Suggested note" not in reports.build(service, [repo.id], "30d", "md").decode()
