"""One settings object for paths, database URL and model choice.

Every field can be overridden by an environment variable so tests (and admins) point everything at
another folder: ``CODE_NARRATOR_HOME``, ``CODE_NARRATOR_DB``, ``CODE_NARRATOR_MODEL``,
``CODE_NARRATOR_ADAPTER``.

The adapter a local model narrates with is, in order: ``CODE_NARRATOR_ADAPTER`` (a folder, or
``none``); the one an admin made active (``<home>/active_adapter``); the adapter shipped in this
repository (``adapters/smollm2-cocktail``), for the embedded model.

A model spec or quantization that cannot work (``fake:abc``, ``openai:`` without a URL,
``CODE_NARRATOR_QUANT=bogus``) is refused here, as one ``ModelError`` line, before anything runs:
the command line prints it and the dashboard shows it in an error box. Whether a model folder or
server is really there is found out when the model loads (``narrator.backends``).
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import platformdirs

from db.files import write_atomic
from narrator.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_ADAPTER = ROOT / "adapters" / "smollm2-cocktail"
"""The LoRA adapter trained by ``training/`` and committed with the project."""

Quant = Literal["nf4", "none"]


def fake_delay(spec: str) -> float | None:
    """Seconds per prompt of a ``fake`` or ``fake:DELAY`` spec (0 for ``fake:wait:PATH``, see
    ``narrator.backends.FakeBackend``); None for any other model."""
    if spec != "fake" and not spec.startswith("fake:"):
        return None
    given = spec.partition(":")[2].strip()
    if given.startswith("wait:") and given.removeprefix("wait:").strip():
        return 0.0
    try:
        delay = float(given or 0)
    except ValueError:
        delay = math.nan
    if not (math.isfinite(delay) and delay >= 0):
        raise ModelError(f"Bad model {spec!r}: fake:DELAY expects a number of seconds (e.g. fake:0.5), not {given!r}")
    return delay


def parse_openai_spec(spec: str) -> tuple[str, str | None]:
    """``openai:BASE[#MODEL]`` -> (base URL without trailing slash, model or None)."""
    rest = spec.removeprefix("openai:")
    base, _, model = rest.partition("#")
    base = base.rstrip("/")
    parts = urllib.parse.urlsplit(base)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        good = parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", base)
    except ValueError:
        good = False
    if not good:
        raise ModelError(f"Could not load model {spec}: expected openai:http(s)://host:port/v1[#model]")
    return base, model or None


def check_model(spec: str) -> None:
    """Raise ``ModelError`` for a spec that names no model at all (its syntax, not its presence)."""
    if not spec.strip():
        raise ModelError("No model given: use embedded, fake, a Hugging Face id or folder, or openai:URL[#model]")
    fake_delay(spec)
    if spec.startswith("openai:"):
        parse_openai_spec(spec)


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

    def __post_init__(self) -> None:
        if self.quant not in get_args(Quant):
            raise ModelError(f"Unknown quantization {self.quant!r} (CODE_NARRATOR_QUANT): "
                             f"use {' or '.join(map(repr, get_args(Quant)))}")
        check_model(self.model)
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
        **given,
    )
