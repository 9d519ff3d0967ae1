"""Typed settings of a training run and the small factories that turn them into library objects.

Defaults are the write-up's best: Adagrad, constant schedule with warmup, 1 epoch, batch 4,
learning rate 2e-4, LoRA r=16/alpha=32/dropout 0.05 on attention and MLP projections, a 50/50
cocktail. The factories (``lora_config``, ``quantization_config``, ``make_optimizer``,
``make_scheduler``) are pure and need no GPU, so tests check them directly.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from db.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
"""The repository's root: what committed records name their paths relative to."""

if TYPE_CHECKING:
    import torch
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig

Quant = Literal["auto", "nf4", "none"]
OptimizerName = Literal["adamw", "adagrad", "sgd"]
SchedulerName = Literal["linear", "cosine", "constant_with_warmup", "polynomial"]

DEFAULT_TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

_DEVICE = re.compile(r"cpu|mps|cuda(:\d+)?")
"""Devices torch can be asked for by name: ``cpu``, ``mps``, ``cuda`` or ``cuda:N``."""


def check_device(device: str | None) -> None:
    """Refuse a device name torch would reject only after the model has loaded."""
    if device is not None and not _DEVICE.fullmatch(device):
        raise ValueError(f"device must be cpu, cuda or cuda:N, not {device!r}")


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")


def looks_like_path(spec: str) -> bool:
    """``/x``, ``./x``, ``../x``, ``~/x``: a folder, not a Hub model id (``org/name``)."""
    return spec.startswith(("/", "./", "../", "~"))


def require_path(path: Path | str | None, what: str, *, folder: bool = False) -> None:
    """Raise a one-line ``DataError`` when the input ``path`` (if given) is missing: checked before any work,
    so a typo costs no minutes of data preparation or model loading."""
    if path is None:
        return
    found = Path(path).expanduser()
    if not (found.is_dir() if folder else found.exists()):
        raise DataError(f"No such {what}: {path}")


def require_writable_folder(path: Path, what: str) -> None:
    """Raise when the output folder ``path`` is an existing file (the run would fail only when it writes)."""
    if path.exists() and not path.is_dir():
        raise DataError(f"{what} {path} is a file, not a folder")


# A run resumed from a checkpoint must draw the same data and build the same model.
RESUME_KEYS = ("data", "base", "ratio", "mix", "mix_size", "seed", "quant", "lora", "batch_size", "max_length", "epochs")


