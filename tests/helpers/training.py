"""Training data made on the spot: rows of the shared data sets (CodeSearchNet, CommitPackFT,
conventional commits, release notes), a tiny shared data folder, prompt/answer examples of each task,
and a small training configuration."""

from __future__ import annotations

import json
from pathlib import Path

from narrator.model import prompts
from training.config import LoraSettings, TrainConfig
from training.examples import Example


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


CODE = "def total(cart):\n    return sum(item['price'] for item in cart)\n"


def csn_row(doc: str, code: str = CODE, language: str = "python", name: str = "total", **extra) -> dict:
    return {"code": code, "docstring": doc, "language": language, "func_name": name, "path": "shop/cart.py", **extra}


def commit_row(subject: str, message: str | None = None, lang: str = "Python", old: str = "a = 1\n",
               new: str = "a = 2\n", **extra) -> dict:
    row = {"old_contents": old, "new_contents": new, "subject": subject, "lang": lang, "new_file": "app/config.py", **extra}
    if message is not None:
        row["message"] = message
    return row


FIX_DIFF = ("diff --git a/shop/cart.py b/shop/cart.py\n--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -1,2 +1,4 @@\n"
            " def add_item(cart, item):\n+    if item is None:\n+        raise ValueError('no item')\n     cart.append(item)\n")


def conventional_row(repo: str, type_: str, subject: str, *, scope: str | None = None, breaking: bool = False,
                     paths: tuple[str, ...] = ("shop/cart.py",), diff: str = FIX_DIFF, bot: bool = False) -> dict:
    return {"repo": repo, "sha": "0" * 40, "type": type_, "scope": scope, "breaking": breaking, "subject": subject,
            "body": "", "paths": list(paths), "insertions": 2, "deletions": 0, "diff": diff, "author_is_bot": bot,
            "license": "MIT"}


DOCS_DIFF = "diff --git a/docs/guide.md b/docs/guide.md\n--- a/docs/guide.md\n+++ b/docs/guide.md\n@@ -1 +1,2 @@\n # Guide\n+Run it.\n"


def note_row(repo: str, subject: str, note: str, note_kind: str = "bugfix") -> dict:
    return {"repo": repo, "sha": "1" * 40, "subject": subject, "body": "", "paths": ["shop/cart.py"], "diff": FIX_DIFF,
            "note": note, "note_kind": note_kind, "license": "MIT"}


def write_shared(root: Path, repos: int = 6) -> Path:
    """A tiny shared data folder: both briefing sets over ``repos`` repositories, four commits each."""
    for folder, rows_of in (
        ("conventional_commits", lambda r: [
            conventional_row(r, "fix", "handle an empty item in the cart"),
            conventional_row(r, "feat", "add a wish list", breaking=True),
            conventional_row(r, "docs", "explain how to run the shop", paths=("docs/guide.md",), diff=DOCS_DIFF),
            conventional_row(r, "chore", "update dependency lodash to v5", scope="deps", bot=True),
        ]),
        ("release_notes", lambda r: [
            note_row(r, "Handle empty items", "- Adding an empty item to the cart no longer crashes the shop."),
            note_row(r, "Vendor requests 2.32", "Upgrade vendored requests to 2.32.0.", note_kind="vendor"),
        ]),
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for n in range(repos):
            repo = f"owner{n}/project{n}"
            (root / folder / f"owner{n}+project{n}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows_of(repo)))
    return root


SUMMARIES = ["This function adds two numbers and returns the sum.", "The module loads users from the database and sends emails."]


MESSAGES = ["Fix crash when the input list is empty.", "Add a parser that reads the config file."]


def code_example(i: int) -> Example:
    return Example("codesearchnet", "python", prompts.unit_prompt(f"def add(a, b): return a + b + {i}", "add", "function",
                                                                   "calc.py", "python"), SUMMARIES[i % 2])


def commit_example(i: int) -> Example:
    patch = f"-    return a\n+    return a + {i}"
    return Example("commitpackft", "python", prompts.commit_prompt(["calc.py"], patch), MESSAGES[i % 2])


def config(data: Path, out: Path, base: str, db: Path, **changes) -> TrainConfig:
    values = dict(data=data, out=out, base=base, db_url=f"sqlite:///{db}", max_steps=6, learning_rate=5e-3,
                  eval_every=0, save_every=2, warmup_steps=0, lora=LoraSettings(r=4, alpha=8), device="cpu")
    values.update(changes)
    return TrainConfig(**values)


KINDS = [("fix", False), ("feature", True), ("docs", False), ("tests", False)]


NOTES = ["The parser no longer crashes on an empty list.", "Settings are read from the config file."]


def kind_example(i: int, repo: str = "acme/app") -> Example:
    kind, breaking = KINDS[i % len(KINDS)]
    patch = f"-    return a\n+    return a + {i}"
    return Example("change_kind", "python", prompts.change_kind_prompt(f"Handle case {i}", ["calc.py"], patch),
                   prompts.change_kind_answer(kind, breaking), f"conventional_commits:{repo}")


def note_example(i: int, repo: str = "acme/app") -> Example:
    patch = f"-    items = []\n+    items = load({i})"
    return Example("user_note", "python", prompts.user_note_prompt(f"Load items {i}", ["calc.py"], patch),
                   NOTES[i % 2], f"release_notes:{repo}")
