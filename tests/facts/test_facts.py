"""Categories, areas, sizes, releases and release notes are computed from git facts."""

import pytest

from narrator.facts.categories import CATEGORIES, categorize, is_bot, size_phrase
from narrator.facts.paths import (
    TOP_LEVEL,
    area_of,
    busiest_area,
    is_ci_path,
    is_dependency_path,
    is_lock_path,
    is_release_notes_path,
)
from narrator.facts.release_notes import release_notes
from narrator.facts.releases import release_version, version_change
from narrator.facts.security import advisories, is_security_text
from tests.helpers.narration import diff_of


@pytest.mark.parametrize("subject,paths,expected", [
    # 1. paths first
    ("Update the guide", ["docs/guide.md", "README.md"], "docs"),
    ("Add a new chapter", ["docs/intro.rst"], "docs"),
    ("Cover the cart total", ["tests/test_cart.py"], "tests"),
    ("Cover the cart total", ["shop/cart_test.go", "README.md"], "tests"),
    # 2. security, even when only a lock file changed
    ("Fix decompression bomb vulnerability in urllib3 (CVE-2025-66471)", ["uv.lock"], "security"),
    ("Escape user names to prevent XSS", ["web/views.py"], "security"),
    # 3. releases
    ("Release 2.7.1", ["CHANGELOG.md", "pyproject.toml"], "release"),
    ("chore(release): 1.2.0", ["package.json"], "release"),
    # 4. dependencies
    ("Bump requests to the latest release", ["requirements.txt"], "dependencies"),
    ("Add httpx", ["requirements/base.txt"], "dependencies"),
    ("Refresh", ["poetry.lock"], "dependencies"),
    ("Update lodash and react", ["package.json", "package-lock.json"], "dependencies"),
    ("Bump requests from 2.1 to 2.2", ["src/app.py"], "dependencies"),
    ("Update dependency eslint to v9", ["web/app.js"], "dependencies"),
    ("Upgrade lodash", ["web/app.js"], "dependencies"),
    # 5. CI files
    ("Drop the Release Drafter integration", [".github/release-drafter.yml"], "maintenance"),
    ("Add a nightly build", [".github/workflows/nightly.yml"], "maintenance"),
    # 7. message words
    ("Fix crash when adding an empty item", ["shop/cart.py"], "fix"),
    ("Add orders that can be placed", ["shop/orders.py"], "feature"),
    ("Refactor the cart module", ["shop/cart.py"], "maintenance"),
    ('Revert "Fix crash when adding an empty item"', ["shop/cart.py"], "maintenance"),
    ("Add docs for the API", ["shop/api.py", "docs/api.md"], "feature"),
    ("Add a start script for the shop", ["package.json"], "feature"),
    # 8. nothing else holds
    ("Tidy things", ["shop/cart.py"], "maintenance"),
])
def test_categorize(subject, paths, expected):
    assert categorize(subject, paths) == expected


def test_categorize_trusts_the_conventional_type_after_paths():
    assert categorize("Speed up the cart", ["shop/cart.py"], conventional_type="perf") == "maintenance"
    assert categorize("Handle empty carts", ["shop/cart.py"], conventional_type="feat") == "feature"
    assert categorize("Handle empty carts", ["shop/cart.py"], conventional_type="fix") == "fix"
    assert categorize("Explain the cart", ["shop/cart.py"], conventional_type="docs") == "docs"
    assert categorize("Cover the cart", ["shop/cart.py", "conftest.py"], conventional_type="tests") == "tests"
    assert categorize("Add a cart", ["shop/cart.py"], conventional_type="chore") == "maintenance"
    # a conventional type does not beat the paths: only docs changed
    assert categorize("Add a cart", ["README.md"], conventional_type="feat") == "docs"
    # nor the CI rule
    assert categorize("Add a deploy job", [".gitlab-ci.yml"], conventional_type="feat") == "maintenance"
    assert categorize("Bump serde to 1.0.200", ["Cargo.toml"], conventional_type="chore", scope="deps") == "dependencies"


