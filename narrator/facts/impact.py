"""What a change means to the people who use the software: one impact group per change.

A manager asks what reached users, what was fixed for them, what could break them and what was
security, not what a commit calls itself. Every change gets exactly one group, decided from stored
facts (its category, its paths, advisory ids, a release's version) and people's words (a breaking
mark, the subject, changelog entries the change added), never by the model:

- ``security``: its category is security (advisory ids, security wording, a dependency update
  whose message names an advisory or says security), or it names an advisory and is not only
  documentation or tests;
- ``affects`` (may affect existing users): a breaking mark (``feat!:``, a ``BREAKING CHANGE:``
  footer), changelog entries it added under Breaking/Changed/Removed/Deprecated headings, a major
  version of the project itself (2.0.0 and later), or a subject that deprecates, drops support for a platform or
  version, changes a default or how something behaves, or removes or renames an option, a command
  or another thing users call;
- ``new`` (new for users) and ``fixed`` (fixed for users): a feature or a fix that changes shipped
  code (``is_shipped_path``: not tests, documentation, CI, build or developer tooling). A "fix" of
  a typo, a linter's complaint, formatting or tidying is not a fix for users;
- ``internal`` (behind the scenes), with its kind: documentation, tests, CI and automation,
  dependencies, releases (the version and changelog commit itself) and maintenance (the rest:
  refactoring, tidying, tooling). A dependency update is "dependencies" whatever files it touches,
  so a bot's update of a CI action counts as a dependency, as the list of changes calls it.

Where the model-kind setting shows it (``Settings.shows("change_kind")``) and the change-kind head
judged a commit (``narrator.model.kind_model``), ``with_model_kind`` lets the model's kind of change decide
the group in place of the category, after the facts and people's words above; such an impact carries
the model's probability (``Impact.model``) and its ``why`` and plain reading say the model judged it.

The checks run in that order (security first: a security fix that also breaks is listed as
security, and its ``why`` says so). A merge is no change of its own: it brings in changes that are
counted on their own, so its group is ``MERGE``, outside ``GROUPS``, and no count includes it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from narrator.facts.area_roles import area_role
from narrator.facts.paths import TOP_LEVEL, area_of, is_ci_path, is_doc_path, is_lock_path, is_test_path
from narrator.facts.prefilter import may_match
from narrator.facts.release_notes import affecting_notes
from narrator.facts.subjects import read_subject

GROUPS = ("affects", "security", "new", "fixed", "internal")
"""The groups a change can fall in, in the order a manager reads them."""
LABELS = {"affects": "May affect existing users", "security": "Security", "new": "New for users",
          "fixed": "Fixed for users", "internal": "Behind the scenes"}
"""How a page heads each group."""
KINDS = ("docs", "tests", "ci", "dependencies", "release", "maintenance")
"""The kinds of behind-the-scenes work, counted apart."""
MERGE = "merge"
"""The group of a merge commit: not a change of its own, in no count."""

_INTERNAL_TYPES = frozenset({"refactor", "style", "chore", "test", "tests", "docs", "ci", "build", "perf"})
"""Conventional types by which the developer says a change is internal work."""
_NOT_USER_FIX = re.compile(
    r"\b(?:typos?|spelling|misspel\w*|lint\w*|tidy|tidie[sd]|whitespace|indentation|cosmetic\w*|nit(?:s|pick\w*)?"
    r"|flake8|pylint|eslint|ruff|mypy|pyright|clippy|prettier|isort|gofmt|golangci\w*|rubocop|stylelint|code style"
    r"|type (?:hints?|annotations?|errors?|checks?|checking)|(?:compiler|build|lint|clippy|mypy) warnings?"
    r"|(?:code|source) format\w*|format(?:ting)? (?:the )?(?:code|source|files))\b|^(?:re)?format\w*\b", re.I)
_BREAKING_WORDS = re.compile(r"\bbreaking\b|\bbackwards?[- ]incompatib\w*|\bincompatib\w*", re.I)
_DEPRECATES = re.compile(r"\bdeprecat(?:e|es|ing)\b|\bdeprecation\b(?!\s+warnings?)|^deprecated\b"
                         r"|\b(?:is|are|now|as)\s+deprecated\b", re.I)
"""Deprecating something ('Deprecate the old client', 'Mark req.host as deprecated'), not using the
word of something else ('Replace deprecated trimRight() with trimEnd()', 'Fix deprecation warnings')."""
_PLATFORMS = (r"(?:python|py|pypy|cpython|node(?:\.?js)?|ruby|php|go|golang|java|jdk|jre|rust|msrv|\.net|dotnet|ie|"
              r"internet explorer|windows|macos|osx|ios|android|django|rails|deno|bun|typescript|gcc|clang|perl|"
              r"elixir|erlang|otp|kotlin|swift|postgres\w*|mysql|redis|[a-z][\w.-]*\s+v?\d+(?:\.\d+)*)")
_DROPS_SUPPORT = re.compile(
    rf"\b(?:drop(?:s|ped|ping)?|remov(?:e|es|ed|ing)|end(?:s|ed)?|discontinu\w*)\s+(?:the\s+)?(?:official\s+)?support\b"
    rf"|\bdrop(?:s|ped|ping)?\s+(?:support\s+for\s+)?{_PLATFORMS}"
    rf"|\brequir(?:e|es|ed|ing)\s+(?:at\s+least\s+)?(?:python|node(?:\.?js)?|ruby|php|go|java|rust|deno)\s*v?\d"
    r"|\b(?:raise|bump|increase|update)[sd]?\s+(?:the\s+)?(?:minimum|min|minimal|msrv)\s+(?:supported\s+)?"
    r"(?:python|node(?:\.?js)?|ruby|php|go|java|rust|version|msrv)\b", re.I)
_CHANGES_BEHAVIOUR = re.compile(
    r"\bchange[sd]?\s+(?:the\s+)?default|\bdefaults?\s+(?:is\s+now|now|changed|to)\b|(?<!disabled )(?<!off )\bby default\b"
    r"|\bno longer\b(?!.{0,30}\b(?:crash|hang|fail|error|leak|throw|panic|flak)\w*)"
    r"|\bnow\s+(?:requires?|raises?|throws?|rejects?|returns?|errors?|fails?)\b"
    r"|\bbehaviou?r\s+change|\bchange[sd]?\s+(?:the\s+)?(?:default\s+)?behaviou?r", re.I)
_WARNS = re.compile("|".join(p.pattern for p in (_BREAKING_WORDS, _DEPRECATES, _DROPS_SUPPORT, _CHANGES_BEHAVIOUR))
                    + r"|\b(?:should|must|need to)\s+(?:update|change|adjust)\b", re.I)
"""Wording of a changelog entry that warns existing users: what the headline checks above look for,
and "applications … should update their expectations"."""
_USER_THINGS = (r"(?:option|flag|argument|arg|parameter|param|setting|command|subcommand|endpoint|api|method|function|"
                r"class|module|package|alias|property|field|attribute|hook|env(?:ironment)? var\w*|config\w*|key|"
                r"route|header|event|export|cli)s?")
_REMOVES = re.compile(rf"^(?:remov(?:e|es|ed|ing)|drop(?:s|ped)?|delet(?:e|es|ed))\b(?:.*\b{_USER_THINGS}\b|\s+(?:the\s+)?"
                      r"(?:deprecated|legacy|public)\b)", re.I)
_RENAMES = re.compile(rf"^renam(?:e|es|ed|ing)\b.*\b{_USER_THINGS}\b", re.I)
_MAY_AFFECT_HINTS = ("breaking", "incompatib", "deprecat", "support", "drop", "requir", "min", "msrv", "default",
                     "no longer", "now", "behavio", "remov", "delet", "renam")
"""A cheap first look (substrings of the lower-cased headline): without one of these, none of the
patterns above can match, and a long history is read without running them."""
_WARNS_HINTS = _MAY_AFFECT_HINTS + ("should", "must", "need to")
"""A cheap first look for ``_WARNS`` (``may_match``): each of its matches holds one of these."""
_NOT_USER_FIX_HINTS = ("typo", "spel", "lint", "tid", "whitespace", "indent", "cosmetic", "nit", "flake8", "ruff", "mypy",
                       "pyright", "clippy", "prettier", "isort", "gofmt", "golangci", "rubocop", "style", "type ",
                       "warning", "format")
"""The same for ``_NOT_USER_FIX``."""


def _mentions(lower: str, hints: tuple[str, ...]) -> bool:
    return any(map(lower.__contains__, hints))
_MAJOR = re.compile(r"^v?(\d+)(?:\.0)+(?:[-+.]?[A-Za-z].*)?$")


@dataclass(frozen=True)
class Impact:
    """The one group a change falls in, and why."""

    group: str
    """One of GROUPS, or MERGE for a merge commit."""
    kind: str | None
    """For "internal", one of KINDS; None otherwise."""
    why: str
    """The evidence in plain words: 'marked as a breaking change by its developer'."""
    model: float | None = None
    """The model's probability when its kind of change decided the group (``with_model_kind``); None
    when the rules did."""

    def __post_init__(self) -> None:
        if self.group not in (*GROUPS, MERGE):
            raise ValueError(f"unknown impact group {self.group!r}; expected one of {', '.join(GROUPS)}")
        if (self.group == "internal") != (self.kind in KINDS):
            raise ValueError(f"impact kind {self.kind!r} does not fit group {self.group!r}")

    def to_json(self) -> dict:
        return {"group": self.group, "kind": self.kind, "why": self.why,
                **({"model": self.model} if self.model is not None else {})}

    @classmethod
    def from_json(cls, data: dict) -> Impact:
        model = data.get("model")
        return cls(data["group"], data.get("kind"), data.get("why", ""),
                   float(model) if isinstance(model, (int, float)) else None)


def _internal(kind: str, why: str) -> Impact:
    return Impact("internal", kind, why)


@functools.lru_cache(maxsize=1 << 16)
def is_shipped_path(path: str) -> bool:
    """Whether a file is part of what users get: not tests, documentation, CI, lock files, build or
    developer tooling, nor examples, judged by the file and by its top-level folder's role."""
    if is_test_path(path) or is_doc_path(path) or is_ci_path(path) or is_lock_path(path):
        return False
    area = area_of(path)
    role = area_role(area, [path])
    # A settings file inside the package ships with it; one at the top or in a dot-folder configures tools.
    inside = area != TOP_LEVEL and not area.startswith(".")
    return role in ("source code", "dependencies") or (inside and role == "configuration")


