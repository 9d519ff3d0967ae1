"""``python -m narrator.eval.evaluate``'s manager-facing measures: plain words, code and markup, people's
words, model sentences dropped by each check, and counts against their linked changes."""

from __future__ import annotations

import json
from datetime import timedelta

import git
import pytest

from narrator.checks.headlines import GIT_CHECKS
from narrator.eval.evaluate import main
from narrator.eval.page_sentences import (
    code_marks,
    count_mismatches,
    count_of,
    fine_words,
    is_plain,
    sentence_measures,
    uncommon_words,
)
from tests.conftest import START, commit_files, make_sample_repo
from tests.helpers.tiny_model import tiny_model  # noqa: F401  (a fixture)


@pytest.mark.parametrize("sentence", [
    "Fix the sign-in page",
    "Fixes changed the way reports are printed",  # common once the ending is off: "fix", "change"
    "The developer's notes now open faster",
    "Fix the linter warning",  # "linter" is rare, but the glossary explains it
])
def test_common_words_and_glossed_terms_are_plain(sentence):
    assert uncommon_words(sentence) == []
    assert is_plain(sentence)


@pytest.mark.parametrize("sentence, words", [
    # "deadlock" and "interpreter" are explained by the glossary; "TMonitor" is not.
    ("Fix TMonitor deadlock at interpreter shutdown", ["TMonitor"]),
    ("Skip revalidation of old entries", ["revalidation"]),
    ("Fix the login page", ["login"]),  # Zipf 3.5 in wordfreq: below the line of 4
    ("Add test for rich_fraction column", ["rich_fraction"]),  # a word with "_" is code, never plain
])
def test_rare_words_and_code_are_not_plain(sentence, words):
    assert uncommon_words(sentence) == words
    assert not is_plain(sentence)


def test_numbers_dates_versions_ids_and_names_are_fine():
    sentence = "Brzęczyszczykiewicz shipped express 5.2.2 on 27 Jul 2026, closing CVE-2026-2391 in v4.1.0rc1"
    assert uncommon_words(sentence) == ["Brzęczyszczykiewicz"]  # "express" is a common word anyway
    fine = fine_words(["Grzegorz Brzęczyszczykiewicz", "my_repo"])
    assert fine >= {"grzegorz", "brzęczyszczykiewicz", "my", "repo"}
    assert is_plain(sentence, fine)


@pytest.mark.parametrize("sentence, mark", [
    ("Add {func}`edit`", "role: {func}"),
    ("Add {func}`edit`", "backticks: `"),
    ("Document :meth:`Group.add`", "role: :meth:"),
    ("Fix rich_fraction rounding", "snake_case: rich_fraction"),
    ("Rename getValue", "camelCase: getValue"),
    ("Fix TMonitor deadlock", "camelCase: TMonitor"),
    ("Use os.path.join in the loader", "dotted.name: os.path.join"),
    ("Call close() twice", "call: close()"),
    ("Update docs/guide.md", "path: docs/guide.md"),
    ("Closes #123", "issue number: #123"),
    ("See [the guide](https://example.com)", "link: ]("),
])
def test_code_identifiers_and_markup_are_found(sentence, mark):
    assert mark in code_marks(sentence)


@pytest.mark.parametrize("sentence", [
    "Fix the sign-in page, e.g. the button",
    "Release 5.2.2 on 27 Jul 2026",
    "New for users: 2 changes",
    "Publish to PyPI",  # a glossed acronym is not camelCase
])
def test_plain_sentences_carry_no_code(sentence):
    assert code_marks(sentence) == []


