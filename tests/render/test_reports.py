"""Reports to share (``python -m narrator report``): Markdown, one self-contained HTML file, a PDF.

A repository whose commit messages carry HTML, an event handler, a ``javascript:`` link and ANSI
escapes is narrated with the fake model; every format must show that text as text, the HTML must
load nothing and run nothing, and the PDF must read back with the project's description and a
commit subject.
"""

from __future__ import annotations

import base64
import os
import re
from datetime import timedelta

import git
import pytest
from streamlit.testing.v1 import AppTest

from narrator.__main__ import main
from narrator.insights.history import Point
from narrator.render import charts, pdf
from narrator.render import exports as reports
from narrator.service.core import NarratorService
from narrator.settings import load_settings
from narrator.text import markdown_text
from tests.conftest import START, commit_files, fake_home, make_sample_repo
from tests.helpers.dashboard import APP
from tests.helpers.pages import Tags, pdf_text

HEADLINE = "A small web shop that lists products and takes orders."
EVIL_SUBJECT = ("Fix <script>alert(1)</script> café — → 漢字 <img src=x onerror=alert(1)> "
                "[click](javascript:alert(1)) \x1b[31mred\x1b[0m")
EVIL_SHOWN = ("Fix <script>alert(1)</script> café — → 漢字 <img src=x onerror=alert(1)> "
              "click red")  # a Markdown link in people's words reads as its text, its URL gone


@pytest.fixture(scope="module")
def narrated(tmp_path_factory):
    """The sample shop plus a hostile fix and a tagged release, narrated with the fake model."""
    with pytest.MonkeyPatch.context() as mp:
        fake_home(mp, tmp_path_factory.mktemp("home"))
        repo = make_sample_repo(tmp_path_factory.mktemp("src") / "shop")
        commit_files(repo, {"shop/evil.py": "def handle():\n    return 1\n"},
                     EVIL_SUBJECT + "\n\nBody <b>bold</b> explains it.", START + timedelta(days=10))
        commit_files(repo, {"setup.py": "from setuptools import setup\nsetup(name='shop', version='1.0.0')\n",
                            "CHANGELOG.md": "# Changes\n\n## 1.0.0\n\n- First release of the shop\n"},
                     "Release 1.0.0", START + timedelta(days=11))
        repo.create_tag("v1.0.0")
        assert main(["narrate", repo.working_tree_dir, "--commits", "10"]) == 0
        service = NarratorService(load_settings())
        yield service, service.find(repo.working_tree_dir)


def report(narrated, fmt: str, period="30d-commits") -> bytes:
    service, repo = narrated
    return reports.build(service, [repo.id], period, fmt)


def test_markdown_report_has_every_section_with_sources(narrated):
    text = report(narrated, "md").decode()
    readable = "\n" + re.sub(r"\\(.)", r"\1", text)  # what a Markdown viewer shows
    for heading in ("# shop", "## What this software does", "## Its main parts", "## What changed: the last 30 days with commits",
                    "## Activity", "### Releases over time", "## Releases", "## Security fixes",
                    "## Every change in the period (7)"):
        assert "\n" + heading in readable
    assert "Words used above" not in text  # jargon is explained inline (tests/render/test_glossary_inline.py)
    assert markdown_text(HEADLINE) + " [README (README.md)]" in text
    assert "Fix crash when adding an empty item [developer's message]" in text
    assert "First release of the shop [release notes]" in text
    assert not re.search(r"(?<!\\)<", text) and "](javascript" not in text and "\x1b" not in text
    assert "\\<script\\>alert(1)\\</script\\>" in text  # shown, escaped, not dropped


def test_markdown_activity_table_counts_every_change_of_the_range(narrated):
    text = report(narrated, "md").decode()
    rows = [line for line in text.splitlines() if line.startswith("| 2026")]
    assert sum(int(row.rstrip(" |").rsplit("|", 1)[-1]) for row in rows) == 7
    assert "| 1.0.0 |" in text


def test_html_report_is_self_contained_runs_nothing_and_shows_the_injected_text(narrated):
    page = report(narrated, "html").decode()
    parsed = Tags()
    parsed.feed(page)
    names = [tag for tag, _ in parsed.tags]
    assert "script" not in names and not {"iframe", "object", "embed", "link", "base", "form"} & set(names)
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "srcset"):
            assert attrs.get(name) is None or attrs[name].startswith("data:image/svg+xml;base64,"), (tag, attrs)
    text = " ".join(" ".join(parsed.text).split())
    assert EVIL_SHOWN in text and "Body <b>bold</b> explains it." in text and HEADLINE in text
    assert "\x1b" not in page
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert len(images) == 2  # activity and releases
    for src in images:
        svg = base64.b64decode(src.split(",", 1)[1]).decode()
        assert svg.startswith("<svg") and "<script" not in svg and "href=" not in svg.replace("xmlns:xlink=", "")
    assert "1.0.0" in base64.b64decode(images[1].split(",", 1)[1]).decode()
    assert "default-src 'none'" in page  # a browser would refuse scripts and fetches anyway


def test_pdf_report_reads_back_with_the_headline_a_subject_and_the_hostile_text(narrated):
    data = report(narrated, "pdf")
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert HEADLINE in text and "Fix crash when adding an empty item" in text
    assert "<script>alert(1)</script> café" in text and "[developer's message]" in text
    assert "\u2022" in text and "\x7f" not in text  # the list bullets read back as bullets
    assert "Security fixes" in text and "Releases over time" in text


