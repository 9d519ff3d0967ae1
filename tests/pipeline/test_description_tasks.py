"""A project's and each area's own description reach the store with a typed source and the file they were
read from, taken from the facts as they are (no reader's label parsed back), and are labelled only when shown."""

from db.models import SOURCES
from narrator.facts import provenance
from narrator.facts.areas import MAIN_CODE_TARGET
from narrator.facts.provenance import MODEL_HEADLINE, Provenance, Source
from narrator.git.files import SourceFile
from narrator.pipeline.tasks import description_tasks


def _file(path: str, text: str) -> SourceFile:
    return SourceFile(path, text, "python" if path.endswith(".py") else None, len(text.encode()))


def test_descriptions_carry_their_source_and_file_to_the_store():
    files = [_file("pyproject.toml", '[project]\nname = "shop"\ndescription = "A web shop for bakeries"\n'),
             _file("docs/README.md", "# Docs\n\nHow to run the shop, step by step.\n"),
             _file("README.rst", "Shop\n====\n\nOrders, carts and invoices for small bakeries.\n"),
             _file("shop/__init__.py", '"""Carts and orders."""\n'), _file("shop/cart.py", "x = 1\n")]
    stored = {t.target: (t.direct_source, t.origin) for t in description_tasks(files)}
    assert stored == {
        "project:package": (Source.PACKAGE, "pyproject.toml"),
        "project:readme": (Source.README, "README.rst"),
        "area:docs": (Source.README, "docs/README.md"),
        "area:shop": (Source.DOCSTRING, "shop/__init__.py"),
        MAIN_CODE_TARGET: (Source.GIT, ""),
    }
    assert all(type(source) is Source for source, _ in stored.values())


def test_one_function_turns_provenance_into_the_readers_words():
    assert provenance.label(Provenance(Source.PACKAGE, "pyproject.toml")) == "package description (pyproject.toml)"
    assert provenance.label(Provenance(Source.README, "docs/README.md")) == "README (docs/README.md)"
    assert provenance.label(Provenance(Source.GIT, "ignored.txt")) == "git facts"
    assert provenance.label(Provenance(Source.MODEL, headline=True)) == MODEL_HEADLINE
    assert provenance.label(Provenance(Source.DEVELOPER, headline=True)) == "developer's message"
    assert Provenance("pull request").source is Source.PULL_REQUEST  # a stored value becomes its Source
    assert tuple(Source) == SOURCES  # every value the database stores, in its order
