"""The developer's commit subject, read as a headline a manager can trust.

A developer's own words are trusted over model text, so this module turns a raw subject (and, for
merges, the body) into a clean headline plus the evidence it carried: the conventional-commit type
and scope, a breaking-change mark and issue/PR references. It also says when a subject tells a
reader nothing ("wip", "Fix #12", a bare merge) so callers can look elsewhere for words.

Everything here is a pure function of text: no git, no model.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from narrator.facts import prefixes
from narrator.facts.prefilter import may_match
from narrator.facts.provenance import Source
from narrator.facts.releases import release_version

CONVENTIONAL_TYPES = frozenset(
    {"feat", "fix", "docs", "style", "refactor", "perf", "test", "tests", "build", "ci", "chore", "revert", "deps", "security", "release"}
)


@dataclass(frozen=True)
class Subject:
    """A commit subject read as a headline."""

    headline: str
    """The developer's words: conventional prefix and trailing "(#123)" refs removed, first letter capitalised."""
    source: Source
    """Source.DEVELOPER, or Source.PULL_REQUEST when a merge is headed by its pull/merge request title."""
    conventional_type: str | None
    """"feat", "fix", ... lowercased as written (so "tests" stays "tests"), from ``type(scope)!:``."""
    scope: str | None
    """The ``(scope)`` of a conventional subject, or a lowercase area prefix such as ``api:``."""
    breaking: bool
    """A ``!`` before the colon, or "BREAKING CHANGE" in the body."""
    refs: tuple[str, ...]
    """Issue/PR references as written: "#123", "GH-12", "owner/repo#5", "!12", "group/proj!12", "PROJ-123"."""
    informative: bool
    """Whether the headline tells a reader something."""
    reason: str | None
    """Why not informative: "too short", "generic words only", "issue number only" or "bare merge"."""


# --- references -------------------------------------------------------------------------------

# Uppercase "KEY-123" words that are not tracker keys (advisory ids, encodings, standards).
_NOT_TICKETS = frozenset({"CVE", "GHSA", "PYSEC", "RUSTSEC", "GO", "CWE", "OSV", "UTF", "ISO", "SHA", "MD", "RFC", "PEP",
                          "HTTP", "TLS", "SSL", "IPV", "AES", "RSA", "ES", "ECMA", "WIN", "X", "BASE", "LATIN", "COVID"})
_REF = re.compile(
    r"(?P<repo>\b[\w.-]+/[\w./-]*[\w-][#!]\d+\b)"              # owner/repo#5, group/proj!12
    r"|(?P<hash>(?<![\w/&])#\d+\b)"                            # #123
    r"|(?P<mr>(?<![\w!/])!\d+\b)"                               # !12 (GitLab merge request)
    r"|(?P<gh>\b(?:GH|gh|bpo)-\d+\b)"                           # GH-12, gh-104773 (CPython), bpo-1234
    r"|(?P<key>\b[A-Z][A-Z0-9]{1,9}-\d+\b(?![-.]\d))"          # PROJ-123 (Jira style)
)
_TRAILING_REFS = re.compile(r"\s*[(\[]\s*(?:(?:#|GH-|gh-|!)\d+|[\w.-]+/[\w.-]+[#!]\d+|[A-Z][A-Z0-9]+-\d+)"
                            r"(?:\s*,\s*(?:(?:#|GH-|gh-|!)\d+|[\w.-]+/[\w.-]+[#!]\d+|[A-Z][A-Z0-9]+-\d+))*\s*[)\]]\s*$")
_TICKET = r"(?:[Gg][Hh]-\d+|bpo-\d+|[A-Z][A-Z0-9]{1,9}-\d+)"
_LEADING_REF = re.compile(rf"^\s*(?:\[{_TICKET}\]\s*:?|{_TICKET}:)\s+")


_DASH_NUMBER = re.compile(r"-\d")


def _may_refer(text: str) -> bool:
    """False when ``text`` holds no reference: each kind of ``_REF`` (and of ``_TRAILING_REFS``) has
    a "#", a "!" or a "-" before a digit in it ("GH-12", "PROJ-123"; not "t/t1234-foo", "--all")."""
    return "#" in text or "!" in text or ("-" in text and _DASH_NUMBER.search(text) is not None)


def find_refs(text: str) -> tuple[str, ...]:
    """Issue and pull/merge request references in ``text``, unique, in order of appearance."""
    if not _may_refer(text):
        return ()
    found: list[str] = []
    for match in _REF.finditer(text):
        ref = match.group(0)
        if match.lastgroup == "key" and ref.split("-")[0] in _NOT_TICKETS:
            continue
        if ref not in found:
            found.append(ref)
    return tuple(found)


