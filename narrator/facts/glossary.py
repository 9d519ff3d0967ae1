"""Plain explanations of the software jargon a manager meets in commit headlines.

The terms live in ``glossary.json`` next to this module (a plain package data file): each entry is
``{"Display term": {"aliases": [...], "explanation": "One sentence."}}``. Matching is on whole
words. An alias with two or more capitals ("CVE", "PyPI", "DoS") is an acronym and matches in that
case only, plus a plural "s"; any other alias matches in any case, with simple plurals ("caches",
"dependencies"). A word joined by a hyphen to letters is not a match ("pre-commit" is not "commit"),
but an id is ("CVE-2024-1234" is a CVE).

A word with another sense outside software delivery ("containers" in "JsonType containers", "EOL" for
end of line) is glossed only in its sense. An entry may say so with two optional lists of words,
matched in the same text as whole words in any case, with simple plurals:

- ``"only_with"``: the term is glossed only when one of these words is in the text too ("container"
  only with "docker", "image", "kubernetes" ...). List the entry's own plain aliases here too when
  they need no context ("docker").
- ``"not_with"``: the term is not glossed when one of these words is in the text ("EOL" not with
  "line" or "CRLF").

Speed: every spelling of every alias is in one compiled pattern, shaped as a tree of shared prefixes
and built once, so a text is scanned once, comparing each character once, whatever the glossary's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

_CONTEXT_KEYS = ("only_with", "not_with")


def load() -> dict[str, dict[str, object]]:
    """The glossary: display term -> {"aliases", "explanation", optional "only_with"/"not_with"}, a fresh copy each call."""
    data = json.loads(resources.files("narrator.facts").joinpath("glossary.json").read_text(encoding="utf-8"))
    for term, entry in data.items():
        if not isinstance(entry.get("explanation"), str) or not isinstance(entry.get("aliases"), list):
            raise ValueError(f"glossary entry {term!r} needs an explanation and a list of aliases")
        if any(not isinstance(entry.get(key, []), list) for key in _CONTEXT_KEYS):
            raise ValueError(f"glossary entry {term!r}: only_with and not_with are lists of words")
    return data


def _is_acronym(alias: str) -> bool:
    return sum(c.isupper() for c in alias) >= 2


def _forms(alias: str) -> list[str]:
    """Every spelling an alias matches, words joined by one space: the alias and its simple plurals
    (acronyms: "CVEs"; "dependency": "dependencies"; others: "caches", "lints")."""
    alias = " ".join(alias.split())
    if _is_acronym(alias):
        return [alias, alias + "s"]
    if alias.endswith("y") and len(alias) > 2:
        return [alias, alias[:-1] + "ies"]
    return [alias, alias + "s", alias + "es"]


def _trie_pattern(forms: Iterable[str]) -> str:
    """One alternation matching any of ``forms``, shaped as a tree of shared prefixes, so the engine
    compares each character once instead of trying every alias in turn; longer forms are tried first.
    A space matches any run of white space."""
    trie: dict = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [(r"\s+" if char == " " else re.escape(char)) + emit(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def _words_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Any of ``words`` as a whole word, in any case, with simple plurals; None for no words."""
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:s|es)?(?![\w]|-[A-Za-z])", re.I)


@dataclass(frozen=True)
class _Term:
    name: str
    explanation: str
    only_with: re.Pattern[str] | None
    not_with: re.Pattern[str] | None

    def fits(self, text: str) -> bool:
        """Whether the text uses the term in its glossary sense (see the module's context lists)."""
        if self.only_with is not None and not self.only_with.search(text):
            return False
        return self.not_with is None or not self.not_with.search(text)


@dataclass(frozen=True)
class _Matcher:
    pattern: re.Pattern[str]
    acronyms: dict[str, _Term]
    """Term by exact spelling ("CVEs")."""
    words: dict[str, _Term]
    """Term by lower-case spelling ("dependencies")."""


