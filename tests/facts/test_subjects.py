"""A developer's commit subject is read as a clean, trusted headline with its evidence."""

import pytest

from narrator.facts.subjects import Subject, contradicts, find_refs, humanise_branch, read_subject, uninformative_reason


@pytest.mark.parametrize("raw,headline,kind,scope,breaking", [
    ("feat(parser): add YAML input support", "Add YAML input support", "feat", "parser", False),
    ("fix!: stop dropping the last row", "Stop dropping the last row", "fix", None, True),
    ("chore(deps): bump lodash from 4.17.20 to 4.17.21", "Bump lodash from 4.17.20 to 4.17.21", "chore", "deps", False),
    ("feat(ui)!: new layout for the dashboard", "New layout for the dashboard", "feat", "ui", True),
    ("Feat: Add dark mode to settings", "Add dark mode to settings", "feat", None, False),
    ("tests: Remove fake project directory", "Remove fake project directory", "tests", None, False),
    ("docs: explain the setup steps", "Explain the setup steps", "docs", None, False),
    # a lowercase area prefix becomes the scope
    ("api: return 404 for unknown users", "Return 404 for unknown users", None, "api", False),
    ("cli/parser: accept long flags", "Accept long flags", None, "cli/parser", False),
    # ordinary words before a colon are the developer's sentence, kept whole
    ("Note: this needs Python 3.11 or newer", "Note: this needs Python 3.11 or newer", None, None, False),
    ("Windows: use backslashes in paths", "Windows: use backslashes in paths", None, None, False),
])
def test_conventional_and_area_prefixes(raw, headline, kind, scope, breaking):
    subject = read_subject(raw)
    assert (subject.headline, subject.conventional_type, subject.scope, subject.breaking) == (headline, kind, scope, breaking)
    assert not subject.headline.lower().startswith(("tests:", "docs:"))
    assert subject.source == "developer"


def test_breaking_change_in_the_body():
    assert read_subject("Remove the v1 endpoints", "BREAKING CHANGE: clients must use /v2").breaking
    assert not read_subject("Remove the v1 endpoints", "Nobody used them").breaking


def test_squash_merge_refs_are_evidence_not_headline():
    subject = read_subject("Add a cart total to the checkout (#123)")
    assert subject.headline == "Add a cart total to the checkout"
    assert subject.refs == ("#123",)
    assert read_subject("gh-104773: Remove the msilib package (#104911)").refs == ("gh-104773", "#104911")
    jira = read_subject("[PROJ-123] Add login page for admins")
    assert (jira.headline, jira.refs) == ("Add login page for admins", ("PROJ-123",))
    assert read_subject("Support the new checkout flow", "Closes #44\nSigned-off-by: A <a@b>").refs == ("#44",)


def test_find_refs_kinds():
    assert find_refs("Fix #1, GH-2, owner/repo#3, !4, group/proj!5 and PROJ-6") == ("#1", "GH-2", "owner/repo#3", "!4", "group/proj!5", "PROJ-6")
    # advisory ids and encodings are not tickets
    assert find_refs("Fix CVE-2024-1234 with UTF-8 names") == ()


def test_github_pull_request_merge():
    with_title = read_subject("Merge pull request #123 from owner/fix-login-timeout", "Fix the login timeout", is_merge=True)
    assert with_title == Subject("Fix the login timeout", "pull request", None, None, False, ("#123",), True, None)
    branch_only = read_subject("Merge pull request #123 from owner/fix-login-timeout", is_merge=True)
    assert (branch_only.headline, branch_only.source, branch_only.refs) == ("Fix login timeout", "pull request", ("#123",))
    ticketed = read_subject("Merge pull request #5 from owner/feature/PROJ-9-add-sso-login", is_merge=True)
    assert (ticketed.headline, ticketed.refs) == ("Add sso login", ("#5", "PROJ-9"))
    conventional = read_subject("Merge pull request #7 from o/b", "feat(api): add paging to search", is_merge=True)
    assert (conventional.headline, conventional.conventional_type, conventional.scope) == ("Add paging to search", "feat", "api")


