"""A change's plain reading: what it means to users and where, in words, built from facts only.

A manager reads "TMonitor deadlock at interpreter shutdown" and cannot tell whether it matters.
Under the people's words every listed change gets a second line, labelled as git facts:

    Fixed for users, in the part that sends web responses (lib).
    Behind the scenes (a test change), in the tests (tests).
    New for users, in the main code (src).

The impact is the change's group (``narrator.facts.impact``); the area is said with the area's own
description (its README's first sentence or its package docstring, stored by ``narrate``), "the main
code" when the area is described by the project's own description, else by its role ("the tests",
"the documentation") and, when nothing describes it, by its folder name alone. Nothing is guessed.

Pure: nothing here reads git, the database or a model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from narrator.facts.description import first_line
from narrator.facts.impact import LABELS, Impact
from narrator.facts.paths import TOP_LEVEL
from narrator.facts.provenance import MODEL_KIND, Provenance, Source

GIT_FACTS = Provenance(Source.GIT)
"""Where a plain reading comes from: git facts (``provenance_for`` when the model judged its kind of change)."""

KIND_WORDS = {"docs": "an update to the written guides", "tests": "a change to the tests",
              "ci": "a change to the automatic checks", "dependencies": "an update of software it uses",
              "release": "a release", "maintenance": "internal clean-up"}
"""Behind-the-scenes kinds (``narrator.facts.impact.KINDS``) in everyday words: a reading needs no glossary."""
ROLE_WORDS = {"tests": "the tests", "documentation": "the written guides",
              "CI and automation": "the files that run its automatic checks",
              "build and packaging": "the files that build and package it", "examples": "the examples",
              "dependencies": "the list of software it uses", "release notes": "the release notes",
              "configuration": "the settings files"}
"""How an undescribed area of each role (``narrator.facts.area_roles.ROLES``) is named; source code has no
such words: an undescribed code folder is named by its folder alone."""
DESCRIPTION_CHARS = 90
"""A description longer than this is cut at a word, so the reading stays one line."""
MAIN_CODE = "the main code"
LABEL = "In plain words"
"""How every page heads a change's plain reading (its source is git facts, ``GIT_FACTS``)."""

_IS = re.compile(r"^(?:[\w.@/-]+\s+){1,2}(?:is|are)\s+(?=(?:an?|the|one|our|its)\s)", re.I)
"""'Express is the most used toolkit...', 'The router is a...': a name, then what it is."""
_SELF = re.compile(r"^(?:this|the)\s+(?:package|module|folder|directory|library|crate|app|part|code)\s+", re.I)
_VERBS = frozenset("""
adds builds caches calls checks collects compiles computes connects contains converts creates decodes defines
describes does downloads draws drives encodes exports exposes fetches formats generates gives handles helps holds
implements includes keeps lets lists loads logs makes manages maps measures offers parses powers prints processes
provides reads renders returns routes runs schedules sends serves shows starts stores supports talks tracks
transforms turns uploads validates wraps writes
""".split())
"""Verbs that open a description in the third person ('Sends web responses'): such a description
reads as 'the part that sends web responses'. A word not listed is not taken for a verb ('Express
core helpers' is quoted, never 'the part that express core helpers')."""


def impact_words(impact: Impact | None) -> str:
    """'Fixed for users', 'Behind the scenes (a test change)'; 'Not sorted by impact' without one."""
    if impact is None or impact.group not in LABELS:
        return "A merge of changes listed on their own" if impact is not None else "Not sorted by impact"
    if impact.group == "internal" and impact.kind in KIND_WORDS:
        return f"{LABELS['internal']} ({KIND_WORDS[impact.kind]})"
    return "A security fix" if impact.group == "security" else LABELS[impact.group]


def _cut(text: str) -> str:
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def described_as(description: str) -> str:
    """An area's description as the part it names: 'Sends web responses.' -> 'the part that sends web
    responses'; 'The HTTP layer of the framework.' -> 'the HTTP layer of the framework'; 'Express
    is the web framework.' -> 'the part that is the web framework'; anything else is quoted: 'the
    part described as \u201cExpress core\u201d'. Only the first sentence is used."""
    text = first_line(description).rstrip(" .!")
    if _IS.match(text):
        return f"the part that is {_cut(_IS.sub('', text, count=1))}"
    text = _SELF.sub("", text)
    if not text:
        return ""
    first, _, rest = text.partition(" ")
    lowered = first.lower()
    if rest and lowered in _VERBS:
        return f"the part that {_cut(lowered + ' ' + rest)}"
    if lowered in ("the", "a", "an") and rest:
        return _cut(lowered + " " + rest)
    return f"the part described as \u201c{_cut(text)}\u201d"


def area_words(area: str, description: str | None, role: str | None = None, main: bool = False) -> str:
    """Where a change is, in words: 'in the part that sends web responses (lib)', 'in the main code
    (src)', 'in the tests (tests)', 'in lib' (nothing describes it), 'in the top-level files'."""
    if area == TOP_LEVEL:
        return "in the top-level files"
    if main:
        return f"in {MAIN_CODE} ({area})"
    if description and described_as(description):
        return f"in {described_as(description)} ({area})"
    if role in ROLE_WORDS:
        return f"in {ROLE_WORDS[role]} ({area})"
    return f"in {area}"


def plain_reading(impact: Impact | None, area: str, area_description: str | None, role: str | None = None,
                  main: bool = False) -> str:
    """A change's plain reading, one sentence from facts: 'Fixed for users, in the part that sends
    web responses (lib).'

    ``area_description``: the area's own words (None: not described); ``role``: its role
    (``narrator.facts.area_roles.area_role``); ``main``: the area is the project's main code, described by
    the project's own description.
    """
    return f"{impact_words(impact)}{model_words(impact)}, {area_words(area, area_description, role, main)}."


MODEL_SOURCE = Provenance(Source.GIT, model_kind=True)
"""Where a reading comes from when the model's kind of change decided its group (``impact.with_model_kind``):
its tooltip says so (``narrator.facts.provenance.label``)."""


def model_words(impact: Impact | None) -> str:
    """' (kind of change judged by the model, 83% sure)' when the model decided ``impact``; else ''."""
    if impact is None or impact.model is None:
        return ""
    return f" ({MODEL_KIND}, {round(impact.model * 100)}% sure)"


def provenance_for(impact: Impact | None) -> Provenance:
    """Where the plain reading of ``impact`` comes from: git facts, or git facts with the model's kind of
    change (``MODEL_SOURCE``) when the model decided its group."""
    return MODEL_SOURCE if impact is not None and impact.model is not None else GIT_FACTS


@dataclass(frozen=True)
class Reading:
    """A change's plain reading with where it comes from, as a briefing carries it by sha."""

    text: str
    provenance: Provenance = GIT_FACTS
