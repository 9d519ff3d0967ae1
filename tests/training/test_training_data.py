"""Training data: the reference filters, both row layouts, commit title and explain examples, splits and
compaction, mining, the manifest."""

from __future__ import annotations

import json
from datetime import timedelta

import git
import pytest

from db.errors import DataError
from narrator.git.commits import recent_commits
from narrator.model import prompts
from tests.conftest import START, commit_files
from tests.helpers.training import CODE, commit_row, csn_row, write_jsonl
from training.cleaning import Filters, clean_docstring, explain_target, strip_python_docstring, summary_problem
from training.dataset import PrepareConfig, check_prompt_version, prepare
from training.examples import Example, read_examples
from training.mining import mine_repository
from training.sources import (
    RawRow,
    SourceSpec,
    code_example,
    commit_example,
    hub_files,
    read_hub,
    read_rows,
    unified_diff,
)
from training.splits import SplitPlan, split_examples

FILTERS = Filters()
GOOD_DOC = "Return the total price of all items in the cart."


# --- the reference filters ------------------------------------------------------------------------


@pytest.mark.parametrize("doc, summary", [
    ("Remove a header from the options array.\n\n@param string $name Header\n@return array", "Remove a header from the options array."),
    ("Returns a mutable {@link List} view of this {@code JsonArray}.\n<p>More text.", "Returns a mutable List view of this JsonArray."),
    ("Send the file to the client.\n\n:param path: where it is\n:returns: the response", "Send the file to the client."),
    ("Load the users from disk and cache them.\nArgs:\n    path: folder", "Load the users from disk and cache them."),
    ("@brief Parses the configuration file into settings.\n@param f file", "Parses the configuration file into settings."),
    ("@param resource $stream\n@param int $size", ""),
    ("\\param x the value\n\\return nothing", ""),
])
def test_clean_docstring_strips_parameter_tags_and_markup(doc, summary):
    assert clean_docstring(doc) == summary


@pytest.mark.parametrize("summary, problem", [
    ("Return the total price of all items in the cart.", None),
    ("Return the total.", "summary too short"),
    ("return the total price of all items in the cart.", "summary not capitalised"),
    ("Return the total price of all items in the cart", "summary without end punctuation"),
    ("See the documentation of the parent class for details.", "generic summary"),
    ("Refer to the base implementation for all the details.", "generic summary"),
    ("Returns it." + " Very long." * 40, "summary too long"),
])
def test_summary_filter_follows_the_write_up(summary, problem):
    assert summary_problem(summary, FILTERS) == problem


def test_rows_that_are_only_php_param_tags_are_dropped_and_reasons_given():
    kept = code_example(RawRow(csn_row("Loads the user with the given id from the store.\n\n@param int $id",
                                       code="function load($id) {\n  return $this->db->find($id);\n}", language="php"),
                               None, None), FILTERS)
    dropped = code_example(RawRow(csn_row("@param resource $stream", language="php",
                                          code="function x($s) {\n  return fclose($s);\n}"), None, None), FILTERS)
    assert isinstance(kept, Example) and kept.target == "Loads the user with the given id from the store."
    assert dropped == "summary too short"


def test_both_codesearchnet_layouts_give_the_same_example_without_the_docstring_in_the_prompt():
    code_with_doc = f'def total(cart):\n    """{GOOD_DOC}"""\n    return sum(item["price"] for item in cart)\n'
    codexglue = code_example(RawRow(csn_row(GOOD_DOC, code=code_with_doc), None, None), FILTERS)
    original = code_example(RawRow({"func_code_string": code_with_doc, "func_documentation_string": GOOD_DOC,
                                    "language": "python", "func_name": "total", "func_path_in_repository": "shop/cart.py"},
                                   None, None), FILTERS)
    assert codexglue == original
    user = codexglue.messages[1]["content"]
    assert user == prompts.unit_prompt(code_with_doc.replace(f'    """{GOOD_DOC}"""\n', ""), "total", "function",
                                       "shop/cart.py", "python")[1]["content"]
    assert GOOD_DOC not in user and "return sum" in user
    assert codexglue.task == "codesearchnet" and codexglue.language == "python"


def test_docstring_is_preferred_over_the_summary_field():
    row = csn_row("@param x the thing", summary="A summary field that would pass every filter.")
    assert code_example(RawRow(row, None, None), FILTERS) == "summary too short"
    assert isinstance(code_example(RawRow(csn_row("", summary=GOOD_DOC), None, None), FILTERS), Example)


