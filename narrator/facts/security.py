"""Whether a change speaks of security: advisory ids (CVE, GHSA, PYSEC, RUSTSEC, GO) and security wording."""

from __future__ import annotations

import re

from narrator.facts.prefilter import _holds_word, may_match

_ADVISORY = re.compile(r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[0-9a-z]{4}){3}|PYSEC-\d{4}-\d+|RUSTSEC-\d{4}-\d{4}|GO-\d{4}-\d{4,})\b", re.I)
_SECURITY = re.compile(
    r"\b(vulnerab\w*|security|secure|insecure|exploit\w*|malicious|XSS|CSRF|XSRF|SSRF|RCE|CWE-\d+"
    r"|(?<!dependency )(?<!dependency-)injection|denial[- ]of[- ]service|(?-i:D?DoS)|(?-i:ReDoS)|(?:path|directory) traversal"
    r"|(?:decompression|zip) bomb|privilege escalation|(?:remote )?code execution|clickjacking|open redirect"
    r"|auth(?:entication|orization)? bypass|timing attack|buffer overflow|(?:credential|secret|token|password)s? leak)\b", re.I)


_ADVISORY_HINTS = ("cve-", "ghsa-", "pysec-", "rustsec-", "go-")
"""A cheap first look for ``_ADVISORY``: a match holds one of these (lower-cased)."""
_SECURITY_HINTS = ("vulnerab", "secur", "exploit", "malicious", "xss", "csrf", "xsrf", "ssrf", "cwe-", "injection",
                   "denial", "dos", "h traversal", "y traversal", "n bomb", "p bomb", "privilege escalation",
                   "code execution", "clickjacking", "open redirect", "h bypass", "n bypass", "timing attack",
                   "buffer overflow", "l leak", "t leak", "n leak", "d leak", "s leak")
"""The same for ``_SECURITY``: each of its alternatives holds one of these, and words that are common
on their own hold the word before them ("path traversal", "token leak"; not "memory leak"), as the
pattern has them."""
_SECURITY_WORDS = ("rce",)
"""``_SECURITY``'s alternatives found only as whole words: "rce" is also in "source" and "force"."""


def advisories(text: str) -> list[str]:
    """Security advisory ids (CVE, GHSA, PYSEC, RUSTSEC, GO) in ``text``: upper-cased, unique, in order."""
    if not may_match(text, _ADVISORY_HINTS):
        return []
    return list(dict.fromkeys(m.upper() for m in _ADVISORY.findall(text)))


def is_security_text(text: str) -> bool:
    """Whether ``text`` speaks of security: advisory ids, "vulnerability", XSS, "denial of service", ...

    "DoS" is matched in that case only (not "dos"); "dependency injection" is a design pattern, not
    an attack.
    """
    if not may_match(text, _ADVISORY_HINTS + _SECURITY_HINTS) and not _holds_word(text, _SECURITY_WORDS):
        return False
    return bool(_ADVISORY.search(text) or _SECURITY.search(text))
