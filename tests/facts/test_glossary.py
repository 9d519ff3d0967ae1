"""Jargon in headlines gets a plain, one-sentence explanation."""

import pytest

from narrator.facts import glossary
from narrator.facts.glossary import footnotes, load, terms_in


def test_the_data_file_is_complete():
    data = load()
    assert len(data) >= 40
    for term, entry in data.items():
        assert entry["explanation"].endswith("."), term
        assert entry["aliases"], term
    assert {"CVE", "CI", "API", "Pull request", "Lock file", "Dependency"} <= set(data)
    data["CVE"]["explanation"] = "changed"
    assert load()["CVE"]["explanation"] != "changed"          # every call is a fresh copy


def _terms(text):
    return [term for term, _ in terms_in(text)]


def test_terms_in_order_with_plurals_and_multiword_aliases():
    assert _terms("Fix CVE-2024-1234 in the lock file") == ["CVE", "Lock file"]
    assert _terms("Add caches for dependencies") == ["Cache", "Dependency"]
    assert _terms("Fix flaky tests in the pipeline") == ["Flaky test", "Pipeline"]
    assert _terms("Merge pull request #3") == ["Merge", "Pull request"]
    assert _terms("Drop end-of-life Python 3.8") == ["End of life"]
    explanation = dict(terms_in("Run the CI"))["CI"]
    assert explanation.startswith("Continuous integration")


def test_acronyms_match_in_their_case_only_and_words_whole():
    assert _terms("Update API docs and PRs") == ["API", "Documentation", "Pull request"]
    assert _terms("rename the api module") == []
    assert _terms("Convert dos line endings") == []
    assert _terms("Prevent a DoS") == ["Denial of service"]
    assert "Commit" not in _terms("Run pre-commit hooks")  # not "commit"
    assert _terms("Recommit the rebuilt caches") == ["Cache"]  # not "commit" or "build" inside words


def test_each_term_once_and_footnotes_across_texts():
    assert _terms("CI CI and more CI") == ["CI"]
    notes = footnotes(["Fix CI", "Update the lock file", "CI again and a cache"])
    assert [term for term, _ in notes] == ["CI", "Lock file", "Cache"]
    assert footnotes([]) == []


def test_no_spelling_belongs_to_two_terms_and_context_lists_are_words():
    seen: dict[str, str] = {}
    for term, entry in load().items():
        assert all(isinstance(entry.get(key, []), list) for key in ("only_with", "not_with")), term
        for alias in {term, *entry["aliases"]}:
            for form in glossary._forms(alias):
                key = form if glossary._is_acronym(alias) else form.lower()
                assert seen.setdefault(key, term) == term, (key, term, seen[key])


@pytest.mark.parametrize("headline,terms", [
    ("Add Content-Length header only if Transfer-Encoding is not present",
     ["Content-Length", "HTTP header", "Transfer-Encoding"]),
    ("TMonitor deadlock at interpreter shutdown", ["Deadlock", "Interpreter"]),
    ("Fix asv", ["Benchmark"]),
    ("Fix a race condition and a memory leak in the middleware", ["Race condition", "Memory leak", "Middleware"]),
    ("Bump qs to close CVE-2026-2391 (DoS)", ["Version bump", "CVE", "Denial of service"]),
    ("Upgrade content-disposition", ["Content-Disposition"]),
    ("Require TLS 1.2 for the endpoint", ["TLS", "Endpoint"]),
    ("Deprecate the old CLI flag before the next major version", ["Deprecation", "CLI", "Semantic versioning"]),
    ("Ignore the linter error after the refactor", ["Linter", "Refactor"]),
    ("Set the content type of the response", ["Content type"]),
])
def test_jargon_of_real_headlines_is_explained(headline, terms):
    assert _terms(headline) == terms


@pytest.mark.parametrize("headline,not_glossed", [
    ("Support JsonType containers", "Container"),                 # a kind of data structure, not Docker
    ("Fix EOL handling of CRLF line endings", "End of life"),     # end of line
    ("Merge dicts of options deeply", "Merge"),
    ("Use dependency injection for the router", "Dependency"),
    ("Use dependency injection for the router", "Injection"),
    ("Fix linear regression fit", "Regression"),
    ("Fix header file include order", "HTTP header"),             # a C header file
    ("Skip comment tokens in the parser", "Token"),               # a piece of parsed text, not a credential
    ("Do not leak the secret token into logs", "Memory leak"),    # a leak of secrets, not of memory
    ("Fork a child process per worker", "Fork"),
    ("Set the pin of the LED board", "Version pin"),
    ("Build the query string", "Build"),
])
def test_a_word_in_another_sense_is_not_glossed(headline, not_glossed):
    assert not_glossed not in _terms(headline)


def test_context_words_decide_the_sense(monkeypatch):
    fake = {
        "Container": {"aliases": ["container"], "explanation": "A packaged copy.", "only_with": ["docker", "image"]},
        "End of life": {"aliases": ["EOL"], "explanation": "No more fixes.", "not_with": ["line"]},
    }
    monkeypatch.setattr(glossary, "load", lambda: fake)
    glossary._matcher.cache_clear()
    try:
        assert _terms("Run the container") == []
        assert _terms("Run the container from its image") == ["Container"]
        assert _terms("Shrink the Docker images and containers") == ["Container"]  # plurals of both lists
        assert _terms("Drop EOL releases") == ["End of life"]
        assert _terms("Normalise EOL in every line") == []
    finally:
        glossary._matcher.cache_clear()


def test_the_pattern_is_built_once_and_reused():
    glossary._matcher.cache_clear()
    for text in ["Fix CI", "Bump the lock file", "Nothing here"] * 50:
        terms_in(text)
    assert glossary._matcher.cache_info().misses == 1
