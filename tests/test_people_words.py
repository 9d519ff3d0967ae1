"""People's words before the model: markup turned into text, shown without stray backslashes, heading
every change whose developer wrote anything informative, and model sentences that claim what the diff
does not show dropped by their own check.
"""

from __future__ import annotations

import pytest

from narrator.text import markdown_text, unmarked

# --- markup in people's words -----------------------------------------------------------------


@pytest.mark.parametrize("raw,text", [
    ("Deprecate {func}`edit` in favour of {meth}`Cart.update` ({issue}`2869`)",
     "Deprecate edit in favour of Cart.update (2869)"),
    ("Use :func:`x` and :class:`~shop.cart.Cart` with :py:meth:`!skip`", "Use x and Cart with skip"),
    (":ref:`the install guide <install>` is shorter", "the install guide is shorter"),
    ("Fix `parse()` and ``dump()`` for **empty** *carts*", "Fix parse() and dump() for empty carts"),
    ("See [the docs](https://example.com/docs_(v2)) and ![logo](a.svg)", "See the docs and logo"),
    ("Keep __init__ and snake_case_names and <select> as written", "Keep __init__ and snake_case_names and <select> as written"),
])
def test_markup_in_peoples_words_becomes_text(raw, text):
    assert unmarked(raw) == text


# --- Markdown that escapes only what would be markup ----------------------------------------


def test_markdown_text_leaves_ordinary_punctuation_alone():
    assert markdown_text("Fix the cart, then ship.") == "Fix the cart, then ship."
    assert markdown_text("projects_using_cobra: add Ollama (v1.2.3); 10:30 -> done!") == (
        "projects_using_cobra: add Ollama (v1.2.3); 10:30 -> done!")


@pytest.mark.parametrize("raw,escaped", [
    ("**bold** _it_ `code`", r"\*\*bold\*\* \_it\_ \`code\`"),
    ("[x](javascript:alert(1))", r"\[x\]\(javascript\:alert\(1\)\)"),
    ("<img src=x onerror=alert(1)>", r"\<img src=x onerror=alert(1)\>"),
    ("(javascript:alert(1))", r"\(javascript\:alert(1))"),  # could follow a "]" the caller wrote
    ("# Heading", r"\# Heading"), ("1. Item", r"1\. Item"), ("- item", r"\- item"), ("> quote", r"\> quote"),
    ("$x$ ~~gone~~ a|b :red[c] &amp;", r"\$x\$ \~\~gone\~\~ a\|b \:red\[c\] \&amp;"),
])
def test_markdown_text_escapes_what_markdown_would_act_on(raw, escaped):
    assert markdown_text(raw) == escaped
