"""One settings object for paths, database URL and model choice.

Every field can be overridden by an environment variable so tests (and admins) point everything at
another folder: ``CODE_NARRATOR_HOME``, ``CODE_NARRATOR_DB``, ``CODE_NARRATOR_MODEL``,
``CODE_NARRATOR_ADAPTER``.

``CODE_NARRATOR_QUEUE`` (a ``redis://`` URL) sends narration jobs to a task queue whose workers
(``code-narrator worker``) may run on other machines; unset, jobs run in local worker processes as
before. ``CODE_NARRATOR_QUEUE_HEARTBEAT`` is how many seconds a queue worker may be silent before
the others take back its unfinished jobs (``narrator.pipeline.task_queue``).

The adapter a local model narrates with is, in order: ``CODE_NARRATOR_ADAPTER`` (a folder, or
``none``); the one an admin made active (``<home>/active_adapter``); the adapter shipped in this
repository (``adapters/smollm2-cocktail``), for the embedded model.

Which model tasks a manager is shown (``MODEL_TASKS``): each has a setting, ``auto`` (the default),
``on`` or ``off`` (``CODE_NARRATOR_MODEL_KINDS``, ``CODE_NARRATOR_MODEL_NOTES``,
``CODE_NARRATOR_MODEL_HEADLINES``, ``CODE_NARRATOR_MODEL_SUMMARIES``,
``CODE_NARRATOR_MODEL_EXPLANATIONS``). ``auto`` shows a task only where the active adapter's
``evaluation.json`` says it was measured to beat what it replaces (``"shown_by_default": true``);
no evaluation, no entry, or no local model: not shown (``Settings.shows``).

A model spec or quantization that cannot work (``fake:abc``, ``openai:`` without a URL,
``CODE_NARRATOR_QUANT=bogus``) is refused here, as one ``ModelError`` line, before anything runs:
the command line prints it and the dashboard shows it in an error box. Whether a model folder or
server is really there is found out when the model loads (``narrator.model.backends``).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

import platformdirs

from db.errors import ModelError, QueueError, UserError
import narrator.model.backends  # noqa: F401  (registers the built-in kinds of model)
from db.files import write_atomic
from narrator.model.registry import kind_of

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_ADAPTER = ROOT / "adapters" / "smollm2-cocktail"
"""The LoRA adapter trained by ``training/`` and committed with the project."""

Quant = Literal["nf4", "none"]
Shown = Literal["auto", "on", "off"]

MODEL_TASKS = {"change_kind": "CODE_NARRATOR_MODEL_KINDS", "user_note": "CODE_NARRATOR_MODEL_NOTES",
               "headline": "CODE_NARRATOR_MODEL_HEADLINES", "code_summary": "CODE_NARRATOR_MODEL_SUMMARIES",
               "explanation": "CODE_NARRATOR_MODEL_EXPLANATIONS"}
"""Each model task a manager may be shown, and the setting that says whether it is: the kind of a
change (its impact group), a note for users, a headline for a change whose subject says nothing, a
summary of code without its own description (and the file, folder and project sentences built on
such summaries), a sentence under a subject that already says something."""
MODEL_TASK_TITLES = {"change_kind": "Kind of change", "user_note": "Note for users",
                     "headline": "Headline for a change whose subject says nothing",
                     "code_summary": "Summary of code without its own description",
                     "explanation": "Sentence under an informative subject"}
SHOWN_FIELDS = {"change_kind": "model_kinds", "user_note": "model_notes", "headline": "model_headlines",
                "code_summary": "model_summaries", "explanation": "model_explanations"}
"""The ``Settings`` field of each model task's setting."""
EVALUATION_FILE = "evaluation.json"
"""Beside the adapter: each task measured on held-out repositories (written by ``python -m training``)."""


def check_model(spec: str) -> None:
    """Raise ``ModelError`` for a spec that names no model at all (its syntax, not its presence): each
    kind of backend checks its own (``narrator.model.registry``)."""
    if not spec.strip():
        raise ModelError("No model given: use embedded, fake, a Hugging Face id or folder, or openai:URL[#model]")
    kind_of(spec).check(spec)


QUEUE_SCHEMES = ("redis", "rediss", "unix")


def check_queue(url: str) -> None:
    """Raise ``QueueError`` for a ``CODE_NARRATOR_QUEUE`` that is set but is no Redis URL (whether a
    server answers there is found out when a job is sent or a worker starts)."""
    if not url:
        return
    parts = urlsplit(url)
    where = parts.path if parts.scheme == "unix" else parts.hostname
    try:
        parts.port  # raises for a port that is not a number
    except ValueError:
        where = None
    database = parts.path.strip("/") if parts.scheme != "unix" else "0"
    if parts.scheme not in QUEUE_SCHEMES or not where or not (database == "" or database.isdigit()):
        raise QueueError(f"CODE_NARRATOR_QUEUE must be a Redis URL such as redis://host:6379/0, not {without_password(url)!r}")


