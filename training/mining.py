"""Mine both tasks from local git repositories, so an organisation can train on its own code.

- code -> summary: documented functions at HEAD. Python docstrings come from ``ast``; Java,
  JavaScript, PHP, Ruby and Go doc comments (``/** ... */``, ``//`` and ``#`` lines right above a
  function) from tree-sitter. The same filters as for CodeSearchNet apply.
- diff -> message: non-merge commits that change exactly one source file, whose message reads like
  a good CommitPackFT subject (capitalised, imperative, several words, no issue numbers, not a bot);
  each gives a title example and, when its body explains, an explain example
  (``training.sources.commit_examples``).

Files and patches come from ``narrator.git.repo``, so mined prompts see exactly what narration sees.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from db.errors import RepoError, DataError
from narrator.facts.docstrings import clean_docstring
from narrator.git.commits import CommitInfo, recent_commits
from narrator.git.files import SourceFile, language_of, source_files
from narrator.git.repo import open_repository
from narrator.model import prompts
from training.cleaning import Filters, code_problem, commit_problem, summary_problem
from training.examples import Example
from training.sources import UNIT_CHARS, commit_examples

# Function and class node types per tree-sitter grammar.
_FUNCTIONS = {
    "java": ("method_declaration", "constructor_declaration"),
    "javascript": ("function_declaration", "generator_function_declaration", "method_definition"),
    "php": ("function_definition", "method_declaration"),
    "ruby": ("method", "singleton_method"),
    "go": ("function_declaration", "method_declaration"),
}
_CLASSES = ("class_declaration", "interface_declaration", "enum_declaration", "class", "module",
            "trait_declaration")
# Which comments count as documentation: /** blocks for C-like languages, line comments for Go/Ruby.
_DOC_PREFIX = {"java": "/**", "javascript": "/**", "php": "/**", "ruby": "#", "go": "//"}

# Message forms CommitPackFT's filters drop: past tense or -ing first words, bots, version bumps.
_NOT_IMPERATIVE = re.compile(r"^\w+(?:ed|ing)\b", re.I)
_BOT_OR_RELEASE = re.compile(r"^(?:bump|release|version|prepare|wip\b|auto|update (?:changelog|version))", re.I)


@dataclass(frozen=True)
class MinedFunction:
    """A documented function found at HEAD."""

    path: str
    name: str
    kind: str
    """``function`` or ``method`` (as ``narrator.git.units`` names them)."""
    language: str
    code: str
    """The function without its docstring/doc comment."""
    docstring: str


# --- documented functions -------------------------------------------------------------------------


def python_functions(file: SourceFile) -> Iterator[MinedFunction]:
    """Functions and methods of a Python file that have a docstring."""
    try:
        tree = ast.parse(file.text)
    except (SyntaxError, ValueError):
        return
    lines = file.text.split("\n")

    def visit(node: ast.AST, owner: str | None) -> Iterator[MinedFunction]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, child.name)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                docstring = ast.get_docstring(child, clean=True)
                first = child.body[0]
                if docstring and child.end_lineno:
                    start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                    # Cut the docstring statement out of the function's lines.
                    kept = lines[start - 1 : first.lineno - 1] + lines[first.end_lineno : child.end_lineno]
                    if len(child.body) == 1:
                        kept.append(" " * first.col_offset + "...")
                    name = f"{owner}.{child.name}" if owner else child.name
                    yield MinedFunction(file.path, name, "method" if owner else "function", "python",
                                        textwrap.dedent("\n".join(kept)), docstring)
                yield from visit(child, owner)

    yield from visit(tree, None)


def _parser(language: str):
    import tree_sitter

    if language == "php":
        import tree_sitter_php

        grammar = tree_sitter_php.language_php()
    else:
        module = __import__(f"tree_sitter_{language}")
        grammar = module.language()
    return tree_sitter.Parser(tree_sitter.Language(grammar))


def _comment_text(raw: str) -> str:
    """A doc comment without its markers (``/** */``, leading ``*``, ``//``, ``#``)."""
    text = raw.strip()
    if text.startswith("/*"):
        text = text[2:].lstrip("*")
        text = text[:-2] if text.endswith("*/") else text
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        for marker in ("*", "///", "//", "#"):
            if line.startswith(marker) and not line.startswith("*/"):
                line = line[len(marker):]
                break
        lines.append(line[1:] if line.startswith(" ") else line)
    return "\n".join(lines).strip()


def tree_sitter_functions(file: SourceFile) -> Iterator[MinedFunction]:
    """Functions of a Java/JavaScript/PHP/Ruby/Go file with a doc comment right above them."""
    language = file.language
    if language not in _FUNCTIONS:
        return
    data = file.text.encode("utf-8")
    tree = _parser(language).parse(data)
    comments: dict[int, object] = {}  # end row -> comment node
    functions = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if "comment" in node.type:
            comments[node.end_point[0]] = node
        elif node.type in _FUNCTIONS[language]:
            functions.append(node)
        stack.extend(node.children)
    for node in sorted(functions, key=lambda n: n.start_byte):
        block = []
        row = node.start_point[0] - 1
        while row in comments:  # consecutive comment lines/blocks directly above the function
            comment = comments[row]
            block.insert(0, comment.text.decode("utf-8", "replace"))
            row = comment.start_point[0] - 1
        if not block or not block[-1].lstrip().startswith(_DOC_PREFIX[language]):
            continue
        name_node = node.child_by_field_name("name")
        name = name_node.text.decode("utf-8", "replace") if name_node else "function"
        owner = node.parent
        while owner is not None and owner.type not in _CLASSES:
            owner = owner.parent
        owner_name = owner.child_by_field_name("name") if owner is not None else None
        if owner_name is not None:
            name = f"{owner_name.text.decode('utf-8', 'replace')}.{name}"
        docstring = "\n".join(_comment_text(c) for c in block)
        code = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        kind = "method" if owner_name is not None or node.type in ("method_declaration", "method_definition") else "function"
        yield MinedFunction(file.path, name, kind, language, code, docstring)


def documented_functions(file: SourceFile) -> Iterator[MinedFunction]:
    """Documented functions of any supported source file."""
    if file.language == "python":
        yield from python_functions(file)
    else:
        yield from tree_sitter_functions(file)


def function_example(function: MinedFunction, filters: Filters, source: str) -> Example | str:
    """A code -> summary example from a mined function, or why it was dropped."""
    problem = code_problem(function.code, filters)
    if problem:
        return problem
    summary = clean_docstring(function.docstring)
    problem = summary_problem(summary, filters)
    if problem:
        return problem
    messages = prompts.unit_prompt(function.code[:UNIT_CHARS], function.name, function.kind, function.path,
                                   function.language)
    return Example("codesearchnet", function.language, messages, summary, source)


# --- single-file commits --------------------------------------------------------------------------


def message_problem(subject: str) -> str | None:
    """Why a commit subject is not a good training target, beyond ``commit_problem``."""
    subject = subject.strip()
    if not subject[:1].isupper():
        return "subject not capitalised"
    if "#" in subject:
        return "subject names an issue"
    if _NOT_IMPERATIVE.match(subject):
        return "subject not imperative"
    if _BOT_OR_RELEASE.match(subject):
        return "release or bot commit"
    return None


def commit_example_from_git(commit: CommitInfo, filters: Filters, source: str) -> tuple[Example, ...] | str:
    """The examples of a single-file commit (see ``commit_examples``), or why it was dropped."""
    if commit.is_merge or commit.is_root:
        return "merge or first commit"
    if len(commit.files) != 1:
        return "not a single-file commit"
    change = commit.files[0]
    language = language_of(change.path)
    if change.binary or language is None:
        return "not a source file"
    problem = commit_problem(commit.subject, change.added + change.removed, filters) or message_problem(commit.subject)
    if problem:
        return problem
    return commit_examples(language, commit.subject, commit.message, [change.path], commit.patch, filters, source)


def mine_repository(location: str, filters: Filters, clone_dir: Path,
                    max_commits: int = 5000) -> Iterator[tuple[Example, ...] | str]:
    """Per documented function and commit of the repository at ``location``: its examples, or why
    it was dropped. A function gives one example, a commit one or two (``commit_examples``)."""
    try:
        repo = open_repository(location, clone_dir)
        files = source_files(repo)
        commits = recent_commits(repo, limit=max_commits)
    except RepoError as exc:
        raise DataError(str(exc)) from None
    source = f"mine:{location}"
    for file in files:
        if file.language:
            for function in documented_functions(file):
                item = function_example(function, filters, source)
                yield item if isinstance(item, str) else (item,)
    for commit in commits:
        yield commit_example_from_git(commit, filters, source)
