"""A project's own words come from its metadata, README and package docs; areas get roles by convention."""

import pytest

from narrator.facts.area_roles import ROLES, area_role
from narrator.facts.areas import area_own_words, describe_area, main_code_area
from narrator.facts.commit_style import is_commit_style
from narrator.facts.description import Description, package_description, project_descriptions
from narrator.facts.paths import TOP_LEVEL
from narrator.facts.provenance import Source
from narrator.facts.readme import readme_paragraph

COOKIECUTTER = """<h1 align="center"><img src="logo.png"></h1>
[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/x) [![CI](https://github.com/x/y/badge.svg)](...)
# Cookiecutter
<p align="center"><a href="docs">Docs</a> | <a href="x">Install</a></p>
Create projects swiftly from **cookiecutters** (project templates) with this command-line utility. Ideal for generating Python, JavaScript, Ruby, and more.
"""
COOKIECUTTER_TEXT = ("Create projects swiftly from cookiecutters (project templates) with this command-line utility. "
                     "Ideal for generating Python, JavaScript, Ruby, and more.")


# --- package metadata ---


@pytest.mark.parametrize("path,text", [
    ("pyproject.toml", '[project]\nname = "shop"\ndescription = "A tiny   shop"\n'),
    ("pyproject.toml", '[tool.poetry]\nname = "shop"\ndescription = "A tiny shop."\n'),
    ("setup.cfg", "[metadata]\nname = shop\ndescription = A tiny shop\n"),
    ("setup.py", 'from setuptools import setup\nsetup(name="shop", description="A tiny shop", version=V)\n'),
    ("package.json", '{"name": "shop", "description": "A tiny shop"}'),
    ("composer.json", '{"name": "acme/shop", "description": "A tiny shop"}'),
    ("Cargo.toml", '[package]\nname = "shop"\ndescription = "A tiny shop"\n'),
    ("shop.gemspec", 'Gem::Specification.new do |spec|\n  spec.name = "shop"\n'
                     '  spec.description = "Longer words about the shop."\n  spec.summary = "A tiny shop"\nend\n'),
    ("shop.gemspec", "Gem::Specification.new do |s|\n  s.description = %q{A tiny shop}\nend\n"),
    ("pom.xml", '<?xml version="1.0"?><project xmlns="http://maven.apache.org/POM/4.0.0"><name>shop</name>'
                "<dependencies><dependency><description>Not this</description></dependency></dependencies>"
                "<description>\n   A tiny shop\n</description></project>"),
])
def test_package_description_from_each_format(path, text):
    assert package_description({path: text}) == Description("A tiny shop.", Source.PACKAGE, path)


@pytest.mark.parametrize("path,text", [
    ("pyproject.toml", '[project]\nname = "shop"\ndescription = "Add your description here"\n'),
    ("pyproject.toml", '[project]\nname = "shop"\ndescription = ""\n'),
    ("pyproject.toml", "[project\nthis is not toml"),
    ("package.json", '{"name": "shop", "description": "TODO"}'),
    ("package.json", "{not json"),
    ("package.json", '["a list"]'),
    ("Cargo.toml", '[package]\nname = "shop"\ndescription = "A short description"\n'),
    ("Cargo.toml", '[package]\nname = "shop"\ndescription.workspace = true\n'),
    ("setup.cfg", "[metadata]\nname = shop\ndescription = My project\n"),
    ("setup.cfg", "[metadata]\ndescription = file: README.md\n"),
    ("setup.cfg", "no section header"),
    ("setup.py", "from setuptools import setup\nsetup(name='x', description=DESCRIPTION)\n"),
    ("setup.py", "def broken(:\n"),
    ("shop.gemspec", 's.summary = "#{name} does things"\n'),
    ("pom.xml", "<project><description>${project.name}</description></project>"),
    ("pom.xml", "<project><description>"),
    ("go.mod", "module github.com/acme/shop\n\ngo 1.22\n"),
    ("pyproject.toml", '[project]\ndescription = "{{ cookiecutter.description }}"\n'),
])
def test_placeholders_and_broken_metadata_give_nothing(path, text):
    assert package_description({path: text}) is None


