"""Logic said once: the one sentence splitter, the one reader of conventional prefixes, the one place
for defaults and the one way to start a narration job."""

from __future__ import annotations

import random
import re

import pytest

from narrator.sentences import ANSWER, BODY, MESSAGE, PROSE, Rules, split_sentences

# --- sentences ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rules, text, expected", [
    # every kind: an end mark and whitespace before a capital; a newline is whitespace
    (MESSAGE, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (PROSE, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (ANSWER, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (BODY, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    # a version's dots are no sentence end, a full stop after one is
    (MESSAGE, "Requires 1.2.3 now. Upgrade first.", ["Requires 1.2.3 now.", "Upgrade first."]),
    (BODY, "Requires 1.2.3 now. Upgrade first.", ["Requires 1.2.3 now.", "Upgrade first."]),
    (ANSWER, "Bumps to v2.0.1. Nothing else.", ["Bumps to v2.0.1.", "Nothing else."]),
    (PROSE, "Supports 3.11. Fast.", ["Supports 3.11.", "Fast."]),
    # e.g. / i.e.: not an end for messages, prose and training bodies; an end in a model's answer
    (MESSAGE, "Some formats, e.g. PDF and i.e. HTML. Done.", ["Some formats, e.g. PDF and i.e. HTML.", "Done."]),
    (PROSE, "Some formats, e.g. PDF. Done.", ["Some formats, e.g. PDF.", "Done."]),
    (BODY, "Some formats, e.g. PDF and i.e. HTML. Done.", ["Some formats, e.g. PDF and i.e. HTML.", "Done."]),
    (ANSWER, "Some formats, e.g. PDF. Done.", ["Some formats, e.g.", "PDF.", "Done."]),
    # vs.: only training bodies and prose keep it
    (BODY, "Speed vs. Size matters. Done.", ["Speed vs. Size matters.", "Done."]),
    (PROSE, "Speed vs. Size matters. Done.", ["Speed vs. Size matters.", "Done."]),
    (MESSAGE, "Speed vs. Size matters.", ["Speed vs.", "Size matters."]),
    # initials: messages and prose keep "M. Roy" together; a lower-case letter only in prose
    (MESSAGE, "By Audrey M. Roy. Thanks.", ["By Audrey M. Roy.", "Thanks."]),
    (MESSAGE, "(A. Roy) wrote it.", ["(A. Roy) wrote it."]),
    (MESSAGE, "Step x. Then more.", ["Step x.", "Then more."]),
    (PROSE, "Step x. Then more.", ["Step x. Then more."]),
    (ANSWER, "By Audrey M. Roy.", ["By Audrey M.", "Roy."]),
    # other abbreviations: prose only, whatever the end mark
    (PROSE, "Tools, docs etc. Are included. By Dr. Who.", ["Tools, docs etc. Are included.", "By Dr. Who."]),
    (PROSE, "Say no! Then go.", ["Say no! Then go."]),
    (MESSAGE, "Tools etc. Are included.", ["Tools etc.", "Are included."]),
    # what may start the next sentence: a capital, quote or parenthesis; prose also a digit, bodies anything
    (MESSAGE, "Fixed. then more. (Really.) \"Yes.\" Done.", ["Fixed. then more.", "(Really.) \"Yes.\" Done."]),
    (MESSAGE, "Fixed. (Really.) \"Yes\" 3.", ["Fixed.", "(Really.) \"Yes\" 3."]),
    (PROSE, "Fixed. 3 times. [Link] here.", ["Fixed.", "3 times.", "[Link] here."]),
    (BODY, "Fixed. then more.", ["Fixed.", "then more."]),
    # prose keeps closing quotes and brackets with their sentence, and ends at an ellipsis
    (PROSE, "He said \"go.\" Then (it ran.) Wait… Done.", ["He said \"go.\"", "Then (it ran.)", "Wait…", "Done."]),
    (MESSAGE, "He said \"go.\" Then wait… Done.", ["He said \"go.\" Then wait… Done."]),
    # blank text has no sentence
    (MESSAGE, "  \n ", []),
])
def test_one_splitter_keeps_each_readers_rules(rules, text, expected):
    assert split_sentences(text, rules) == expected


def test_maxsplit_leaves_the_rest_unsplit():
    assert split_sentences("One. Two. Three. Four.", MESSAGE, maxsplit=2) == ["One.", "Two.", "Three. Four."]
    assert split_sentences("One. Two.", MESSAGE, maxsplit=0) == ["One.", "Two."]


def test_rules_need_an_end_mark():
    with pytest.raises(ValueError):
        Rules(marks="")


# How each reader split sentences before there was one splitter, to compare on random text.
_OLD_MESSAGE = re.compile(r"(?<=[.!?])(?<![\s(][A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z\"'(])")
_OLD_ANSWER = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_OLD_BODY = re.compile(r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)\s+")
_OLD_PROSE = re.compile(r"[.!?…][\"'’”)\]]*\s+(?=[\"'“(\[]?[A-Z0-9])")
_OLD_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "dr", "no", "approx", "incl", "inc", "ltd", "st", "fig"}


def _old_prose(text: str) -> list[str]:
    out, start = [], 0
    for match in _OLD_PROSE.finditer(text):
        before = text[start:match.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if last in _OLD_ABBREVIATIONS or re.fullmatch(r"[a-z]", last):
            continue
        out.append(text[start:match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def test_each_reader_splits_as_it_did_before():
    words = """Adds a cache e.g. i.e. vs. etc. Dr. no. No! A. (B. x. 1.2.3 v2. 3. ! ? . .. … "Quoted" 'single'
    (paren) [link] End. Start e.g.Next said." ran.) Wait… fig. Mr.""".split()
    rng = random.Random(19)
    for _ in range(3000):
        text = rng.choice([" ", "  ", "\n", " \t"]).join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        assert split_sentences(text, MESSAGE) == _OLD_MESSAGE.split(text), text
        assert split_sentences(text, ANSWER) == [s.strip() for s in _OLD_ANSWER.split(text) if s.strip()], text
        assert split_sentences(text, BODY) == _OLD_BODY.split(text), text
        assert split_sentences(text, PROSE) == _old_prose(text), text
