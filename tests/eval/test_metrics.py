"""The evaluation metrics: CodeXGLUE smoothed BLEU, held-out summary rows, summary BLEU, category accuracy."""

from __future__ import annotations

import gzip
import json
import math
import types
from dataclasses import dataclass, field

import pytest

from narrator.eval import category_accuracy as accuracy
from narrator.eval import metrics
from narrator.eval.category_accuracy import category_accuracy
from narrator.eval.metrics import (
    SummaryRow,
    clean_reference,
    corpus_smoothed_bleu4,
    read_summary_rows,
    smoothed_bleu4,
    strip_python_docstring,
    summary_bleu,
    unit_summaries,
)
from narrator.facts import categories as facts
from narrator.model import prompts
from narrator.model.fake import FakeBackend

# --- smoothed BLEU-4 ----------------------------------------------------------------------------


def test_identical_texts_score_100_and_disjoint_ones_nearly_0():
    assert smoothed_bleu4("Returns the sum of two numbers.", "Returns the sum of two numbers.") == 100.0
    assert smoothed_bleu4("Hi", "hi") == 100.0  # shorter than four tokens: smoothing keeps it whole
    assert smoothed_bleu4("Returns the sum of two numbers.", "Opens a socket") < 1e-50


def test_intermediate_score_matches_a_hand_computation():
    # return the sum of two {numbers|values} . -> 7 tokens each; matches 6/7 unigrams, 4/6 bigrams,
    # 3/5 trigrams, 2/4 four-grams; smoothing adds one to orders 2-4; equal lengths, no penalty.
    expected = 100 * ((6 / 7) * (5 / 7) * (4 / 6) * (3 / 5)) ** 0.25
    assert smoothed_bleu4("Return the sum of two numbers.", "Return the sum of two values.") == pytest.approx(expected)
    assert expected == pytest.approx(70.347, abs=1e-3)


def test_brevity_penalty_is_the_scripts_plus_one_form():
    # return the sum . (4 tokens) vs 7: precisions 4/4, 3/4, 2/3, 1/2; penalty exp(1 - 8/5), not exp(1 - 7/4).
    expected = 100 * (1 * (3 / 4) * (2 / 3) * (1 / 2)) ** 0.25 * math.exp(1 - 8 / 5)
    assert smoothed_bleu4("Return the sum of two numbers.", "Return the sum.") == pytest.approx(expected)
    assert smoothed_bleu4("one two three", "") == pytest.approx(100 * math.exp(-3))


def test_punctuation_is_split_and_case_ignored():
    assert smoothed_bleu4("Gets the user's ID (cached).", "gets the user ' s id ( cached ) .") == 100.0
    assert metrics.split_puncts("user's id.") == "user ' s id ."
    # splitPuncts keeps get_user_id whole, but the NIST step then splits at underscores.
    assert smoothed_bleu4("get_user_id", "get _ user _ id") == 100.0


def test_corpus_score_is_the_mean_of_sentence_scores():
    pairs = [("Return the sum of two numbers.", "Return the sum of two values."), ("a b c", "a b c")]
    assert corpus_smoothed_bleu4(pairs) == pytest.approx((smoothed_bleu4(*pairs[0]) + 100) / 2)
    with pytest.raises(ValueError, match="at least one"):
        corpus_smoothed_bleu4([])


# --- held-out rows ------------------------------------------------------------------------------

PY_CODE = '''def add(a, b):
    """Add two numbers.

    :param a: the first
    """
    return a + b
'''


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_reference_is_the_first_paragraph_without_tags_or_markup():
    doc = "Returns the {@code User} for an <b>id</b>.\nCached.\n\nMore detail.\n@param id the id"
    assert clean_reference(doc) == "Returns the User for an id. Cached."
    assert clean_reference("Parse `text` into a :class:`Tree`.\n\nArgs:\n    text: input") == "Parse text into a Tree."
    assert clean_reference("Solve it.\n\nParameters\n----------\nx : int") == "Solve it."
    assert clean_reference("@param x the value") == ""
    assert clean_reference("/**\n * Open the door.\n * @return true\n */") == "Open the door."


