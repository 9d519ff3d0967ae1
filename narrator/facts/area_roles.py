"""The role of a top-level folder (an "area") by convention: source code, tests, documentation, CI and
automation, build and packaging, examples, dependencies, release notes or configuration, from its
name first, then the kinds of its files.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

from narrator.facts.paths import TOP_LEVEL, is_test_path

ROLES = ("source code", "tests", "documentation", "CI and automation", "build and packaging", "examples",
         "dependencies", "release notes", "configuration")

# Choices: scripts/, tools/ and hack/ hold developer helpers, so they are "CI and automation";
# bin/ is left to its files (Node and Python put the program's entry points there). config/,
# settings/ and editor folders are "configuration", a ninth role: calling them code or build misleads.
_NAMES = {
    "tests": {"test", "tests", "spec", "specs", "__tests__", "testing", "e2e", "t", "integration", "integration-tests",
              "integration_tests", "functional", "testdata", "test-data", "fixtures", "benchmarks", "benchmark",
              "bench", "cypress", "unittests", "unit-tests", "unit_tests"},
    "documentation": {"docs", "doc", "documentation", "man", "manual", "manuals", "guide", "guides", "wiki", "book",
                      "handbook", "docs-src", "docs_src", "mkdocs", "sphinx", "javadoc", "api-docs"},
    "CI and automation": {".github", ".gitlab", ".circleci", ".buildkite", ".travis", ".azure-pipelines", ".azure",
                          ".jenkins", "jenkins", ".husky", ".woodpecker", ".drone", ".ci", "ci", "scripts", "script",
                          "tools", "tooling", "hack", ".tekton", ".teamcity", ".forgejo", ".gitea"},
    "build and packaging": {"build", "dist", "packaging", "docker", ".docker", "deploy", "deployment", "deployments",
                            "helm", "charts", "chart", "k8s", "kubernetes", "kustomize", "terraform", "infra",
                            "infrastructure", "ansible", "installer", "installers", "debian", "rpm", "snap",
                            "snapcraft", "flatpak", "homebrew", "nix", "cmake", "gradle", ".mvn", "conda",
                            "conda-recipe", "conda.recipe", "releng"},
    "examples": {"examples", "example", "samples", "sample", "demo", "demos", "sandbox", "playground", "cookbook",
                 "showcase", "starter", "starters"},
    "dependencies": {"vendor", "vendors", "vendored", "_vendor", "third_party", "thirdparty", "third-party", "3rdparty",
                     "external", "externals", "extern", "deps", "node_modules", "bower_components", "pods", "carthage",
                     ".yarn", "submodules"},
    "release notes": {"changelog.d", "changes", "changes.d", "newsfragments", ".changeset", ".changes", "changelog",
                      "changelogs", "release-notes", "release_notes", "releasenotes", "news", "unreleased"},
    "configuration": {"config", "configs", "conf", "configuration", "settings", "etc", ".vscode", ".idea",
                      ".devcontainer", ".config", "env", "environments"},
    "source code": {"src", "lib", "app", "apps", "pkg", "cmd", "internal", "source", "sources", "packages",
                    "modules", "crates", "include", "core"},
}
_NAME_TOKENS = {"test": "tests", "tests": "tests", "e2e": "tests", "benchmarks": "tests", "docs": "documentation",
                "doc": "documentation", "example": "examples", "examples": "examples", "demo": "examples",
                "demos": "examples", "samples": "examples", "vendor": "dependencies"}
_WEBSITES = {"site", "website", "www", "web-site", "gh-pages", "pages"}

_CODE = {".py", ".pyi", ".go", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".kts", ".scala", ".rb",
         ".php", ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".cs", ".swift", ".m", ".mm", ".vue", ".svelte",
         ".ex", ".exs", ".erl", ".hs", ".ml", ".clj", ".lua", ".r", ".jl", ".dart", ".pl", ".pm", ".zig", ".nim",
         ".groovy", ".fs", ".vb", ".elm", ".sol", ".ipynb"}
_SHELL = {".sh", ".bash", ".zsh", ".fish", ".ps1", ".bat", ".cmd"}
_DOCS = {".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".txt", ".mdx", ".rdoc", ".org", ".tex"}
_DOC_STEMS = {"readme", "license", "licence", "copying", "notice", "authors", "contributors", "changelog", "changes",
              "history", "news", "security", "code_of_conduct", "contributing", "maintainers", "support"}
_CONFIG = {".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".env", ".properties"}
_BUILD_NAMES = {"makefile", "gnumakefile", "cmakelists.txt", "dockerfile", "containerfile", "docker-compose.yml",
                "docker-compose.yaml", "compose.yml", "compose.yaml", ".dockerignore", "setup.py", "setup.cfg",
                "pyproject.toml", "manifest.in", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                "pnpm-workspace.yaml", "lerna.json", "nx.json", "turbo.json", "cargo.toml", "cargo.lock", "go.mod",
                "go.sum", "go.work", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
                "settings.gradle.kts", "gradlew", "gradlew.bat", "gradle.properties", "build.xml", "gemfile",
                "gemfile.lock", "rakefile", "composer.json", "composer.lock", "pipfile", "pipfile.lock",
                "poetry.lock", "uv.lock", "tox.ini", "noxfile.py", "environment.yml", "meson.build", "configure",
                "configure.ac", "makefile.am", "build.rs", "build.sbt", "justfile", "taskfile.yml", "mix.exs",
                "mix.lock", "deno.json", "flake.nix", "default.nix", "shell.nix", "vcpkg.json", "conanfile.txt",
                "conanfile.py", "build", "workspace", "build.bazel", "workspace.bazel", "module.bazel", "tsconfig.json"}
_BUILD_SUFFIXES = {".gemspec", ".mk", ".cmake", ".nuspec", ".csproj", ".sln", ".podspec", ".bzl", ".spec", ".lock"}
_CI_NAMES = {".travis.yml", ".gitlab-ci.yml", "jenkinsfile", "azure-pipelines.yml", ".pre-commit-config.yaml",
             "appveyor.yml", ".appveyor.yml", "codecov.yml", ".codecov.yml", "renovate.json", ".renovaterc",
             "bitbucket-pipelines.yml", ".drone.yml", "cloudbuild.yaml", ".cirrus.yml"}


def _kind(path: str) -> str:
    """What one file is: code, test, shell, build, ci, doc, config or other."""
    p = PurePosixPath(path)
    name, suffix = p.name.lower(), p.suffix.lower()
    if name in _CI_NAMES:
        return "ci"
    if (name in _BUILD_NAMES or suffix in _BUILD_SUFFIXES or name.startswith(("dockerfile", "requirements"))
            or re.search(r"\.config\.[cm]?[jt]s$", name)):
        return "build"
    if name == "conftest.py" or is_test_path(path):
        return "test"
    if suffix in _SHELL:
        return "shell"
    if suffix in _CODE:
        return "code"
    if suffix in _DOCS or p.stem.lower() in _DOC_STEMS:
        return "doc"
    if suffix in _CONFIG or name.startswith("."):
        return "config"
    return "other"


def _name_role(area: str, kinds: list[str], package: bool = False) -> str | None:
    """The role the folder's name gives by convention, or None.

    A word inside a longer name ("e2e-tests") counts only when the folder is not a Python package:
    "annotated_doc/__init__.py" is code that happens to mention docs.
    """
    name = area.lower()
    for role, names in _NAMES.items():
        if name in names:
            return role
    if name in _WEBSITES:
        return "documentation" if "doc" in kinds else None
    for token in [] if package else re.split(r"[-_.\s]+", name):
        if token in _NAME_TOKENS:
            return _NAME_TOKENS[token]
    return "configuration" if name.startswith(".") else None


def area_role(area: str, paths: list[str]) -> str:
    """One of ROLES for a top-level folder (or TOP_LEVEL), from its name first, then its files.

    paths may be repository paths ("tests/test_a.py") or paths inside the area ("test_a.py").
    """
    prefix = f"{area}/"
    kinds = [_kind(p[len(prefix):] if p.startswith(prefix) else p) for p in paths]
    count = Counter(kinds)
    if area == TOP_LEVEL:
        if count["build"] > count["code"]:
            return "build and packaging"
        order = ("code", "build", "ci", "shell", "doc", "config")
        roles = ("source code", "build and packaging", "CI and automation", "CI and automation", "documentation",
                 "configuration")
        return next((role for kind, role in zip(order, roles) if count[kind]), "source code")
    named = _name_role(area, kinds, package=any(p in (f"{prefix}__init__.py", "__init__.py") for p in paths))
    if named:
        return named
    code = count["code"] + count["test"]
    if count["doc"] > 2 * code:
        return "documentation"
    if count["test"] and not count["code"]:
        return "tests"  # every code file is a test
    if code:
        return "source code"
    if count["shell"]:
        return "CI and automation"
    ranked = [(count[k], r) for k, r in (("build", "build and packaging"), ("ci", "CI and automation"),
                                         ("doc", "documentation"), ("config", "configuration"))]
    best = max(ranked, key=lambda item: item[0])
    return best[1] if best[0] else "source code"  # assets and data belong to the product
