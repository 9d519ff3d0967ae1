"""One settings object for paths, database URL and model choice.

Every field can be overridden by an environment variable so tests (and admins) point everything at
another folder: ``CODE_NARRATOR_HOME``, ``CODE_NARRATOR_DB``, ``CODE_NARRATOR_MODEL``,
``CODE_NARRATOR_ADAPTER``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs


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
    quant: str = "none"
    """``nf4`` loads a local Hugging Face model in 4-bit (bitsandbytes); ``none`` keeps full precision."""
    extra: dict = field(default_factory=dict)
    """Free-form overrides for experiments (not read by library code)."""

    def __post_init__(self) -> None:
        if self.quant not in ("nf4", "none"):
            raise ValueError(f"quant must be 'nf4' or 'none', not {self.quant!r}")
        if not self.model:
            raise ValueError("model must not be empty")
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

    def with_overrides(self, **changes) -> "Settings":
        """A copy with the given non-None fields replaced (CLI flags win over the environment)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_settings(**overrides) -> Settings:
    """Settings from the environment, then ``overrides`` (ignored when None).

    The database defaults to a file in the chosen home, so overriding ``home`` alone moves both.
    """
    env = os.environ
    given = {k: v for k, v in overrides.items() if v is not None}
    home = Path(given.pop("home", None) or env.get("CODE_NARRATOR_HOME") or platformdirs.user_data_dir("code-narrator"))
    return Settings(
        home=home,
        db_url=given.pop("db_url", None) or env.get("CODE_NARRATOR_DB", ""),
        model=given.pop("model", None) or env.get("CODE_NARRATOR_MODEL") or "embedded",
        adapter=given.pop("adapter", None) or env.get("CODE_NARRATOR_ADAPTER") or None,
        quant=given.pop("quant", None) or env.get("CODE_NARRATOR_QUANT") or "none",
        **given,
    )