def _major(version: str | None) -> bool:
    """'2.0.0', 'v3.0', '2.0.0-rc.1' are major versions; '0.9.0', '2.1.0' and '2.0.1' are not, nor
    '1.0.0': it declares a project stable, with no earlier major version whose users it could break."""
    match = _MAJOR.match(version or "")
    return bool(match) and int(match.group(1)) >= 2


def classify(*, headline: str, category: str, paths: list[str], advisories: list[str] | tuple[str, ...] = (),
             is_merge: bool = False, ci: bool = False, version: str | None = None, breaking: bool = False,
             conventional_type: str | None = None, affecting_notes: list | tuple = (),
             notes: list[str] | tuple[str, ...] = ()) -> Impact:
    """The impact of one change (see the module's docstring for the rules and their order).

    ``breaking`` is the developer's mark (``!`` or a ``BREAKING CHANGE:`` footer, from
    ``subjects.read_subject``); ``affecting_notes`` are ``(heading, entry)`` pairs from
    ``affecting_notes``. Both are read only where the developer's own words are: a
    dependency update's message quotes its upstream's changelog, not this project's. ``notes`` are
    the changelog entries the commit added (``release_notes``): one that says behaviour
    changes ("file names … are no longer wrapped in quotes") may affect users whatever its heading.
    """
    if is_merge:
        return Impact(MERGE, None, "a merge brings in changes that are counted on their own")
    if category in ("docs", "tests"):
        return _internal(category, "it changes only documentation" if category == "docs" else "it changes only tests and documentation")
    if category == "security" or advisories:
        ids = f" ({', '.join(advisories)})" if advisories else ""
        why = f"it names a security advisory{ids}" if advisories else "its message speaks of security"
        return Impact("security", None, why)
    if category == "dependencies":
        return _internal("dependencies", "it updates a dependency")
    if breaking:
        return Impact("affects", None, "its developer marked it as a breaking change")
    if affecting_notes:
        heading, entry = affecting_notes[0]
        return Impact("affects", None, f"its changelog entry \u201c{entry}\u201d is listed under \u201c{heading}\u201d")
    warning = None if category == "release" else next(
        (note for note in notes if may_match(note, _WARNS_HINTS) and _WARNS.search(note)), None)
    # Shipped code, or a manifest whose dependencies users get with it (not only tests, docs or CI).
    if warning and any(not (is_test_path(p) or is_doc_path(p) or is_ci_path(p)) for p in paths):
        return Impact("affects", None, f"its changelog entry says what changes for users: \u201c{warning}\u201d")
    if category == "release":
        if _major(version):
            return Impact("affects", None, f"a new major version ({version}) may not work as the last one did")
        return _internal("release", "it records a release (version and release notes)")
    if ci or (paths and all(is_ci_path(p) for p in paths)):
        return _internal("ci", "it changes only CI and automation files")
    shipped = not paths or any(is_shipped_path(p) for p in paths)
    product = not paths or any(not (is_test_path(p) or is_doc_path(p) or is_ci_path(p)) for p in paths)
    lower = headline.lower()
    hinted = _mentions(lower, _MAY_AFFECT_HINTS)
    if hinted and product and _BREAKING_WORDS.search(headline):
        return Impact("affects", None, "its message says it is not backward compatible")
    if hinted and product and _DEPRECATES.search(headline):
        return Impact("affects", None, "it deprecates something users may rely on")
    if hinted and product and _DROPS_SUPPORT.search(headline):
        return Impact("affects", None, "it drops support for a platform or version")
    if hinted and shipped and (conventional_type or "") not in _INTERNAL_TYPES:
        if _CHANGES_BEHAVIOUR.search(headline):
            return Impact("affects", None, "it changes how existing features behave")
        if _REMOVES.search(headline):
            return Impact("affects", None, "it removes something users may rely on")
        if _RENAMES.search(headline):
            return Impact("affects", None, "it renames something users may rely on")
    if category == "feature":
        if shipped:
            return Impact("new", None, "a feature in the code users get")
        return _internal("maintenance", "a feature of the project's own tooling, not of the code users get")
    if category == "fix":
        if _mentions(lower, _NOT_USER_FIX_HINTS) and _NOT_USER_FIX.search(headline):
            return _internal("maintenance", "a typo, a linter's complaint or tidying, not a problem users met")
        if shipped:
            return Impact("fixed", None, "a fix in the code users get")
        return _internal("maintenance", "a fix to the project's own tooling, not to the code users get")
    return _internal("maintenance", "internal tidying: nothing users see changes")


