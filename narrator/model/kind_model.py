"""Change kind by a classification head on the narrating model, and the rules it is measured against.

The rules (``rules_kind``) read what a commit's own words and paths say (``facts.categorize`` and
``impact``); they are **sure** (``rules_sure``) when the paths alone decide: every file is
documentation, tests, dependency files or CI configuration.

The head reads the same ``change_kind_prompt`` narration builds: the hidden state of its last prompt
token and the mean over the prompt, at two depths (``LAYERS``) of the model narration runs, plus what
the rules said (their kind, one-hot, and whether they were sure). It is a multinomial logistic
regression for the kind and a binary one for "breaking", a few thousand numbers saved beside the
adapter it was fitted on (``kind_head.safetensors`` + ``kind_head.json``), because the features are
that model's. ``training.kind_head`` fits and measures it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from narrator.facts import categories as facts
from narrator.facts import impact
from narrator.facts.paths import is_ci_path
from narrator.facts.security import advisories
from narrator.model import prompts

RULE_KIND = {"feature": "feature", "fix": "fix", "security": "fix", "docs": "docs", "tests": "tests",
             "dependencies": "build", "release": "maintenance", "maintenance": "maintenance"}
"""The rules' categories (``facts.CATEGORIES``) as kinds. A security change is a fix; a release is
maintenance (``chore(release)``); a maintenance change that ``impact`` files as CI work is ``ci``."""


def rules_kind(subject: str, paths: list[str], patch: str = "") -> tuple[str, bool]:
    """``(kind, breaking)`` by the rule-based categories (``facts.categorize``, ``impact``) from what the
    model is shown: the subject without its prefix, the paths and the diff. Not the conventional type
    nor the body, which carry the label (a ``BREAKING CHANGE:`` footer is the breaking label)."""
    category = facts.categorize(subject, paths)
    said = impact.of_commit(subject=subject, message=subject, category=category, paths=paths,
                            advisories=advisories(subject), patch=patch)
    kind = "ci" if said.kind == "ci" else RULE_KIND[category]
    return kind, said.group == "affects"


def rules_sure(paths: list[str]) -> bool:
    """Whether the rules decide the kind from ``paths`` alone (all documentation, tests, dependency
    files or CI configuration), not from the subject's words or by falling back to maintenance."""
    if paths and all(is_ci_path(path) for path in paths):
        return True
    return facts.categorize("", paths) in ("docs", "tests", "dependencies")


HEAD_FILE = "kind_head.safetensors"
META_FILE = "kind_head.json"
LAYERS = (1.0, 2 / 3)
"""Hidden-state depths read, as shares of the model's layers: the last one, and the one two thirds of
the way up (layer 20 of SmolLM2-135M's 30)."""
MAX_LENGTH = 256
"""Prompt tokens read: the subject, the paths and the start of the diff (a shorter cut than training's 384, for speed)."""
KINDS = tuple(prompts.CHANGE_KINDS)


