"""The cheap first looks that let a long history skip most patterns decide exactly as the patterns do.

Each check is compared with the plain pattern on thousands of texts made from words that come near
what the patterns look for (security words, advisory ids, refs, versions, their cases and near misses,
non-ASCII look-alikes such as the Kelvin sign that ``re.I`` folds to "k").
"""

from __future__ import annotations

import difflib
import random
import re

from narrator.facts import categories as facts
from narrator.facts import subjects
from narrator.facts.diffs import _patch_files
from narrator.facts.paths import is_release_notes_path
from narrator.facts.prefilter import _FOLDS_TO_ASCII
from narrator.facts.release_notes import (
    _AFFECTING_ENTRY,
    _AFFECTING_HEADING,
    _BULLET,
    _HEADING,
    _UNDERLINE,
    _added_lines,
    _edit_of,
    _plain,
    affecting_notes,
)
from narrator.facts.releases import _NOT_PACKAGE_SECTION, _RELEASE_FORMS, _VERSION_FIELDS, release_version, version_change
from narrator.facts.security import _ADVISORY, _SECURITY, advisories, is_security_text
from narrator.text import unmarked

WORDS = """
fix add the a of in to security secure insecure Security SECURITY vulnerability Vulnerable exploit exploits
malicious XSS xss CSRF csrf xsrf SSRF RCE rce CWE-79 cwe-12 injection dependency dependency-injection SQL denial
denial-of-service of service DoS dos DDoS ReDoS redos path directory traversal zip decompression bomb privilege
escalation remote code execution clickjacking open redirect auth authentication authorization bypass timing attack
buffer overflow credential credentials secret secrets token tokens password passwords leak leaks CVE-2024-12345
cve-2023-1234 GHSA-abcd-efgh-ijkl ghsa-1234-5678-9abc PYSEC-2021-42 RUSTSEC-2020-0001 GO-2022-0123 go- CVE-20 GHSA
release Release v2.7.1 2.7.1 1.2.0 v1.0 version bump Bump Version: -> → to from chore(release): [release] 🔖 (#12)
#123 GH-12 gh-104773 bpo-1234 !12 owner/repo#5 group/proj!12 PROJ-123 UTF-8 CVE-2019-1 ISO-8601 [ABC-12] ABC-12:
fix: feat(api)!: docs: api: (closes #4) [#5] (GH-7, #8) ) ] ( [ - # ! . , : ; é Ü ſecurity \u212aey K ı İ
""".split()