@lru_cache(maxsize=1)
def _matcher() -> _Matcher:
    """The one pattern of every alias of every term (built once), and the term of each spelling."""
    acronyms: dict[str, _Term] = {}
    words: dict[str, _Term] = {}
    for name, entry in load().items():
        term = _Term(name, str(entry["explanation"]), _words_pattern(entry.get("only_with", [])),  # type: ignore[arg-type]
                     _words_pattern(entry.get("not_with", [])))  # type: ignore[arg-type]
        for alias in {name, *entry["aliases"]}:  # type: ignore[misc]
            for form in _forms(alias):
                if _is_acronym(alias):
                    acronyms.setdefault(form, term)
                else:
                    words.setdefault(form.lower(), term)
    # A word start (not after a letter, digit, "_" or "-"); an acronym in its own case, then any other
    # alias in any case; a word end, where "-" and letters continue the word ("pre-commit") but "-" and
    # digits do not ("CVE-2024-1234").
    pattern = re.compile(
        rf"(?<![\w-])(?:(?P<acronym>(?-i:{_trie_pattern(acronyms)}))(?!\w)"
        rf"|(?P<word>{_trie_pattern(sorted(words))})(?![\w]|-[A-Za-z]))",
        re.I,
    )
    return _Matcher(pattern, acronyms, words)


@dataclass(frozen=True)
class Use:
    """One use of a glossary term in a text: where it stands (``text[start:end]``) and what it means."""

    start: int
    end: int
    term: str
    explanation: str


_ADDRESS = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.I)
"""A web address (scheme or www. onwards) in a text."""


def uses(text: str) -> list[Use]:
    """Every use of a glossary term in ``text``, in order, each spelling as written.

    Where aliases overlap at one place ("pull request" and "pull"), the longer one wins; a term used
    in another sense (its ``only_with``/``not_with`` words) is left out.
    """
    matcher = _matcher()
    found: list[Use] = []
    # Nothing inside a web address is a word to explain ('https' in https://github.com/…).
    addresses = [m.span() for m in _ADDRESS.finditer(text)] if ("://" in text or "www." in text) else []
    for match in matcher.pattern.finditer(text):
        if any(start <= match.start() < end for start, end in addresses):
            continue
        spelling = " ".join(match.group().split())
        term = matcher.acronyms[spelling] if match.group("acronym") else matcher.words[spelling.lower()]
        if term.fits(text):
            found.append(Use(match.start(), match.end(), term.name, term.explanation))
    return found


def terms_in(text: str) -> list[tuple[str, str]]:
    """(display term, explanation) for each glossary term in ``text``, unique, in order of appearance
    (see :func:`uses`)."""
    return list(dict.fromkeys((use.term, use.explanation) for use in uses(text)))


def footnotes(texts: Iterable[str]) -> list[tuple[str, str]]:
    """The glossary terms of several texts, unique, in first-seen order: footnotes for a page."""
    return list(dict.fromkeys(pair for text in texts for pair in terms_in(text)))


_PROPER = ("Python", "JavaScript", "Rust", "Ruby", "Go ", "Git", "GitHub", "Java", "Linux", "Windows")
"""An explanation opening with one of these keeps its capital when it is written inline."""

Gloss = tuple[int, str]
"""Where to explain a term (the offset just after it in its text) and the words to put there."""


def inline_words(explanation: str) -> str:
    """An explanation as it reads inline, in parentheses after its term: "Continuous integration:
    automatic builds ... a change." -> "(continuous integration: automatic builds ... a change)"."""
    words = explanation.strip().rstrip(".")
    first = words.split(" ", 1)[0]
    if words[:1].isupper() and not words.startswith(_PROPER) and not any(c.isupper() for c in first[1:]):
        words = words[0].lower() + words[1:]
    return f"({words})"


def with_glosses(text: str, glosses: Iterable[Gloss]) -> str:
    """``text`` with each gloss's words inserted after its term, as the reader sees it; a gloss past
    the end of ``text`` (a text cut short to fit a page) is left out."""
    out, at = [], 0
    for end, words in sorted(glosses):
        if end > len(text):
            break
        out += [text[at:end], " ", words]
        at = end
    return "".join(out) + text[at:]


class Explained:
    """The terms one document has explained so far: the first use of each term in the document gets
    its explanation inline, right after it ("CI (continuous integration: ...)"), and no later one.

    Only the rendered text changes: what people wrote is kept as it is, and the gloss goes beside it.
    """

    def __init__(self) -> None:
        self.terms: dict[str, str] = {}
        """Term -> explanation, in the order the document first used them."""

    def glosses(self, text: str) -> tuple[Gloss, ...]:
        """Where ``text`` needs an explanation (terms the document has not explained yet), and note
        those terms as explained."""
        found: list[Gloss] = []
        for use in uses(text or ""):
            if use.term not in self.terms:
                self.terms[use.term] = use.explanation
                found.append((use.end, inline_words(use.explanation)))
        return tuple(found)

    def explain(self, text: str) -> str:
        """``text`` with its first uses of new terms explained inline (see :meth:`glosses`)."""
        return with_glosses(text, self.glosses(text))
