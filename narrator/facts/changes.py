"""A commit told in people's words first: its headline, category, release, advisories and notes.

Everything here is computed from git and from what developers wrote (the subject, the message body,
a pull request's title, lines added to a changelog), never by the model. The model is asked only
where these leave a gap (``needs_model``), and what it writes is checked against them
(``check_explanation``) before it may be shown, always labelled as the model's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from narrator.facts import categories
from narrator.facts import impact, subjects
from narrator.facts.commit_facts import CommitFacts
from narrator.facts.messages import first_sentences, message_body, split_first_sentence
from narrator.facts.paths import TOP_LEVEL, is_ci_path, is_release_notes_path
from narrator.facts.provenance import Source
from narrator.facts.release_notes import affecting_notes, release_notes
from narrator.facts.releases import release_version, version_change
from narrator.facts.security import advisories
from narrator.git.commits import CommitInfo
from narrator.limits import MESSAGE_CHARS, NAME_CHARS, SUBJECT_CHARS, cut
from narrator.text import unmarked

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


def commit_details(commit: CommitInfo) -> tuple[str, str, CommitFacts]:
    """``(headline, category, facts)`` of a commit, from git and the developer's words only."""
    body = commit.message.split("\n", 1)[1] if "\n" in commit.message else ""
    said = subjects.read_subject(commit.subject, body, commit.is_merge)
    paths = [c.path for c in commit.files]
    version = release_version(said.headline) or version_change(commit.patch)
    tag_version = next((t for t in commit.tags if re.search(r"\d", t)), None)
    category = categories.categorize(said.headline, paths, body=body, conventional_type=said.conventional_type,
                                     scope=said.scope, author=commit.author, email=commit.email,
                                     tagged=bool(tag_version), version=version)
    notes = release_notes(commit.patch, limit=8)
    words = peoples_words(said, message_body(_body_after_title(commit.message, commit.subject, commit.is_merge),
                                             said.headline), notes, release=category == "release")
    headline, source, explanation = words.headline, words.source, words.explanation
    if category == "release":
        version = version or (tag_version.removeprefix("v") if tag_version and tag_version[1:2].isdigit() else tag_version)
        if not words.informative and version:
            headline, source = f"Release {version}", Source.GIT  # a release says what it is, whatever its subject
    # As of "subject\nbody" (no id spans lines); the body's first look is shared with categorize.
    found = tuple(dict.fromkeys(advisories(commit.subject) + advisories(body)))
    version = version if category == "release" else None
    ci = bool(paths) and all(is_ci_path(p) for p in paths)
    return headline, category, CommitFacts(
        headline_source=source, informative=words.informative, uninformative=None if words.informative else said.reason,
        subject_uninformative=said.reason, scope=said.scope, refs=tuple(said.refs), advisories=found, version=version,
        tags=tuple(commit.tags), release_notes=tuple(notes), explanation=explanation, ci=ci, breaking=said.breaking,
        impact=impact.classify(
            headline=said.headline, category=category, paths=paths, advisories=list(found), is_merge=commit.is_merge,
            ci=ci, version=version, breaking=said.breaking, conventional_type=said.conventional_type,
            affecting_notes=affecting_notes(commit.patch) if any(map(is_release_notes_path, paths)) else (),
            notes=notes),
        # A date that is not the author date as written (narrator.git.dates).
        date_note=commit.date_note or None)


_BODY_HEADLINE_CHARS = 160
"""Longest headline taken from a message body's first sentence; a longer one is cut with an ellipsis."""


@dataclass(frozen=True)
class Words:
    """A change's headline and the sentence under it, in people's words, markup turned into text."""

    headline: str
    source: Source
    """Whose words the headline is: the developer, a pull request or release notes."""
    explanation: str
    """The developer's sentences under the headline ('' for none)."""
    informative: bool
    """Whether the headline tells a reader something; when not, the model may be asked for one."""