def _texts(count: int, seed: int = 17) -> list[str]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9))) for _ in range(count)]
    # Words glued without spaces, and joined by punctuation, as subjects sometimes are.
    texts += ["".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) for _ in range(count // 4)]
    texts += ["\n".join(rng.choice(texts) for _ in range(3)) for _ in range(count // 4)]
    return texts


def test_security_and_advisory_checks_decide_as_their_patterns():
    for text in _texts(4000):
        assert advisories(text) == list(dict.fromkeys(m.upper() for m in _ADVISORY.findall(text))), text
        assert is_security_text(text) == bool(_ADVISORY.search(text) or _SECURITY.search(text)), text


def _slow_refs(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for match in subjects._REF.finditer(text):
        ref = match.group(0)
        if not (match.lastgroup == "key" and ref.split("-")[0] in subjects._NOT_TICKETS) and ref not in found:
            found.append(ref)
    return tuple(found)


def _slow_clean(text: str):
    text = " ".join(text.split())
    text = subjects._LEADING_REF.sub("", text)
    kind, scope, bang, rest = subjects._split_prefix(text)
    rest = subjects._LEADING_REF.sub("", rest)
    rest = subjects._TRAILING_REFS.sub("", rest).strip()
    return kind, scope, bang, rest if re.match(r"v\d", rest) else rest[:1].upper() + rest[1:]


# How a release subject's prefix was read before narrator.facts.prefixes.
_RELEASE_PREFIX = re.compile(r"^(?:(?:chore|build|ci|release|bump)(?:\([^)]*\))?!?:|\[release\])\s*", re.I)


def _slow_release_version(subject: str) -> str | None:
    text = re.sub(r"^[^\w\[]+", "", " ".join(subject.split()))
    text = _RELEASE_PREFIX.sub("", text)
    text = re.sub(r"\s*\((?:#\d+|[\w.-]+/[\w.-]+#\d+)\)\s*$|[.!\s]+$", "", text)
    for form in _RELEASE_FORMS:
        if match := form.match(text):
            return next(g for g in match.groups() if g)
    return None


def test_subject_reading_decides_as_its_patterns():
    for text in _texts(4000, seed=18):
        assert subjects.find_refs(text) == _slow_refs(text), text
        assert subjects._clean(text) == _slow_clean(text), text
        assert release_version(text) == _slow_release_version(text), text


def test_edits_of_changelog_lines_are_found_as_difflib_finds_them():
    rng = random.Random(19)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    for new in lines[:60]:
        edited = _edit_of(new)
        for old in lines + [new[:-1], new + "s", new.upper()]:
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            slow = matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6
            assert edited(old) == slow, (old, new)


def _mutated(text: str, rng: random.Random) -> str:
    """``text`` with a few characters inserted, dropped or replaced, near an end or anywhere."""
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        where = rng.choice([0, len(chars), rng.randint(0, len(chars)), max(0, len(chars) - rng.randint(1, 5))])
        kind = rng.choice("idr")
        if kind == "i" or not chars:
            chars.insert(where, rng.choice("ab`*[]():/#1 "))
        elif kind == "d":
            del chars[min(where, len(chars) - 1)]
        else:
            chars[min(where, len(chars) - 1)] = rng.choice("xyz_ ")
    return "".join(chars)


def test_edits_near_either_end_are_decided_as_difflib_decides():
    # The common start or end settles most edits before any matcher runs: it must never say "edit"
    # where difflib's ratio would not.
    rng = random.Random(20)
    for _ in range(3000):
        new = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 14)))
        edited = _edit_of(new)
        for old in (_mutated(new, rng), _mutated(new, rng)[::-1], new[: rng.randint(0, len(new))],
                    new[rng.randint(0, len(new)):], rng.choice(WORDS) + new):
            slow = bool(old) and difflib.SequenceMatcher(None, old, new, autojunk=False).ratio() >= 0.6
            assert edited(old) == slow, (old, new)


def _slow_added_lines(lines: tuple[str, ...]) -> tuple[str, ...]:
    """``_added_lines`` as first written: every added line's text against every removed one."""
    hunks: list[list[str]] = []
    for line in lines:
        if line.startswith("@@") or not hunks:
            hunks.append([])
        hunks[-1].append(line)
    added: list[str] = []
    for hunk in hunks:
        plus = [line for line in hunk if line.startswith("+")]
        removed = [unmarked(line[1:]) for line in hunk if line.startswith("-")]
        for line in plus:
            text = unmarked(line[1:])
            match = next((i for i, old in enumerate(removed) if old == text or text and
                          difflib.SequenceMatcher(None, old, text, autojunk=False).ratio() >= 0.6), None)
            if match is None:
                added.append(line)
            else:
                del removed[match]
    return tuple(added)


def test_changelog_additions_are_told_from_edits_as_before():
    rng = random.Random(21)
    entries = [f"- {' '.join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))}" for _ in range(200)]
    for _ in range(400):
        lines: list[str] = []
        for _hunk in range(rng.randint(1, 3)):
            lines.append("@@ -1,3 +1,4 @@")
            old = rng.sample(entries, rng.randint(0, 5))
            lines += [f" {rng.choice(entries)}"] + [f"-{line}" for line in old]
            new = [_mutated(line, rng) if rng.random() < 0.6 else rng.choice(entries) for line in old]
            new += rng.sample(entries, rng.randint(0, 3))
            rng.shuffle(new)
            lines += [f"+{line}" for line in new]
        assert _added_lines(tuple(lines)) == _slow_added_lines(tuple(lines)), lines


def test_dependency_subjects_and_body_refs_decide_as_their_patterns():
    words = WORDS + """bump Bump BUMP update Updates upgrade Upgraded downgrade pin Pin pinned refresh lock file
    maintenance dependency dependencies deps requirements the all npm python dev group docker tag from to v4 2.0
    pre-commit autoupdate closes Close fixes Fix resolved ref refs see part of related to BREAKING CHANGE BREAKING-CHANGES
    \u212aey lodash requests""".split()
    rng = random.Random(22)
    for _ in range(6000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.5:  # shaped as dependency subjects are, to reach every alternative
            text = " ".join([rng.choice(words[-60:]), rng.choice(words), rng.choice(["from 1.0 to", "to", "from", ""]),
                             rng.choice(["v4", "2.0", "1.2.3", "x"])])
        body = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(0, 4)))
        assert facts._is_dependency_change(text, [], None, None, "", "") == bool(facts._DEPENDENCY_SUBJECT.search(text)), text
        said = subjects.read_subject("Change things", body)
        slow_refs = _slow_refs("\n".join(m.group(0) for m in subjects._BODY_REF_LINE.finditer(body)))
        assert said.refs == slow_refs, body
        assert said.breaking == bool(subjects._BREAKING.search(body)), body