MODEL_KINDS = {"docs": "docs", "tests": "tests", "ci": "ci", "build": "dependencies", "maintenance": "maintenance"}
"""The model's behind-the-scenes kinds of change (``narrator.model.prompts.CHANGE_KINDS``) as ``KINDS``."""


def with_model_kind(rules: Impact, kind: str, breaking: bool, probability: float, *, headline: str,
                    paths: list[str]) -> Impact:
    """The impact when the model's kind of change (``narrator.model.kind_model``) decides it.

    Facts and people's words come first: a merge, a security change, a release, a dependency update
    and what the rules found may affect users (a developer's breaking mark, a changelog warning) keep
    the rules' group. Otherwise the model's kind decides, by the rules' own tests: a feature or fix
    reaches users only in shipped code, a "fix" of a typo or a linter's complaint is tidying, and a
    change the model calls breaking may affect users when it touches shipped code.
    """
    if rules.group in (MERGE, "security", "affects") or rules.kind in ("release", "dependencies"):
        return rules
    sure = f"{round(probability * 100)}% sure"
    shipped = not paths or any(is_shipped_path(p) for p in paths)
    if breaking and shipped:
        return Impact("affects", None, f"the model judged it a breaking change ({sure})", probability)
    if kind in MODEL_KINDS:
        return Impact("internal", MODEL_KINDS[kind], f"the model judged it {_MODEL_WORDS[kind]} ({sure})", probability)
    if kind == "fix" and _mentions(headline.lower(), _NOT_USER_FIX_HINTS) and _NOT_USER_FIX.search(headline):
        return Impact("internal", "maintenance", "a typo, a linter's complaint or tidying, not a problem users met", probability)
    if kind in ("feature", "fix") and shipped:
        group = "new" if kind == "feature" else "fixed"
        return Impact(group, None, f"the model judged it a {kind} in the code users get ({sure})", probability)
    return Impact("internal", "maintenance", f"the model judged it a {kind} of the project's own tooling ({sure})", probability)


