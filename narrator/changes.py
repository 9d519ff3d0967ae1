"""A commit told in people's words first: its headline, category, release, advisories and notes.

Everything here is computed from git and from what developers wrote (the subject, the message body,
a pull request's title, lines added to a changelog), never by the model. The model is asked only
where these leave a gap (``needs_model``), and what it writes is checked against them
(``check_explanation``) before it may be shown, always labelled as the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from narrator import facts, impact, project, subjects
from narrator.commits import CommitInfo
from narrator.faithful import Checked, check
from narrator.limits import MESSAGE_CHARS, NAME_CHARS, SUBJECT_CHARS, cut
from narrator.messages import first_sentences, message_body

_WORD = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset("the a an and or of to in on for with from by is are be this that it its as at into when now so".split())


def _body_after_title(message: str, subject: str, is_merge: bool) -> str:
    """The body with a pull request's title line removed (a merge's body opens with the title)."""
    body = message.split("\n", 1)[1] if "\n" in message else ""
    if is_merge:
        lines = body.strip().split("\n", 1)
        body = lines[1] if len(lines) > 1 else ""
    return body


def within_limits(commit: CommitInfo) -> CommitInfo:
    """``commit`` with its subject, message and author cut to ``narrator.limits`` (a marker says so).

    Before anything reads them: a megabyte subject costs every pattern that reads it, and the
    headline, explanation and category made from a cut text are as good as from the whole.
    """
    texts = dict(subject=cut(commit.subject, SUBJECT_CHARS), message=cut(commit.message, MESSAGE_CHARS),
                 author=cut(commit.author, NAME_CHARS), email=cut(commit.email, NAME_CHARS))
    if all(texts[name] is getattr(commit, name) for name in texts):
        return commit
    return replace(commit, **texts)


def commit_details(commit: CommitInfo) -> tuple[str, str, dict]:
    """``(headline, category, details)`` of a commit, from git and the developer's words only."""
    body = commit.message.split("\n", 1)[1] if "\n" in commit.message else ""
    said = subjects.read_subject(commit.subject, body, commit.is_merge)
    paths = [c.path for c in commit.files]
    version = facts.release_version(said.headline) or facts.version_change(commit.patch)
    tag_version = next((t for t in commit.tags if re.search(r"\d", t)), None)
    category = facts.categorize(said.headline, paths, body=body, conventional_type=said.conventional_type,
                                scope=said.scope, author=commit.author, email=commit.email,
                                tagged=bool(tag_version), version=version)
    headline, source = said.headline, said.source
    if category == "release":
        version = version or (tag_version.removeprefix("v") if tag_version and tag_version[1:2].isdigit() else tag_version)
        if not said.informative and version:
            headline, source = f"Release {version}", "git"  # a release says what it is, whatever its subject
    explanation = first_sentences(message_body(_body_after_title(commit.message, commit.subject, commit.is_merge),
                                               said.headline))
    details = {
        "headline_source": source,
        "informative": said.informative,
        "uninformative": said.reason,
        "scope": said.scope,
        "refs": list(said.refs),
        "advisories": facts.advisories(f"{commit.subject}\n{body}"),
        "version": version if category == "release" else None,
        "tags": list(commit.tags),
        "release_notes": facts.release_notes(commit.patch, limit=8),
        "explanation": explanation,
        "ci": bool(paths) and all(facts.is_ci_path(p) for p in paths),
        "breaking": said.breaking,
    }
    details["impact"] = impact.classify(
        headline=said.headline, category=category, paths=paths, advisories=details["advisories"], is_merge=commit.is_merge,
        ci=details["ci"], version=details["version"], breaking=said.breaking, conventional_type=said.conventional_type,
        affecting_notes=facts.affecting_notes(commit.patch) if any(map(facts.is_release_notes_path, paths)) else ()).to_json()
    if commit.date_note:  # a date that is not the author date as written (narrator.gitdates)
        details["date_note"] = commit.date_note
    return headline, category, details