# Where a commit message's sentence ended before narrator.facts.sentences: not after an initial, "e.g." or "i.e.".
_MESSAGE_END = re.compile(r"(?<=[.!?])(?<![\s(][A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z\"'(])")


def test_changelog_warnings_and_first_sentences_decide_as_before():
    from narrator.facts import impact, messages

    words = WORDS + """breaking Breaking backwards-incompatible incompatible deprecate deprecated Deprecation warnings
    drop dropped support Python 3.8 requires require minimum msrv default defaults now by no longer behaviour behavior
    changes changed should must need to update adjust remove rename option flag e.g. i.e. Mr. A. B. "Quoted" (paren)
    Dr. ſhould \u212aeep""".split()
    rng = random.Random(23)
    for _ in range(4000):
        note = " ".join(rng.choice(words) for _ in range(rng.randint(1, rng.choice([3, 14]))))
        if rng.random() < 0.3:  # "users should update ...": the one warning no headline check has
            note = f"{rng.choice(['Users', 'Apps', ''])} {rng.choice(['should', 'must', 'need to', 'Should'])} {rng.choice(['update', 'change', 'adjust', 'keep'])}"
        slow = impact._WARNS.search(note) is not None
        found = impact.classify(headline="Tidy", category="maintenance", paths=["src/app.py"], notes=[note])
        assert (found.why.startswith("its changelog entry says")) == slow, note
        text = ". ".join(note.split(" . ")) + rng.choice(["", ".", "! Then more. And more."])
        for limit in (-1, 0, 1, 2, 3):
            slow_sentences = _MESSAGE_END.split(text.strip())[:limit]
            picked = ""
            for sentence in slow_sentences:
                candidate = f"{picked} {sentence}".strip()
                if picked and len(candidate) > 300:
                    break
                picked = candidate
            if len(picked) > 300:
                picked = picked[:299].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
            assert messages.first_sentences(text, limit=limit) == picked, (text, limit)


def _slow_pairs(text: str) -> dict[int, int]:
    """``text._pairs`` as first written: every character looked at in turn."""
    pairs: dict[int, int] = {}
    brackets: list[int] = []
    parentheses: list[int] = []
    i = 0
    while i < len(text):
        character = text[i]
        if character == "\\":
            i += 1
        elif character == "[":
            brackets.append(i)
        elif character == "]" and brackets:
            pairs[brackets.pop()] = i
        elif character == "(":
            parentheses.append(i)
        elif character == ")" and parentheses:
            pairs[parentheses.pop()] = i
        elif character.isspace():
            for opening in parentheses:
                pairs[opening] = i
            parentheses.clear()
        i += 1
    return pairs