def test_python_docstrings_are_removed_from_the_code():
    stripped = strip_python_docstring(PY_CODE)
    assert "Add two numbers" not in stripped and "return a + b" in stripped
    assert strip_python_docstring('def f():\n    """Only a docstring."""\n') .split("\n")[:2] == ["def f():", "    ..."]
    assert strip_python_docstring('def f(): """Doc."""\n') .strip() == "def f(): ..."
    py2 = 'def show(x):\n    """Print it."""\n    print x\n'  # Python 2: ast fails, the regex still cuts
    assert strip_python_docstring(py2) == "def show(x):\n    print x\n"


def test_read_summary_rows_cleans_and_skips(tmp_path):
    path = _write_jsonl(tmp_path / "test.jsonl", [
        {"code": PY_CODE, "docstring": "Add two numbers.\n\n:param a: the first", "language": "python",
         "func_name": "add", "path": "calc.py"},
        {"original_string": "int twice(int x) { return 2 * x; }", "docstring": "Double it.\n@param x value",
         "func_name": "Calc.twice", "path": "src/Calc.java"},  # language from the path
        {"code": "def g(): pass", "docstring": "", "language": "python", "func_name": "g"},  # no summary
    ])
    rows = read_summary_rows(path)
    assert rows[0] == SummaryRow(strip_python_docstring(PY_CODE), "Add two numbers.", "python", "add", "calc.py")
    assert "Add two numbers" not in rows[0].code
    assert (rows[1].language, rows[1].reference, rows[1].name) == ("java", "Double it.", "Calc.twice")
    assert len(rows) == 2

    gz = tmp_path / "test.jsonl.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert read_summary_rows(gz) == rows
    folder = tmp_path / "by-language"
    folder.mkdir()
    _write_jsonl(folder / "b.jsonl", [{"code": "int three() { return 3; }", "docstring": "Return three.",
                                       "language": "java", "func_name": "three"}])
    (folder / "a.jsonl").write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("not rows")
    assert [row.name for row in read_summary_rows(folder)] == ["add", "Calc.twice", "three"]  # files sorted

    (tmp_path / "bad.jsonl").write_text('{"code": 1}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_summary_rows(tmp_path / "bad.jsonl")


def test_limit_takes_a_seeded_round_robin_over_languages(tmp_path):
    rows = [{"code": f"def f{i}(): pass", "docstring": f"Python number {i}.", "language": "python",
             "func_name": f"f{i}"} for i in range(6)]
    rows += [{"code": f"void j{i}() {{}}", "docstring": f"Java number {i}.", "language": "java",
              "func_name": f"j{i}"} for i in range(2)]
    path = _write_jsonl(tmp_path / "rows.jsonl", rows)
    sample = read_summary_rows(path, limit=5, seed=3)
    assert [row.language for row in sample] == ["java", "python", "java", "python", "python"]
    assert sample == read_summary_rows(path, limit=5, seed=3)
    assert len({row.name for row in sample}) == 5
    assert len(read_summary_rows(path, limit=100)) == 8
    seeds = {tuple(row.name for row in read_summary_rows(path, limit=3, seed=s)) for s in range(6)}
    assert len(seeds) > 1  # the seed matters


# --- summaries and their BLEU ---------------------------------------------------------------------


class ScriptedBackend(FakeBackend):
    """Answers from a list, recording each batch and its token limit."""

    def __init__(self, answers: list[str]):
        super().__init__()
        self.answers = list(answers)
        self.batches: list[tuple[list, int]] = []

    def generate(self, prompts, max_new_tokens=64):
        self.batches.append((prompts, max_new_tokens))
        self.calls += len(prompts)
        return [self.answers.pop(0) for _ in prompts]


def _row(name: str, code: str, reference: str, language: str = "python") -> SummaryRow:
    return SummaryRow(code, reference, language, name, f"{name}.py")


def test_unit_summaries_use_the_narration_prompt_in_batches_and_the_check():
    rows = [_row(f"f{i}", f"def f{i}():\n    return {i}\n" + "#" * 2000, f"Return {i}.") for i in range(3)]
    backend = ScriptedBackend(["Returns a fixed value. It also does more.", "It reads settings.json twice.", "hm"])
    summaries = unit_summaries(backend, rows, batch_size=2, unit_chars=50)
    assert summaries == ["Returns a fixed value.", "", ""]  # one sentence kept; invented file; too short
    assert [len(batch) for batch, _ in backend.batches] == [2, 1]
    assert {tokens for _, tokens in backend.batches} == {40}
    assert backend.batches[0][0][1] == prompts.unit_prompt(rows[1].code[:50], "f1", "function", "f1.py", "python")


def test_summary_bleu_scores_checked_answers_per_language():
    rows = [_row("add_numbers", "def add_numbers(a, b):\n    return a + b", "This part handles add_numbers."),
            _row("read_file", "function read_file(p) {}", "Reads a file.", language="javascript")]
    result = summary_bleu(FakeBackend(), rows)
    assert result["examples"] == 2 and result["empty"] == 0
    assert result["by_language"]["python"] == 100.0
    answer = unit_summaries(FakeBackend(), rows[1:])[0]
    assert result["by_language"]["javascript"] == smoothed_bleu4("Reads a file.", answer) < 100
    assert result["bleu"] == pytest.approx((100.0 + result["by_language"]["javascript"]) / 2)
    assert summary_bleu(FakeBackend(), [])["bleu"] is None


# --- commit categories ----------------------------------------------------------------------------


@dataclass
class FakeCommit:
    subject: str
    body: str = ""
    paths: list[str] = field(default_factory=lambda: ["src/app.py"])
    author: str = "Ada Lovelace"
    email: str = "ada@example.com"
    tagged: bool = False
    version: str | None = None


def _fake_read_subject(subject: str, body: str):
    """A stand-in for narrator.facts.subjects.read_subject: ``type(scope): headline``."""
    head, sep, rest = subject.partition(":")
    if not sep or " " in head:
        return types.SimpleNamespace(headline=subject, conventional_type=None, scope=None)
    kind, _, scope = head.partition("(")
    return types.SimpleNamespace(headline=rest.strip(), conventional_type=kind, scope=scope.rstrip(")") or None)


def test_category_accuracy_tallies_against_the_prefix(monkeypatch):
    seen = []

    def categorize(headline, paths, **context):
        seen.append((headline, context))
        return "fix" if "crash" in headline else "feature"

    monkeypatch.setattr(accuracy, "read_subject", _fake_read_subject)  # the counting, not the parsing
    monkeypatch.setattr(facts, "categorize", categorize)
    commits = [FakeCommit("feat: add export"), FakeCommit("fix(ui): crash on start"),
               FakeCommit("fix: wrong total"), FakeCommit("chore(deps): bump requests", body="Bumps it."),
               FakeCommit("Add a button"), FakeCommit("wip: stuff")]
    result = category_accuracy(commits)
    assert result["commits"] == 4 and result["correct"] == 2 and result["accuracy"] == 0.5
    assert result["by_type"] == {"chore(deps)": {"n": 1, "correct": 0}, "feat": {"n": 1, "correct": 1},
                                 "fix": {"n": 2, "correct": 1}}
    assert result["confusion"] == {"dependencies": {"feature": 1}, "feature": {"feature": 1},
                                   "fix": {"fix": 1, "feature": 1}}
    assert seen[0] == ("add export", {"body": "", "author": "Ada Lovelace", "email": "ada@example.com",
                                      "tagged": False, "version": None})  # no prefix, no type
    assert category_accuracy([FakeCommit("Add a button")])["accuracy"] is None


def test_expected_categories_of_prefixes():
    expect = accuracy.expected_category
    assert expect("build", "deps") == ("build(deps)", "dependencies")
    assert expect("chore", "deps-dev") == ("chore(deps-dev)", "dependencies")
    assert expect("chore", "release") == ("chore(release)", "release")
    assert expect("Tests", None) == ("tests", "tests")
    assert expect("perf", "db") == ("perf", "maintenance")
    assert expect("wip", None) is None


def test_category_accuracy_with_the_real_subject_reader_and_categorizer():
    commits = [FakeCommit("feat: add CSV export"), FakeCommit("fix: crash when the list is empty"),
               FakeCommit("docs: explain setup", paths=["README.md"]),
               FakeCommit("test: cover the parser", paths=["tests/test_parser.py"]),
               FakeCommit("chore(deps): bump requests from 2.31.0 to 2.32.0", paths=["requirements.txt"]),
               FakeCommit("Plain subject without a prefix")]
    result = category_accuracy(commits)
    assert result["commits"] == 5
    assert result["correct"] == 5, result["confusion"]