def needs_model(category: str, details: dict) -> str | None:
    """Which model task a commit needs: 'headline', 'commit' (one added sentence) or None.

    The model writes the headline only when the developer's subject says nothing. It adds a sentence
    only to an informative subject with no explanation of the developer's own, and never to a release
    (its release notes tell it) or a dependency update (the subject is the whole story).
    """
    if category in ("release", "dependencies"):
        return None
    if not details.get("informative", True):
        return "headline"
    if details.get("explanation") or details.get("release_notes"):
        return None
    return "commit"


@dataclass(frozen=True)
class Verdict:
    """The model's sentence after every check: the text to show ('' for none) and why it went."""

    text: str
    dropped: str | None
    """None when kept; else 'faithfulness', 'contradicts the subject', 'contradicts git' or
    'adds nothing to the subject'."""
    checked: Checked


def _content_words(text: str) -> set[str]:
    """Lower-case words that carry meaning, a plural 's' removed ('carts' -> 'cart', 'class' stays)."""
    return {w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w
            for w in _WORD.findall(text.lower()) if w not in _STOP}


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
    new = _content_words(sentence) - _content_words(subject) - _FILLER
    return not any(len(word) >= 4 and word in shown for word in new)


_NEGATION = re.compile(r"\b(not|no longer|never|cannot)\b|n't\b", re.I)
_MOVE = re.compile(r"\b(mov(e|es|ed|ing)|renam(e|es|ed|ing)|relocat\w*|different (directory|folder|location|place))\b", re.I)


def contradicts_git(sentence: str, files: list[dict]) -> bool:
    """Whether ``sentence`` claims what the commit's files deny: a move or rename where no file was
    renamed, an addition where nothing was added, a removal where nothing was removed."""
    if _MOVE.search(sentence) and not any(f.get("change") == "renamed" for f in files):
        return True
    action = subjects.action(sentence)
    added = sum(f.get("added", 0) for f in files) + sum(1 for f in files if f.get("change") == "added")
    removed = sum(f.get("removed", 0) for f in files) + sum(1 for f in files if f.get("change") == "deleted")
    return (action == "add" and added == 0) or (action == "remove" and removed == 0)


def check_explanation(answer: str, source: str, subject: str, files: list[dict] | None = None) -> Verdict:
    """One model sentence under an informative subject: faithful, consistent with the subject and
    with git, adding something. ``files`` are the commit's ``{path, change, added, removed}``."""
    checked = check(answer, source, max_sentences=1)
    if not checked.text:
        return Verdict("", "faithfulness", checked)
    if subjects.contradicts(subject, checked.text) or (_NEGATION.search(checked.text) and not _NEGATION.search(subject)):
        # A negation the developer did not write ("The test is not supported") turns the change around.
        return Verdict("", "contradicts the subject", checked)
    if project.is_commit_style(checked.text):
        # "Remove the use_git option." is a second, competing subject, not an explanation of the first.
        return Verdict("", "reads like a commit subject", checked)
    if files is not None and contradicts_git(checked.text, files):
        return Verdict("", "contradicts git", checked)
    if adds_nothing(subject, checked.text, source):
        return Verdict("", "adds nothing to the subject", checked)
    return Verdict(checked.text, None, checked)


def check_headline(answer: str, source: str) -> Verdict:
    """A model headline for a change whose subject says nothing: faithful, one sentence."""
    checked = check(answer, source, max_sentences=1)
    return Verdict(checked.text, None if checked.text else "faithfulness", checked)


def facts_headline(files: int, added: int, removed: int, area: str) -> str:
    """A headline from git alone, for a change whose subject and model summary both say nothing."""
    where = "" if area == facts.TOP_LEVEL else f" in {area}"
    return f"Changed {facts.size_phrase(files, added, removed)}{where}."