def test_first_real_description_wins_and_monorepos_look_one_level_down():
    files = {"pyproject.toml": '[project]\ndescription = "TODO"\n', "package.json": '{"description": "Web shop"}'}
    assert package_description(files) == Description("Web shop.", Source.PACKAGE, "package.json")
    monorepo = {"package.json": '{"private": true}', "docs/package.json": '{"description": "Docs website"}',
                "shop/package.json": '{"description": "The shop"}'}
    assert package_description(monorepo) == Description("The shop.", Source.PACKAGE, "shop/package.json")
    deep = {"shop/package.json": '{"description": "Deep shop"}', "package.json": '{"description": "Top shop"}'}
    assert package_description(deep).text == "Top shop."
    assert package_description({"a/b/package.json": '{"description": "Too deep"}'}) is None


# --- README paragraphs ---


def test_readme_paragraph_skips_badges_html_and_headings():
    assert readme_paragraph(COOKIECUTTER) == COOKIECUTTER_TEXT


def test_readme_paragraph_markdown_skips_front_matter_lists_quotes_code_and_link_rows():
    text = """---
title: Shop
---
<!-- a comment
over lines -->
<p align="center">
  <img src="x.png">
  <a href="https://x">Docs</a> · <a href="https://y">Install</a>
</p>
<table>
  <tr><td>Words in a table cell</td></tr>
</table>
<details><summary>Click to see the whole list</summary>

</details>

Shop
====

[Docs](https://x) | [Install](https://y) | [Chat](https://z)

**Documentation**: [docs.shop.io](https://docs.shop.io) | **Source**: [github](https://github.com/x)

> [!NOTE]
> This is a notice in a quote.

**Note:** the API is in beta and may change.

## Table of contents

- [Install](#install)
- [Use](#use)

```python
print("not prose")
```

    indented code here too

Shop is a `tiny` web shop built with [Flask](https://flask.palletsprojects.com)
and _SQLAlchemy_, e.g. for bakeries. It has carts. It has orders. It has a fourth sentence.
"""
    assert readme_paragraph(text) == ("Shop is a tiny web shop built with Flask and SQLAlchemy, e.g. for bakeries. "
                                      "It has carts. It has orders.")


def test_readme_paragraph_keeps_prose_inside_html():
    text = """<p align="center">
  <picture><source srcset="dark.svg"><img alt="Hub logo" src="logo.svg"></picture>
</p>
<p align="center">
    <i>The official client for the <b>Hub</b>.</i>
    <br/>
    <a href="#about">About</a>
    ·
    <a href="https://x/docs">Documentation</a>
</p>

The Hub uses tokens.
"""
    assert readme_paragraph(text) == "The official client for the Hub."
    assert readme_paragraph("<b>Shop</b> is a web shop for bakeries.") == "Shop is a web shop for bakeries."


def test_readme_paragraph_skips_pointers_and_keeps_link_rich_prose():
    text = """For more information check out the [docs](https://x).

... so better sign this

[Go](https://go.dev) grammar for [tree-sitter](https://x).
"""
    assert readme_paragraph(text) == "Go grammar for tree-sitter."
    listed = "PyTorch is a Python package that provides two high-level features:\n- Tensors\n- Autograd\n"
    assert readme_paragraph(listed) == "PyTorch is a Python package that provides two high-level features."
    assert readme_paragraph("This is a port of [markdown-it].\n\n[markdown-it]: https://x") == "This is a port of markdown-it."


def test_readme_paragraph_rst():
    text = """.. image:: https://img.shields.io/pypi/v/shop.svg
   :target: https://pypi.org/project/shop

|build| |coverage|

=====
Shop
=====

:Author: Ada

.. contents:: Table of contents

Shop is a ``tiny`` web shop built on `Flask <https://flask.palletsprojects.com>`_ and Django_.
See :ref:`the guide <guide>` for more.

Install it::

    pip install shop
"""
    assert readme_paragraph(text, "README.rst") == (
        "Shop is a tiny web shop built on Flask and Django. See the guide for more.")