_MODEL_WORDS = {"docs": "documentation work", "tests": "work on the tests", "ci": "work on CI and automation",
                "build": "build or dependency work", "maintenance": "internal maintenance"}


def of_commit(*, subject: str, message: str, category: str, paths: list[str], advisories=(), is_merge: bool = False,
              ci: bool = False, version: str | None = None, headline: str | None = None, patch: str = "",
              notes: list[str] | tuple[str, ...] = ()) -> Impact:
    """``classify`` from what git records of a commit: the breaking mark from its subject and body
    (``read_subject``), changelog warnings from its diff when given (``affecting_notes``) and
    the changelog entries it added (``notes``, as stored)."""
    body = message.split("\n", 1)[1] if "\n" in message else ""
    said = read_subject(subject, body, is_merge)
    return classify(headline=headline or said.headline, category=category, paths=paths, advisories=list(advisories),
                    is_merge=is_merge, ci=ci, version=version, breaking=said.breaking,
                    conventional_type=said.conventional_type, affecting_notes=affecting_notes(patch) if patch else (),
                    notes=notes)


def stored(recorded: Impact | None, **commit) -> Impact:
    """The impact recorded in a commit's facts (``CommitFacts.impact``), or (a row recorded before
    impacts were, or by a version whose impact cannot be read) ``of_commit(**commit)`` from its
    stored subject, message, category and paths."""
    return recorded if recorded is not None else of_commit(**commit)
