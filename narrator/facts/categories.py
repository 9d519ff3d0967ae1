"""The category of a change, computed from git, never generated: paths first, then the developer's
words; also a change's size in words and a unit's own doc sentence.

The model writes only short "what" sentences; everything a manager might count or filter on comes
from here (and the path, security and release facts it reads), so it is exact and repeatable.
"""

from __future__ import annotations

import functools
import re

from narrator.facts.paths import (
    _is_pure_manifest,
    is_ci_path,
    is_dependency_path,
    is_doc_path,
    is_lock_path,
    is_test_path,
)
from narrator.facts.prefilter import may_match
from narrator.facts.releases import is_development_version, release_version
from narrator.facts.security import advisories, is_security_text

CATEGORIES = ("feature", "fix", "security", "release", "dependencies", "docs", "tests", "maintenance")

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


# --- people -----------------------------------------------------------------------------------

_BOT = re.compile(r"\[bot\]|\b(dependabot|renovate|pre-commit-ci|github-actions|greenkeeper|snyk-bot|pyup-bot|depfu|mend-bolt|whitesource)\b", re.I)
_DEPENDENCY_BOT = re.compile(r"\b(dependabot|renovate|pre-commit-ci|greenkeeper|snyk-bot|pyup-bot|depfu|mend|whitesource)", re.I)


def is_bot(author: str, email: str = "") -> bool:
    """Automated authors: dependabot, renovate, pre-commit-ci, github-actions, ... and any "[bot]" account."""
    return bool(_BOT.search(author) or _BOT.search(email))


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