def without_password(url: str) -> str:
    """``url`` with the password of its user part, if any, replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class Settings:
    home: Path
    """Folder for the database, clones and converted models."""
    db_url: str = ""
    """SQLAlchemy URL of the narrative cache; empty means a SQLite file in ``home``."""
    model: str = "embedded"
    """Backend spec: ``embedded``, ``fake``, a Hugging Face id or folder, or ``openai:BASE_URL[#MODEL]``."""
    adapter: str | None = None
    """Optional peft LoRA adapter folder applied on top of a transformers model."""
    device: str | None = None
    """Torch device for local models; ``None`` picks CUDA when present, else CPU."""
    quant: Quant = "none"
    """``nf4`` loads a local Hugging Face model in 4-bit (bitsandbytes); ``none`` keeps full precision."""
    model_kinds: Shown = "auto"
    """Whether a change's impact group follows the model's kind of change (``CODE_NARRATOR_MODEL_KINDS``)."""
    model_notes: Shown = "auto"
    """Whether the model's note for users is shown (``CODE_NARRATOR_MODEL_NOTES``)."""
    model_headlines: Shown = "auto"
    """Whether the model's headline for a change whose subject says nothing is shown, rather than a line
    of git facts (``CODE_NARRATOR_MODEL_HEADLINES``)."""
    model_summaries: Shown = "auto"
    """Whether code without its own description gets the model's summary, and files, folders and the
    project the model's sentences, rather than their list of parts (``CODE_NARRATOR_MODEL_SUMMARIES``)."""
    model_explanations: Shown = "auto"
    """Whether a change whose subject says something gets the model's sentence under it
    (``CODE_NARRATOR_MODEL_EXPLANATIONS``)."""
    allowed_roots: tuple[Path, ...] = ()
    """The folders local repositories may be added from, resolved (``CODE_NARRATOR_ALLOWED_ROOTS``,
    ``os.pathsep``-separated); empty: any, except on a dashboard bound beyond this computer
    (``narrator.service.admission``)."""
    allowed_hosts: frozenset[str] = frozenset()
    """The hosts repositories may be cloned from, lower-case (``CODE_NARRATOR_ALLOWED_HOSTS``,
    comma-separated); empty: any."""
    queue: str = ""
    """Redis URL of the task queue narration jobs are sent to (``CODE_NARRATOR_QUEUE``); empty: local workers."""
    queue_heartbeat: float = 60.0
    """Seconds without a sign of life after which a queue worker counts as dead and its unfinished jobs
    go to the others (``CODE_NARRATOR_QUEUE_HEARTBEAT``)."""

    def __post_init__(self) -> None:
        if self.quant not in get_args(Quant):
            raise ModelError(f"Unknown quantization {self.quant!r} (CODE_NARRATOR_QUANT): "
                             f"use {' or '.join(map(repr, get_args(Quant)))}")
        for task, variable in MODEL_TASKS.items():
            if self.shown(task) not in get_args(Shown):
                raise ModelError(f"Unknown value {self.shown(task)!r} for {variable}: use auto, on or off")
        check_model(self.model)
        check_queue(self.queue)
        if not (math.isfinite(self.queue_heartbeat) and self.queue_heartbeat > 0):
            raise QueueError(f"CODE_NARRATOR_QUEUE_HEARTBEAT must be a number of seconds above 0, not {self.queue_heartbeat!r}")
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.home / 'narrator.db'}")

    @property
    def clone_dir(self) -> Path:
        """Where repositories given by URL are cloned."""
        return self.home / "repos"

    @property
    def model_dir(self) -> Path:
        """Where converted model copies (the embedded fp32 folder) are kept."""
        return self.home / "models"

    def shown(self, task: str) -> str:
        """The setting of model task ``task`` (a ``MODEL_TASKS`` key): 'auto', 'on' or 'off'."""
        return getattr(self, SHOWN_FIELDS[task])

    @property
    def task_folder(self) -> Path | None:
        """The folder whose ``evaluation.json`` and change-kind head speak for the model narration runs:
        its adapter's, else a local model folder's; None for a server, the fake model or no folder."""
        kind = kind_of(self.model)
        if not kind.takes_adapter:
            return None
        folder = self.adapter or kind.folder(self.model)
        path = Path(folder).expanduser() if folder else None
        return path if path is not None and path.is_dir() else None

    def evaluation(self) -> dict:
        """The measured model tasks of ``task_folder`` (``{task: entry}``; empty when none were)."""
        return read_evaluation(self.task_folder)

    def shows(self, task: str) -> bool:
        """Whether model task ``task`` is shown: 'on', or 'auto' and measured to beat what it replaces."""
        setting = self.shown(task)
        if setting != "auto":
            return setting == "on"
        return (self.evaluation().get(task) or {}).get("shown_by_default") is True