def test_readme_paragraph_asciidoc_and_plain_text():
    adoc = """= Shop
Ada Lovelace
:toc:
:icons: font

image::logo.png[Logo]

[source,bash]
----
make run
----

Shop is a small web shop for bakeries, with link:https://x.io[carts] and *orders*.
"""
    assert readme_paragraph(adoc, "README.adoc") == "Shop is a small web shop for bakeries, with carts and orders."
    plain = "SHOP\n\nShop sells bread online\nand keeps the books\n"
    assert readme_paragraph(plain, "README") == "Shop sells bread online and keeps the books."


def test_readme_paragraph_cuts_long_paragraphs_at_a_sentence_end():
    long = " ".join(f"Sentence number {i} says something about the shop that is quite long indeed." for i in range(12))
    cut = readme_paragraph(long)
    assert cut.count(".") == 3 and cut.endswith("indeed.")
    endless = "Shop " + "and more " * 100
    assert len(readme_paragraph(endless)) <= 501 and readme_paragraph(endless).endswith("…")
    assert readme_paragraph("Shop keeps carts. Install it with:\n\n```\npip install shop\n```") == "Shop keeps carts."
    assert readme_paragraph("Features include:\n\n- carts\n\nShop is a shop for you.") == "Shop is a shop for you."


def test_readme_paragraph_without_prose_is_empty():
    assert readme_paragraph("# Shop\n\n[![CI](x)](y)\n\n```\ncode\n```\n") == ""
    assert readme_paragraph("") == ""


# --- project descriptions ---


def test_project_descriptions_metadata_then_readme():
    files = {"pyproject.toml": '[project]\ndescription = "A cookiecutter runner"\n', "README.md": COOKIECUTTER}
    assert project_descriptions(files) == [
        Description("A cookiecutter runner.", Source.PACKAGE, "pyproject.toml"),
        Description(COOKIECUTTER_TEXT, Source.README, "README.md"),
    ]


def test_project_descriptions_leave_out_a_readme_saying_the_same():
    files = {"package.json": '{"description": "Create projects swiftly from cookiecutters"}', "README.md": COOKIECUTTER}
    assert [(d.source, d.origin) for d in project_descriptions(files)] == [(Source.PACKAGE, "package.json")]
    files = {"setup.py": f"setup(description={COOKIECUTTER_TEXT!r} + '')", "readme.rst": COOKIECUTTER_TEXT}
    # a non-literal description is ignored
    assert [(d.source, d.origin) for d in project_descriptions(files)] == [(Source.README, "readme.rst")]


def test_project_descriptions_readme_only_and_nothing():
    files = {"go.mod": "module github.com/acme/shop\n", "Readme.md": "# shop\n\nShop is a web shop in Go.\n",
             "docs/README.md": "Not the top README at all."}
    assert project_descriptions(files) == [Description("Shop is a web shop in Go.", Source.README, "Readme.md")]
    assert project_descriptions({"main.go": "package main"}) == []


# --- area roles ---