def test_categorize_uses_author_tag_version_and_body():
    dependabot = dict(author="dependabot[bot]", email="49699333+dependabot[bot]@users.noreply.github.com")
    assert categorize("Bump actions/checkout from 4 to 5", [".github/workflows/ci.yml"], **dependabot) == "dependencies"
    # a dependency bot's body quotes upstream notes: their wording is not our security fix...
    assert categorize("Bump rich from 13 to 14", ["uv.lock", "pyproject.toml"], body="Improve security docs", **dependabot) == "dependencies"
    # ...but an advisory id in the body is evidence
    assert categorize("Bump h11 from 0.14 to 0.16", ["uv.lock"], body="Fixes GHSA-vqfr-h8mv-ghfj", **dependabot) == "security"
    assert categorize("Harden the upload form", ["web/upload.py"], body="Closes a path traversal hole.") == "security"
    assert categorize("Add orders", ["shop/orders.py"], tagged=True) == "release"
    assert categorize("Prepare the next version", ["pyproject.toml"], version="1.3.0") == "release"
    # a non-dependency bot writes other things too
    assert categorize("Add the contributors page", ["site/contributors.html"], author="github-actions[bot]") == "feature"


def test_categories_cover_every_answer():
    assert set(CATEGORIES) == {"feature", "fix", "security", "release", "dependencies", "docs", "tests", "maintenance"}


@pytest.mark.parametrize("path,lock,dependency", [
    ("poetry.lock", True, True), ("web/yarn.lock", True, True), ("go.sum", True, True), ("Cargo.lock", True, True),
    ("Gemfile.lock", True, True), ("composer.lock", True, True), ("pnpm-lock.yaml", True, True), ("mix.lock", True, True),
    ("requirements-dev.txt", False, True), ("requirements/test.txt", False, True), ("constraints.txt", False, True),
    ("Pipfile", False, True), ("go.mod", False, True), ("Gemfile", False, True), ("package.json", False, True),
    ("mygem.gemspec", False, False), ("src/app.py", False, False), ("docs/requirements.md", False, False),
])
def test_dependency_and_lock_paths(path, lock, dependency):
    assert is_lock_path(path) is lock
    assert is_dependency_path(path) is dependency


@pytest.mark.parametrize("path,expected", [
    (".github/workflows/ci.yml", True), (".github/dependabot.yml", True), (".github/actions/setup/action.yml", True),
    (".github/release-drafter.yml", True), (".gitlab-ci.yml", True), (".circleci/config.yml", True), (".travis.yml", True),
    ("azure-pipelines.yml", True), ("Jenkinsfile", True), (".pre-commit-config.yaml", True), (".buildkite/pipeline.yml", True),
    (".github/ISSUE_TEMPLATE/bug.md", False), (".github/FUNDING.yml", False), ("tox.ini", False), ("noxfile.py", False),
    ("src/ci.py", False),
])
def test_ci_paths(path, expected):
    assert is_ci_path(path) is expected


def test_bots():
    assert is_bot("dependabot[bot]")
    assert is_bot("Renovate Bot", "bot@renovateapp.com")
    assert is_bot("pre-commit-ci[bot]")
    assert is_bot("someone", "41898282+github-actions[bot]@users.noreply.github.com")
    assert not is_bot("Ada Lovelace", "ada@example.com")


def test_advisories_and_security_words():
    text = "Fix CVE-2024-1234, ghsa-vqfr-h8mv-ghfj and cve-2024-1234; see PYSEC-2024-12, RUSTSEC-2024-0001, GO-2024-2687"
    assert advisories(text) == ["CVE-2024-1234", "GHSA-VQFR-H8MV-GHFJ", "PYSEC-2024-12", "RUSTSEC-2024-0001", "GO-2024-2687"]
    assert advisories("Fix crash in 2.7 parser") == []
    for text in ("Fix a vulnerability in uploads", "Prevent XSS in comments", "Guard against ReDoS", "Fix DoS via long headers",
                 "Block SQL injection in search", "Stop a denial of service", "Add security policy"):
        assert is_security_text(text), text
    for text in ("Use dependency injection for the db", "Convert DOS line endings", "Add a dark mode"):
        assert not is_security_text(text), text


@pytest.mark.parametrize("subject,expected", [
    ("Release 2.7.1", "2.7.1"), ("v2.7.1", "2.7.1"), ("Bump version to 2.7.1", "2.7.1"), ("Version 2.7.1", "2.7.1"),
    ("Prepare release 1.2.0", "1.2.0"), ("chore(release): 1.2.0", "1.2.0"), ("Release v2.0.0-rc.1", "2.0.0-rc.1"),
    ("2.7.1", "2.7.1"), ("Bump version: 1.2.0 → 1.3.0", "1.3.0"), ("release: 1.4.0 (#88)", "1.4.0"),
    ("Bump requests from 2.1 to 2.2", None), ("Fix crash in 2.7 parser", None), ("Update to Python 3.12", None),
])
def test_release_version(subject, expected):
    assert release_version(subject) == expected


