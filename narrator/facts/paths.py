"""What a file's path says it is: documentation, tests, lock files and manifests, CI, release notes,
and the area (top-level folder) it belongs to. Pure functions of the path, computed from git, never
generated.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import PurePosixPath

# The path rules below are pure and a long history names the same paths thousands of times.
_per_path = functools.lru_cache(maxsize=1 << 16)

TOP_LEVEL = "(top level)"

_DOC_SUFFIXES = {".md", ".rst", ".adoc"}


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


# --- paths: release notes ---------------------------------------------------------------------

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


# --- paths: modules ---------------------------------------------------------------------------

@_per_path
def area_of(path: str) -> str:
    """The area a file belongs to: its top-level folder, or TOP_LEVEL."""
    parts = PurePosixPath(path).parts
    return parts[0] if len(parts) > 1 else TOP_LEVEL


def busiest_area(changes: list[tuple[str, int]]) -> str:
    """The area that most changed lines of a commit fall in (ties: first seen)."""
    if not changes:
        return TOP_LEVEL
    if len(changes) == 1:
        return area_of(changes[0][0])
    weight: Counter[str] = Counter()
    for path, lines in changes:
        weight[area_of(path)] += max(lines, 1)
    return weight.most_common(1)[0][0]
