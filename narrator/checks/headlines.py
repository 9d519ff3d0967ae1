"""The checks a model headline, or a model sentence under a developer's subject, must pass before it is
shown: faithful to its input (``narrator.checks.faithful``), not contradicting the subject or git (a
test claimed where no test file changed, an addition where the diff only removes, a file not in the
change), not reading like a second subject, and adding something; each drop recorded with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass

from narrator.checks.faithful import Checked, check
from narrator.facts import subjects
from narrator.facts.changes import content_words
from narrator.facts.commit_style import is_commit_style
from narrator.facts.paths import is_test_path


@dataclass(frozen=True)
class Verdict:
    """The model's sentence after every check: the text to show ('' for none) and why it went."""

    text: str
    dropped: str | None
    """None when kept; else 'faithfulness', 'contradicts the subject', 'reads like a commit subject',
    one of ``GIT_CHECKS`` or 'adds nothing to the subject'."""
    checked: Checked


# Words that let a sentence sound informative while saying nothing about this change.
_FILLER = frozenset("""new code change changed file good thing better easier simpler more less also make made
readable understand understandable clear clearer format formatting style
using used use work working correct correctly proper properly different update updated software user people
project feature function method part version way thing some other now much very well help helps need needed
read readable concise clean cleaner""".split())


def adds_nothing(subject: str, sentence: str, source: str) -> bool:
    """True when ``sentence`` names nothing from its input that the subject does not already say.

    A sentence under a developer's subject must bring at least one content word of four letters or
    more that the subject lacks and that occurs in what the model was shown (the diff, the file
    names): "The new code is more concise and easier to read." brings only filler.
    """
    # Only what the change shows counts, not the words of the question around it.
    shown = source[source.find("Files changed:"):].lower() if "Files changed:" in source else source.lower()
    new = content_words(sentence) - content_words(subject) - _FILLER
    return not any(len(word) >= 4 and word in shown for word in new)


def restates(sentence: str, said: str) -> bool:
    """True when ``sentence`` mostly repeats ``said`` (people's words shown above it): at least
    three in four of its content words are theirs, or a longer form of theirs ('faster' of
    'fast'). "Faster, unopinionated, minimalist web framework." under the package description
    "Fast, unopinionated, minimalist web framework." adds nothing a reader needs."""
    words = content_words(sentence) - _FILLER
    theirs = content_words(said)
    if not words or not theirs:
        return False
    same = sum(1 for w in words if w in theirs or any(len(t) >= 4 and w.startswith(t) for t in theirs))
    return same >= 0.75 * len(words)


_NEGATION = re.compile(r"\b(not|no longer|never|cannot)\b|n't\b", re.I)
_MOVE = re.compile(r"\b(mov(e|es|ed|ing)|renam(e|es|ed|ing)|relocat\w*|different (directory|folder|location|place))\b", re.I)


_TEST_CLAIM = re.compile(r"\b(?:unit |integration |regression )?tests?\b|\btest (?:case|suite)s?\b", re.I)

GIT_CHECKS = ("contradicts git", "claims a test no test file changed", "claims an addition the diff does not make",
              "claims a removal the diff does not make", "names a file not in the change")
"""Why a model sentence that git denies is dropped, one reason per check (stored as its ``dropped`` flag)."""

_FILE_TYPES = ("py pyi js jsx mjs cjs ts tsx go rs java kt kts rb php c h cc cpp hpp cs swift scala sh bash ps1 md rst "
               "txt adoc html htm css scss sass less vue svelte json jsonl yml yaml toml ini cfg conf xml csv sql lock "
               "gradle properties env proto graphql tf ipynb mod sum").split()
# A file a sentence names: a path with an extension ("src/app.py", "docs/guide.adoc") or a name with a
# file type's extension ("config.yml", "README.md", ".env"); not a call ("response.json()") or a URL.
_FILE_NAME = re.compile(r"(?<![\w/.:-])(?:(?:[\w.-]+/)+[\w.-]*\.[A-Za-z]\w{0,7}|[\w.-]*\.(?:%s))(?![\w/(-])"
                        % "|".join(_FILE_TYPES), re.I)


