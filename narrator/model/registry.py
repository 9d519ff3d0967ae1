"""The one table of model backends: how each kind of model spec is recognised, checked, named and built.

Adding a backend is one call, made when its module is imported::

    register_backend(BackendKind("mine", matches=lambda spec: spec.startswith("mine:"),
                                 build=lambda settings: MyBackend(settings.model), model_name=lambda spec: spec))

``narrator.model.backends`` registers the built-in kinds (``fake``, ``openai:URL#MODEL``, ``embedded``, and a
Hugging Face id or folder, which takes every spec no other kind claims); ``narrator.settings`` checks a
spec, and ``narrator.model.backends`` names and loads its model, only by looking its kind up here. Tests register
a mock through the same call (``tests/model/test_backend_registry.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from narrator.model.backends import Backend
    from narrator.settings import Settings


def _any_syntax(spec: str) -> None:
    """A spec this kind matches is good as written (whether its model is there is found out on loading)."""


def _no_folder(spec: str) -> str | None:
    return None


@dataclass(frozen=True)
class BackendKind:
    """One kind of model backend, and how a model spec of that kind is read."""

    name: str
    """What the kind is called (``fake``, ``openai``, ``embedded``, ``huggingface``); registering a name
    again replaces the kind of that name."""
    matches: Callable[[str], bool]
    """Whether a model spec is of this kind (``lambda spec: spec.startswith("openai:")``)."""
    build: Callable[[Settings], Backend]
    """Load the model ``settings.model`` names (slow: called once per process, ``backends.make_backend``)."""
    model_name: Callable[[str], str]
    """The spec -> the stable id of its model, the ``name`` its backend will have: part of every cache key,
    so known without loading the model; changing it makes every cached narrative stale."""
    check: Callable[[str], object] = _any_syntax
    """Raise ``ModelError`` (one line) for a spec of this kind whose syntax cannot work."""
    takes_adapter: bool = False
    """Whether a LoRA adapter (``settings.adapter``) is applied: its id goes into cache keys, and its
    ``evaluation.json`` speaks for the model (``Settings.task_folder``)."""
    folder: Callable[[str], str | None] = _no_folder
    """The spec -> the local model folder it names, whose ``evaluation.json`` speaks for it without an
    adapter; None when it names none."""


_kinds: dict[str, BackendKind] = {}
_fallback: list[BackendKind] = []
_lock = threading.Lock()


def register_backend(kind: BackendKind, *, fallback: bool = False) -> BackendKind:
    """Add ``kind`` to the table (replacing one of the same name). Kinds are tried in the order registered;
    the ``fallback`` kind (the Hugging Face one) takes every spec none of them matches."""
    with _lock:
        _forget(kind.name)
        if fallback:
            _fallback[:] = [kind]
        else:
            _kinds[kind.name] = kind
    return kind


def unregister_backend(name: str) -> None:
    """Remove the kind called ``name`` (a test's mock, after the test)."""
    with _lock:
        _forget(name)


def _forget(name: str) -> None:
    _kinds.pop(name, None)
    _fallback[:] = [kind for kind in _fallback if kind.name != name]


def kind_of(spec: str) -> BackendKind:
    """The registered kind of model ``spec``: the first that matches it, else the fallback."""
    with _lock:
        found = next((kind for kind in _kinds.values() if kind.matches(spec)), None) or next(iter(_fallback), None)
    if found is None:
        raise LookupError(f"no model backend registered for {spec!r} (import narrator.model.backends first)")
    return found


def backend_kinds() -> list[BackendKind]:
    """Every registered kind, in the order they are tried (the fallback last)."""
    with _lock:
        return [*_kinds.values(), *_fallback]