@pytest.mark.parametrize("area,paths,role", [
    ("tests", ["tests/test_cart.py"], "tests"),
    ("spec", ["spec/cart_spec.rb"], "tests"),
    ("__tests__", ["__tests__/cart.test.js"], "tests"),
    ("integration", ["integration/run.py"], "tests"),
    ("e2e-tests", ["e2e-tests/cart.ts"], "tests"),
    ("checks", ["checks/test_cart.py", "checks/cart_test.go", "checks/conftest.py"], "tests"),
    ("docs", ["docs/index.md", "docs/conf.py"], "documentation"),
    ("website", ["website/docs/intro.md", "website/src/page.js"], "documentation"),
    ("website", ["website/src/page.js"], "source code"),
    ("handbook2", [f"handbook2/{i}.md" for i in range(5)], "documentation"),
    (".github", [".github/workflows/ci.yml"], "CI and automation"),
    (".circleci", [".circleci/config.yml"], "CI and automation"),
    ("scripts", ["scripts/release.py"], "CI and automation"),
    ("tools", ["tools/lint.py"], "CI and automation"),
    ("devops", ["devops/run.sh", "devops/clean.sh"], "CI and automation"),
    ("build", ["build/x.py"], "build and packaging"),
    ("docker", ["docker/Dockerfile"], "build and packaging"),
    ("image", ["image/Dockerfile", "image/docker-compose.yml"], "build and packaging"),
    ("examples", ["examples/basic.py"], "examples"),
    ("demo", ["demo/app.js"], "examples"),
    ("vendor", ["vendor/github.com/x/y.go"], "dependencies"),
    ("third_party", ["third_party/zlib/zlib.c"], "dependencies"),
    ("changelog.d", ["changelog.d/123.feature.md"], "release notes"),
    ("newsfragments", ["newsfragments/1.bugfix"], "release notes"),
    (".changeset", [".changeset/brave-cats.md"], "release notes"),
    ("config", ["config/routes.rb"], "configuration"),
    ("deployconf", ["deployconf/prod.yaml", "deployconf/dev.yaml"], "configuration"),
    (".vscode", [".vscode/settings.json"], "configuration"),
    ("src", ["src/shop/cart.py"], "source code"),
    ("shop", ["shop/cart.py", "shop/test_cart.py", "shop/README.md"], "source code"),
    ("pkg", ["pkg/cart/cart.go", "pkg/cart/cart_test.go"], "source code"),
    ("assets", ["assets/logo.png"], "source code"),
    ("bin", ["bin/shop.js"], "source code"),
])
def test_area_role(area, paths, role):
    assert area_role(area, paths) == role and role in ROLES


def test_area_role_accepts_paths_inside_the_area():
    assert area_role("checks", ["test_cart.py"]) == "tests"


@pytest.mark.parametrize("paths,role", [
    (["pyproject.toml", "setup.py", "Makefile", "README.md", "LICENSE", ".gitignore"], "build and packaging"),
    (["main.go", "cart.go", "go.mod", "README.md"], "source code"),
    (["app.py", "README.md"], "source code"),
    (["README.md", "LICENSE"], "documentation"),
    ([".gitlab-ci.yml"], "CI and automation"),
    ([".editorconfig"], "configuration"),
])
def test_top_level_role(paths, role):
    assert area_role(TOP_LEVEL, paths) == role


# --- an area's own words ---


def test_area_own_words_prefers_the_area_readme():
    files = {"shop/README.md": "# Shop\n\n[![x](y)](z)\n\nCarts and orders for the web shop.\n",
             "shop/__init__.py": '"""Not this one."""'}
    assert area_own_words("shop", files) == Description("Carts and orders for the web shop.", Source.README, "shop/README.md")


def test_area_own_words_python_docstring_skips_licence_and_headings():
    init = '''# Copyright 2024 Acme
"""
shop
~~~~

Copyright (c) 2024 Acme. All rights reserved.

Carts and orders for the
web shop.

More detail here.

:copyright: Acme
"""
'''
    assert area_own_words("shop", {"shop/__init__.py": init}) == Description(
        "Carts and orders for the web shop.", Source.DOCSTRING, "shop/__init__.py")
    src = {"src/shop/__init__.py": '"""Cart totals."""', "src/shop/cart.py": '"""Not a package."""'}
    assert area_own_words("src", src) == Description("Cart totals.", Source.DOCSTRING, "src/shop/__init__.py")


def test_area_own_words_go_package_comment():
    cart = "// Copyright 2024 Acme. All rights reserved.\n\n// Package cart keeps carts.\n//\n// More.\npackage cart\n"
    assert area_own_words("cart", {"cart/cart.go": cart}) == Description(
        "Package cart keeps carts.", Source.DOCSTRING, "cart/cart.go")
    doc = "//go:build linux\n\n/*\nCommand shop serves the shop\non the web.\n*/\npackage main\n"
    files = {"cmd/a.go": "// Helper for things.\npackage main\n", "cmd/doc.go": doc,
             "cmd/a_test.go": "// Package main tests.\npackage main"}
    assert area_own_words("cmd", files) == Description("Command shop serves the shop on the web.",
                                                       Source.DOCSTRING, "cmd/doc.go")
    assert area_own_words("util", {"util/a.go": "// Helper for things.\npackage util\n"}) is None