# --- conventional prefixes --------------------------------------------------------------------

_TYPE = re.compile(r"[A-Za-z][\w/.-]*")  # a type or an area, as a headline's prefix may name one
# Lowercase words that end in ":" but are not an area of the code.
_NOT_AREAS = frozenset({"note", "notes", "nb", "todo", "fixme", "hack", "wip", "warning", "important", "re", "fwd", "ps",
                        "http", "https", "update", "updated", "fixes", "fixed", "closes", "see", "breaking"})


def _split_prefix(text: str) -> tuple[str | None, str | None, bool, str]:
    """(conventional type, scope, bang, rest) of ``text``; the type is None for a plain area prefix.

    A known type matches in any case ("Feat: x"). Any other ``word:`` is stripped only when it looks
    like an area of the code: lowercase, no spaces, at most 30 characters (``api:``, ``cli/parser:``).
    """
    found = prefixes.prefix(text)
    if (not found or not found.spaced or not found.rest or not _TYPE.fullmatch(found.type)
            or "(" in (found.scope or "")):
        return None, None, False, text
    kind, rest = found.type, found.rest
    scope = found.scope.strip() or None if found.scope is not None else None
    if kind.lower() in CONVENTIONAL_TYPES:
        return kind.lower(), scope, found.bang, rest
    if kind == kind.lower() and len(kind) <= 30 and kind not in _NOT_AREAS and not kind.isdigit():
        return None, scope or kind, found.bang, rest
    return None, None, False, text


@functools.lru_cache(maxsize=1 << 12)  # read twice per commit: for its headline and for uninformative_reason
def _clean(text: str) -> tuple[str | None, str | None, bool, str]:
    """(type, scope, bang, headline) with leading ticket keys, the prefix and trailing refs removed."""
    text = " ".join(text.split())
    # Cheap first looks: a ticket key has a "-", trailing refs close with ")" or "]".
    text = _LEADING_REF.sub("", text) if "-" in text else text
    kind, scope, bang, rest = _split_prefix(text)
    rest = _LEADING_REF.sub("", rest) if "-" in rest else rest
    if _may_refer(rest) and rest.rstrip().endswith((")", "]")):
        rest = _TRAILING_REFS.sub("", rest)
    return kind, scope, bang, capitalise(rest.strip())


_VERSION_START = re.compile(r"v\d")


def capitalise(text: str) -> str:
    """First letter upper-cased, except in a version such as "v2.7.1"."""
    return text if _VERSION_START.match(text) else text[:1].upper() + text[1:]


# --- informativeness --------------------------------------------------------------------------

_GENERIC = frozenset("""
update updates updated updating fix fixes fixed fixing wip change changes changed misc cleanup clean cleaned tweak tweaks
tweaked minor stuff more test tests testing commit commits save saved temp tmp typo typos refactor refactoring work
progress improve improves improved improvement improvements bugfix bugfixes fixup squash edit edits final done initial
bump version merge merged pr review feedback comment comments address addressed apply applied suggestion suggestions
lint linting format formatting style things thing issue issues problem problems bug bugs code files file some small
the a an it its this that these those up and or of to in on for with from again now various few all latest new old
another other first second last quick random try attempt asdf foo oops
""".split())
_ISSUE_WORDS = frozenset("fix fixes fixed close closes closed resolve resolves resolved ref refs see issue issues for re address addresses and".split())
_BARE_MERGE = re.compile(
    r"^(?:merge (?:remote-tracking )?branch(?:es)?\b|merge (?:pull request|tag|commit)\b|merged (?:in|pr)\b|merge '[^']+'"
    r"|merge [\w./-]+ into [\w./-]+$)", re.I)
_WORD = re.compile(r"[A-Za-z0-9][\w.'+/-]*")


