"""Jargon explained inline: at its first use in a document, a glossed term is followed by its
explanation ("CI (continuous integration: ...)"), in ``show`` (text and Markdown) and in the Markdown,
HTML and PDF reports; never a second time, never for a word used in another sense, and never by
changing what people wrote."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from narrator.__main__ import main
from narrator.facts import glossary
from narrator.render import exports as reports
from narrator.render import renderers
from narrator.render import show as report
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files, make_sample_repo
from tests.helpers.pages import Tags, pdf_text

CI = glossary.inline_words(glossary.load()["CI"]["explanation"])
FLAKY = glossary.inline_words(glossary.load()["Flaky test"]["explanation"])
CONTAINER = glossary.inline_words(glossary.load()["Container"]["explanation"])
SUBJECTS = {10: "Speed up the CI builds", 11: "Store JsonType containers as text in the cart",
            12: "Fix the CI cache for <b>flaky</b> carts"}


def test_uses_give_each_term_s_place_and_keep_to_its_sense():
    text = "Fix CI, then CI again"
    assert [(u.start, u.end, u.term) for u in glossary.uses(text)] == [(4, 6, "CI"), (13, 15, "CI")]
    assert glossary.uses("Store JsonType containers as text") == []  # not the 'Container' of Docker
    [use] = glossary.uses("Slim the docker image")
    assert "Slim the docker image"[use.start:use.end] == "docker" and use.term == "Container"
    assert glossary.terms_in(text) == [("CI", glossary.load()["CI"]["explanation"])]  # unchanged


def test_the_inline_words_read_as_an_aside():
    assert CI.startswith("(continuous integration: automatic builds") and CI.endswith("change)")
    assert glossary.inline_words("JavaScript with labels.") == "(JavaScript with labels)"  # a name keeps its capital
    assert glossary.inline_words("Python's global lock.") == "(Python's global lock)"


def test_a_document_explains_each_term_once_at_its_first_use():
    explained = glossary.Explained()
    assert explained.explain("Fix CI and the CI cache") == f"Fix CI {CI} and the CI cache (" + \
        glossary.inline_words(glossary.load()["Cache"]["explanation"])[1:]
    assert explained.explain("More CI work") == "More CI work"
    assert explained.glosses("Store JsonType containers") == ()
    assert list(explained.terms) == ["CI", "Cache"]
    # A gloss past the end of a text cut short (a PDF paragraph) is left out.
    assert glossary.with_glosses("Fix CI", ((6, CI), (40, FLAKY))) == f"Fix CI {CI}"


@pytest.fixture
def shop(settings, tmp_path):
    repo = make_sample_repo(tmp_path / "shop")
    for day, subject in SUBJECTS.items():
        commit_files(repo, {f"shop/step{day}.py": f"X = {day}\n"}, subject, START + timedelta(days=day))
    assert main(["narrate", repo.working_tree_dir, "--commits", "20"]) == 0
    service = NarratorService(settings)
    return service, service.find(repo.working_tree_dir)


def test_show_explains_jargon_inline_once_in_text_and_markdown(shop):
    service, repo = shop
    text = " ".join(report.text(service, repo.id, period="30d-commits", width=1000).split())
    markdown = report.markdown(service, repo.id, period="30d-commits")
    for shown in (text, markdown):
        assert shown.count(CI) == 1 and f"CI {CI}" in shown, shown
        assert shown.count(FLAKY) == 1 and CONTAINER not in shown
        assert "JsonType containers as text" in shown and "Words used above" not in shown
    # People's words are stored as they were written: the explanation is only in what is shown.
    headlines = {c.headline.text for c in service.changes(repo.id)}
    assert set(SUBJECTS.values()) <= headlines


def test_the_reports_explain_jargon_inline_once_and_html_escapes_the_explanation_with_the_words(shop):
    service, repo = shop
    document = reports.document(service, [repo.id], "30d-commits")
    # The document keeps the developer's words and carries the explanation beside them.
    sentences = [s for block in document.blocks if isinstance(block, reports.Bullets)
                 for item in block.items for s in item.sentences]
    assert {SUBJECTS[10], SUBJECTS[12]} <= {s.text for s in sentences}
    assert [s for s in sentences if s.glosses] and not any(CI in s.text or FLAKY in s.text for s in sentences)

    md = renderers.markdown(document)
    assert md.count(CI) == 1 and md.count(FLAKY) == 1 and CONTAINER not in md and "Words used above" not in md

    page = renderers.render(document, "html").decode()
    assert "<b>" not in page and page.count(FLAKY) == 1
    assert f"&lt;b&gt;flaky {FLAKY}&lt;/b&gt;" in page  # the whole sentence, explanation too, is text
    parsed = Tags()
    parsed.feed(page)
    words = " ".join(" ".join(parsed.text).split())
    assert words.count(CI) == 1 and f"CI {CI}" in words

    printed = pdf_text(renderers.render(document, "pdf"))
    assert printed.count(" ".join(CI.split())) == 1 and " ".join(FLAKY.split()) in printed
    assert re.search(r"flaky \(an automated test", printed) and CONTAINER not in printed


def test_nothing_inside_a_web_address_is_explained():
    """A bot's 'Bump https://github.com/astral-sh/ruff-pre-commit': 'Bump' is explained, the 'https' of
    the address is not."""
    from narrator.facts import glossary

    assert [u.term for u in glossary.uses("Bump https://github.com/astral-sh/ruff-pre-commit")] == ["Version bump"]
    assert glossary.uses("see www.example.com/ci/docs and http://x.org/CI") == []
    assert [u.term for u in glossary.uses("Run CI on https pages")] == ["CI", "TLS"]  # outside an address