def files_named(sentence: str) -> list[str]:
    """The file names and paths ``sentence`` names (``_FILE_NAME``), without a closing full stop."""
    return [m.group(0).rstrip(".") for m in _FILE_NAME.finditer(sentence) if m.group(0).rstrip(".") not in ("", ".")]


def names_another_file(sentence: str, paths: list[str]) -> list[str]:
    """The files ``sentence`` names that are not among the change's ``paths``: a name counts as the
    change's when a changed path ends with it ("app.py", "src/app.py") or has its base name."""
    changed = [p.lower() for p in paths]
    bases = {p.rsplit("/", 1)[-1] for p in changed}
    return [name for name in files_named(sentence)
            if name.lower().rsplit("/", 1)[-1] not in bases and not any(p.endswith(name.lower()) for p in changed)]


def contradicts_git(sentence: str, files: list[dict]) -> str | None:
    """Which of ``GIT_CHECKS`` ``sentence`` fails against the commit's ``files`` (``{path, change,
    added, removed}``), or None: a move or rename where no file was renamed ('contradicts git'); a
    test where no test file changed, or an added test where test files only lost lines; an addition
    ("Add", "Introduce", ...) where the diff only removes; a removal where it only adds; a file name
    or path ("config.yml", "src/app.py") that is none of the changed files (``names_another_file``)."""
    if _MOVE.search(sentence) and not any(f.get("change") == "renamed" for f in files):
        return GIT_CHECKS[0]
    action = subjects.action(sentence)
    if _TEST_CLAIM.search(sentence):
        tests = [f for f in files if is_test_path(f.get("path", ""))]
        if not tests or (action == "add" and not any(_added(f) for f in tests)):
            return GIT_CHECKS[1]
    if action == "add" and not any(_added(f) for f in files):
        return GIT_CHECKS[2]
    if action == "remove" and not any(_removed(f) for f in files):
        return GIT_CHECKS[3]
    if names_another_file(sentence, [f.get("path", "") for f in files]):
        return GIT_CHECKS[4]
    return None


def _added(file: dict) -> bool:
    return file.get("added", 0) > 0 or file.get("change") == "added"


def _removed(file: dict) -> bool:
    return file.get("removed", 0) > 0 or file.get("change") == "deleted"


def check_explanation(answer: str, source: str, subject: str, files: list[dict] | None = None) -> Verdict:
    """One model sentence under an informative subject: faithful, consistent with the subject and
    with git, adding something. ``files`` are the commit's ``{path, change, added, removed}``."""
    checked = check(answer, source, max_sentences=1)
    if not checked.text:
        return Verdict("", "faithfulness", checked)
    if subjects.contradicts(subject, checked.text) or (_NEGATION.search(checked.text) and not _NEGATION.search(subject)):
        # A negation the developer did not write ("The test is not supported") turns the change around.
        return Verdict("", "contradicts the subject", checked)
    if is_commit_style(checked.text):
        # "Remove the use_git option." is a second, competing subject, not an explanation of the first.
        return Verdict("", "reads like a commit subject", checked)
    if files is not None and (denied := contradicts_git(checked.text, files)):
        return Verdict("", denied, checked)
    if adds_nothing(subject, checked.text, source):
        return Verdict("", "adds nothing to the subject", checked)
    return Verdict(checked.text, None, checked)


def check_headline(answer: str, source: str, files: list[dict] | None = None) -> Verdict:
    """A model headline for a change whose people's words say nothing: faithful, one sentence, and
    claiming nothing that the commit's ``files`` deny (``contradicts_git``)."""
    checked = check(answer, source, max_sentences=1)
    if not checked.text:
        return Verdict("", "faithfulness", checked)
    if files is not None and (denied := contradicts_git(checked.text, files)):
        return Verdict("", denied, checked)
    return Verdict(checked.text, None, checked)