def test_strip_python_docstring_keeps_a_valid_body():
    assert strip_python_docstring('def f():\n    """Only a docstring."""\n') == "def f():\n    ...\n"


SUBJECT = "Fix crash when the cart is empty"
EXPLAINED = f"{SUBJECT}\n\nThe total divided by zero items.\nNow it returns zero.\n\nSigned-off-by: Ada <a@b.c>"


def test_explain_target_is_the_first_sentences_of_a_body_that_explains():
    assert explain_target(SUBJECT, EXPLAINED, FILTERS) == "The total divided by zero items. Now it returns zero."
    assert explain_target(SUBJECT, SUBJECT + "\n", FILTERS) == ""
    assert explain_target(SUBJECT, f"{SUBJECT}\n\nSigned-off-by: Ada <ada@example.com>\n", FILTERS) == ""
    assert explain_target(SUBJECT, "", FILTERS) == ""  # message missing
    three = f"{SUBJECT}\n\nThe total divided by zero items. Now it returns zero. Tests cover it, e.g. an empty cart."
    assert explain_target(SUBJECT, three, FILTERS) == "The total divided by zero items. Now it returns zero."
    long_first = f"{SUBJECT}\n\nThe total divided by zero items{', and more' * 25}. Now it returns zero."
    assert explain_target(SUBJECT, long_first, FILTERS) == ""  # not one whole sentence fits 200 characters
    assert explain_target(SUBJECT, f"{SUBJECT}\n\nSo the page no longer breaks for shoppers.", FILTERS) != ""
    for body in ("so the page no longer breaks for shoppers.",  # runs on from the subject
                 "Now it returns zero.",  # too few words to explain
                 "The total divided by zero items, see the report",  # no sentence end
                 "See https://example.com/report for the whole story."):  # a link
        assert explain_target(SUBJECT, f"{SUBJECT}\n\n{body}", FILTERS) == "", body


def test_commitpackft_rows_become_diff_prompts_with_missing_fields_tolerated():
    (example,) = commit_example(RawRow(commit_row("Raise the default limit to two"), None, None), FILTERS)
    assert example.task == "commitpackft" and example.language == "python" and example.target == "Raise the default limit to two"
    assert example.messages == prompts.commit_prompt(["app/config.py"], unified_diff("a = 1\n", "a = 2\n", "app/config.py"))
    user = example.messages[1]["content"]
    assert "-a = 1" in user and "+a = 2" in user and "app/config.py" in user
    assert "Raise the default limit" not in user  # the target is never in the prompt
    no_file = {"old_contents": "x\n", "new_contents": "y\n", "subject": "Change the value of x", "lang": "Ruby"}
    assert [e.target for e in commit_example(RawRow(no_file, None, None), FILTERS)] == ["Change the value of x"]
    assert commit_example(RawRow(commit_row("Merge branch 'main' into dev"), None, None), FILTERS) == "merge or revert"
    assert commit_example(RawRow(commit_row("Change nothing at all", new="a = 1\n"), None, None), FILTERS) == "no change"
    assert commit_example(RawRow(commit_row("Port the parser", lang="Haskell"), None, None), FILTERS) == "language not supported"


def test_a_commit_with_a_body_gives_a_title_and_an_explain_example_with_the_run_time_prompts():
    title, explain = commit_example(RawRow(commit_row(f"  {SUBJECT} ", message=EXPLAINED), None, None), FILTERS, "cpf")
    patch = unified_diff("a = 1\n", "a = 2\n", "app/config.py")
    assert title.messages == prompts.commit_prompt(["app/config.py"], patch) and title.target == SUBJECT
    assert explain.messages == prompts.explain_prompt(SUBJECT, ["app/config.py"], patch)
    assert explain.target == "The total divided by zero items. Now it returns zero."
    assert (title.task, title.language, title.source) == (explain.task, explain.language, explain.source) == ("commitpackft", "python", "cpf")
    assert len(commit_example(RawRow(commit_row(SUBJECT, message=SUBJECT), None, None), FILTERS)) == 1


# --- loading, splitting, compaction ---------------------------------------------------------------


def test_local_parquet_and_jsonl_folders_are_read_with_language_from_the_file_name(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"code": CODE, "docstring": GOOD_DOC, "func_name": "total"}]  # no language field
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "ruby.parquet")
    write_jsonl(tmp_path / "go" / "valid.jsonl", rows)
    raws = list(read_rows(SourceSpec.parse(f"csn:{tmp_path}")))
    assert sorted((r.language, r.partition) for r in raws) == [("go", "val"), ("ruby", None)]