@pytest.mark.parametrize("patch,expected", [
    (diff_of("pyproject.toml", " [project]", ' name = "shop"', '-version = "1.2.0"', '+version = "1.3.0"'), "1.3.0"),
    (diff_of("setup.cfg", " [metadata]", "-version = 0.9", "+version = 1.0"), "1.0"),
    (diff_of("Cargo.toml", " [package]", '-version = "0.4.1"', '+version = "0.5.0"'), "0.5.0"),
    (diff_of("web/package.json", '   "name": "shop",', '-  "version": "0.9.1",', '+  "version": "1.0.0",'), "1.0.0"),
    (diff_of("composer.json", '-    "version": "2.0.0",', '+    "version": "2.1.0",'), "2.1.0"),
    (diff_of("setup.py", "-    version='1.0',", "+    version='1.1',"), "1.1"),
    (diff_of("shop.gemspec", '-  s.version = "3.1"', '+  s.version = "3.2"'), "3.2"),
    (diff_of("lib/shop/version.rb", '-  VERSION = "1.0.0"', '+  VERSION = "1.0.1"'), "1.0.1"),
    (diff_of("src/shop/__init__.py", '-__version__ = "2.7.0"', '+__version__ = "2.7.1"'), "2.7.1"),
    (diff_of("src/shop/_version.py", "-__version__ = '2.7.0'", "+__version__ = '2.7.1'"), "2.7.1"),
    (diff_of("pom.xml", "   <artifactId>shop</artifactId>", "-  <version>1.0-SNAPSHOT</version>", "+  <version>1.0</version>"), "1.0"),
    # not the package's own version
    (diff_of("Cargo.toml", " [dependencies.serde]", '-version = "1.0"', '+version = "1.1"'), None),
    (diff_of("pom.xml", "   <dependency>", "-    <version>1.0</version>", "+    <version>1.1</version>", "   </dependency>"), None),
    (diff_of("README.md", '-version = "1"', '+version = "2"'), None),
    (diff_of("pyproject.toml", ' name = "shop"', '-description = "a"', '+description = "b"'), None),
    ("diff --git a/pyproject.toml b/pyproject.toml\nnew file mode 100644\n--- /dev/null\n+++ b/pyproject.toml\n"
     "@@ -0,0 +1,2 @@\n+[project]\n+version = \"0.1.0\"\n", None),
])
def test_version_change(patch, expected):
    assert version_change(patch) == expected


def test_release_notes_are_plain_entries_from_changelogs_and_fragments():
    patch = diff_of("CHANGELOG.md", "+# Changelog", "+", "+## [1.2.0] - 2024-05-01", "+", "+### Fixed", "+",
                  "+- Fix the **login** timeout ([#12](https://example.com/12))", "+- Use `requests` 2.31",
                  "+  on all platforms", "+* Add [dark mode][dm]", "+", "+[dm]: https://example.com", "+<!-- comment -->",
                  "-- An old entry that was removed", " ## [1.1.0]")
    patch += diff_of("docs/changes.rst", "+1.2.0 (2024-05-01)", "+------------------", "+", "+Bug fixes", "+~~~~~~~~~", "+",
                   "+- Fix :func:`parse` on empty input", "+- See `the guide <https://example.com>`_ for ``--strict``")
    patch += diff_of("changelog.d/123.bugfix.md", "+Fixed a crash when the", "+cart is empty.")
    patch += diff_of(".changeset/cool-cats.md", "+---", "+'@shop/web': minor", "+---", "+", "+Add a cool cat mode")
    patch += diff_of("src/app.py", "+# Fix nothing")
    assert release_notes(patch, limit=10) == [
        "Fix the login timeout (#12)", "Use requests 2.31 on all platforms", "Add dark mode",
        "Fix parse on empty input", "See the guide for --strict", "Fixed a crash when the cart is empty.", "Add a cool cat mode",
    ]
    assert len(release_notes(patch)) == 5
    assert release_notes(diff_of("src/app.py", "+- Add a thing")) == []


@pytest.mark.parametrize("path,expected", [
    ("CHANGELOG.md", True), ("docs/CHANGES.rst", True), ("HISTORY.txt", True), ("NEWS", True), ("RELEASE_NOTES.md", True),
    ("newsfragments/12.feature", True), ("changes/99.bugfix.rst", True), (".changeset/x.md", True),
    (".changeset/README.md", False), (".changeset/config.json", False), ("src/changelog.py", False), ("src/app.py", False),
])
def test_release_notes_paths(path, expected):
    assert is_release_notes_path(path) is expected


