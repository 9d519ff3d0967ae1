"""Jargon in headlines gets a plain, one-sentence explanation."""

from narrator.glossary import footnotes, load, terms_in


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
    assert _terms("Run pre-commit hooks") == []            # not "commit"
    assert _terms("Recommit the rebuilt caches") == ["Cache"]  # not "commit" or "build" inside words


def test_each_term_once_and_footnotes_across_texts():
    assert _terms("CI CI and more CI") == ["CI"]
    notes = footnotes(["Fix CI", "Bump the lock file", "CI again and a cache"])
    assert [term for term, _ in notes] == ["CI", "Lock file", "Cache"]
    assert footnotes([]) == []