def _slow_link_text(text: str) -> str:
    """``text.link_text`` as first written: every character copied in turn."""
    from narrator.text import _link_tail

    if "[" not in text:
        return text
    pairs = _slow_pairs(text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        start = i + 1 if text.startswith("![", i) else i
        close = pairs.get(start)
        if text[start:start + 1] == "[" and close is not None:
            end = _link_tail(text, close + 1, pairs)
            if end is not None:
                out.append(_slow_link_text(text[start + 1:close]))
                i = end
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_links_are_read_as_before():
    from narrator import text as text_module

    pieces = ["[", "]", "(", ")", "![", "\\", "\\[", " ", "\t", "\n", "\x1c", "\u2028", "\xa0", "<", ">", '"', "'",
              "docs", "https://x.org/a_(b)", "[ref]", "[]", "!", "a", "é", "`code`", "**b**"]
    rng = random.Random(24)
    for _ in range(6000):
        sample = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        assert text_module._pairs(sample) == _slow_pairs(sample), sample
        assert text_module.link_text(sample) == _slow_link_text(sample), sample


def test_markup_is_read_as_before():
    from narrator import text as text_module

    def slow(sample: str) -> str:
        if not text_module._MARKED.search(sample):
            return " ".join(sample.split())
        sample = _slow_link_text(sample)
        for pattern, replacement in text_module._MARKUP:
            sample = pattern.sub(replacement, sample)
        return " ".join(sample.split())

    pieces = ["`", "``", "*", "**", "_", "__", "<", ">", "<!--", "-->", ":func:", "{role}", ":class:", "~a.B", "x", " ",
              "[", "](u)", "init", "_init_", "word", "\n", "_`"]
    rng = random.Random(25)
    for _ in range(6000):
        sample = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 16)))
        assert text_module.unmarked(sample) == slow(sample), sample


def _slow_affecting_notes(patch: str, limit: int = 3) -> list[tuple[str, str]]:
    """``affecting_notes`` as first written: every line of every notes file read to its end."""
    from collections import Counter

    found: list[tuple[str, str]] = []
    for path, lines in _patch_files(patch):
        if not is_release_notes_path(path):
            continue
        added = Counter(_slow_added_lines(lines))
        heading = ""
        for i, line in enumerate(lines):
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
            mark = _AFFECTING_ENTRY.match(text)
            if _AFFECTING_HEADING.search(heading) or mark:
                found.append((mark["mark"] if mark else heading, _plain(_BULLET.sub("", text))))
                if len(found) >= limit:
                    return found
    return found


def test_changelog_warnings_and_version_fields_are_read_as_before():
    rng = random.Random(26)
    notes = ["## Breaking changes", "### Fixed", "Removed", "-------", "**Deprecated**", "- drop Node 14",
             "- **Breaking:** rename the option", "- Fixed a crash", "* Removed `old()`", "", "1.2.0 (2024-01-01)"]
    versions = ['version = "1.2.0"', 'version = "1.3.0"', "[tool.poetry]", "[dependencies]", '__version__ = "2.0"',
                '"version": "3.1.0",', "name = 'x'"]
    paths = ["CHANGELOG.md", "docs/changelog.rst", "pyproject.toml", "setup.cfg", "pkg/__init__.py", "package.json",
             "src/app.py", "changelog/123.bugfix.rst"]
    for _ in range(1500):
        patch = ""
        for path in rng.sample(paths, rng.randint(1, 3)):
            pool = versions if not is_release_notes_path(path) else notes
            body = [rng.choice(" +-") + rng.choice(pool) for _ in range(rng.randint(1, 12))]
            patch += f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,3 @@\n" + "\n".join(body) + "\n"
        assert affecting_notes(patch) == _slow_affecting_notes(patch), patch
        slow_version = None
        for path, lines in _patch_files(patch):
            for name, field in _VERSION_FIELDS:  # the first field whose file name fits, as before
                if name.search(path):
                    old = new = None
                    skip = False
                    for line in lines:
                        if line.startswith("@@"):
                            skip = False
                            continue
                        if re.match(r"^\s*\[", line[1:]):
                            skip = bool(_NOT_PACKAGE_SECTION.match(line[1:]))
                        match = None if skip else field.search(line[1:])
                        if match and line.startswith("-"):
                            old = old or match.group(1)
                        elif match and line.startswith("+"):
                            new = new or match.group(1)
                    found = new if new and old and new.lstrip("v") != old.lstrip("v") else None
                    break
            else:
                found = None
            if found:
                slow_version = found
                break
        assert version_change(patch) == slow_version, patch


