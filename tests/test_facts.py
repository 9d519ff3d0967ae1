"""Categories, areas and sizes are computed from git facts."""

import pytest

from narrator.facts import TOP_LEVEL, area_of, categorize, module_of, size_phrase


@pytest.mark.parametrize("subject,paths,expected", [
    ("Update the guide", ["docs/guide.md", "README.md"], "docs"),
    ("Cover the cart total", ["tests/test_cart.py"], "tests"),
    ("Cover the cart total", ["shop/cart_test.go", "README.md"], "tests"),
    ("Fix crash when adding an empty item", ["shop/cart.py"], "fix"),
    ("Add orders that can be placed", ["shop/orders.py"], "feature"),
    ("Refactor the cart module", ["shop/cart.py"], "maintenance"),
    ("Bump requests to the latest release", ["requirements.txt"], "maintenance"),
    ("Tidy things", ["shop/cart.py"], "maintenance"),
    ("Add docs for the API", ["shop/api.py", "docs/api.md"], "feature"),
])
def test_categorize(subject, paths, expected):
    assert categorize(subject, paths) == expected


def test_module_and_area():
    assert module_of("shop/cart.py") == "shop"
    assert module_of("setup.py") == TOP_LEVEL
    assert area_of([("shop/cart.py", 3), ("docs/a.md", 40), ("docs/b.md", 1)]) == "docs"
    assert area_of([]) == TOP_LEVEL


def test_size_phrase():
    assert size_phrase(1, 3, 0) == "1 file, +3/-0 lines"
    assert size_phrase(2, 10, 4) == "2 files, +10/-4 lines"


def test_doc_sentence_reads_the_units_own_documentation():
    from narrator.facts import doc_sentence

    assert doc_sentence('def f():\n    """Add an item to the cart. Then save."""\n') == "Add an item to the cart."
    assert doc_sentence("/**\n * Returns the total price\n * @param cart the cart\n */\nint total()") == "Returns the total price."
    assert doc_sentence("// Opens the main window for users\nfunc Open() {}") == "Opens the main window for users."
    assert doc_sentence("def f():\n    return 1\n") == ""