def model_features(model, tokenizer, prompts_messages: list[list[dict]], batch_size: int = 8,
                   max_length: int = MAX_LENGTH, progress=None):
    """One row per prompt: last-token and mean hidden states at each of ``LAYERS`` (a float32 tensor)."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    encoded = [prompts.fit_prompt(tokenizer, messages, max_length) for messages in prompts_messages]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # similar lengths batch together
    rows: list = [None] * len(encoded)
    done = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = max(len(encoded[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : len(encoded[i])] = torch.tensor(encoded[i])
            mask[row, : len(encoded[i])] = 1
        with torch.no_grad():
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
        weights = mask.to(device).unsqueeze(-1).float()
        last = mask.sum(dim=1) - 1
        parts = []
        depth = len(out.hidden_states) - 1  # hidden_states[0] is the embeddings
        for share in LAYERS:
            hidden = out.hidden_states[round(depth * share)].float()
            parts.append(hidden[torch.arange(len(batch)), last.to(device)])
            parts.append((hidden * weights).sum(dim=1) / weights.sum(dim=1))
        features = torch.cat(parts, dim=1).cpu()
        for row, i in enumerate(batch):
            rows[i] = features[row]
        done += len(batch)
        if progress:
            progress(done, len(encoded))
    return torch.stack(rows) if rows else torch.zeros((0, 0))


def rule_features(rule_kinds: list[str], sure: list[bool]):
    """What the rules said as features: their kind one-hot and whether the paths alone decided."""
    import torch

    out = torch.zeros((len(rule_kinds), len(KINDS) + 1))
    for row, (kind, confident) in enumerate(zip(rule_kinds, sure)):
        out[row, KINDS.index(kind)] = 1.0
        out[row, -1] = float(confident)
    return out


@dataclass
class KindHead:
    """The fitted head: feature scaling, kind weights and breaking weights (see the module docstring)."""

    mean: object
    scale: object
    kind_weight: object
    kind_bias: object
    breaking_weight: object
    breaking_bias: object
    meta: dict = field(default_factory=dict)

    def _scaled(self, features):
        return (features - self.mean) / self.scale

    def kind_probabilities(self, features):
        """Probability of each of ``KINDS`` for each row of features."""
        import torch

        return torch.softmax(self._scaled(features) @ self.kind_weight + self.kind_bias, dim=1)

    def predict(self, features) -> list[tuple[str, bool, float]]:
        """``(kind, breaking, probability of that kind)`` for each row."""
        import torch

        probabilities = self.kind_probabilities(features)
        breaking = torch.softmax(self._scaled(features) @ self.breaking_weight + self.breaking_bias, dim=1)[:, 1]
        best = probabilities.argmax(dim=1)
        return [(KINDS[int(k)], bool(b > 0.5), round(float(p[int(k)]), 4))
                for k, b, p in zip(best, breaking, probabilities)]

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        from db.files import write_atomic

        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"mean": self.mean, "scale": self.scale, "kind_weight": self.kind_weight, "kind_bias": self.kind_bias,
                   "breaking_weight": self.breaking_weight, "breaking_bias": self.breaking_bias}
        save_file({name: t.contiguous() for name, t in tensors.items()}, str(folder / HEAD_FILE))
        write_atomic(folder / META_FILE, json.dumps(self.meta, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "KindHead | None":
        """The head saved in ``folder``, or None when it has none."""
        from safetensors.torch import load_file

        if not (folder / HEAD_FILE).is_file():
            return None
        tensors = load_file(str(folder / HEAD_FILE))
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8")) if (folder / META_FILE).is_file() else {}
        return cls(meta=meta, **tensors)


# --- words and paths -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z][a-z0-9]+")


def word_tokens(subject: str, paths: list[str], patch: str = "") -> set[str]:
    """What the words-and-paths features read of a change: the subject's words and its first word, each
    path's folders, extension and file name (the first 30 paths), the number of files, and the lines
    added and removed in powers of two."""
    words = _WORD.findall(subject.lower())
    tokens = {f"w:{word}" for word in words} | {f"first:{words[0] if words else 'none'}"}
    for path in paths[:30]:
        *folders, name = path.lower().split("/")
        tokens.update(f"d:{folder}" for folder in folders)
        tokens.add(f"ext:{name.rsplit('.', 1)[-1]}" if "." in name else "ext:none")
        tokens.add(f"f:{name}")
    tokens.add(f"n:{min(5, len(paths))}")
    lines = patch.split("\n")
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    tokens.add(f"add:{min(4, int(math.log2(1 + added)))}")
    tokens.add(f"rem:{min(4, int(math.log2(1 + removed)))}")
    return tokens


def word_features(vocabulary: list[str], items: list[tuple[str, list[str], str]]):
    """One 0/1 row per ``(subject, paths, patch)`` over ``vocabulary`` (``word_tokens`` seen in training)."""
    import torch

    index = {token: i for i, token in enumerate(vocabulary)}
    out = torch.zeros((len(items), len(vocabulary)))
    for row, (subject, paths, patch) in enumerate(items):
        for token in word_tokens(subject, paths, patch):
            column = index.get(token)
            if column is not None:
                out[row, column] = 1.0
    return out


FEATURES = ("model", "words", "rules")
"""The feature groups a head may read, in the order they are joined: the model's hidden states of
``change_kind_prompt``, words and paths, and the rules' answer."""