def test_hub_sources_stream_through_datasets_from_a_local_copy_of_the_hub_layout(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for split, n in (("train", 3), ("validation", 1), ("test", 2)):
        (tmp_path / "csn" / "go" / split).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist([{"func_code_string": CODE, "func_documentation_string": GOOD_DOC,
                                              "language": "go"}] * n), tmp_path / "csn" / "go" / split / "0000.parquet")
    write_jsonl(tmp_path / "cpf" / "data" / "ruby" / "data.jsonl", [commit_row(f"Change the value to {i}") for i in range(5)])

    rows = list(read_hub(SourceSpec.parse(f"csn:hub:{tmp_path / 'csn'}"), languages=("go",), per_language=2))
    assert [(r.language, r.partition) for r in rows] == [("go", "train")] * 2 + [("go", "val")] + [("go", "test")] * 2
    assert rows[0].row["func_documentation_string"] == GOOD_DOC
    rows = list(read_hub(SourceSpec.parse(f"commitpackft:hub:{tmp_path / 'cpf'}"), languages=("ruby",), per_language=4))
    assert len(rows) == 4 and rows[0].row["subject"] == "Change the value to 0"
    with pytest.raises(DataError, match="Could not load"):
        list(read_hub(SourceSpec.parse(f"commitpackft:hub:{tmp_path / 'cpf'}"), languages=("go",)))


def test_hub_ids_point_at_the_published_layouts():
    [(builder, pattern, _)] = hub_files(SourceSpec.parse("commitpackft:hub"), "go")
    assert (builder, pattern) == ("json", "hf://datasets/bigcode/commitpackft/data/go/data.jsonl")
    files = hub_files(SourceSpec.parse("csn:hub"), "python")
    assert [p for _, p, _ in files] == [f"hf://datasets/code-search-net/code_search_net@refs%2Fconvert%2Fparquet/python/{s}/*.parquet"
                                        for s in ("train", "validation", "test")]


def _examples(n: int, language: str = "python", task: str = "commitpackft") -> list[tuple[tuple[Example], None]]:
    return [((Example(task, language, [{"role": "user", "content": f"diff {i}"}], f"Change {i}."),), None) for i in range(n)]


def test_stratified_70_10_20_split_per_language():
    rows = _examples(100, "python") + _examples(50, "go")
    splits = split_examples(rows, SplitPlan(caps=(None, None, None)))
    for language, n in (("python", 100), ("go", 50)):
        counts = [sum(e.language == language for e in splits[s]) for s in ("train", "val", "test")]
        assert counts == [round(n * 0.7), round(n * 0.1), n - round(n * 0.7) - round(n * 0.1)]
    seen = [e.messages[0]["content"] + e.language for s in splits.values() for e in s]
    assert len(seen) == len(set(seen)) == 150  # every row in exactly one split


def test_compaction_caps_each_language_and_split_and_is_seeded():
    rows = _examples(5000, "java")
    plan = SplitPlan()  # the write-up's 2100 / 300 / 600
    splits = split_examples(rows, plan)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [2100, 300, 600]
    assert split_examples(rows, plan) == splits
    assert split_examples(rows, SplitPlan(seed=1)) != splits


def test_given_partitions_are_kept_and_a_missing_val_split_is_carved_from_train():
    train = [(e, "train") for e, _ in _examples(80, "ruby")]
    test = [((Example("commitpackft", "ruby", [{"role": "user", "content": f"held {i}"}], "Held out."),), "test") for i in range(10)]
    splits = split_examples(train + test, SplitPlan(caps=(None, None, None)))
    assert len(splits["test"]) == 10 and all(e.target == "Held out." for e in splits["test"])
    assert (len(splits["train"]), len(splits["val"])) == (70, 10)  # val = 0.1 / (0.7 + 0.1) of train