def peoples_words(said: subjects.Subject, body: str, notes: list[str], release: bool = False) -> Words:
    """The first informative words people wrote about a change, as its headline and explanation.

    In this order: the subject (or, for a merge, the pull request's title), the first sentence of
    the message body (``body``: ``message_body``'s paragraph), then a changelog line the commit added
    (``notes``; not for a release, which its version heads). When none says anything the subject
    stays, not informative, for the model or git facts to replace.
    """
    body = unmarked(body)
    if said.informative:
        return Words(unmarked(said.headline), said.source, _explanation(said.headline, body), True)
    first, rest = split_first_sentence(body)
    first = subjects.capitalise(first_sentences(first, limit=1, max_chars=_BODY_HEADLINE_CHARS).rstrip("."))
    if first and subjects.uninformative_reason(first) is None:
        return Words(first, Source.DEVELOPER, first_sentences(rest) if rest else "", True)
    for note in [] if release else notes:
        if subjects.uninformative_reason(note) is None:
            return Words(unmarked(note), Source.RELEASE_NOTES, "", True)
    return Words(unmarked(said.headline), said.source, _explanation(said.headline, body), False)


def commit_words(subject: str, message: str, is_merge: bool, notes: list[str], release: bool = False) -> Words:
    """:func:`peoples_words` of a commit as stored (its subject, message and release notes)."""
    body = message.split("\n", 1)[1] if "\n" in message else ""
    said = subjects.read_subject(subject, body, is_merge)
    return peoples_words(said, message_body(_body_after_title(message, subject, is_merge), said.headline), notes, release)


def stored_words(facts: CommitFacts, headline: str, subject: str, message: str, is_merge: bool,
                 notes: list[str], release: bool = False) -> tuple[Words, CommitFacts]:
    """``(words, facts)`` of a stored commit row as they are shown, ``facts`` updated to match.

    Markup is turned into text whatever the row's age. A row recorded before people's words were
    read in :func:`peoples_words`' order (``facts.words_in_order`` False) and whose subject says
    nothing is read again from its message, so its body or changelog line heads it rather than the model.
    """
    if facts.recorded and not facts.informative and not facts.words_in_order:
        words = commit_words(subject, message, is_merge, notes, release)
        if words.informative:
            return words, replace(facts, informative=True, uninformative=None, headline_source=words.source,
                                  explanation=words.explanation)
    headline = unmarked(headline)
    explanation = unmarked(facts.explanation)
    return Words(headline, facts.headline_source, "" if explanation and repeats(headline, explanation) else explanation,
                 facts.informative), facts


def _explanation(headline: str, body: str) -> str:
    """The body's first sentences under ``headline``; '' when they only repeat it ("Bumps [qs](...)
    from 6.11.0 to 6.14.1." under "Bump qs from 6.11.0 to 6.14.1")."""
    return "" if repeats(headline, body) else first_sentences(body)


def repeats(headline: str, sentence: str) -> bool:
    """Whether ``sentence`` names nothing that ``headline`` does not already (a plural 's' aside)."""
    said = content_words(headline)
    # Word by word: a long body usually names something new early, and is read no further.
    return all(_content_word(w) in said for w in map(re.Match.group, _WORD.finditer(sentence.lower())) if w not in _STOP)


def needs_model(category: str, facts: CommitFacts) -> str | None:
    """Which model task a commit needs: 'headline', 'commit' (one added sentence) or None.

    The model writes the headline only when the developer's subject says nothing. It adds a sentence
    only to an informative subject with no explanation of the developer's own, and never to a release
    (its release notes tell it) or a dependency update (the subject is the whole story).
    """
    if category in ("release", "dependencies"):
        return None
    if not facts.informative:
        return "headline"
    if facts.explanation or facts.release_notes:
        return None
    return "commit"


def content_words(text: str) -> set[str]:
    """Lower-case words that carry meaning, a plural 's' removed ('carts' -> 'cart', 'class' stays)."""
    return {_content_word(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


def _content_word(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def facts_headline(files: int, added: int, removed: int, area: str) -> str:
    """A headline from git alone, for a change whose subject and model summary both say nothing."""
    where = "" if area == TOP_LEVEL else f" in {area}"
    return f"Changed {categories.size_phrase(files, added, removed)}{where}."