def test_sentence_measures_give_shares_per_kind_and_examples():
    result = sentence_measures([("headline", "Fix the sign-in page"), ("headline", "Add {func}`edit`"),
                                ("digest", "New for users: 2 changes"), ("digest", "  ")])
    assert result["sentences"] == 3  # the blank one is skipped
    assert result["plain"] == 2 and result["plain_share"] == pytest.approx(2 / 3)
    assert result["with_code"] == 1 and result["code_share"] == pytest.approx(1 / 3)
    assert result["by_kind"]["headline"] == {"sentences": 2, "plain": 1, "with_code": 1, "plain_share": 0.5,
                                             "code_share": 0.5}
    assert result["by_kind"]["digest"]["plain_share"] == 1.0
    assert result["not_plain_examples"] == [{"kind": "headline", "text": "Add {func}`edit`", "words": ["func"]}]
    assert result["code_examples"][0]["marks"] == ["backticks: `", "role: {func}"]
    assert sentence_measures([])["plain_share"] is None


@pytest.mark.parametrize("text, n", [("src: 12 changes", 12), ("Behind the scenes: 3 changes (1 test change)", 3),
                                     ("2 dependency updates", 2), ("They fixed 2 problems.", None),
                                     ("Releases: 7 (2.3 per 30 days).", 7),
                                     ("Hotfixes: 3 of 7 releases (a patch within 7 days).", None)])
def test_count_of_reads_the_count_a_line_states(text, n):
    assert count_of(text) == n


def test_count_mismatches_name_each_disagreement():
    good = [("New for users: 2 changes", ("a", "b")), ("Fixed for users: 1 change", ("c",))]
    assert count_mismatches(good, 3, good) == []
    assert count_mismatches([("lib: 5 changes", ("a",))]) == ["'lib: 5 changes' links to 1 changes"]
    assert count_mismatches([("lib: 2 changes", ("a", "a"))]) == ["'lib: 2 changes' links to 1 changes"]
    assert count_mismatches([], 4, good) == ["the groups count 3 changes, the period 4"]
    overlap = [("New for users: 2 changes", ("a", "b")), ("Fixed for users: 1 change", ("b",))]
    assert count_mismatches([], 3, overlap) == ["a change is counted in two groups"]


