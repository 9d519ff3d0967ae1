"""Imports among the project's own modules point one way: no module imports, directly or through
others, a module that imports it back (counting imports inside functions too, which only postpone
the loop; ``if TYPE_CHECKING:`` imports never run and are not counted)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("narrator", "db", "training", "dashboard")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every Python file of ``PACKAGES`` (a package by its ``__init__``)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name ``path`` imports, at module level or in a function or class (a ``from a import b``
    gives ``a`` and ``a.b``, since ``b`` may be a module), with relative imports made absolute."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return names


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = project_modules(root)
    return {name: {other for other in imported_names(name, path) if other in modules and other != name}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path ``[a, b, ..., a]``, or None (depth-first search, in sorted order)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for other in sorted(graph[module]):
            if other in on_path:
                return path[path.index(other):] + [other]
            if other not in done:
                found = visit(other)
                if found:
                    return found
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            found = visit(module)
            if found:
                return found
    return None


def test_the_project_has_no_import_cycle():
    graph = import_graph()
    assert {"narrator.render.exports", "narrator.render.pdf", "training.study", "training.study_report"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_a_cycle_is_found_through_function_level_and_relative_imports(tmp_path: Path):
    """The search itself: a loop closed by an import inside a function (relative, in a package) is
    reported with its path; one closed only under ``if TYPE_CHECKING:`` is not a loop."""
    package = tmp_path / "narrator"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from narrator import b\n")
    (package / "b.py").write_text("def late():\n    from .c import thing\n    return thing\n")
    (package / "c.py").write_text("import narrator.a\nthing = 1\n")
    (package / "d.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from narrator.e import E\n")
    (package / "e.py").write_text("from narrator.d import TYPE_CHECKING\n")
    graph = import_graph(tmp_path)
    assert find_cycle(graph) == ["narrator.a", "narrator.b", "narrator.c", "narrator.a"]
    (package / "c.py").write_text("thing = 1\n")
    assert find_cycle(import_graph(tmp_path)) is None


LAYERS = ("git", "facts", "checks", "model", "pipeline", "insights", "service", "render", "send", "eval")
"""narrator's subpackages in the order the README's tree draws them: each imports only those before it
(and narrator's shared top-level modules), never one after it."""
ENTRY_POINTS = {"narrator.__main__", "narrator.cli"}
"""The commands: they start everything, so they may import any package."""
SETTINGS_READS = {("narrator.settings", "model")}
"""The one shared module that reads a package: settings checks a model spec against the backend registry."""


def upward_imports(root: Path = ROOT) -> list[tuple[str, str]]:
    """(module, imported module) pairs where a narrator module imports a later layer than its own."""
    def layer(module: str) -> int:
        parts = module.split(".")
        return LAYERS.index(parts[1]) + 1 if len(parts) > 2 and parts[1] in LAYERS else 0

    found = []
    for module, imported in import_graph(root).items():
        if not module.startswith("narrator.") or module in ENTRY_POINTS:
            continue
        for other in imported:
            if other.startswith("narrator.") and layer(other) > layer(module) and \
                    (module, other.split(".")[1]) not in SETTINGS_READS:
                found.append((module, other))
    return sorted(found)


def test_narrator_packages_import_only_the_packages_before_them():
    assert upward_imports() == [], "an import points back up the pipeline: " + ", ".join(
        f"{module} -> {other}" for module, other in upward_imports())


def test_an_import_up_the_pipeline_is_found(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    for layer in ("facts", "insights"):
        (tmp_path / "narrator" / layer).mkdir()
        (tmp_path / "narrator" / layer / "__init__.py").write_text("")
    (tmp_path / "narrator" / "__init__.py").write_text("")
    (tmp_path / "narrator" / "insights" / "digest.py").write_text("X = 1\n")
    (tmp_path / "narrator" / "facts" / "reading.py").write_text("def f():\n    from narrator.insights.digest import X\n")
    assert upward_imports(tmp_path) == [("narrator.facts.reading", "narrator.insights.digest")]