def test_prepare_writes_files_and_manifest_and_drops_duplicates(tmp_path):
    csn = write_jsonl(tmp_path / "csn" / "python.jsonl", [
        csn_row(GOOD_DOC), csn_row(GOOD_DOC),  # a duplicate
        csn_row("@param x", code="def f(x):\n    return x * 2\n"),
        csn_row("Double the given number and return the result.", code="def double(x):\n    return x * 2\n"),
    ])
    cpf = write_jsonl(tmp_path / "cpf.jsonl", [commit_row(f"Raise the default limit to {i}", new=f"a = {i}\n") for i in range(2, 12)])
    out = tmp_path / "prepared"
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{csn.parent}"), SourceSpec.parse(f"commitpackft:{cpf}")), out=out))
    assert manifest["duplicates_dropped"] == 1
    assert manifest["prompt_version"] == prompts.PROMPT_VERSION == check_prompt_version(out)
    assert manifest["sources"][f"csn:{csn.parent}"]["dropped"] == {"summary too short": 1}
    assert manifest["totals"]["commitpackft"] == {"train": 7, "val": 1, "test": 2}
    assert manifest["counts"]["codesearchnet"]["python"] == {"train": 1, "val": 0, "test": 1}
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert len(read_examples(out / "commitpackft" / "train.jsonl")) == 7
    assert {e.task for e in read_examples(out / "codesearchnet" / "test.jsonl")} == {"codesearchnet"}


def test_a_source_named_with_a_split_puts_every_row_there_so_its_repositories_stay_held_out(tmp_path):
    spec = SourceSpec.parse("commitpackft:/data/mined@test")
    assert (spec.location, spec.split, str(spec)) == ("/data/mined", "test", "commitpackft:/data/mined@test")
    assert SourceSpec.parse("csn:/data/user@host").location == "/data/user@host"  # not a split: part of the path
    assert SourceSpec.parse("csn:/data/x@VALID").split == "val"
    seen = write_jsonl(tmp_path / "seen" / "python.jsonl",
                       [commit_row(f"Raise the default limit to {i}", new=f"a = {i}\n") for i in range(2, 12)])
    held = write_jsonl(tmp_path / "held" / "python.jsonl",
                       [commit_row(f"Lower the retry count to {i}", new=f"b = {i}\n") for i in range(2, 6)])
    out = tmp_path / "prepared"
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{seen.parent}@train"),
                                              SourceSpec.parse(f"commitpackft:{held.parent}@test")), out=out))
    assert manifest["totals"]["commitpackft"] == {"train": 9, "val": 1, "test": 4}  # val carved from train
    assert {e.target for e in read_examples(out / "commitpackft" / "test.jsonl")} == \
        {f"Lower the retry count to {i}" for i in range(2, 6)}
    assert f"commitpackft:{held.parent}@test" in manifest["sources"]


def test_prepare_reports_missing_and_empty_sources(tmp_path):
    with pytest.raises(DataError, match="No such file or folder"):
        prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{tmp_path / 'nope'}"),), out=tmp_path / "o"))
    bad = write_jsonl(tmp_path / "python.jsonl", [csn_row("@param x")])
    with pytest.raises(DataError, match="No examples left: 1 rows read, dropped as summary too short"):
        prepare(PrepareConfig(sources=(SourceSpec.parse(f"csn:{bad}"),), out=tmp_path / "o"))
    with pytest.raises(DataError, match="Bad source"):
        SourceSpec.parse("just-a-path")


def test_a_commits_title_and_explain_examples_land_in_the_same_split(tmp_path):
    rows = [commit_row(f"Raise the default limit to {i}", message=f"Raise the default limit to {i}\n\n"
                       f"Large shops hit the old limit of {i - 1} every day.", new=f"a = {i}\n") for i in range(2, 42)]
    rows += [commit_row(f"Lower the default limit to {i}", new=f"a = -{i}\n") for i in range(2, 12)]  # no body
    cpf = write_jsonl(tmp_path / "cpf.jsonl", rows)
    out = tmp_path / "prepared"
    manifest = prepare(PrepareConfig(sources=(SourceSpec.parse(f"commitpackft:{cpf}"),), out=out))
    assert sum(manifest["totals"]["commitpackft"].values()) == 40 * 2 + 10
    assert sum(manifest["explain_totals"].values()) == manifest["sources"][f"commitpackft:{cpf}"]["explain"] == 40
    split_of = {}
    for split in ("train", "val", "test"):
        for example in read_examples(out / "commitpackft" / f"{split}.jsonl"):
            split_of[example.messages[1]["content"]] = split
    for i in range(2, 42):
        subject, patch = f"Raise the default limit to {i}", unified_diff("a = 1\n", f"a = {i}\n", "app/config.py")
        title = prompts.commit_prompt(["app/config.py"], patch)[1]["content"]
        explain = prompts.explain_prompt(subject, ["app/config.py"], patch)[1]["content"]
        assert split_of[title] == split_of[explain]
    assert {split_of[prompts.commit_prompt(["app/config.py"], unified_diff("a = 1\n", f"a = {i}\n", "app/config.py"))[1]["content"]]
            for i in range(2, 42)} == {"train", "val", "test"}  # the commits themselves are spread over the splits


