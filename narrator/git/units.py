"""Cut source files into the units a reader cares about: functions, classes and methods.

Python is cut with the standard ``ast`` module; Java, JavaScript, PHP, Ruby and Go with tree-sitter
grammars. Any other text file, and any file whose code cannot be cut (a syntax error, no
definitions), becomes a single 'file' unit, so every file still gets narrated.
"""

from __future__ import annotations

import ast
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Iterator

import tree_sitter

from narrator.git.files import SourceFile


@dataclass(frozen=True)
class Unit:
    """A function, class, method or whole file, with its code."""

    path: str
    """Path of the file it comes from."""
    name: str
    """'function_name', 'Class', 'Class.method'; the file name for whole files. Unique per file."""
    kind: str
    """'function', 'class', 'method' or 'file'."""
    start_line: int
    """First line, 1-based (leading doc comments and decorators included)."""
    end_line: int
    """Last line, inclusive."""
    code: str
    """The source text, cut to ``max_chars``; a long class is reduced to its outline."""


def cut_units(file: SourceFile, max_chars: int = 4000) -> list[Unit]:
    """Units of one file in source order; never empty for a non-empty file."""
    spans: list[_Span] = []
    if file.language == "python":
        spans = _python_spans(file.text)
    elif file.language in _GRAMMARS:
        spans = _tree_sitter_spans(file.text, file.language)
    if not spans:
        name = PurePosixPath(file.path).name
        last_line = max(1, len(_lines(file.text.rstrip("\n"))))
        return [Unit(file.path, name, "file", 1, last_line, _truncate(file.text, max_chars))]
    return _to_units(file, spans, max_chars)


def _lines(text: str) -> list[str]:
    """Lines split on '\n' only, as ast and tree-sitter count them (str.splitlines would also
    split on form feeds and other separators and shift every line number after them)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


@dataclass
class _Span:
    """A definition found by a parser, in 0-based line numbers (end inclusive)."""

    name: str
    kind: str
    start: int
    end: int
    members: list[tuple[int, int, int]]  # (start, signature line, end) of methods directly inside a class


def _to_units(file: SourceFile, spans: list[_Span], max_chars: int) -> list[Unit]:
    lines = _lines(file.text)
    seen: dict[str, int] = {}
    units: list[Unit] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        # Names must be unique per file (they key the unit in the cache); repeats such as a
        # property getter and setter get '#2', '#3' in source order.
        seen[span.name] = seen.get(span.name, 0) + 1
        name = span.name if seen[span.name] == 1 else f"{span.name}#{seen[span.name]}"
        code = "\n".join(lines[span.start : span.end + 1])
        if span.kind == "class" and len(code) > max_chars and span.members:
            code = _outline(lines, span)
        units.append(Unit(file.path, name, span.kind, span.start + 1, span.end + 1, _truncate(code, max_chars)))
    return units


def _outline(lines: list[str], span: _Span) -> str:
    """A long class as its header (up to the first method) plus each method's signature line."""
    first_member = min(start for start, _, _ in span.members)
    kept = lines[span.start : first_member]
    for _, signature, end in sorted(span.members):
        kept.append(lines[signature] + (" ..." if end > signature else ""))
    if span.end > max(end for _, _, end in span.members):
        kept.append(lines[span.end])  # the closing brace or 'end'
    return "\n".join(kept)


def _truncate(code: str, max_chars: int) -> str:
    """Cut at a line boundary, saying how many lines were dropped, within ``max_chars``."""
    if len(code) <= max_chars:
        return code
    total = code.count("\n") + 1
    marker_room = 40
    head = code[: max(0, max_chars - marker_room)]
    if "\n" in head:
        head = head[: head.rindex("\n")]
    dropped = total - (head.count("\n") + 1 if head else 0)
    return f"{head}\n... ({dropped:,} more lines not shown)"[:max_chars]


# ---------------------------------------------------------------------------------------------
# Python


def _python_spans(text: str) -> list[_Span]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old code are not our concern
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # not valid Python 3: narrated as a whole file
    lines = _lines(text)
    spans: list[_Span] = []

    def visit(body: list[ast.stmt], prefix: str) -> list[tuple[int, int]]:
        members: list[tuple[int, int, int]] = []
        for node in body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            # Decorators and the comment block right above belong to the definition.
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            start = _comments_above(lines, start, ("#",))
            end = (node.end_lineno or node.lineno) - 1
            name = f"{prefix}{node.name}"
            if isinstance(node, ast.ClassDef):
                span = _Span(name, "class", start, end, [])
                spans.append(span)
                span.members = visit(node.body, name + ".")
            else:
                spans.append(_Span(name, "method" if prefix else "function", start, end, []))
                members.append((start, node.lineno - 1, end))
            # Functions nested inside functions are part of their parent's story: not visited.
        return members

    visit(tree.body, "")
    return spans


def _comments_above(lines: list[str], start: int, prefixes: tuple[str, ...]) -> int:
    while start > 0 and lines[start - 1].strip().startswith(prefixes):
        start -= 1
    return start


# ---------------------------------------------------------------------------------------------
# tree-sitter languages


@dataclass(frozen=True)
class _Grammar:
    module: str                       # PyPI module providing the grammar
    entry: str                        # its function returning the language pointer
    classes: frozenset[str]           # node types that open a class-like scope
    functions: frozenset[str]         # node types that are functions (methods inside a class)