def test_security_words_common_in_code_talk_go_to_the_pattern_only_where_it_can_match():
    # "source", "force", "memory leak", "stack overflow", "redirect stderr": the words a long history is
    # full of, beside the alternatives that hold them ("RCE", "token leak", "buffer overflow", ...).
    words = WORDS + """source Source force RCE-free (RCE) rce_x x_rce RCE2 2RCE sRCE memory leak leaks fixes tokens
    Token-leak token_leak stack overflow Buffer Overflow buffer-overflow redirect stderr open-redirect Open Redirect
    traversal tree Path Traversal directory-traversal code execution Remote Code Execution escalation privilege
    bypass Auth Bypass authorization-bypass authentication bomb zip-bomb Zip Bomb decompression Résumé naïve über
    \u0130 \u0131 \u017f \u212a sour\u212ae Fo\u0130ce \u017fecret""".split() + [
        "tokens leak", "Secrets Leak", "credential leaks", "passwords leak", "auth bypass", "Path traversal"]
    rng = random.Random(24)
    for _ in range(8000):
        text = rng.choice([" ", "", "-", "\n", "_", "("]).join(rng.choice(words) for _ in range(rng.randint(1, 7)))
        assert is_security_text(text) == bool(_ADVISORY.search(text) or _SECURITY.search(text)), text
        assert advisories(text) == list(dict.fromkeys(m.upper() for m in _ADVISORY.findall(text))), text


def test_only_the_characters_named_fold_to_ascii_letters():
    # may_match lower-cases text beyond ASCII too: only these characters may match an ASCII letter under re.I.
    letter = re.compile("[a-z]", re.I)
    assert {c for c in map(chr, range(128, 0x110000)) if letter.fullmatch(c)} == _FOLDS_TO_ASCII


def test_sentence_ends_are_found_as_the_pattern_first_written_finds_them():
    from narrator.facts.sentences import MESSAGE, split_sentences

    # As first written: the end mark looked for after the initials and abbreviations.
    slow = re.compile(r"(?<![\s(][A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<=[.!?])\s+(?=[A-Z\"'(])")
    words = WORDS + """e.g. i.e. Mr. A. (B. x. Dr. ! ? . .. "Quoted" 'single' (paren) End. Start e.g.Next""".split()
    rng = random.Random(25)
    for _ in range(6000):
        text = rng.choice([" ", "  ", "\n", " \t"]).join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        for limit in (0, 1, 2):
            assert split_sentences(text, MESSAGE, maxsplit=limit) == slow.split(text, maxsplit=limit), text


def test_a_dash_alone_is_no_reference():
    # Only "#", "!" or a "-" before a digit can be part of one: "t/t1234-foo" and "--all" send nothing to the patterns.
    assert not subjects._may_refer("t/t1234-foo: use --all") and not subjects._may_refer("a - b")
    words = WORDS + "x-1 t1234-foo --all - -- AB-\u0663 \u0661-\u0662 ab-12 A-1 GH- -GH-1".split()
    rng = random.Random(26)
    for _ in range(6000):
        text = rng.choice([" ", "", "-", "/"]).join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        if subjects._REF.search(text) or subjects._TRAILING_REFS.search(text):
            assert subjects._may_refer(text), text
