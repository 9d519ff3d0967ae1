"""The cheap first looks that let a long history skip most patterns decide exactly as the patterns do.

Each check is compared with the plain pattern on thousands of texts made from words that come near
what the patterns look for (security words, advisory ids, refs, versions, their cases and near misses,
non-ASCII look-alikes such as the Kelvin sign that ``re.I`` folds to "k").
"""

from __future__ import annotations

import difflib
import random
import re

from narrator import facts, subjects

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
        assert facts.advisories(text) == list(dict.fromkeys(m.upper() for m in facts._ADVISORY.findall(text))), text
        assert facts.is_security_text(text) == bool(facts._ADVISORY.search(text) or facts._SECURITY.search(text)), text


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


def _slow_release_version(subject: str) -> str | None:
    text = re.sub(r"^[^\w\[]+", "", " ".join(subject.split()))
    text = facts._RELEASE_PREFIX.sub("", text)
    text = re.sub(r"\s*\((?:#\d+|[\w.-]+/[\w.-]+#\d+)\)\s*$|[.!\s]+$", "", text)
    for form in facts._RELEASE_FORMS:
        if match := form.match(text):
            return next(g for g in match.groups() if g)
    return None


def test_subject_reading_decides_as_its_patterns():
    for text in _texts(4000, seed=18):
        assert subjects.find_refs(text) == _slow_refs(text), text
        assert subjects._clean(text) == _slow_clean(text), text
        assert facts.release_version(text) == _slow_release_version(text), text


def test_edits_of_changelog_lines_are_found_as_difflib_finds_them():
    rng = random.Random(19)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    for new in lines[:60]:
        edited = facts._edit_of(new)
        for old in lines + [new[:-1], new + "s", new.upper()]:
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            slow = matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and matcher.ratio() >= 0.6
            assert edited(old) == slow, (old, new)
