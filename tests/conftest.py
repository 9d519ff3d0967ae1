"""Shared test fixtures: settings in a temporary folder and small git repositories made on the spot."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import git
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402  (after the environment is set)

torch.set_num_threads(2)

from narrator.settings import MODEL_TASKS, SHOWN_FIELDS  # noqa: E402

START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
TODAY = (START + timedelta(days=30)).date()
"""The day every test takes as today (``CODE_NARRATOR_TODAY``, inherited by the processes tests start):
periods end on it whatever the real date, so no test changes its answer as the calendar moves."""
os.environ.setdefault("CODE_NARRATOR_TODAY", TODAY.isoformat())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: loads a real or tiny transformers model, trains, drives a browser, starts PostgreSQL, "
                   "serves git over https or runs many processes; `pytest -m \"not slow\"` leaves these out "
                   "for a fast loop (CI runs everything)")


SLOW_FIXTURES = {"tiny_base", "wide_tiny_base", "blank_adapter", "tiny_model", "embedded_home", "postgres_server", "https_git"}
"""Fixtures that load or build a model, start PostgreSQL or serve git over https: a test using one is slow
wherever it is written (whole modules that train or drive a browser say so with ``pytestmark``)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def commit_files(repo: git.Repo, files: dict[str, str | bytes | None], message: str, when: datetime,
                 author: str = "Ada Lovelace") -> str:
    """Write (or delete, for None) files and commit them with a fixed author and date."""
    root = Path(repo.working_tree_dir)
    for path, content in files.items():
        target = root / path
        if content is None:
            repo.index.remove([path], working_tree=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        repo.index.add([path])
    actor = git.Actor(author, f"{author.split()[0].lower()}@example.com")
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S%z")
    return repo.index.commit(message, author=actor, committer=actor, author_date=stamp, commit_date=stamp).hexsha


def make_sample_repo(path: Path) -> git.Repo:
    """A tiny two-folder project with five commits across two authors and a week."""
    repo = git.Repo.init(path)
    commit_files(repo, {
        "README.md": "# Shop\n\nA small web shop that lists products and takes orders.\n",
        "shop/cart.py": 'def add_item(cart, item):\n    """Add an item to the cart."""\n    cart.append(item)\n    return cart\n\n\ndef total(cart):\n    return sum(i["price"] for i in cart)\n',
    }, "Add shopping cart", START)
    commit_files(repo, {
        "shop/orders.py": "class Order:\n    def __init__(self, cart):\n        self.cart = cart\n\n    def place(self):\n        return {'status': 'placed', 'items': len(self.cart)}\n",
    }, "Add orders that can be placed", START + timedelta(days=1), author="Grace Hopper")
    commit_files(repo, {
        "shop/cart.py": 'def add_item(cart, item):\n    """Add an item to the cart."""\n    if item is None:\n        raise ValueError("no item")\n    cart.append(item)\n    return cart\n\n\ndef total(cart):\n    return sum(i["price"] for i in cart)\n',
    }, "Fix crash when adding an empty item", START + timedelta(days=2))
    commit_files(repo, {"docs/guide.md": "# Guide\n\nHow to run the shop.\n"}, "Write a user guide", START + timedelta(days=8))
    commit_files(repo, {"tests/test_cart.py": "from shop.cart import total\n\n\ndef test_total():\n    assert total([{'price': 2}]) == 2\n"},
                 "Test the cart total", START + timedelta(days=9), author="Grace Hopper")
    return repo


@pytest.fixture
def sample_repo(tmp_path: Path) -> git.Repo:
    return make_sample_repo(tmp_path / "shop")


def fake_home(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Point every path at ``home`` with the fake model: no database, adapter or model of the machine."""
    mp.setenv("CODE_NARRATOR_HOME", str(home))
    mp.setenv("CODE_NARRATOR_MODEL", "fake")
    mp.delenv("CODE_NARRATOR_DB", raising=False)
    mp.delenv("CODE_NARRATOR_ADAPTER", raising=False)
    for variable in MODEL_TASKS.values():  # auto: the model tasks measured to be shown, whatever the machine says
        mp.delenv(variable, raising=False)


def model_text_on(mp: pytest.MonkeyPatch, settings, *tasks: str):
    """``settings`` (and every command run after) showing the model's text for ``tasks`` (``MODEL_TASKS``
    keys): for a test whose point is that text, which ``auto`` shows only when the adapter's evaluation
    says so (the fake model has none)."""
    for task in tasks:
        mp.setenv(MODEL_TASKS[task], "on")
    return dataclasses.replace(settings, **{SHOWN_FIELDS[task]: "on" for task in tasks})


MODEL_SENTENCES_ON = {MODEL_TASKS["code_summary"]: "on", MODEL_TASKS["explanation"]: "on"}
"""The environment of a command whose test needs the model asked for code summaries and sentences under
subjects (shown; ``auto`` shows neither with the fake model): model work to see, stop or resume."""


def model_headlines_on(mp: pytest.MonkeyPatch, settings):
    """``settings`` (and every command run after) showing the model's headlines."""
    return model_text_on(mp, settings, "headline")


def model_sentences_on(mp: pytest.MonkeyPatch, settings):
    """``settings`` (and every command run after) showing the model's code summaries and the sentences
    under informative subjects: for a test of how those are made, stored and shown."""
    return model_text_on(mp, settings, "code_summary", "explanation")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch):
    """Settings pointing every path at tmp_path, with the fake model."""
    from narrator.settings import load_settings

    fake_home(monkeypatch, tmp_path / "home")
    return load_settings()


# For the modules that train or load the tiny model (tests/helpers/tiny_model.py); a module opts in
# with ``pytestmark = pytest.mark.usefixtures("one_thread")``.

@pytest.fixture(scope="module")
def one_thread():
    """Tiny matrices gain nothing from a second thread, and on a busy machine OpenMP threads that
    wait for each other make every step many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> str:
    """A tiny model saved once per test module."""
    from tests.helpers.tiny_model import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny")))


def unglossed(text: str) -> str:
    """``text`` without the explanations of jargon written inline after a term ("CI (continuous
    integration: ...)" -> "CI"), so a test can find people's words as they wrote them."""
    from narrator.facts import glossary

    for entry in glossary.load().values():
        text = text.replace(" " + glossary.inline_words(str(entry["explanation"])), "")
    return text
