"""Facts computed from git, never generated: a change's category, its area, its size in words.

The model writes only short "what" sentences; everything a manager might count or filter on comes
from here, so it is exact and repeatable.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Callable
from itertools import repeat
from pathlib import PurePosixPath

from narrator.facts import prefixes
from narrator.facts.messages import first_sentences
from narrator.text import unmarked

_plain = functools.lru_cache(maxsize=1 << 14)(unmarked)
"""``narrator.text.unmarked``, remembered: a changelog line a commit adds comes back in the hunks of
the later commits that edit lines near it (three in four of a long history's lines are seen before)."""

# The path rules below are pure and a long history names the same paths thousands of times.
_per_path = functools.lru_cache(maxsize=1 << 16)

CATEGORIES = ("feature", "fix", "security", "release", "dependencies", "docs", "tests", "maintenance")

TOP_LEVEL = "(top level)"

_DOC_SUFFIXES = {".md", ".rst", ".adoc"}
_FIX = re.compile(r"\b(fix(e[sd]|ing)?|bugs?|crash(es|ed|ing)?|errors?|broken|regression|typos?|issues?|wrong(ly)?|incorrect(ly)?|"
                  r"repair(s|ed)?|resolve[sd]?|hotfix|patch(ed)?|fail(s|ed|ing|ure)?|leak(s|ing)?|hang(s|ing)?|"
                  r"mismatch(es)?|invalid|missing|unexpected(ly)?|race condition|typo)\b", re.I)
# The verb a subject opens with says most about its kind ("Handle empty config files" is a fix).
_FIX_VERBS = re.compile(r"^(?:fix|correct|repair|resolve|handle|avoid|prevent|ensure|restore|respect|guard|"
                        r"stop|ignore|skip|catch|escape|sanitize|sanitise|normalize|normalise|preserve|keep|"
                        r"properly|do not|don't|never)(?:e?[sd]|ing)?\b", re.I)
_FEATURE_VERBS = re.compile(r"^(?:add|implement|introduce|support|allow|enable|create|expose|provide|let|"
                            r"offer|accept|new)(?:e?[sd]|ing)?\b", re.I)
_MAINTENANCE_VERBS = re.compile(r"^(?:refactor|rename|move|remove|drop|delete|clean|tidy|simplify|reorgani[sz]e|"
                                r"extract|replace|migrate|switch|deprecate|format|lint|revert|bump|upgrade|"
                                r"split|merge|inline|reuse|speed up|optimi[sz]e|improve|use)(?:e?[sd]|ing)?\b", re.I)
# Weaker signs of a fix, read only when the opening verb said nothing: negations and "should".
_FIX_HINTS = re.compile(r"\b(not|no longer|n't|cannot|should|when|instead of|properly|correctly)\b", re.I)
_FEATURE = re.compile(r"\b(add(s|ed)?|implement(s|ed)?|introduce[sd]?|support(s|ed)?|new|allow(s|ed)?|enable[sd]?|create[sd]?|feature)\b", re.I)
_MAINTENANCE = re.compile(r"\b(refactor|bump|upgrade|chore|ci|cleanup|clean up|rename|remove[sd]?|deprecate[sd]?|lint|format|release|merge|revert|update dependenc)", re.I)
_REVERT = re.compile(r"^revert\b", re.I)
_DOCS_WORDS = re.compile(r"\b(docs?|documentation|readme|changelog|comment[s]?)\b", re.I)
_TEST_WORDS = re.compile(r"\b(tests?|testing|spec[s]?|coverage)\b", re.I)


@_per_path
def is_doc_path(path: str) -> bool:
    """Documentation files: README/CHANGELOG/*.md and anything under docs/."""
    p = PurePosixPath(path)
    top = p.parts[0].lower() if p.parts else ""
    return top in ("doc", "docs", "documentation") or p.suffix.lower() in _DOC_SUFFIXES or p.stem.upper() in ("README", "CHANGELOG", "LICENSE", "AUTHORS")


@_per_path
def is_test_path(path: str) -> bool:
    """Test files by the usual conventions of the six languages."""
    p = PurePosixPath(path)
    name = p.name.lower()
    folders = {part.lower() for part in p.parts[:-1]}
    return bool(folders & {"test", "tests", "spec", "specs", "__tests__", "testdata"}) or name.startswith("test_") or re.search(
        r"(_test\.go|_test\.py|test\.java|tests?\.php|_spec\.rb|\.test\.[jt]sx?|\.spec\.[jt]sx?)$", name
    ) is not None


# --- paths: dependencies and CI ---------------------------------------------------------------

_LOCK_NAMES = frozenset({
    "poetry.lock", "uv.lock", "pdm.lock", "pipfile.lock", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
    "pnpm-lock.yaml", "bun.lock", "bun.lockb", "cargo.lock", "go.sum", "composer.lock", "gemfile.lock", "mix.lock",
    "packages.lock.json", "gradle.lockfile", "pubspec.lock", "podfile.lock", "flake.lock", "conda-lock.yml",
})
# Files that hold nothing but dependencies: any change to them is a dependency change.
_PURE_MANIFEST = re.compile(r"^(pipfile|gemfile|go\.mod|(requirements|constraints)[\w.-]*\.(txt|in)|environment\.ya?ml)$")
# Manifests that also hold a package's metadata and scripts: dependencies only with more evidence.
_MIXED_MANIFESTS = frozenset({"package.json", "pyproject.toml", "cargo.toml", "composer.json", "pom.xml", "build.gradle",
                              "build.gradle.kts", "setup.cfg", "setup.py", "mix.exs", "pubspec.yaml", "podfile", "deno.json"})


@_per_path
def is_lock_path(path: str) -> bool:
    """Lock files, written by a package manager to pin exact versions (poetry.lock, yarn.lock, go.sum...)."""
    return PurePosixPath(path).name.lower() in _LOCK_NAMES


@_per_path
def _is_pure_manifest(path: str) -> bool:
    p = PurePosixPath(path)
    name = p.name.lower()
    in_requirements_folder = len(p.parts) > 1 and p.parts[-2].lower() == "requirements" and p.suffix.lower() in (".txt", ".in")
    return _PURE_MANIFEST.match(name) is not None or in_requirements_folder


@_per_path
def is_dependency_path(path: str) -> bool:
    """Lock files and dependency manifests.

    Includes manifests that also carry metadata (package.json, pyproject.toml, Cargo.toml, pom.xml...),
    because a dependency bump touches them; ``categorize`` asks for more evidence before calling a
    change to those alone "dependencies". A *.gemspec is package metadata, not listed.
    """
    return is_lock_path(path) or _is_pure_manifest(path) or PurePosixPath(path).name.lower() in _MIXED_MANIFESTS


_CI_FILES = frozenset({".gitlab-ci.yml", ".travis.yml", "azure-pipelines.yml", "jenkinsfile", ".pre-commit-config.yaml",
                       "appveyor.yml", ".appveyor.yml", "bitbucket-pipelines.yml", ".drone.yml", ".woodpecker.yml",
                       "cloudbuild.yaml", "cloudbuild.yml", "renovate.json", ".renovaterc", ".renovaterc.json",
                       ".pre-commit-hooks.yaml", "codecov.yml", ".codecov.yml", ".mergify.yml"})
_CI_FOLDERS = frozenset({".circleci", ".buildkite", ".azure-pipelines", ".woodpecker"})


@_per_path
def is_ci_path(path: str) -> bool:
    """Build-and-check automation: GitHub workflows, actions and bot settings, GitLab/CircleCI/Travis/... files.

    Under ``.github/`` that is ``workflows/``, ``actions/`` and the YAML settings at its top level
    (dependabot.yml, release-drafter.yml, labeler.yml), not issue templates or FUNDING.yml. Local
    test runners (tox.ini, noxfile.py) are not CI: developers run them by hand too.
    """
    p = PurePosixPath(path)
    parts = [part.lower() for part in p.parts]
    if not parts:
        return False
    if parts[0] == ".github":
        if len(parts) > 2 and parts[1] in ("workflows", "actions"):
            return True
        return len(parts) == 2 and p.suffix.lower() in (".yml", ".yaml") and parts[1] not in ("funding.yml", "funding.yaml")
    if parts[0] == ".gitlab" and len(parts) > 1 and parts[1] == "ci":
        return True
    return parts[0] in _CI_FOLDERS or parts[-1] in _CI_FILES


# --- people and words -------------------------------------------------------------------------

_BOT = re.compile(r"\[bot\]|\b(dependabot|renovate|pre-commit-ci|github-actions|greenkeeper|snyk-bot|pyup-bot|depfu|mend-bolt|whitesource)\b", re.I)
_DEPENDENCY_BOT = re.compile(r"\b(dependabot|renovate|pre-commit-ci|greenkeeper|snyk-bot|pyup-bot|depfu|mend|whitesource)", re.I)


def is_bot(author: str, email: str = "") -> bool:
    """Automated authors: dependabot, renovate, pre-commit-ci, github-actions, ... and any "[bot]" account."""
    return bool(_BOT.search(author) or _BOT.search(email))


_ADVISORY = re.compile(r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+|RUSTSEC-\d{4}-\d{4}|GO-\d{4}-\d{4,})\b", re.I)
_SECURITY = re.compile(
    r"\b(vulnerab\w*|security|secure|insecure|exploit\w*|malicious|XSS|CSRF|XSRF|SSRF|RCE|CWE-\d+"
    r"|(?<!dependency )(?<!dependency-)injection|denial[- ]of[- ]service|(?-i:D?DoS)|(?-i:ReDoS)|(?:path|directory) traversal"
    r"|(?:decompression|zip) bomb|privilege escalation|(?:remote )?code execution|clickjacking|open redirect"
    r"|auth(?:entication|orization)? bypass|timing attack|buffer overflow|(?:credential|secret|token|password)s? leak)\b", re.I)


_ADVISORY_HINTS = ("cve-", "ghsa-", "pysec-", "rustsec-", "go-")
"""A cheap first look for ``_ADVISORY``: a match holds one of these (lower-cased)."""
_SECURITY_HINTS = ("vulnerab", "secur", "exploit", "malicious", "xss", "csrf", "xsrf", "ssrf", "cwe-", "injection",
                   "denial", "dos", "h traversal", "y traversal", "n bomb", "p bomb", "privilege escalation",
                   "code execution", "clickjacking", "open redirect", "h bypass", "n bypass", "timing attack",
                   "buffer overflow", "l leak", "t leak", "n leak", "d leak", "s leak")
"""The same for ``_SECURITY``: each of its alternatives holds one of these, and words that are common
on their own hold the word before them ("path traversal", "token leak"; not "memory leak"), as the
pattern has them."""
_SECURITY_WORDS = ("rce",)
"""``_SECURITY``'s alternatives found only as whole words: "rce" is also in "source" and "force"."""
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f\u212a")
"""The only characters beyond ASCII that ``re.I`` matches with an ASCII letter: İ and ı (i), ſ (s)
and the Kelvin sign (k)."""


@functools.lru_cache(maxsize=16)  # a commit's body is looked at by several checks; its hash is kept by the string
def _lowered(text: str) -> str | None:
    """``text`` lower-cased, or None when it holds one of ``_FOLDS_TO_ASCII``."""
    if not text.isascii() and not _FOLDS_TO_ASCII.isdisjoint(text):
        return None
    return text.lower()


def may_match(text: str, hints: tuple[str, ...]) -> bool:
    """False only when a case-insensitive pattern whose every match holds one of ``hints`` (lower-case
    ASCII substrings, each spelt with the characters the pattern spells it with) cannot match
    ``text``: a long history is read without running most patterns.

    Exact: beyond ASCII, ``re.I`` matches an ASCII letter only with the few ``_FOLDS_TO_ASCII``
    characters (the Kelvin sign with "k"), and a text holding one always goes to the pattern.
    """
    lower = _lowered(text)
    return lower is None or any(map(lower.__contains__, hints))


def _holds_word(text: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` (lower-case ASCII) is in ``text`` as ``\\b`` reads a whole word (also
    True when ``may_match`` cannot tell)."""
    lower = _lowered(text)
    if lower is None:
        return True
    for word in words:
        start = lower.find(word)
        while start >= 0:
            end = start + len(word)
            # The lower-cased text has the text's length here: only İ lower-cases to two characters.
            if not (start and _is_word_character(text[start - 1])) and not (end < len(text) and _is_word_character(text[end])):
                return True
            start = lower.find(word, start + 1)
    return False


def _is_word_character(character: str) -> bool:
    """``\\w`` of a ``str`` pattern."""
    return character.isalnum() or character == "_"


def advisories(text: str) -> list[str]:
    """Security advisory ids (CVE, GHSA, PYSEC, RUSTSEC, GO) in ``text``: upper-cased, unique, in order."""
    if not may_match(text, _ADVISORY_HINTS):
        return []
    return list(dict.fromkeys(m.upper() for m in _ADVISORY.findall(text)))


def is_security_text(text: str) -> bool:
    """Whether ``text`` speaks of security: advisory ids, "vulnerability", XSS, "denial of service", ...

    "DoS" is matched in that case only (not "dos"); "dependency injection" is a design pattern, not
    an attack.
    """
    if not may_match(text, _ADVISORY_HINTS + _SECURITY_HINTS) and not _holds_word(text, _SECURITY_WORDS):
        return False
    return bool(_ADVISORY.search(text) or _SECURITY.search(text))


# --- releases ---------------------------------------------------------------------------------

_VER = r"v?(\d+(?:\.\d+)+(?:[-.]?(?:a|b|c|rc|alpha|beta|pre|preview|dev|post)\.?\d*)?(?:[-+][0-9A-Za-z][0-9A-Za-z.-]*)?)"
_DIGIT = re.compile(r"\d")
_RELEASE_TYPES = frozenset({"chore", "build", "ci", "release", "bump"})
_RELEASE_TAG = re.compile(r"^\[release\]\s*", re.I)
_RELEASE_FORMS = [re.compile(f"^{form}$", re.I) for form in (
    rf"(?:prepare|prepare for|cut|tag|publish)?\s*(?:the )?releas(?:e|ed|ing)(?: of)?(?: version)? {_VER}(?:\s*[-–—:(].*)?",
    rf"(?:bump|update|set|change|increment)(?: the)?(?: package)? version(?: number)?:?(?: to| from \S+ to| \S+ (?:to|->|→))? {_VER}",
    rf"(?:bump|update) to {_VER}",
    rf"version(?: bump)?:?(?: to| \S+ (?:to|->|→))? {_VER}",
    rf"{_VER}(?: release| released)?",
)]


@functools.lru_cache(maxsize=1 << 12)  # asked up to four times per commit with the same words
def release_version(subject: str) -> str | None:
    """The version a release subject announces, without a leading "v", or None.

    "Release 2.7.1", "v2.7.1", "Bump version to 2.7.1", "Bump version: 1.2.0 → 1.3.0", "Version 2.7.1",
    "Prepare release 1.2.0", "chore(release): 1.2.0", "Release v2.0.0-rc.1" all announce one;
    "Bump requests from 2.1 to 2.2" (a dependency) and "Fix crash in 2.7 parser" do not.
    """
    if not _DIGIT.search(subject):  # every form names a version, and a version has digits
        return None
    text = re.sub(r"^[^\w\[]+", "", " ".join(subject.split()))      # leading emoji such as "🔖"
    found = prefixes.prefix(text)
    text = found.rest if found and found.type.lower() in _RELEASE_TYPES else _RELEASE_TAG.sub("", text)
    text = re.sub(r"\s*\((?:#\d+|[\w.-]+/[\w.-]+#\d+)\)\s*$|[.!\s]+$", "", text)
    for form in _RELEASE_FORMS:
        if match := form.match(text):
            return next(g for g in match.groups() if g)
    return None


@functools.lru_cache(maxsize=8)  # read by version_change, release_notes and affecting_notes of one commit
def _patch_files(patch: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(new path, lines of its hunks with their +/-/space marker) for each file of a git diff."""
    files: list[tuple[str, list[str]]] = []
    in_hunk = False                      # header lines ("--- a/x", "index ...") come before the first @@
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            match = re.match(r'diff --git "?a/.*?"? "?b/(.*?)"?$', line)
            files.append((match.group(1) if match else line.split()[-1], []))
            in_hunk = False
        elif files and (line.startswith("@@") or in_hunk and line[:1] in ("+", "-", " ", "")):
            in_hunk = True
            files[-1][1].append(line)
    return tuple((path, tuple(lines)) for path, lines in files)


_QUOTED = r"""["']([^"']+)["']"""
_VERSION_FIELDS: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    (re.compile(r"(^|/)(pyproject\.toml|cargo\.toml|setup\.cfg)$", re.I), re.compile(r"""^version\s*=\s*["']?([^"'\s#]+)""")),
    (re.compile(r"(^|/)(package\.json|composer\.json)$", re.I), re.compile(r'^\s*"version"\s*:\s*"([^"]+)"')),
    (re.compile(r"(^|/)setup\.py$", re.I), re.compile(rf"\bversion\s*=\s*{_QUOTED}")),
    (re.compile(r"(\.gemspec|(^|/)version\.rb)$", re.I), re.compile(rf"(?:\bVERSION|\.version)\s*=\s*{_QUOTED}")),
    (re.compile(r"(^|/)(__init__|_version|__about__|version)\.py$"), re.compile(rf"^__version__\s*=\s*(?:version\s*=\s*)?{_QUOTED}")),
    (re.compile(r"(^|/)version\.go$", re.I), re.compile(r'\bVersion\s*=\s*"v?([^"]+)"')),
    (re.compile(r"(^|/)mix\.exs$", re.I), re.compile(rf"\bversion:\s*{_QUOTED}")),
    (re.compile(r"(^|/)VERSION(\.txt)?$"), re.compile(r"^\s*v?(\d+(?:\.\d+)+\S*)\s*$")),
]
_NOT_PACKAGE_SECTION = re.compile(r"^\s*\[.*(depend|target|patch|replace|workspace\.dependencies|tool\.(?!poetry\]|hatch|setuptools)).*\]", re.I)
_SECTION = re.compile(r"^\s*\[")
_POM_NESTED = re.compile(r"<(parent|dependency|plugin|extension|exclusion)>")


def _new_version(path: str, lines: tuple[str, ...]) -> str | None:
    """The new value of ``path``'s version field when its hunks change it, else None."""
    if path.endswith("pom.xml"):
        return _pom_version(lines)
    field = _version_field(path)
    if field is not None:
        old, new, skip = None, None, False
        for line in lines:
            if line.startswith("@@"):
                skip = False
                continue
            body = line[1:]
            if _SECTION.match(body):                # a TOML/INI section header seen in the hunk
                skip = bool(_NOT_PACKAGE_SECTION.match(body))
            match = None if skip else field.search(body)
            if match and line.startswith("-"):
                old = old or match.group(1)
            elif match and line.startswith("+"):
                new = new or match.group(1)
        return new if new and old and new.lstrip("v") != old.lstrip("v") else None
    return None


@_per_path
def _version_field(path: str) -> re.Pattern[str] | None:
    """The pattern of the version field of ``path``'s kind of file (the first of ``_VERSION_FIELDS``
    whose name fits), or None."""
    return next((field for name, field in _VERSION_FIELDS if name.search(path)), None)


def _pom_version(lines: tuple[str, ...]) -> str | None:
    """Best effort for Maven: a changed <version> near the top of pom.xml, outside <parent>/<dependency>."""
    old = new = None
    depth = 0
    for line in lines:
        if line.startswith("@@"):
            start = re.search(r"\+(\d+)", line)
            if start and int(start.group(1)) > 40:
                return new if old and new and old != new else None
            continue
        depth += len(_POM_NESTED.findall(line)) - len(re.findall(r"</(parent|dependency|plugin|extension|exclusion)>", line))
        match = re.search(r"<version>\s*([^<\s]+)\s*</version>", line)
        if match and depth == 0:
            if line.startswith("-"):
                old = old or match.group(1)
            elif line.startswith("+"):
                new = new or match.group(1)
    return new if old and new and old != new else None


def version_change(patch: str) -> str | None:
    """The new version when a git diff changes a package's version field, else None.

    Reads pyproject.toml / setup.cfg / Cargo.toml (``version = "..."`` outside dependency tables seen
    in the hunk), package.json / composer.json (``"version": "..."``), setup.py (``version="..."``),
    *.gemspec / version.rb (``VERSION = "..."``), __init__.py / _version.py / __about__.py
    (``__version__ = "..."``), version.go, mix.exs, a VERSION file and, best effort, pom.xml's own
    <version>. A field only added (a new file) is not a change.
    """
    for path, lines in _patch_files(patch):
        if version := _new_version(path, lines):
            return version
    return None


@_per_path
def reads_diff(path: str) -> bool:
    """Whether a commit's facts read this file's diff: release notes, or a file with a version field.

    ``version_change`` and ``release_notes`` look at nothing else, so a history read without patches
    needs the diffs of these files only.
    """
    return (is_release_notes_path(path) or path.endswith("pom.xml")
            or any(name.search(path) for name, _ in _VERSION_FIELDS))


@_per_path
def notes_folder(path: str) -> str | None:
    """The changelog folder (``changelog/``, ``newsfragments/``, ...) that ``path`` lies in, or None."""
    parts = PurePosixPath(path).parts
    for depth, part in enumerate(parts[:-1]):
        if part.lower() in _NOTES_FOLDERS:
            return "/".join(parts[: depth + 1])
    return None


_NOTES_NAME = re.compile(r"^(changelog|changes|history|news|release[-_ ]?notes)", re.I)
_NOTES_FOLDERS = frozenset({"changelog", "changelog.d", "changes", ".changes", "newsfragments", "news", ".changeset", "releasenotes"})


@_per_path
def is_release_notes_path(path: str) -> bool:
    """CHANGELOG*/CHANGES*/HISTORY*/NEWS*/RELEASE*NOTES* files anywhere, and files in changelog folders."""
    p = PurePosixPath(path)
    folders = {part.lower() for part in p.parts[:-1]}
    if folders & _NOTES_FOLDERS:
        return not re.match(r"^(readme|config\.json|template)", p.name, re.I)
    return bool(_NOTES_NAME.match(p.name)) and not p.name.lower().endswith((".py", ".js", ".ts", ".go", ".rs", ".java", ".rb", ".php"))


_UNDERLINE = re.compile(r"^\s*([=\-~^*+#`'\".:_])\1{2,}\s*$")
_VERSION_LINE = re.compile(
    r"^\s*(?:#+\s*)?\[?(?:v(?:ersion)?\s*)?\d+(?:\.\d+)+[^\s\]]*\]?(?:\s*[-–—:(].*)?$|^\s*\(?\d{4}-\d{2}-\d{2}\)?\s*$"
    r"|^\s*\[?unreleased\]?\s*(?:[-–—:(].*)?$", re.I)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_FENCE = re.compile(r"^(?:```|~~~(?!~))")
_LINK_REFERENCE = re.compile(r"^\[[^\]]+\]:\s*\S")
_LETTER = re.compile(r"[A-Za-z]")
_BARE_URL = re.compile(r"(?:\S*:\s*)?https?://\S+")


_EDITED = 0.6
"""Similarity (``difflib`` ratio of the plain texts) from which an added line is an edit of a removed one."""
_MOST_PAIRS = 4000
"""Most removed x added line pairs compared in one hunk; beyond it only identical texts pair up."""


@functools.lru_cache(maxsize=64)  # read by release_notes and affecting_notes of one commit
def _added_lines(lines: tuple[str, ...]) -> tuple[str, ...]:
    """The ``+`` lines of a file's hunks that add something: a ``+`` line that rewrites a ``-`` line of
    the same hunk (a typo fixed in an old entry, a link updated) is an edit and is left out."""
    hunks: list[list[str]] = []
    for line in lines:
        if line.startswith("@@") or not hunks:
            hunks.append([])
        hunks[-1].append(line)
    added: list[str] = []
    for hunk in hunks:
        plus = [line for line in hunk if line.startswith("+")]
        if not plus:
            continue
        removed = [_plain(line[1:]) for line in hunk if line.startswith("-")]
        if len(removed) * len(plus) > _MOST_PAIRS:  # too many to compare: identical texts pair up
            left = Counter(removed)
            for line in plus:
                text = _plain(line[1:])
                if left[text]:
                    left[text] -= 1
                else:
                    added.append(line)
            continue
        for line in plus:
            if not removed:  # nothing left to pair with: the text need not be worked out
                added.append(line)
                continue
            text = _plain(line[1:])
            edited = _edit_of(text)
            match = next((i for i, old in enumerate(removed) if old == text or text and edited(old)), None)
            if match is None:
                added.append(line)
            else:
                del removed[match]  # one removed line pairs with one added line
    return tuple(added)


def _edit_of(new: str) -> Callable[[str], bool]:
    """Whether a text is an edit of ``new`` (``difflib`` ratio at least ``_EDITED``), the cheap bounds
    first; one matcher serves every text ``new`` is compared with (it indexes ``new`` once)."""
    matcher: difflib.SequenceMatcher | None = None

    def edited(old: str) -> bool:
        nonlocal matcher
        if 2.0 * min(len(old), len(new)) / (len(old) + len(new)) < _EDITED:  # real_quick_ratio, from lengths
            return False
        # The ratio counts at least the longest block the two share, so at least their longest
        # common start or end: an edit near one end (a link fixed, a typo) needs no matcher.
        if 2.0 * _common_end(old, new) / (len(old) + len(new)) >= _EDITED:
            return True
        # quick_ratio: the characters the two share, counted as it counts them (a multiset
        # intersection), without its loop over every character.
        ours, theirs = _characters(old), _characters(new)
        if 2.0 * sum(map(min, ours.values(), map(theirs.get, ours, repeat(0)))) / (len(old) + len(new)) < _EDITED:
            return False
        if matcher is None:
            matcher = difflib.SequenceMatcher(None, "", new, autojunk=False)
        matcher.set_seq1(old)
        return matcher.ratio() >= _EDITED

    return edited


def _common_end(a: str, b: str) -> int:
    """The length of the longer of ``a`` and ``b``'s common prefix and common suffix."""
    longest = 0
    for flip in (False, True):
        low, high = 0, min(len(a), len(b))
        while low < high:  # the common part is a[:low] (or a[-low:]); find the longest by halves
            middle = (low + high + 1) // 2
            if (a[len(a) - middle:] == b[len(b) - middle:]) if flip else (a[:middle] == b[:middle]):
                low = middle
            else:
                high = middle - 1
        longest = max(longest, low)
    return longest


@functools.lru_cache(maxsize=1 << 10)  # a removed line is compared with each added line of its hunk
def _characters(text: str) -> Counter[str]:
    """How many times each character occurs in ``text`` (not to be changed: it is shared)."""
    return Counter(text)


def _note_entries(lines: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Plain ``(entry, bulleted)`` pairs from the lines one release-notes file's diff adds (not edits)."""
    added = []
    in_code = False
    for line in (line[1:] for line in _added_lines(lines)):
        # Code blocks and shell sessions show commands, not what changed.
        if _FENCE.match(line.strip()):  # a long ~~~~ line is an RST underline
            in_code = not in_code
            continue
        if not in_code and not line.lstrip().startswith(("$ ", "> $", ">>> ")):
            added.append(line)
    entries: list[str] = []
    entries_bulleted: list[bool] = []
    joinable = False                     # may the next plain line continue the last entry?
    in_comment = in_front = False
    for i, line in enumerate(added):
        stripped = line.strip()
        if i == 0 and stripped == "---":
            in_front = True
            continue
        if in_front:
            in_front = stripped != "---"
            continue
        if in_comment or stripped.startswith("<!--") and "-->" not in stripped:
            in_comment = "-->" not in stripped
            continue
        following = added[i + 1] if i + 1 < len(added) else ""
        if (not stripped or stripped.startswith("#") or _UNDERLINE.match(stripped) or _VERSION_LINE.match(stripped)
                or _LINK_REFERENCE.match(stripped) or stripped.startswith(".. ") or _UNDERLINE.match(following)):
            joinable = False
            continue
        bullet = _BULLET.match(line)
        text = _plain(_BULLET.sub("", line) if bullet else line)
        lead = _BOLD_LEAD.match(_BULLET.sub("", line) if bullet else line)
        if lead:
            # "**Pretty-printed JSON in templates.** The jsonify extension ..." - the bold lead is the entry.
            bullet, text = True, _plain(lead.group(1))
        if not _LETTER.search(text) or _BARE_URL.fullmatch(text) or text.lower().startswith("full changelog"):
            continue
        if not bullet and joinable and entries and (line[:1].isspace() or not entries_bulleted[-1]):
            entries[-1] = f"{entries[-1]} {text}"
            continue
        entries.append(text)
        entries_bulleted.append(bool(bullet))
        joinable = True
    return list(zip(entries, entries_bulleted))


_NOTE_CHARS = 220
_BOLD_LEAD = re.compile(r"^\s*\*\*([^*]{3,}?)\*\*")
_CREDIT = re.compile(r"^(?:@[\w-]+|thanks\b|thank you\b|special thanks\b|many thanks\b|kudos\b|contributors?\b|"
                     r"new contributors?\b|huge thanks\b)", re.I)


def release_notes(patch: str, limit: int = 5) -> list[str]:
    """Up to ``limit`` plain entries the diff adds to release notes, unique, in order.

    Release notes are CHANGELOG*/CHANGES*/HISTORY*/NEWS*/RELEASE*NOTES* files (any folder, any
    extension) and files under changelog folders (changelog/, changelog.d/, changes/, .changes/,
    newsfragments/, news/, .changeset/). Headings, version/date lines, RST underlines, link
    references, HTML comments, front matter, code blocks, shell sessions and blank lines are
    skipped; bullet markers and Markdown/RST markup are removed; wrapped lines are joined to their
    entry. When the notes hold a list, only its items count; each note is cut to its first sentence.
    """
    entries: list[str] = []
    for path, lines in _patch_files(patch):
        if is_release_notes_path(path):
            # Credits ("Thanks to @x", "@x for ...") say who helped, not what changed.
            notes = [(text, bulleted) for text, bulleted in _note_entries(lines) if not _CREDIT.match(text)]
            # Where a file's notes are a list, the list is the account; a prose introduction is not.
            listed = any(bulleted for _, bulleted in notes)
            entries += [text for text, bulleted in notes if bulleted or not listed]
    found: list[str] = []
    for text in entries:
        note = first_sentences(text, limit=1, max_chars=_NOTE_CHARS)
        if note and not note.endswith(":") and note not in found:
            found.append(note)
    return found[:limit]


_HEADING = re.compile(r"^\s*(?:#+\s*(?P<md>.+?)\s*#*|\*\*(?P<bold>[^*]+?)\*\*:?|__(?P<under>[^_]+?)__:?)\s*$")
_AFFECTING_HEADING = re.compile(r"\b(?:breaking|backwards?[- ]incompatib\w*|incompatib\w*|removed|removals?|deprecat\w*|changed|"
                                r"behaviou?r changes?|changes in behaviou?r)\b", re.I)
_AFFECTING_ENTRY = re.compile(r"^\W*(?P<mark>breaking(?: changes?)?|removed|deprecated)\W*[:\]]", re.I)


def affecting_notes(patch: str, limit: int = 3) -> list[tuple[str, str]]:
    """``(heading, entry)`` for entries the diff adds to release notes that warn existing users.

    An entry warns when it sits under a heading that says Breaking, Changed, Removed, Deprecated
    or Incompatible (a Markdown ``#`` heading, a bold line or an underlined RST title, added or
    already there), or opens with such a mark ("- **Breaking:** drop Node 14"). Edits of old
    entries (``_added_lines``) do not count. Up to ``limit``, in order.
    """
    found: list[tuple[str, str]] = []
    for path, lines in _patch_files(patch):
        if not is_release_notes_path(path):
            continue
        added = Counter(_added_lines(lines))
        left = sum(added.values())  # added lines not yet read: none left, nothing more to find here
        heading = ""
        for i, line in enumerate(lines):
            if not left:
                break
            if line.startswith(("-", "@@")):
                continue
            text, following = line[1:], lines[i + 1][1:] if i + 1 < len(lines) else ""
            match = _HEADING.match(text)
            if match or (text.strip() and _UNDERLINE.match(following) and not _UNDERLINE.match(text)):
                heading = _plain(next(g for g in match.groups() if g) if match else text)
                continue
            if not line.startswith("+") or not added[line] or not re.search(r"[A-Za-z]", text) or _UNDERLINE.match(text):
                continue
            added[line] -= 1
            left -= 1
            mark = _AFFECTING_ENTRY.match(text)
            if _AFFECTING_HEADING.search(heading) or mark:
                found.append((mark["mark"] if mark else heading, _plain(_BULLET.sub("", text))))
                if len(found) >= limit:
                    return found
    return found


# --- categories -------------------------------------------------------------------------------

_DEPENDENCY_SUBJECT = re.compile(
    r"^(?:bump|update|upgrade|pin|downgrade)\s+(?:the\s+)?[\w@/.\-]+(?:\s+(?:action|requirement|dependency|docker tag|digest))?"
    r"\s+(?:from\s+\S+\s+to|to|from)\s+v?\d"                                  # "Bump x from 1 to 2", "Update x action to v4"
    r"|^bump the [\w.-]+ group\b"                                                 # dependabot groups
    r"|^(?:update|upgrade|bump|pin)\s+(?:dependency|module|rust crate|npm package|package|gem|crate)\s+\S+"
    r"|^(?:upgrade|bump|pin)\s+(?!version\b)[\w@/.\-]+$"                           # "Upgrade lodash"
    r"|\b(?:bump|update|upgrade|pin|refresh)\w*\s+(?:all\s+|the\s+|some\s+|npm\s+|python\s+|js\s+)?(?:dev\s*)?(?:dependenc(?:y|ies)|deps|requirements|lock\s*files?)\b"
    r"|\b(?:dependenc(?:y|ies)|deps)\s+(?:bump|update|upgrade)s?\b|^lock file maintenance\b|pre-commit autoupdate", re.I)
_DEPENDENCY_SUBJECT_HINTS = ("bump", "updat", "upgrad", "downgrad", "pin", "refresh", "lock file")
"""A cheap first look for ``_DEPENDENCY_SUBJECT``: each of its alternatives holds one of these."""
_DEPENDENCY_WORDS = re.compile(r"\b(bump\w*|updat\w*|upgrad\w*|pin\w*|dependenc\w*|deps)\b", re.I)
_CONVENTIONAL = {"feat": "feature", "fix": "fix", "docs": "docs", "test": "tests", "tests": "tests", "perf": "maintenance",
                 "build": "maintenance", "ci": "maintenance", "chore": "maintenance", "refactor": "maintenance",
                 "style": "maintenance", "revert": "maintenance", "security": "security", "release": "release", "deps": "dependencies"}


@functools.lru_cache(maxsize=1 << 12)  # a history has far fewer authors than commits
def _dependency_bot(author: str, email: str) -> bool:
    return bool(_DEPENDENCY_BOT.search(author) or _DEPENDENCY_BOT.search(email))


def _is_dependency_change(headline: str, paths: list[str], scope: str | None, conventional_type: str | None, author: str, email: str) -> bool:
    if paths and all(is_lock_path(p) or _is_pure_manifest(p) for p in paths):
        return True
    if paths and all(is_dependency_path(p) for p in paths) and (any(is_lock_path(p) for p in paths) or _DEPENDENCY_WORDS.search(headline)):
        return True
    if _dependency_bot(author, email):
        return True
    if conventional_type == "deps" or (scope or "").lower() in ("deps", "deps-dev", "dev-deps", "dependencies", "dependency"):
        return True
    return may_match(headline, _DEPENDENCY_SUBJECT_HINTS) and bool(_DEPENDENCY_SUBJECT.search(headline))


_DEVELOPMENT = re.compile(r"(?:[.+_-]?dev\d*|-snapshot)$", re.I)


def is_development_version(version: str) -> bool:
    """'3.1.3.dev', '2.0.0.dev0', '1.4-SNAPSHOT': the start of work on a release, not one users got."""
    return bool(_DEVELOPMENT.search(version))


def categorize(headline: str, paths: list[str], *, body: str = "", conventional_type: str | None = None, scope: str | None = None,
               author: str = "", email: str = "", tagged: bool = False, version: str | None = None) -> str:
    """One of CATEGORIES for a commit: paths first (they cannot lie), then the developer's words.

    The first rule that holds wins:

    0. ``tagged`` or a release headline (``release_version``) -> "release": a release often touches
       only its changelog, and it is a release whatever files it touches;
    1. paths: all documentation -> "docs"; all tests or documentation -> "tests";
    2. advisory ids (headline or body) or security wording (headline, or body unless a dependency bot
       wrote it: their bodies quote whole upstream changelogs) -> "security", even on a lock file;
    3. a changed ``version`` field -> "release" (not to a development version, '3.1.3.dev');
    4. dependencies: only lock files or pure manifests (requirements*.txt, Pipfile, Gemfile, go.mod);
       only dependency files with a lock file among them or bump/update/upgrade/pin words; a
       dependency bot (dependabot, renovate, ...); a dependency subject ("Bump x from 1 to 2",
       "Update dependency x to v3", "Upgrade lodash"); or conventional type/scope ``deps``;
    5. only CI files (``is_ci_path``) -> "maintenance";
    6. the conventional type: feat -> feature, fix -> fix, docs -> docs, test(s) -> tests,
       security -> security, release -> release; perf, build, ci, chore, refactor, style and revert
       -> maintenance (a speed-up changes no behaviour a manager would file as a feature);
    7. message words: revert; fix words or an opening fix verb ("Handle", "Avoid", "Prevent"); an
       opening maintenance verb; an opening feature verb; maintenance words; docs or test words
       without feature words; feature words; fix hints (negations, "should", "when");
    8. otherwise "maintenance".
    """
    if tagged or release_version(headline):
        return "release"
    if paths and all(is_doc_path(p) for p in paths):
        return "docs"
    if paths and all(is_test_path(p) or is_doc_path(p) for p in paths):
        return "tests"
    dependency_bot = _dependency_bot(author, email)
    # No advisory id spans lines: the headline and the body are looked at apart (the body is shared, looked at once).
    if advisories(headline) or advisories(body) or is_security_text(headline) or (not dependency_bot and is_security_text(body)):
        return "security"
    if version and not is_development_version(version):
        return "release"
    if _is_dependency_change(headline, paths, scope, conventional_type, author, email):
        return "dependencies"
    if paths and all(is_ci_path(p) for p in paths):
        return "maintenance"
    if conventional_type and conventional_type.lower() in _CONVENTIONAL:
        return _CONVENTIONAL[conventional_type.lower()]
    if _REVERT.match(headline):
        return "maintenance"
    if _FIX.search(headline) or _FIX_VERBS.match(headline):
        return "fix"
    if _MAINTENANCE_VERBS.match(headline):
        return "maintenance"
    if _FEATURE_VERBS.match(headline):
        return "feature"
    if _MAINTENANCE.search(headline):
        return "maintenance"
    if _DOCS_WORDS.search(headline) and not _FEATURE.search(headline):
        return "docs"
    if _TEST_WORDS.search(headline) and not _FEATURE.search(headline):
        return "tests"
    if _FEATURE.search(headline):
        return "feature"
    if _FIX_HINTS.search(headline):
        return "fix"
    return "maintenance"


@_per_path
def module_of(path: str) -> str:
    """The folder a file belongs to for the module level: its first folder, or TOP_LEVEL."""
    parts = PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else TOP_LEVEL


def area_of(changes: list[tuple[str, int]]) -> str:
    """The module that most changed lines of a commit fall in (ties: first seen)."""
    if not changes:
        return TOP_LEVEL
    if len(changes) == 1:
        return module_of(changes[0][0])
    weight: Counter[str] = Counter()
    for path, lines in changes:
        weight[module_of(path)] += max(lines, 1)
    return weight.most_common(1)[0][0]


def size_phrase(files: int, added: int, removed: int) -> str:
    """'3 files, +120/-4 lines': the size of a change in the words a manager reads."""
    return f"{files} file{'s' if files != 1 else ''}, +{added}/-{removed} lines"


_DOC_BLOCK = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|/\*\*(.*?)\*/', re.S)
_DOC_LINES = re.compile(r"^\s*(?:#|//)\s?(.*)$", re.M)


def doc_sentence(code: str) -> str:
    """The first sentence of a unit's own doc comment or docstring, or ''.

    Used when the model's answer fails the faithfulness check: the developer's words are a fact.
    """
    match = _DOC_BLOCK.search(code)
    if match:
        text = next(g for g in match.groups() if g is not None)
        text = re.sub(r"^\s*\*\s?", "", text, flags=re.M)
    else:
        text = " ".join(_DOC_LINES.findall("\n".join(code.splitlines()[:6])))
    text = " ".join(text.split())
    text = re.split(r"(?:^|\s)[@:](?:param|return|returns|throws|type|rtype)\b", text)[0].strip()
    text = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""
    if len(text.split()) < 3 or text.startswith(("@", ":param")):
        return ""
    return text if text.endswith((".", "!", "?")) else text + "."
