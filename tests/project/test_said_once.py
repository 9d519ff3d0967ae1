"""Logic said once: the one sentence splitter, the one reader of conventional prefixes, the one place
for defaults and the one way to start a narration job."""

from __future__ import annotations

import inspect
import random
import re

import pytest

from narrator import defaults
from narrator.__main__ import main, parser
from narrator.facts import prefixes, subjects
from narrator.facts.commit_style import _COMMIT_TYPES, _CONVENTIONAL_TYPE, _SCOPE
from narrator.facts.releases import _RELEASE_TAG, _RELEASE_TYPES
from narrator.facts.sentences import ANSWER, BODY, MESSAGE, PROSE, Rules, split_sentences
from narrator.insights import periods
from narrator.pipeline import jobs, tasks
from narrator.render import exports as reports
from narrator.render import show as report
from narrator.service.core import NarratorService
from narrator.service.narration import narration_request
from narrator.service.refresh import refresh_all
from training import briefing_tasks

# --- sentences ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rules, text, expected", [
    # every kind: an end mark and whitespace before a capital; a newline is whitespace
    (MESSAGE, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (PROSE, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (ANSWER, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    (BODY, "Adds a cache. Reads are faster!\nNo change? Yes.", ["Adds a cache.", "Reads are faster!", "No change?", "Yes."]),
    # a version's dots are no sentence end, a full stop after one is
    (MESSAGE, "Requires 1.2.3 now. Upgrade first.", ["Requires 1.2.3 now.", "Upgrade first."]),
    (BODY, "Requires 1.2.3 now. Upgrade first.", ["Requires 1.2.3 now.", "Upgrade first."]),
    (ANSWER, "Bumps to v2.0.1. Nothing else.", ["Bumps to v2.0.1.", "Nothing else."]),
    (PROSE, "Supports 3.11. Fast.", ["Supports 3.11.", "Fast."]),
    # e.g. / i.e.: not an end for messages, prose and training bodies; an end in a model's answer
    (MESSAGE, "Some formats, e.g. PDF and i.e. HTML. Done.", ["Some formats, e.g. PDF and i.e. HTML.", "Done."]),
    (PROSE, "Some formats, e.g. PDF. Done.", ["Some formats, e.g. PDF.", "Done."]),
    (BODY, "Some formats, e.g. PDF and i.e. HTML. Done.", ["Some formats, e.g. PDF and i.e. HTML.", "Done."]),
    (ANSWER, "Some formats, e.g. PDF. Done.", ["Some formats, e.g.", "PDF.", "Done."]),
    # vs.: only training bodies and prose keep it
    (BODY, "Speed vs. Size matters. Done.", ["Speed vs. Size matters.", "Done."]),
    (PROSE, "Speed vs. Size matters. Done.", ["Speed vs. Size matters.", "Done."]),
    (MESSAGE, "Speed vs. Size matters.", ["Speed vs.", "Size matters."]),
    # initials: messages and prose keep "M. Roy" together; a lower-case letter only in prose
    (MESSAGE, "By Audrey M. Roy. Thanks.", ["By Audrey M. Roy.", "Thanks."]),
    (MESSAGE, "(A. Roy) wrote it.", ["(A. Roy) wrote it."]),
    (MESSAGE, "Step x. Then more.", ["Step x.", "Then more."]),
    (PROSE, "Step x. Then more.", ["Step x. Then more."]),
    (ANSWER, "By Audrey M. Roy.", ["By Audrey M.", "Roy."]),
    # other abbreviations: prose only, whatever the end mark
    (PROSE, "Tools, docs etc. Are included. By Dr. Who.", ["Tools, docs etc. Are included.", "By Dr. Who."]),
    (PROSE, "Say no! Then go.", ["Say no! Then go."]),
    (MESSAGE, "Tools etc. Are included.", ["Tools etc.", "Are included."]),
    # what may start the next sentence: a capital, quote or parenthesis; prose also a digit, bodies anything
    (MESSAGE, "Fixed. then more. (Really.) \"Yes.\" Done.", ["Fixed. then more.", "(Really.) \"Yes.\" Done."]),
    (MESSAGE, "Fixed. (Really.) \"Yes\" 3.", ["Fixed.", "(Really.) \"Yes\" 3."]),
    (PROSE, "Fixed. 3 times. [Link] here.", ["Fixed.", "3 times.", "[Link] here."]),
    (BODY, "Fixed. then more.", ["Fixed.", "then more."]),
    # prose keeps closing quotes and brackets with their sentence, and ends at an ellipsis
    (PROSE, "He said \"go.\" Then (it ran.) Wait… Done.", ["He said \"go.\"", "Then (it ran.)", "Wait…", "Done."]),
    (MESSAGE, "He said \"go.\" Then wait… Done.", ["He said \"go.\" Then wait… Done."]),
    # blank text has no sentence
    (MESSAGE, "  \n ", []),
])
def test_one_splitter_keeps_each_readers_rules(rules, text, expected):
    assert split_sentences(text, rules) == expected


def test_maxsplit_leaves_the_rest_unsplit():
    assert split_sentences("One. Two. Three. Four.", MESSAGE, maxsplit=2) == ["One.", "Two.", "Three. Four."]
    assert split_sentences("One. Two.", MESSAGE, maxsplit=0) == ["One.", "Two."]


def test_rules_need_an_end_mark():
    with pytest.raises(ValueError):
        Rules(marks="")


# How each reader split sentences before there was one splitter, to compare on random text.
_OLD_MESSAGE = re.compile(r"(?<=[.!?])(?<![\s(][A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z\"'(])")
_OLD_ANSWER = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_OLD_BODY = re.compile(r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)\s+")
_OLD_PROSE = re.compile(r"[.!?…][\"'’”)\]]*\s+(?=[\"'“(\[]?[A-Z0-9])")
_OLD_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "mr", "mrs", "dr", "no", "approx", "incl", "inc", "ltd", "st", "fig"}