_GRAMMARS: dict[str, _Grammar] = {
    "java": _Grammar(
        "tree_sitter_java", "language",
        frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                   "annotation_type_declaration"}),
        frozenset({"method_declaration", "constructor_declaration", "compact_constructor_declaration"}),
    ),
    "javascript": _Grammar(
        "tree_sitter_javascript", "language",
        frozenset({"class_declaration", "class"}),  # 'class': export default class {...}
        frozenset({"function_declaration", "generator_function_declaration", "method_definition"}),
    ),
    "php": _Grammar(
        "tree_sitter_php", "language_php",  # language_php parses <?php ... ?> mixed with HTML
        frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}),
        frozenset({"function_definition", "method_declaration"}),
    ),
    "ruby": _Grammar(
        "tree_sitter_ruby", "language",
        frozenset({"class", "module"}),
        frozenset({"method", "singleton_method"}),
    ),
    "go": _Grammar(
        "tree_sitter_go", "language",
        frozenset(),  # Go types are handled in _go_type_spans: a struct has no body of methods
        frozenset({"function_declaration", "method_declaration"}),
    ),
}

_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})

# tree-sitter parsers are not safe to share between threads mid-parse; one lock per language is
# cheap next to the parse itself.
_PARSE_LOCKS: dict[str, threading.Lock] = {name: threading.Lock() for name in _GRAMMARS}


@lru_cache(maxsize=None)
def _parser(language: str) -> tree_sitter.Parser:
    """One parser per language, built on first use (loading a grammar costs a few milliseconds)."""
    grammar = _GRAMMARS[language]
    module = __import__(grammar.module)
    return tree_sitter.Parser(tree_sitter.Language(getattr(module, grammar.entry)()))


def _tree_sitter_spans(text: str, language: str) -> list[_Span]:
    grammar = _GRAMMARS[language]
    source = text.encode("utf-8")
    with _PARSE_LOCKS[language]:
        tree = _parser(language).parse(source)
    spans: list[_Span] = []
    # Explicit stack rather than recursion: minified or deeply nested code must not hit
    # Python's recursion limit. Each entry: (node, enclosing class name, that class's span).
    stack: list[tuple[tree_sitter.Node, str, _Span | None]] = [(tree.root_node, "", None)]
    while stack:
        node, owner, owner_span = stack.pop()
        # Keywords are unnamed nodes with the same type names ('class' in Ruby and JS): skip them.
        kind = node.type if node.is_named else ""
        if kind in grammar.classes:
            name = _join(owner, _name_of(node))
            span = _make_span(node, name, "class")
            spans.append(span)
            stack.extend((child, name, span) for child in reversed(node.named_children))
        elif kind in grammar.functions:
            name, is_method = _function_name(node, language, owner)
            span = _make_span(node, name, "method" if is_method else "function")
            spans.append(span)
            if owner_span is not None and is_method:
                # The name's line is the signature line (annotations and doc comments come before it).
                signature = node.child_by_field_name("name") or node
                owner_span.members.append((span.start, signature.start_point.row, span.end))
            # Bodies are not searched: nested functions belong to their parent.
        elif language == "javascript" and kind == "variable_declarator" and _js_function_value(node):
            # const handler = (req) => {...}: the usual way to write a function in modern JS.
            statement = node.parent if node.parent is not None else node
            spans.append(_make_span(statement, _join(owner, _name_of(node)), "function"))
        elif language == "go" and kind == "type_declaration":
            spans.extend(_go_type_spans(node))
        else:
            stack.extend((child, owner, owner_span) for child in reversed(node.named_children))
    return spans


def _make_span(node: tree_sitter.Node, name: str, kind: str) -> _Span:
    anchor = node
    # export function f() / export class A: the span includes the 'export' keyword.
    while anchor.parent is not None and anchor.parent.type in ("export_statement", "lexical_declaration",
                                                               "variable_declaration"):
        anchor = anchor.parent
    start = anchor.start_point.row
    # Doc comments directly above (Javadoc, JSDoc, Go doc, # in Ruby) belong to the definition.
    previous = anchor.prev_named_sibling
    while previous is not None and previous.type in _COMMENT_TYPES and previous.end_point.row >= start - 1:
        start = previous.start_point.row
        previous = previous.prev_named_sibling
    return _Span(name, kind, start, _end_row(anchor), [])


def _end_row(node: tree_sitter.Node) -> int:
    end = node.end_point
    # A node ending at column 0 ends on the previous line (its last newline is not code).
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _name_of(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    if name is None or name.text is None:
        return "<anonymous>"
    return name.text.decode("utf-8", "replace")


def _join(owner: str, name: str) -> str:
    return f"{owner}.{name}" if owner else name


def _function_name(node: tree_sitter.Node, language: str, owner: str) -> tuple[str, bool]:
    """(qualified name, is a method) for a function-like node."""
    name = _name_of(node)
    if language == "go" and node.type == "method_declaration":
        return f"{_go_receiver(node)}.{name}", True
    return _join(owner, name), bool(owner)


def _go_receiver(node: tree_sitter.Node) -> str:
    """The receiver's type name: 'S' for (s *S) and for (s S[T])."""
    receiver = node.child_by_field_name("receiver")
    for child in _walk(receiver) if receiver is not None else ():
        if child.type == "type_identifier" and child.text is not None:
            return child.text.decode("utf-8", "replace")
    return "<receiver>"


def _go_type_spans(node: tree_sitter.Node) -> list[_Span]:
    """Structs and interfaces declared by ``type X struct {...}`` (alone or in a ``type (...)`` group)."""
    specs = [c for c in node.named_children if c.type == "type_spec"]
    spans = []
    for spec in specs:
        body = spec.child_by_field_name("type")
        if body is None or body.type not in ("struct_type", "interface_type"):
            continue
        span = _make_span(node if len(specs) == 1 else spec, _name_of(spec), "class")
        spans.append(span)
    return spans


def _js_function_value(node: tree_sitter.Node) -> bool:
    value = node.child_by_field_name("value")
    return value is not None and value.type in ("arrow_function", "function_expression",
                                                "function", "generator_function")


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))