def uninformative_reason(text: str) -> str | None:
    """Why ``text`` tells a reader nothing, or None when it is a usable headline.

    Checked in this order: "bare merge" (a merge subject, e.g. "Merge branch 'main' into dev"),
    "issue number only" ("#123", "Fix #12", "Closes #4"), "generic words only" ("Minor fixes",
    "Update the code"), "too short" (under 10 letters, "Add login"; a single word; or two words
    one of which is generic, "Update README.md"). A file name or any other specific word counts as
    naming something, so "Update the README", "Fix typo in README" and "Upgrade content-disposition"
    are informative, and so is an area prefix: "projects_using_cobra: add Ollama" says what and
    where. A release headline ("Release 2.7.1", "v2.7.1") always is.
    """
    kind, scope, _bang, headline = _clean(text)
    if _BARE_MERGE.match(headline):
        return "bare merge"
    if release_version(text) or release_version(headline):
        return None
    refs = find_refs(headline)
    rest = _REF.sub(" ", headline) if _may_refer(headline) else headline
    words = [w.lower().strip(".'") for w in _WORD.findall(rest)]
    words = [w for w in words if w]
    if refs and all(w in _ISSUE_WORDS for w in words):
        return "issue number only"
    if not words:
        return "too short"
    if all(w in _GENERIC for w in words):
        return "generic words only"
    # A conventional type or an area is a word of its own: "docs: explain hooks" says what and where.
    named = len(words) + (1 if kind or scope else 0)
    letters = sum(map(str.isalpha, rest)) + (0 if kind else sum(map(str.isalpha, scope or "")))
    if letters < 10 or named < 2 or (named < 3 and any(w in _GENERIC for w in words)):
        return "too short"
    return None


# --- merges -----------------------------------------------------------------------------------

_GITHUB_PR = re.compile(r"^Merge pull request (?P<ref>#\d+) from (?P<branch>\S+)", re.I)
_BITBUCKET_PR = re.compile(r"^Merged in (?P<branch>\S+) \(pull request (?P<ref>#\d+)\)", re.I)
_AZURE_PR = re.compile(r"^Merged PR (?P<num>\d+):\s*(?P<title>.+)$", re.I)
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch(?:es)? '(?P<branch>[^']+)'", re.I)
_MR_LINE = re.compile(r"^See merge request (?P<ref>\S+![0-9]+)", re.I | re.M)
_NOISE_LINE = re.compile(r"^(?:[\w-]+-by:|See merge request|#?\s*Conflicts:|Approved-by:|\* )", re.I)
_BRANCH_NOISE = frozenset({"feature", "features", "feat", "topic", "topics", "wip", "user", "users", "dev", "origin", "upstream"})


def _body_title(body: str) -> str:
    """The first line of a merge body when it reads as a title (not a trailer or conflict list)."""
    for line in body.splitlines():
        line = line.strip()
        if line:
            return "" if _NOISE_LINE.match(line) else line
    return ""


def humanise_branch(branch: str) -> str:
    """'owner/feature/fix-login_timeout' style branch names as words: 'Fix login timeout'.

    Drops a remote/owner and folder prefixes such as ``feature/``; ticket keys are left for refs.
    """
    parts = [p for p in branch.split("/") if p]
    while len(parts) > 1 and (parts[0].lower() in _BRANCH_NOISE or parts[0].lower() in CONVENTIONAL_TYPES - {"fix"}):
        parts = parts[1:]
    words = " ".join(parts).replace("-", " ").replace("_", " ")
    words = re.sub(r"\b[A-Z][A-Z0-9]{1,9} \d+\b", "", words)  # ticket keys, kept as refs instead
    return capitalise(" ".join(words.split()))


def _merge(subject: str, body: str) -> tuple[str, str, tuple[str, ...], str | None] | None:
    """(text, source, refs, reason) for a merge subject, or None when ``subject`` is not one.

    ``text`` is the words to read as the headline (a title or a humanised branch) when ``reason`` is
    None, else the merge subject itself.
    """
    title = _body_title(body)
    title_refs = find_refs(title)
    if match := _AZURE_PR.match(subject):
        return match["title"], Source.PULL_REQUEST, (f"!{match['num']}",), None
    github = _GITHUB_PR.match(subject)
    match = github or _BITBUCKET_PR.match(subject)
    if match:
        branch = match["branch"].split("/", 1)[1] if github and "/" in match["branch"] else match["branch"]
        refs = _unique((match["ref"], *find_refs(branch), *title_refs))
        if title and uninformative_reason(title) is None:
            return title, Source.PULL_REQUEST, refs, None
        human = humanise_branch(branch)  # only when the title says nothing
        if human and uninformative_reason(human) is None:
            return human, Source.PULL_REQUEST, refs, None
        return subject, Source.PULL_REQUEST, refs, "bare merge"
    mr = _MR_LINE.search(body)
    refs = _unique((*find_refs(subject), *title_refs, *((mr["ref"],) if mr else ())))
    source = Source.PULL_REQUEST if mr else Source.DEVELOPER
    if title and uninformative_reason(title) is None:
        return title, source, refs, None
    if match := _BRANCH_MERGE.match(subject):
        branch = match["branch"]
        branch = branch.split("/", 1)[1] if branch.startswith(("origin/", "upstream/")) else branch
        human = humanise_branch(branch)
        if uninformative_reason(human) is None:
            return human, source, refs, None
        return subject, source, refs, "bare merge"
    return None


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --- the public reader ------------------------------------------------------------------------

