"""``show`` on a built repository, word for word as it printed before the code moved into subpackages
(issue 19): the sample shop narrated by the fake model, with today's defaults and with the model's
sentences shown. A change to what ``show`` prints fails here; when it is meant, rewrite the files with
``CODE_NARRATOR_WRITE_GOLDEN=1`` and read the diff."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import MODEL_SENTENCES_ON, make_sample_repo
from tests.helpers.cli import run_cli

GOLDEN = Path(__file__).parents[1] / "golden"


def shown(tmp_path: Path, **env: str) -> str:
    repo = make_sample_repo(tmp_path / "shop")
    home = tmp_path / "home"
    assert run_cli("narrate", repo.working_tree_dir, home=home, **env).returncode == 0
    result = run_cli("show", repo.working_tree_dir, "--period", "30d", home=home, COLUMNS="100", **env)
    assert result.returncode == 0, result.stderr
    # The one line that says when Code Narrator last looked is the real day the test runs.
    return re.sub(r"last looked on \d{1,2} \w+ \d{4}", "last looked on DAY", result.stdout).replace(str(tmp_path), "TMP")


@pytest.mark.parametrize("name, env", [("show_defaults.txt", {}), ("show_model_sentences.txt", MODEL_SENTENCES_ON)])
def test_show_prints_what_it_printed_before_the_move(tmp_path, name, env):
    text = shown(tmp_path, **env)
    if os.environ.get("CODE_NARRATOR_WRITE_GOLDEN") == "1":
        (GOLDEN / name).write_text(text, encoding="utf-8")
    assert text == (GOLDEN / name).read_text(encoding="utf-8")
    assert "last looked on DAY" in text and "Add shopping cart" in text