def test_area_own_words_js_index_comment():
    index = ('#!/usr/bin/env node\n/*! shop v1 | (c) Acme | MIT license */\n"use strict";\n'
             "/**\n * @fileoverview Carts and orders\n * for the web shop.\n * @module shop\n */\nexport {}\n")
    assert area_own_words("web", {"web/index.js": index}) == Description(
        "Carts and orders for the web shop.", Source.DOCSTRING, "web/index.js")
    assert area_own_words("web", {"web/index.ts": "export const x = 1;\n/** Too late. */"}) is None


def test_area_own_words_none_and_top_level():
    assert area_own_words("shop", {"shop/cart.py": "x = 1", "shop/README.md": "# Shop\n"}) is None
    files = {"README.md": "A web shop for bakeries.", "shop/__init__.py": '"""Shop package."""'}
    assert area_own_words(TOP_LEVEL, files) == Description("A web shop for bakeries.", Source.README, "README.md")
    assert area_own_words(TOP_LEVEL, {"shop/__init__.py": '"""Shop package."""'}) is None


# --- commit-style sentences ---


@pytest.mark.parametrize("sentence,expected", [
    ("Remove fake project directory.", True),
    ("tests: Remove fake project directory.", True),
    ("docs: explain the cart", True),
    ("feat(cart): totals", True),
    ("fix!: crash on empty cart", True),
    ("net/http: add a timeout", True),
    ("Bump requests from 2.31 to 2.32", True),
    ("Merge pull request #12 from ada/cart", True),
    ("Fixed typo in the README", True),
    ("Clean up the cart module", True),
    ("add tests", True),
    (":sparkles: Add carts", True),
    ("v1.2.3", True),
    ("Tools that create projects from templates.", False),
    ("Reads settings from the environment.", False),
    ("Adds carts to the shop.", False),
    ("Clean architecture template for web apps.", False),
    ("Note: the API is in beta.", False),
    ("lodash: modular utilities.", False),
    ("Released under the MIT licence.", False),
    ("Remove", False),
    ("", False),
])
def test_is_commit_style(sentence, expected):
    assert is_commit_style(sentence) is expected


def _where(described: Description) -> tuple[Source, str]:
    """Whose words a description is and the file it was read from."""
    return described.source, described.origin


def test_area_own_words_reads_subpackages_only_in_a_src_layout():
    flat = {"shop/__init__.py": "VERSION = 1\n", "shop/ext/__init__.py": '"""Optional extras for shops."""'}
    assert area_own_words("shop", flat) is None
    src = {"src/tests/__init__.py": '"""Tests of the shop."""', "src/shop/__init__.py": '"""The shop itself."""'}
    assert _where(area_own_words("src", src)) == (Source.DOCSTRING, "src/shop/__init__.py")


def test_area_role_words_in_a_python_package_name_do_not_count():
    assert area_role("annotated_doc", ["annotated_doc/__init__.py", "annotated_doc/main.py"]) == "source code"
    assert area_role("shop-docs", ["shop-docs/index.html"]) == "documentation"


# --- what describes a part ---

TQDM = {
    "pyproject.toml": '[project]\nname = "tqdm"\ndescription = "Fast, Extensible Progress Meter"\n',
    "tqdm/__init__.py": "from .std import tqdm, TqdmWarning\n__all__ = ['tqdm']\n",
    "tqdm/std.py": 'class TqdmWarning(Warning):\n    """base class for all tqdm warnings."""\n',
    "tqdm/_monitor.py": 'class TMonitor:\n    """Monitoring thread for tqdm bars."""\n',
    "tqdm/__main__.py": '"""Entry point for python -m tqdm."""\nfrom .cli import main\nmain()\n',
    "tests/test_tqdm.py": "def test_x():\n    pass\n",
}
EXPRESS = {
    "package.json": '{"name": "express", "description": "Fast, unopinionated, minimalist web framework"}',
    "index.js": "module.exports = require('./lib/express');\n",
    "lib/express.js": "/*!\n * express\n * Copyright(c) 2009-2013 TJ Holowaychuk\n * MIT Licensed\n */\n\n'use strict';\n\n"
                      "/**\n * Module dependencies.\n * @private\n */\n\nvar View = require('./view');\n",
    "lib/view.js": "/**\n * contains the code to render a view\n */\nmodule.exports = View;\n",
    "test/app.js": "describe('app', function () {});\n",
    "examples/auth/index.js": "/** An example of logging in. */\nvar express = require('../../');\n",
}