_BREAKING = re.compile(r"\bBREAKING[ -]CHANGES?\b")
_BODY_REF_LINE = re.compile(r"^\s*(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|refs?|see|part of|related(?: to)?)\b:?.*$", re.I | re.M)
_BODY_REF_HINTS = ("close", "fix", "resolve", "ref", "see", "part of", "related")
"""A cheap first look for ``_BODY_REF_LINE``: each of its lines opens with one of these."""


def read_subject(subject: str, body: str = "", is_merge: bool = False) -> Subject:
    """Read a commit's first line (and body, for merges and breaking marks) as a headline.

    Merges are recognised by their subject ("Merge pull request #1 from ...", "Merge branch 'x'",
    "Merged in x (pull request #2)", "Merged PR 3: ...") whether or not ``is_merge`` is set; a
    pull/merge request's title in the body becomes the headline, else the branch name in words, else
    the merge is a "bare merge". Refs come from the subject, plus the body for merges and plain
    "Closes #4"-style body lines otherwise.
    """
    first = subject.strip().splitlines()[0] if subject.strip() else ""
    breaking = "BREAKING" in body and bool(_BREAKING.search(body))
    merged = _merge(first, body) if (is_merge or _BARE_MERGE.match(first)) else None
    if merged is None and is_merge and uninformative_reason(first) is None:
        # Not git's merge wording: the developer titled it ('Add PowerShell completion (#3637)').
        merged = (first, Source.DEVELOPER, find_refs(first), None)
    elif merged is None and is_merge:
        title = _body_title(body)
        usable = bool(title) and uninformative_reason(title) is None
        merged = (title, Source.DEVELOPER, find_refs(first + "\n" + title), None) if usable else (
            first, Source.DEVELOPER, find_refs(first), "bare merge")
    if merged is not None:
        text, source, refs, reason = merged
        kind, scope, bang, headline = _clean(text) if reason is None else (None, None, False, text)
        return Subject(headline, source, kind, scope, breaking or bang, refs, reason is None, reason)
    kind, scope, bang, headline = _clean(first)
    # A body with no reference character, or none of the words that open a reference line, adds none.
    body_refs = find_refs("\n".join(m.group(0) for m in _BODY_REF_LINE.finditer(body))) if (
        _may_refer(body) and may_match(body, _BODY_REF_HINTS)) else ()
    refs = _unique((*find_refs(first), *body_refs))
    reason = uninformative_reason(first)
    return Subject(headline, Source.DEVELOPER, kind, scope, breaking or bang, refs, reason is None, reason)


# --- contradictions ---------------------------------------------------------------------------

_REMOVAL = ("remov", "drop", "delet", "deprecat", "revert", "disabl", "eliminat", "retir", "undo", "strip")
_ADDITION = ("add", "introduc", "creat", "enabl", "implement", "support", "includ")
_ENDINGS = ("", "e", "s", "es", "ed", "d", "ing", "ped", "ping", "ion", "ions")
_LEAD_FILLER = frozenset("this the a an commit change changeset patch pr it now also we developer developers code that which then here simply finally".split())


def action(text: str) -> str | None:
    """'remove' or 'add' for the leading verb of ``text`` (after a conventional prefix), else None."""
    _kind, _scope, _bang, rest = _clean(text)
    for word in re.findall(r"[a-z]+", rest.lower()):
        if word in _LEAD_FILLER:
            continue
        for kind, stems in (("remove", _REMOVAL), ("add", _ADDITION)):
            if any(word.startswith(s) and word[len(s):] in _ENDINGS for s in stems):
                return kind
        return None
    return None


def contradicts(subject: str, sentence: str) -> bool:
    """Whether ``sentence`` says the opposite of ``subject``: one removes what the other adds.

    Judged on the leading verb of each (after a conventional prefix and filler such as "This
    commit"), with stems, so "Drop X" vs "Adds X" contradicts and "Remove X" vs "Deletes X" agrees.
    """
    ours, theirs = action(subject), action(sentence)
    return ours is not None and theirs is not None and ours != theirs