def head_features(meta: dict, model, tokenizer, items: list[tuple[str, list[str], str]], batch_size: int = 8,
                  progress=None, rules: list[tuple[str, bool]] | None = None):
    """The features ``meta["features"]`` names (default: model and rules) of each ``(subject without its
    prefix, paths, patch)``, joined in ``FEATURES`` order; the model is read only when they include it.
    ``rules``: ``rules_kind`` of each item, when the caller has them already."""
    import torch

    groups = meta.get("features") or ["model", "rules"]
    parts = []
    if "model" in groups:
        messages = [prompts.change_kind_prompt(subject, paths, patch) for subject, paths, patch in items]
        parts.append(model_features(model, tokenizer, messages, batch_size, progress=progress))
    if "words" in groups:
        parts.append(word_features(meta.get("vocabulary") or [], items))
    if "rules" in groups:
        said = [kind for kind, _ in rules or [rules_kind(*item) for item in items]]
        parts.append(rule_features(said, [rules_sure(paths) for _, paths, _ in items]))
    return torch.cat(parts, dim=1)


# --- at narration time ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Head:
    """A fitted head as narration uses it: how its answer is taken (``method``) and its id."""

    head: KindHead
    method: str
    """'head' (the head decides every commit) or 'rules+head' (the rules decide where ``rules_sure``)."""
    breaking_method: str
    """Whose breaking flag counts: 'rules', 'head' or 'either' (``training.kind_head.BREAKING_METHODS``)."""
    id: str
    """``<model>|<adapter>|<sha256 prefix of the head file>``: a commit judged by another is judged again."""


def head_for(settings, identity) -> Head | None:
    """The head beside the model narration runs (``Settings.task_folder``), or None: a server, the fake
    model, no folder or no head file. ``identity()`` gives the backend's ``(name, adapter)``, asked only
    when there is a head. Loads no model."""
    import hashlib

    folder = settings.task_folder
    if folder is None or not (folder / HEAD_FILE).is_file():
        return None
    model, adapter = identity()
    head = KindHead.load(folder)
    method = head.meta.get("method") if head.meta.get("method") in ("head", "rules+head") else "rules+head"
    breaking = head.meta.get("breaking_method") if head.meta.get("breaking_method") in ("rules", "head", "either") else "rules"
    digest = hashlib.sha256((folder / HEAD_FILE).read_bytes()).hexdigest()[:12]
    return Head(head, method, breaking, f"{model}|{adapter or ''}|{digest}")


def commit_kinds(model, tokenizer, head: Head, items: list[tuple[str, list[str], str]], batch_size: int = 8) -> list[dict]:
    """The kind of each ``(subject without its prefix, paths, patch)``: ``{kind, breaking, probability,
    method, decided}``, ``decided`` 'model' (the head's answer; ``probability`` is its own) or 'rules'
    (method 'rules+head' and the rules were sure: ``probability`` None). The head reads ``change_kind_prompt``.
    Narration keeps each answer in the commit's facts (``narrator.facts.commit_facts.ModelKind``), so a
    re-run with the same head of the same input reuses it."""
    if not items:
        return []
    rules = [rules_kind(subject, paths, patch) for subject, paths, patch in items]
    sure = [rules_sure(paths) for _, paths, _ in items]
    features = head_features(head.head.meta, model, tokenizer, items, batch_size, rules=rules)
    return [{**answer, "method": head.method}
            for answer in decide(head.head.predict(features), rules, sure, head.method, head.breaking_method)]


def decide(said: list[tuple[str, bool, float]], rules: list[tuple[str, bool]], sure: list[bool], method: str,
           breaking_method: str) -> list[dict]:
    """Each change's ``{kind, breaking, probability, decided}`` from the head's answers (``KindHead.predict``)
    and the rules': under ``method`` 'rules+head' the rules decide where they are ``sure`` (``decided``
    'rules', no probability), else the head ('model'); the breaking flag is ``breaking_method``'s:
    'rules', 'head' or 'either'."""
    out = []
    for (kind, flag, probability), (rule_kind, rule_flag), confident in zip(said, rules, sure):
        breaking = {"rules": rule_flag, "head": flag, "either": rule_flag or flag}[breaking_method]
        if method == "rules+head" and confident:
            out.append({"kind": rule_kind, "breaking": breaking, "probability": None, "decided": "rules"})
        else:
            out.append({"kind": kind, "breaking": breaking, "probability": probability, "decided": "model"})
    return out