def test_a_class_docstring_never_describes_the_main_package_the_project_description_does():
    assert area_own_words("tqdm", TQDM) is None   # not "base class for all tqdm warnings", nor how it is started
    assert main_code_area(TQDM) == "tqdm"
    assert describe_area("tqdm", TQDM) == Description("Fast, Extensible Progress Meter.",
                                                      Source.PACKAGE, "pyproject.toml")
    assert describe_area("tests", TQDM) is None


def test_the_whole_framework_folder_is_described_by_the_project_not_by_one_file():
    assert area_own_words("lib", EXPRESS) is None  # "Module dependencies." labels require() lines
    assert main_code_area(EXPRESS) == "lib"
    assert describe_area("lib", EXPRESS) == Description("Fast, unopinionated, minimalist web framework.",
                                                        Source.PACKAGE, "package.json")
    assert describe_area("examples", EXPRESS) is None
    readme_only = {**{k: v for k, v in EXPRESS.items() if k != "package.json"},
                   "README.md": "# Express\n\nA small and fast framework for web servers in Node.\n"}
    assert describe_area("lib", readme_only) == Description("A small and fast framework for web servers in Node.",
                                                            Source.README, "README.md")


def test_a_folder_with_its_own_readme_is_described_by_it():
    files = {**EXPRESS, "lib/README.md": "# lib\n\nThe router, the request and the response objects.\n\nMore.\n"}
    assert describe_area("lib", files) == Description("The router, the request and the response objects.",
                                                      Source.README, "lib/README.md")


def test_main_modules_describe_their_part():
    assert area_own_words("shop", {"shop/__init__.py": "", "shop/shop.py": '"""Carts and orders."""'}) == Description(
        "Carts and orders.", Source.DOCSTRING, "shop/shop.py")
    assert _where(area_own_words("src", {"src/shop/__init__.py": "", "src/shop/__main__.py": '"""Serves the shop."""'}
                          )) == (Source.DOCSTRING, "src/shop/__main__.py")
    assert area_own_words("cmd", {"cmd/main.go": "// Shop serves the web shop.\npackage main\n"}) == Description(
        "Shop serves the web shop.", Source.DOCSTRING, "cmd/main.go")
    pkg = {"pkg/lib/index.js": "/** Carts for the web. */\n"}
    assert _where(area_own_words("pkg", pkg)) == (Source.DOCSTRING, "pkg/lib/index.js")
    entry = {"package.json": '{"main": "./server/app"}', "server/app.js": "/** The shop's web server. */\n"}
    assert _where(area_own_words("server", entry)) == (Source.DOCSTRING, "server/app.js")
    # any other module says what it does, not what its folder is for
    assert area_own_words("shop", {"shop/__init__.py": "", "shop/cart.py": '"""Carts and orders."""'}) is None


@pytest.mark.parametrize("files,area", [
    ({"pyproject.toml": '[project]\nname = "my-shop"', "my_shop/a.py": "", "tools/x.py": ""}, "my_shop"),
    ({"setup.py": "setup(name='shop')", "src/shop/__init__.py": "", "benchmarks/b.py": ""}, "src"),
    ({"package.json": '{"name": "@acme/shop", "main": "lib/index.js"}', "lib/index.js": "", "bin/cli.js": ""},
     "lib"),
    ({"package.json": '{"main": "server/app.js"}', "server/app.js": "", "client/c.js": ""}, "server"),
    ({"Cargo.toml": '[package]\nname = "cart"', "src/lib.rs": "", "tests/t.rs": ""}, "src"),  # the only code folder
    ({"go.mod": "module x", "main.go": "package main", "internal/a.go": ""}, None),  # the main code is at the top
    ({"package.json": '{"name": "shop"}', "a/x.js": "", "b/y.js": ""}, None),        # two candidates: no guess
])
def test_main_code_area(files, area):
    assert main_code_area(files) == area