def _old_prose(text: str) -> list[str]:
    out, start = [], 0
    for match in _OLD_PROSE.finditer(text):
        before = text[start:match.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if last in _OLD_ABBREVIATIONS or re.fullmatch(r"[a-z]", last):
            continue
        out.append(text[start:match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def test_each_reader_splits_as_it_did_before():
    words = """Adds a cache e.g. i.e. vs. etc. Dr. no. No! A. (B. x. 1.2.3 v2. 3. ! ? . .. … "Quoted" 'single'
    (paren) [link] End. Start e.g.Next said." ran.) Wait… fig. Mr.""".split()
    rng = random.Random(19)
    for _ in range(3000):
        text = rng.choice([" ", "  ", "\n", " \t"]).join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        assert split_sentences(text, MESSAGE) == _OLD_MESSAGE.split(text), text
        assert split_sentences(text, ANSWER) == [s.strip() for s in _OLD_ANSWER.split(text) if s.strip()], text
        assert split_sentences(text, BODY) == _OLD_BODY.split(text), text
        assert split_sentences(text, PROSE) == _old_prose(text), text


# --- conventional prefixes ------------------------------------------------------------------------


@pytest.mark.parametrize("text, parts", [
    ("feat(api)!: drop v1", ("feat", "api", True, True, "drop v1")),
    ("Fix: crash", ("Fix", None, False, True, "crash")),
    ("net/http: fix the timeout", ("net/http", None, False, True, "fix the timeout")),
    ("chore(release): 1.2.0", ("chore", "release", False, True, "1.2.0")),
    ("docs:typo", ("docs", None, False, False, "typo")),
    ("fix(a(b): x", ("fix", "a(b", False, True, "x")),
    ("fix:", ("fix", None, False, False, "")),
])
def test_one_reader_finds_the_parts_of_a_prefix(text, parts):
    found = prefixes.prefix(text)
    assert (found.type, found.scope, found.bang, found.spaced, found.rest) == parts


@pytest.mark.parametrize("text", ["Fix the crash", ": x", "(api): x", "fix(a)b: x", "fix(a)(b): x", "-x: y", ""])
def test_no_prefix_is_read_where_none_is_written(text):
    assert prefixes.prefix(text) is None


def test_each_reader_of_a_prefix_decides_as_before():
    # How subjects, project, facts and the briefing tasks read a prefix before there was one reader.
    old_subject = re.compile(r"^(?P<type>[A-Za-z][\w/.-]*?)(?:\((?P<scope>[^()]*)\))?(?P<bang>!)?:\s+(?P<rest>\S.*)$", re.S)
    old_conventional = re.compile(r"^([a-z0-9]+)(\([^)]*\))?!?:\s*\S", re.I)
    old_scope = re.compile(r"^[a-z0-9][\w./,*-]*(\([^)]*\))?!?:\s+(.+)$")
    old_release = re.compile(r"^(?:(?:chore|build|ci|release|bump)(?:\([^)]*\))?!?:|\[release\])\s*", re.I)
    old_note = re.compile(r"^(?:feat|fix|docs|chore|refactor|perf|test|tests|build|ci|style)(?:\([^)]*\))?!?:\s*", re.I)
    pieces = ["feat", "Fix", "fix", "tests", "test", "chore", "release", "CI", "bump", "api", "net/http", "a.b", "x,y",
              "9", "Docs", "wip", "(", ")", "(api)", "(a(b)", "!", ":", ": ", ":\n", " ", "\n", "add", "1.2.0", "[release]",
              "x", "-", "*", "_", "é", "notes"]
    rng = random.Random(19)
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        match = old_subject.match(text)
        expected = (None, None, False, text)
        if match:
            kind, scope = match["type"], match["scope"]
            scope = scope.strip() or None if scope is not None else None
            if kind.lower() in subjects.CONVENTIONAL_TYPES:
                expected = (kind.lower(), scope, bool(match["bang"]), match["rest"])
            elif kind == kind.lower() and len(kind) <= 30 and kind not in subjects._NOT_AREAS and not kind.isdigit():
                expected = (None, scope or kind, bool(match["bang"]), match["rest"])
        assert subjects._split_prefix(text) == expected, text

        said = text.strip()  # is_commit_style reads a stripped sentence
        found = prefixes.prefix(said)
        conventional = old_conventional.match(said)
        assert (found is not None and bool(found.rest) and _CONVENTIONAL_TYPE.fullmatch(found.type) is not None
                and found.type.lower() in _COMMIT_TYPES) == bool(
                    conventional and conventional.group(1).lower() in _COMMIT_TYPES), text
        scoped = old_scope.match(said)
        ours = (found.rest if found and found.spaced and found.rest and "\n" not in found.rest
                and _SCOPE.fullmatch(found.type) else None)
        assert ours == (scoped.group(2) if scoped else None), text

        first = text.strip().splitlines()[0] if text.strip() else ""
        assert briefing_tasks.note_target(text) == " ".join(old_note.sub("", briefing_tasks._BULLET.sub("", first)).split()), text
        released = old_release.sub("", text)
        found = prefixes.prefix(text)
        ours = found.rest if found and found.type.lower() in _RELEASE_TYPES else _RELEASE_TAG.sub("", text)
        assert ours == released, text


# --- defaults -------------------------------------------------------------------------------------


def test_the_command_line_takes_its_defaults_from_one_module():
    p = parser()
    narrate_args = p.parse_args(["narrate", "repo"])
    show_args = p.parse_args(["show", "repo"])
    report_args = p.parse_args(["report", "repo", "--out", "-"])
    assert narrate_args.commits == show_args.commits == defaults.COMMITS
    assert show_args.period == defaults.DIGEST_PERIOD
    assert report_args.period == defaults.REPORT_PERIOD
    helps = p._subparsers._group_actions[0].choices
    assert f"(default {defaults.COMMITS})" in helps["narrate"].format_help()


def test_library_functions_take_the_same_defaults():
    def default(function, name):
        return inspect.signature(function).parameters[name].default

    assert tasks.Budget().commits == defaults.COMMITS
    assert default(NarratorService.start_narration, "commits") == defaults.COMMITS
    for function in (report.show_lines, report.markdown, report.text):
        assert default(function, "commits") == defaults.COMMITS
        assert default(function, "period") == defaults.DIGEST_PERIOD
    for function in (NarratorService.overview, NarratorService.digest, NarratorService.portfolio, periods.choose_period):
        assert default(function, "period" if function is not periods.choose_period else "choice") == defaults.DIGEST_PERIOD
    for function in (NarratorService.status, NarratorService.briefing, reports.document, reports.build):
        assert default(function, "period") == defaults.REPORT_PERIOD


# --- one way to start a narration job -------------------------------------------------------------


def test_narration_requests_have_one_shape():
    assert narration_request() == {"commits": defaults.COMMITS, "full": False}
    assert narration_request(5, full=True) == {"commits": 5, "full": True}
    # stored as JSON: a request made again compares equal to the row's, so it is not queued twice
    assert narration_request(only=[("file", "app.py")]) == {"only": [["file", "app.py"]]}


def test_every_entry_point_makes_its_job_through_the_service(settings, sample_repo, monkeypatch, capsys):
    made = []
    queue = NarratorService.queue_narration

    def spy(self, repo_id, request):
        made.append(request)
        return queue(self, repo_id, request)

    monkeypatch.setattr(NarratorService, "queue_narration", spy)
    monkeypatch.setattr(jobs, "spawn_worker", lambda *args: 0)  # the worker itself is tests/pipeline/test_jobs.py's
    assert main(["narrate", sample_repo.working_tree_dir, "--commits", "3"]) == 0  # the command line
    assert [r.error for r in refresh_all(settings, commits=2)] == [None]          # narrate --all
    service = NarratorService(settings)
    repo_id = service.repositories()[0].id
    service.start_narration(repo_id, commits=4)                                    # the dashboard
    service.narrate_on_demand(repo_id, "file", "README.md")
    service.narrate_on_demand(repo_id, "file", "README.md")  # the same request again: not queued twice
    expected = [narration_request(3), narration_request(2), narration_request(4),
                narration_request(only=[("file", "README.md")])]
    assert made == expected
    assert [job.params for job in reversed(service.store.list_jobs(repo_id, kind="narrate"))] == expected