def test_pdf_without_system_fonts_uses_the_font_reportlab_ships(narrated, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "_DEJAVU", tmp_path / "no-fonts")
    pdf.font_family.cache_clear()
    try:
        text = pdf_text(report(narrated, "pdf"))  # CJK the font lacks: empty boxes, no failure
    finally:
        monkeypatch.undo()
        pdf.font_family.cache_clear()
    assert "café" in text and "Fix crash when adding an empty item" in text


def test_portfolio_report_has_a_section_per_repository(narrated, tmp_path):
    service, repo = narrated
    other = make_sample_repo(tmp_path / "shop2")
    assert main(["narrate", other.working_tree_dir, "--commits", "2"]) == 0
    second = service.find(other.working_tree_dir)
    text = reports.build(service, [repo.id, second.id], "90d", "md").decode()
    assert text.startswith("# Portfolio of 2 repositories")
    assert text.count("## shop") == 2 and text.count("### What this software does") == 2
    assert "Words used above" not in text  # jargon is explained inline, once in the whole portfolio


def test_activity_chart_stacks_one_bar_per_change(narrated):
    monday = START.date()
    points = [Point(monday, "feature", 2, ("a", "b")), Point(monday, "fix", 1, ("c",)),
              Point(monday + timedelta(days=7), "feature", 0, ()), Point(monday + timedelta(days=7), "fix", 3, ("d", "e", "f"))]
    drawing = charts.activity(points)
    fills = [shape.fillColor.hexval() for shape in drawing.contents if type(shape).__name__ == "Rect"]
    assert fills.count("0x" + charts.COLOURS["fix"][1:]) == 3  # two bars and its legend
    assert fills.count("0x" + charts.COLOURS["feature"][1:]) == 2  # one bar (the empty week has none) and its legend


# --- the command line -----------------------------------------------------------------------


def error_lines(capsys) -> list[str]:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return [line for line in captured.err.splitlines() if line.strip()]


def test_cli_writes_each_format(narrated, tmp_path, capsys):
    _, repo = narrated
    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"r.{fmt}"
        assert main(["report", repo.source, "--period", "2026-11-01..2026-11-30", "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 500
    assert main(["report", repo.source, "--out", str(tmp_path / "by-suffix.pdf")]) == 0
    assert (tmp_path / "by-suffix.pdf").read_bytes().startswith(b"%PDF-")
    assert "## What changed: 1 - 30 Nov 2026" in (tmp_path / "r.md").read_text()


@pytest.mark.parametrize("args, words", [
    (["--format", "docx", "--out", "r.docx"], "Unknown report format 'docx': use md, html, pdf."),
    (["--out", "/no/such/folder/r.md"], "Cannot write the report to /no/such/folder/r.md: No such file or directory."),
    (["--out", "."], "Cannot write the report to ."),
])
def test_cli_bad_format_or_unwritable_out_is_one_error_line(narrated, args, words, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _, repo = narrated
    assert main(["report", repo.source, *args]) == 1
    lines = error_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]


def test_report_to_standard_output_prints_it_and_writes_no_file(narrated, tmp_path, capsysbinary, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", narrated[1].source, "--out", "-"]) == 0
    markdown = capsysbinary.readouterr().out.decode("utf-8")
    assert markdown.startswith("# ") and "## What changed" in markdown
    assert main(["report", narrated[1].source, "--out", "-", "--format", "pdf"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"%PDF-")
    assert list(tmp_path.iterdir()) == []


def test_a_report_over_an_old_one_that_cannot_be_finished_keeps_the_old_one(narrated, tmp_path, capsys, monkeypatch):
    old = tmp_path / "report.md"
    old.write_text("# Last week's report\n")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["report", narrated[1].source, "--out", str(old)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"error: Cannot write the report to {old}: No space left on device."]
    assert old.read_text() == "# Last week's report\n" and [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_cli_report_before_narrate_says_so(narrated, tmp_path, capsys):
    fresh = git.Repo.init(tmp_path / "fresh")
    commit_files(fresh, {"a.py": "x = 1\n"}, "Start", START)
    assert main(["report", fresh.working_tree_dir, "--out", str(tmp_path / "r.md")]) == 1
    lines = error_lines(capsys)
    assert len(lines) == 1 and "has not been narrated yet" in lines[0]
    assert not (tmp_path / "r.md").exists()


def test_cli_bad_period_is_one_usage_line(narrated, capsys, tmp_path):
    _, repo = narrated
    with pytest.raises(SystemExit) as exit_:
        main(["report", repo.source, "--period", "yesterday", "--out", str(tmp_path / "r.md")])
    assert exit_.value.code == 2
    assert [line for line in error_lines(capsys) if "error:" in line][0].endswith(
        "'yesterday' is not a period: use 7d, 30d, 90d, 7d-commits, 30d-commits, 90d-commits or FROM..TO (YYYY-MM-DD)")


# --- the dashboard --------------------------------------------------------------------------


def test_overview_offers_the_report_download(narrated):
    assert os.environ["CODE_NARRATOR_MODEL"] == "fake"
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = [b for b in at.download_button if b.label == "Download report"]
    assert len(buttons) == 1
    assert [s.options for s in at.selectbox if s.label == "Report format"] == [["Web page (HTML)", "PDF", "Markdown"]]


def test_portfolio_offers_a_report_of_every_repository(narrated):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/portfolio.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.download_button] == ["Download report"]