def test_evaluate_reports_every_measure_on_a_built_repository(settings, tmp_path, capsys):
    repo = make_sample_repo(tmp_path / "shop")
    commit_files(repo, {"shop/price.py": "def rich_fraction(x):\n    return round(x, 2)\n"},
                 "Round rich_fraction to cents", START + timedelta(days=10), author="Zbigniew Brzęczyszczykiewicz")
    assert isinstance(repo, git.Repo)

    assert main([str(tmp_path / "shop"), "--model", "fake", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)

    assert result["headlines"]["commits"] == 6
    assert result["headlines"]["people_share"] == 1.0  # every subject is informative: people's words head all
    words = result["plain_words"]
    assert words["by_kind"]["headline"]["sentences"] == 6
    assert words["by_kind"]["status line"]["sentences"] == 1
    # Under every headline its plain reading, made of everyday words.
    assert words["by_kind"]["plain reading"]["sentences"] == 6
    assert words["by_kind"]["plain reading"]["with_code"] == 0
    assert words["by_kind"]["plain reading"]["plain"] == 6  # a folder named in brackets is a name
    assert words["by_kind"]["digest"]["sentences"] > 0
    assert any(e["text"] == "Round rich_fraction to cents" for e in words["code_examples"])
    assert not any("Brzęczyszczykiewicz" in e["words"] for e in words["not_plain_examples"])  # an author's name
    assert 0 < words["plain_share"] < 1 and 0 < words["code_share"] < 1
    model = result["model_sentences"]
    assert set(GIT_CHECKS) <= set(model["dropped"]) and model["shown"]["headline"] == 0
    counts = result["counts"]
    assert counts["all_match"] is True and counts["digest"]["mismatches"] == []
    assert counts["period"].startswith("the last 90 days with commits")


def test_evaluate_summary_names_the_new_measures(settings, tmp_path, capsys):
    make_sample_repo(tmp_path / "shop")
    assert main([str(tmp_path / "shop"), "--model", "fake"]) == 0
    out = capsys.readouterr().out
    assert "| Sentences a manager reads | sentences | plain English | with code or markup |" in out
    assert "every count matches its linked changes" in out
    assert "claims a test no test file changed 0" in out


def test_an_unknown_period_is_one_error_line(settings, tmp_path, capsys):
    make_sample_repo(tmp_path / "shop")
    assert main([str(tmp_path / "shop"), "--model", "fake", "--period", "2w"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: --period must be one of 7d") and "Traceback" not in err


# --- whichever model is configured, and the check for file names -------------------------------------


def _shape(value, path: str = "") -> set[str]:
    """The keys of a result, nested; the counts by name (sources, checks, kinds of sentence) stop at their parent."""
    if isinstance(value, dict) and not path.endswith(("_sources", "dropped", "by_kind")):
        return {key for name, item in value.items() for key in _shape(item, f"{path}/{name}")} or {path}
    return {path}


def test_evaluate_reports_the_same_figures_for_a_hugging_face_folder_and_an_openai_server(settings, tmp_path, capsys,
                                                                                       tiny_model):
    from tests.helpers.chat_server import ChatServer, chat_server

    make_sample_repo(tmp_path / "shop")
    results = {}
    with chat_server() as url:
        for name, spec in (("fake", "fake"), ("folder", str(tiny_model)), ("server", f"openai:{url}#served-model")):
            assert main([str(tmp_path / "shop"), "--model", spec, "--json", "--model-text",
                         "--db", f"sqlite:///{tmp_path / name}.db"]) == 0
            results[name] = json.loads(capsys.readouterr().out)
        assert ChatServer.seen and {r["body"]["model"] for r in ChatServer.seen} == {"served-model"}
    assert results["folder"]["model"] == f"hf:{tiny_model.resolve()}"
    assert results["server"]["model"] == f"openai:{url}#served-model"
    for result in results.values():
        assert _shape(result) == _shape(results["fake"])
        assert result["narration"]["model_calls"] == results["fake"]["narration"]["model_calls"] > 0
        assert set(result["model_sentences"]["dropped"]) == set(results["fake"]["model_sentences"]["dropped"])
        assert result["headlines"]["commits"] == 5


@pytest.mark.parametrize("spec, message", [
    ("", "error: No model given"),
    ("openai:nope", "error: Could not load model openai:nope: expected openai:http(s)://host:port/v1[#model]"),
    ("fake:soon", "error: Bad model 'fake:soon'"),
    ("{missing}", "error: Could not load model {missing}: no such folder"),
])
def test_a_bad_model_spec_is_one_error_line_before_any_narration(settings, tmp_path, capsys, spec, message):
    make_sample_repo(tmp_path / "shop")
    spec = spec.format(missing=tmp_path / "no-model")
    assert main([str(tmp_path / "shop"), "--model", spec, "--json"]) != 0
    out, err = capsys.readouterr()
    assert err.startswith(message.format(missing=tmp_path / "no-model")) and err.count("\n") == 1
    assert out == "" and "Traceback" not in err


def test_evaluate_counts_a_model_headline_naming_a_file_the_change_lacks_under_its_own_check(settings, tmp_path, capsys,
                                                                                            monkeypatch):
    from tests.helpers.chat_server import chat_server

    monkeypatch.setenv("CODE_NARRATOR_MODEL_HEADLINES", "on")  # a server has no measured precision to go by

    repo = make_sample_repo(tmp_path / "shop")
    # "wip" says nothing, so the model is asked for a headline; the diff reads config.yml, which the
    # commit does not change: a headline naming it is dropped, and counted under its own check.
    commit_files(repo, {"shop/settings.py": 'PATH = "config.yml"\n\n\ndef load():\n    return open(PATH).read()\n'},
                 "wip", START + timedelta(days=10))

    def answer(user: str) -> str:
        return "Read the shop settings from config.yml." if "config.yml" in user else "This part handles the shop."

    with chat_server(answer) as url:
        assert main([str(tmp_path / "shop"), "--model", f"openai:{url}", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_sentences"]["dropped"][GIT_CHECKS[4]] == 1 == result["checks"]["headline"]["dropped"][GIT_CHECKS[4]]
    assert GIT_CHECKS[4] == "names a file not in the change"
    assert result["model_sentences"]["shown"]["headline"] == 0 and result["headlines"]["headline_sources"]["git"] == 1