def read_evaluation(folder: Path | None) -> dict:
    """``{task: entry}`` of ``folder``'s ``evaluation.json`` (``narrator.settings`` docstring); empty
    without a folder or file, and for a file that is not such JSON (nothing is shown by default)."""
    path = Path(folder) / EVALUATION_FILE if folder else None
    try:
        found = path.stat() if path is not None else None
    except OSError:
        return {}
    return _evaluation(str(path), (found.st_mtime_ns, found.st_size)) if found is not None else {}


@functools.lru_cache(maxsize=16)
def _evaluation(path: str, stamp: tuple[int, int]) -> dict:
    """Read once per file version: a page asks for every change it lists."""
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8")).get("tasks")
    except (OSError, ValueError, AttributeError):
        return {}
    return {name: entry for name, entry in tasks.items() if isinstance(entry, dict)} if isinstance(tasks, dict) else {}


def shipped_adapter() -> Path | None:
    """The committed default adapter, when this checkout has one."""
    return SHIPPED_ADAPTER if (SHIPPED_ADAPTER / "adapter_config.json").is_file() else None


def active_adapter_file(home: Path) -> Path:
    """Where the admin page records the adapter it made active."""
    return Path(home) / "active_adapter"


def set_active_adapter(home: Path, adapter: Path | None) -> None:
    """Make ``adapter`` (or no adapter, for None) what narration uses from now on."""
    target = active_adapter_file(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, str(Path(adapter).resolve()) if adapter else "none")  # a reader never sees half a path


def _adapter(home: Path, model: str, given: str | None) -> str | None:
    choice = given or os.environ.get("CODE_NARRATOR_ADAPTER")
    if not choice and active_adapter_file(home).is_file():
        choice = active_adapter_file(home).read_text().strip()
    if choice:
        return None if choice.lower() == "none" else choice
    if model == "embedded" and shipped_adapter() is not None:
        return str(shipped_adapter())
    return None


def home_dir() -> Path:
    """The data folder: ``CODE_NARRATOR_HOME``, else this user's data folder (platformdirs)."""
    return Path(os.environ.get("CODE_NARRATOR_HOME") or platformdirs.user_data_dir("code-narrator"))


def _seconds(variable: str, default: float) -> float:
    """A number of seconds from the environment (``default`` when unset); ``QueueError`` when it is none."""
    given = os.environ.get(variable, "").strip()
    if not given:
        return default
    try:
        return float(given)
    except ValueError:
        raise QueueError(f"{variable} must be a number of seconds, not {given!r}") from None


def _allowed_roots(text: str) -> tuple[Path, ...]:
    """``CODE_NARRATOR_ALLOWED_ROOTS``'s folders, resolved. A relative one is refused: it would name one
    folder for the command line and another for a dashboard (scripts/launch.sh runs from the checkout)."""
    roots = []
    for part in filter(None, (p.strip() for p in text.split(os.pathsep))):
        if not Path(part).expanduser().is_absolute():
            raise UserError(f"CODE_NARRATOR_ALLOWED_ROOTS names the relative folder {part!r}: "
                            "give absolute paths (or ~/...).")
        roots.append(Path(part).expanduser().resolve())
    return tuple(roots)


def load_settings(**overrides) -> Settings:
    """Settings from the environment, then ``overrides`` (ignored when None).

    The database defaults to a file in the chosen home, so overriding ``home`` alone moves both.
    """
    env = os.environ
    given = {k: v for k, v in overrides.items() if v is not None}
    home = Path(given.pop("home", None) or home_dir())
    model = given.pop("model", None) or env.get("CODE_NARRATOR_MODEL") or "embedded"
    return Settings(
        home=home,
        db_url=given.pop("db_url", None) or env.get("CODE_NARRATOR_DB", ""),
        model=model,
        adapter=_adapter(home, model, given.pop("adapter", None)),
        quant=given.pop("quant", None) or env.get("CODE_NARRATOR_QUANT") or "none",
        queue=given.pop("queue", None) or env.get("CODE_NARRATOR_QUEUE", "").strip(),
        queue_heartbeat=given.pop("queue_heartbeat", None) or _seconds("CODE_NARRATOR_QUEUE_HEARTBEAT", 60.0),
        **{field: given.pop(field, None) or env.get(MODEL_TASKS[task], "").strip().lower() or "auto"
           for task, field in SHOWN_FIELDS.items()},
        allowed_roots=_allowed_roots(env.get("CODE_NARRATOR_ALLOWED_ROOTS", "")),
        allowed_hosts=frozenset(env.get("CODE_NARRATOR_ALLOWED_HOSTS", "").lower().replace(",", " ").split()),
        **given,
    )