def test_module_and_area():
    assert area_of("shop/cart.py") == "shop"
    assert area_of("setup.py") == TOP_LEVEL
    assert busiest_area([("shop/cart.py", 3), ("docs/a.md", 40), ("docs/b.md", 1)]) == "docs"
    assert busiest_area([]) == TOP_LEVEL


def test_size_phrase():
    assert size_phrase(1, 3, 0) == "1 file, +3/-0 lines"
    assert size_phrase(2, 10, 4) == "2 files, +10/-4 lines"


def test_doc_sentence_reads_the_units_own_documentation():
    from narrator.facts.categories import doc_sentence

    assert doc_sentence('def f():\n    """Add an item to the cart. Then save."""\n') == "Add an item to the cart."
    assert doc_sentence("/**\n * Returns the total price\n * @param cart the cart\n */\nint total()") == "Returns the total price."
    assert doc_sentence("// Opens the main window for users\nfunc Open() {}") == "Opens the main window for users."
    assert doc_sentence("def f():\n    return 1\n") == ""


@pytest.mark.parametrize("subject,expected", [
    ("Bump the npm group with 3 updates", "dependencies"),
    ("Update actions/checkout action to v4", "dependencies"),
    ("Update module github.com/spf13/cobra to v1.8.1", "dependencies"),
    ("Update all dependencies", "dependencies"),
    ("[pre-commit.ci] pre-commit autoupdate", "dependencies"),
    ("Update docs to match the cart page", "docs"),
    ("Update README", "docs"),
    ("Update changelog for the cart", "docs"),
])
def test_dependency_subjects_on_code_paths(subject, expected):
    assert categorize(subject, ["src/app.py", "web/app.js"]) == expected


def test_release_notes_skip_code_and_prose_introductions_and_cut_long_entries():
    long_entry = "Support templates from private registries. " + "It reads the token from the environment. " * 8
    patch = diff_of("CHANGELOG/2.7.1.md", "+# 2.7.1", "+", "+This release fixes the version it reports:", "+",
                  "+```bash", "+$ tool -V", "+tool 2.6.0", "+```", "+", "+- Report the real version",
                  f"+- {long_entry}")
    assert release_notes(patch) == ["Report the real version", "Support templates from private registries."]
    prose = diff_of("NEWS.md", "+" + "A very long paragraph about the release " * 10 + "ends here.")
    [note] = release_notes(prose)
    assert len(note) <= 220 and note.endswith("\u2026")


def test_release_notes_leave_out_credits_and_keep_initials_inside_a_sentence():
    patch = diff_of("CHANGELOG.md", "+## 3.0.0", "+", "+- Ship the new importer, reviewed by Audrey M. Roy and others. It is faster.",
                  "+- Thanks to @ada for the report", "+- @grace for the review")
    assert release_notes(patch) == ["Ship the new importer, reviewed by Audrey M. Roy and others."]


def test_release_notes_written_as_bold_leads_are_entries():
    patch = diff_of("CHANGELOG/2.7.0.md", "+Version 2.7.0 is tested on five Python versions.",
                  "+**Pretty-printed JSON in templates.** The jsonify extension takes an indent argument.",
                  "+**Boolean variables from the command line.** Pass use_docker=y and it arrives as a boolean.",
                  "+- [@tyler](https://github.com/tyler) for the boolean conversion")
    assert release_notes(patch) == ["Pretty-printed JSON in templates.", "Boolean variables from the command line."]


def test_a_release_that_only_touches_its_changelog_is_a_release():
    from narrator.facts.categories import categorize

    assert categorize("Release 1.1.0", ["CHANGELOG.md"]) == "release"
    assert categorize("Update the changelog", ["CHANGELOG.md"], tagged=True) == "release"
    assert categorize("Write release notes for the next version", ["CHANGELOG.md"]) == "docs"


@pytest.mark.parametrize("version, development", [
    ("3.1.3.dev", True), ("2.0.0.dev0", True), ("1.4-SNAPSHOT", True), ("5.0.0-dev", True),
    ("3.1.3", False), ("2.0.0rc1", False), ("1.0.post1", False), ("0.9.devices", False),
])
def test_a_bump_to_a_development_version_is_no_release(version, development):
    from narrator.facts.categories import categorize
    from narrator.facts.releases import is_development_version

    assert is_development_version(version) is development
    category = categorize("Start version " + version, ["pyproject.toml"], version=version)
    assert (category == "release") is not development