def test_gitlab_bitbucket_and_azure_merges():
    gitlab = read_subject("Merge branch 'feature/x' into 'main'", "Add x to the parser\n\nSee merge request group/proj!12", is_merge=True)
    assert (gitlab.headline, gitlab.source, gitlab.refs) == ("Add x to the parser", "pull request", ("group/proj!12",))
    bitbucket = read_subject("Merged in feature/add-dark-mode (pull request #12)", "", is_merge=True)
    assert (bitbucket.headline, bitbucket.source, bitbucket.refs) == ("Add dark mode", "pull request", ("#12",))
    azure = read_subject("Merged PR 42: Add audit log export", is_merge=True)
    assert (azure.headline, azure.source, azure.refs) == ("Add audit log export", "pull request", ("!42",))


def test_a_merge_the_developer_titled_is_headed_by_that_title():
    """A merge whose subject is not git's wording is people's words, never a model's to head."""
    titled = read_subject("Add built-in PowerShell completion support (#3637)", "", is_merge=True)
    assert (titled.headline, titled.source, titled.informative, titled.refs) == (
        "Add built-in PowerShell completion support", "developer", True, ("#3637",))
    assert read_subject("wip", "", is_merge=True).reason == "bare merge"  # nothing said: still bare


@pytest.mark.parametrize("raw,body", [
    ("Merge branch 'main' into dev", ""),
    ("Merge remote-tracking branch 'origin/main'", ""),
    ("Merge branch 'main' into dev", "# Conflicts:\n#\tshop/cart.py"),
    ("Merge pull request #9 from owner/main", ""),
])
def test_bare_merges_are_not_informative(raw, body):
    subject = read_subject(raw, body, is_merge=True)
    assert (subject.informative, subject.reason) == (False, "bare merge")


def test_merge_words_that_are_not_merges():
    assert read_subject("Merge sort implementation for lists").informative


@pytest.mark.parametrize("text,reason", [
    ("wip", "generic words only"),
    ("Minor fixes", "generic words only"),
    ("Update the code", "generic words only"),
    ("Apply suggestions from code review", "generic words only"),
    ("fix: typo", "generic words only"),
    ("#123", "issue number only"),
    ("Fix #12", "issue number only"),
    ("Closes #4", "issue number only"),
    ("Add login", "too short"),
    ("Update README.md", "too short"),            # a generic verb and a file name alone
    ("Merge branch 'main' into dev", "bare merge"),
    ("Fix typo in README", None),                  # names what and where
    ("Update the README", None),                   # a file name counts as naming something
    ("Release 2.7.1", None),
    ("v2.7.1", None),
    ("Add OAuth login", None),
    ("", "too short"),
])
def test_uninformative_reason(text, reason):
    assert uninformative_reason(text) == reason
    assert read_subject(text).informative is (reason is None)


def test_headline_capitalisation_keeps_versions():
    assert read_subject("add a cart").headline == "Add a cart"
    assert read_subject("v2.7.1").headline == "v2.7.1"


def test_humanise_branch():
    assert humanise_branch("fix-login_timeout") == "Fix login timeout"
    assert humanise_branch("feature/add-dark-mode") == "Add dark mode"
    assert humanise_branch("main") == "Main"


@pytest.mark.parametrize("subject,sentence,expected", [
    ("Drop the Release Drafter integration", "Add release drafter branch to pull requests", True),
    ("Add dark mode", "Adds a dark colour scheme users can switch on", False),
    ("Remove unused helper", "Deletes a helper nobody called", False),
    ("feat: support YAML input", "This commit removes YAML input", True),
    ("Disable the legacy login", "Enables the legacy login for everyone", True),
    ("Fix crash on empty cart", "Removes a crash on empty carts", False),     # no opposite verbs to compare
    ("Address review comments", "Adds a test", False),                        # "address" is not "add"
])
def test_contradicts(subject, sentence, expected):
    assert contradicts(subject, sentence) is expected