@dataclass(frozen=True)
class LoraSettings:
    """The low-rank adapter."""

    r: int = 16
    """Rank of the update matrices."""
    alpha: int = 32
    """Scale numerator: the update is multiplied by alpha / r."""
    dropout: float = 0.05
    """Dropout on the adapter's input."""
    target_modules: tuple[str, ...] = DEFAULT_TARGET_MODULES
    """Names of the linear layers that get an adapter (attention and MLP projections)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if self.r < 1 or self.alpha < 1:
            raise ValueError("LoRA r and alpha must be positive")
        if not 0 <= self.dropout < 1:
            raise ValueError("LoRA dropout must be in [0, 1)")
        if not self.target_modules:
            raise ValueError("name at least one LoRA target module")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; recorded with the run."""

    data: Path
    """Prepared data folder (``python -m training prepare --out DIR``)."""
    out: Path
    """Adapter output folder; checkpoints go to ``OUT/checkpoint-N``."""
    base: str | None = None
    """Base model id or folder; None: the embedded SmolLM2-135M-Instruct (fp32 copy)."""
    ratio: float = 0.5
    """Share of code -> summary examples in the cocktail (the rest is diff -> message); unused with ``mix``."""
    mix: str | None = None
    """The cocktail over any of the four tasks, ``csn=0.25,commit=0.25,kind=0.25,note=0.25``
    (``training.mixture.Mixture.parse``); None: the two tasks of ``prepare`` at ``ratio``."""
    mix_size: int | None = None
    """Training examples drawn in all; None: as many as the scarcer task allows at ``ratio``."""
    seed: int = 0
    """Seed of the mixture, the order, LoRA initialisation and dropout."""
    quant: Quant = "auto"
    """``nf4`` (QLoRA, bitsandbytes 4-bit base), ``none`` (full precision), ``auto``: nf4 on CUDA only."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    """The adapter's shape."""
    optimizer: OptimizerName = "adagrad"
    """Optimizer of the adapter weights."""
    scheduler: SchedulerName = "constant_with_warmup"
    """Learning-rate schedule (``transformers.get_scheduler`` names)."""
    warmup_steps: int = 10
    """Steps of linear warmup."""
    epochs: int = 1
    """Passes over the drawn mixture."""
    batch_size: int = 4
    """Examples per optimizer step (per process)."""
    learning_rate: float = 2e-4
    """Peak learning rate."""
    max_steps: int | None = None
    """Stop after this many optimizer steps in all (counting steps before a resume)."""
    eval_every: int = 200
    """Evaluate on validation every N steps (0: only before the first and after the last step)."""
    eval_examples: int = 200
    """Validation examples per task at each evaluation."""
    save_every: int = 200
    """Write a resumable checkpoint every N steps (0: only the final adapter)."""
    max_length: int = 384
    """Most tokens per example; the prompt's code/diff is cut to fit, never the target."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm (0 disables)."""
    device: str | None = None
    """``cpu``/``cuda``; None picks CUDA when present (under ``accelerate launch``, its process's GPU)."""
    threads: int | None = None
    """CPU threads torch may use (None: its default, one per core); on a busy machine fewer is faster."""
    db_url: str | None = None
    """Where run records go; None: the project database (``CODE_NARRATOR_DB``/settings)."""
    resume: bool = False
    """Continue from the newest ``OUT/checkpoint-N``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "out", Path(self.out))
        if not 0 <= self.ratio <= 1:
            raise ValueError(f"ratio must be between 0 and 1, not {self.ratio}")
        if self.mix is not None:
            from training.mixture import Mixture

            try:  # stored as the full names: the same cocktail always reads the same in records
                object.__setattr__(self, "mix", Mixture.parse(self.mix).spec())
            except DataError as exc:
                raise ValueError(str(exc)) from None
        if self.quant not in get_args(Quant):
            raise ValueError(f"quant must be one of {get_args(Quant)}, not {self.quant!r}")
        if self.optimizer not in get_args(OptimizerName):
            raise ValueError(f"optimizer must be one of {get_args(OptimizerName)}, not {self.optimizer!r}")
        if self.scheduler not in get_args(SchedulerName):
            raise ValueError(f"scheduler must be one of {get_args(SchedulerName)}, not {self.scheduler!r}")
        for name in ("epochs", "batch_size", "eval_examples", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("warmup_steps", "eval_every", "save_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if self.mix_size is not None and self.mix_size < 1:
            raise ValueError("mix_size must be at least 1")
        if not self.learning_rate > 0:
            raise ValueError("learning_rate must be positive")
        check_threads(self.threads)
        check_device(self.device)
        if self.max_grad_norm < 0:
            raise ValueError("max_grad_norm must not be negative")

    def check_inputs(self) -> None:
        """Raise a one-line error for a missing input or an unusable output, before any work."""
        require_path(self.data, "data folder", folder=True)
        if self.base is not None and looks_like_path(self.base):
            require_path(self.base, "base model folder", folder=True)
        require_writable_folder(self.out, "--out")

    def record(self) -> dict:
        """The config as JSON-ready values (what the run database stores)."""
        values = asdict(self)
        values["data"], values["out"] = str(self.data.resolve()), str(self.out.resolve())
        values["lora"]["target_modules"] = list(self.lora.target_modules)
        values.pop("db_url")  # may hold a password; where the record lives is not part of the run
        return values


def shareable_path(path: str | Path) -> str:
    """``path`` as a record meant to be committed names it: relative to the repository's root
    (``../shared/data/x`` rather than a path of one machine). Records that stay on the machine
    (the run database, checkpoints, which resume compares) keep absolute paths."""
    return os.path.relpath(Path(path).resolve(), ROOT)


def shareable_record(record: dict) -> dict:
    """``TrainConfig.record()`` with its data and output folders as ``shareable_path`` names them."""
    return {**record, "data": shareable_path(record["data"]), "out": shareable_path(record["out"])}


def resolve_quant(quant: Quant, device: str) -> Literal["nf4", "none"]:
    """``auto`` -> nf4 on CUDA (QLoRA), none elsewhere (bitsandbytes' CPU path is slow)."""
    if quant == "auto":
        return "nf4" if device.startswith("cuda") else "none"
    return quant


def quantization_config(quant: Literal["nf4", "none"], device: str) -> BitsAndBytesConfig | None:
    """The NF4 config narration uses (``narrator.model.transformers_backend``), computing in fp32 on CPU."""
    from narrator.model.transformers_backend import quantization_config as narration_quantization

    config = narration_quantization(quant)
    if config is not None and not device.startswith("cuda"):
        import torch

        config.bnb_4bit_compute_dtype = torch.float32  # bf16 matmuls are slow on ordinary CPUs
    return config


def lora_config(settings: LoraSettings) -> LoraConfig:
    """The peft config of the adapter."""
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def make_optimizer(config: TrainConfig, parameters) -> torch.optim.Optimizer:
    """The optimizer named by ``config.optimizer`` over ``parameters`` (the adapter weights)."""
    import torch

    params = [p for p in parameters if p.requires_grad]
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=config.learning_rate)
    return torch.optim.SGD(params, lr=config.learning_rate)


def make_scheduler(config: TrainConfig, optimizer, total_steps: int):
    """The learning-rate schedule named by ``config.scheduler`` over ``total_steps`` steps."""
    from transformers import get_scheduler

    return get_scheduler(config.scheduler, optimizer, num_warmup_steps=min(config.warmup_steps, total_steps),
                         num_training_steps=max(total_steps, 1))