# --- mining a local repository --------------------------------------------------------------------


def test_mining_finds_documented_functions_and_good_single_file_commits(tmp_path):
    repo = git.Repo.init(tmp_path / "shop")
    commit_files(repo, {
        "shop/cart.py": f'class Cart:\n    def total(self):\n        """{GOOD_DOC}"""\n        return sum(self.items)\n\n\n'
                        'def helper():\n    """short."""\n    return 1\n',
        "web/app.js": "/**\n * Sends the order confirmation mail to the customer.\n * @param {Order} order\n */\n"
                      "function sendMail(order) {\n  return mailer.send(order.email);\n}\n",
        "srv/main.go": "package main\n\n// Start opens the listening socket and serves requests.\nfunc Start() error {\n\treturn serve()\n}\n",
    }, "Add the shop", START)
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return 0\n"}, "Simplify the cart total to a stub", START + timedelta(days=1))
    commit_files(repo, {"shop/cart.py": "def total(cart):\n    return 1\n"}, "fixed the cart total again", START + timedelta(days=2))
    commit_files(repo, {"shop/a.py": "x = 1\n", "shop/b.py": "y = 2\n"}, "Add two modules at once", START + timedelta(days=3))

    items = list(mine_repository(str(tmp_path / "shop"), FILTERS, tmp_path / "clones"))
    examples = [e for i in items if not isinstance(i, str) for e in i]
    reasons = [i for i in items if isinstance(i, str)]
    summaries = {e.target: e for e in examples if e.task == "codesearchnet"}
    # HEAD has the stub only; the documented functions of the first commit are gone from HEAD.
    assert set(summaries) == {"Sends the order confirmation mail to the customer.",
                              "Start opens the listening socket and serves requests."}
    assert "sendMail" in summaries["Sends the order confirmation mail to the customer."].messages[1]["content"]
    commits = [e for e in examples if e.task == "commitpackft"]
    assert [e.target for e in commits] == ["Simplify the cart total to a stub"]
    assert "subject not capitalised" in reasons and "not a single-file commit" in reasons
    assert "merge or first commit" in reasons


def test_mining_python_docstrings_at_head(tmp_path):
    repo = git.Repo.init(tmp_path / "r")
    commit_files(repo, {"cart.py": f'class Cart:\n    def total(self):\n        """{GOOD_DOC}"""\n        return sum(self.items)\n'},
                 "Add the cart", START)
    examples = [e for i in mine_repository(str(tmp_path / "r"), FILTERS, tmp_path / "c") if not isinstance(i, str) for e in i]
    assert [e.target for e in examples] == [GOOD_DOC]
    user = examples[0].messages[1]["content"]
    assert examples[0].messages == prompts.unit_prompt("def total(self):\n    return sum(self.items)\n", "Cart.total",
                                                       "method", "cart.py", "python")
    assert GOOD_DOC not in user


def test_mining_a_commit_with_a_body_gives_its_title_and_explain_examples(tmp_path):
    repo = git.Repo.init(tmp_path / "r")
    commit_files(repo, {"cart.py": "limit = 1\n"}, "Add the cart", START)
    commit_files(repo, {"cart.py": "limit = 2\n"}, "Raise the cart limit to two\n\n"
                 "Shoppers could not buy more than one item at a time.", START + timedelta(days=1))
    items = [i for i in mine_repository(str(tmp_path / "r"), FILTERS, tmp_path / "c") if not isinstance(i, str)]
    [(title, explain)] = items
    commit = recent_commits(repo, limit=1)[0]
    assert title.messages == prompts.commit_prompt(["cart.py"], commit.patch) and title.target == "Raise the cart limit to two"
    assert explain.messages == prompts.explain_prompt("Raise the cart limit to two", ["cart.py"], commit.patch)
    assert explain.target == "Shoppers could not buy more than one item at a time."


def test_mining_a_missing_repository_is_a_one_line_error(tmp_path):
    with pytest.raises(DataError, match="No such folder"):
        list(mine_repository(str(tmp_path / "missing"), FILTERS, tmp_path / "c"))
