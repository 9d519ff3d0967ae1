"""Commit headers with malformed or extreme dates and identities never stop a narration (issue 16).

Commits are written by hand with ``git hash-object -t commit --literally``, as tools other than git
write them, and a repository of them is narrated and shown end to end.
"""

from __future__ import annotations

import random
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import git
import pytest

from narrator.__main__ import main
from narrator.git import commits
from narrator.git import dates as gitdates
from narrator.git.dates import Stamp
from narrator.pipeline import history_pass as gitlog
from narrator.service.core import NarratorService
from tests.conftest import START, commit_files

ZONE_NOTE = "The commit's time zone ({}) is not a real one; its time is shown in UTC."
COMMITTER_SHOWN = "The commit's author date could not be read{}; its committer date is shown."
FUTURE = "Dated in the future (2100-01-01): the clock of the computer that made it was wrong."
SEPT_2011 = 1315449530  # 2011-09-08 02:38:50 UTC, the moment of the commit that stopped a real narration
COMMITTER = f"Committer <c@example.com> {SEPT_2011 + 3600} +0100"
SHOWN_BY_COMMITTER = datetime(2011, 9, 8, 4, 38, 50, tzinfo=timezone(timedelta(hours=1)))


def literal_commit(repo: git.Repo, tree: str, parent: str | None, author: str | None, committer: str | None,
                   message: str) -> str:
    """A commit object written exactly as given, which ``git commit`` would refuse to write."""
    lines = [f"tree {tree}"] + ([f"parent {parent}"] if parent else [])
    lines += [f"author {author}"] if author is not None else []
    lines += [f"committer {committer}"] if committer is not None else []
    body = "\n".join(lines) + f"\n\n{message}\n"
    return subprocess.run(["git", "hash-object", "-t", "commit", "--literally", "-w", "--stdin"], cwd=repo.git_dir,
                          input=body.encode(), capture_output=True, check=True).stdout.decode().strip()


# (author line, committer line, what the commit's date is then, its note)
CASES = [
    (f"Guido <guido@example.com> {SEPT_2011} +051800", COMMITTER,
     datetime(2011, 9, 8, 2, 38, 50, tzinfo=timezone.utc), ZONE_NOTE.format("+51800")),
    (f"Zed <zed@example.com> {SEPT_2011} +9959", COMMITTER,
     datetime(2011, 9, 8, 2, 38, 50, tzinfo=timezone.utc), ZONE_NOTE.format("+9959")),
    ("Old <old@example.com> -100000000 +0000", COMMITTER,  # before 1970: git reads no date at all
     SHOWN_BY_COMMITTER, COMMITTER_SHOWN.format("")),
    ("Far <far@example.com> 253402300800 +0000", COMMITTER,  # 1 Jan 10000
     SHOWN_BY_COMMITTER,
     COMMITTER_SHOWN.format(" (253402300800 seconds after 1970: past the year 9999)")),
    ("Huge <huge@example.com> 99999999999999999999 +0000", "Huge <huge@example.com> 99999999999999999999 +0000",
     gitdates.UNKNOWN_DATE,
     "The commit's author date could not be read (99999999999999999999 seconds after 1970: past the year 9999), "
     "nor could its committer date (99999999999999999999 seconds after 1970: past the year 9999); "
     "it is shown as 1 Jan 1970."),
    ("", COMMITTER, SHOWN_BY_COMMITTER, COMMITTER_SHOWN.format("")),
    (None, COMMITTER, SHOWN_BY_COMMITTER, COMMITTER_SHOWN.format("")),
    ("Kiri <kiri@example.com> 1315449530 +1400", COMMITTER,
     datetime(2011, 9, 8, 16, 38, 50, tzinfo=timezone(timedelta(hours=14))), None),
    ("Future <future@example.com> 4102444800 +0000", COMMITTER, datetime(2100, 1, 1, tzinfo=timezone.utc), None),
]


@pytest.fixture
def odd_repo(tmp_path: Path) -> tuple[git.Repo, list[str]]:
    """A repository whose commits after the first carry the CASES' headers, one case a commit, each
    changing a file; returns it and the crafted shas in CASES' order."""
    repo = git.Repo.init(tmp_path / "odd")
    commit_files(repo, {"README.md": "# Odd\n\nA project whose history was written by many tools.\n",
                        "odd/core.py": "def core():\n    return 0\n"}, "Start the project", START)
    parent, shas = repo.head.commit.hexsha, []
    for n, (author, committer, _, _) in enumerate(CASES, 1):
        commit_files(repo, {"odd/core.py": f"def core():\n    return {n}\n"}, "scratch", START)
        tree = repo.head.commit.tree.hexsha
        parent = literal_commit(repo, tree, parent, author, committer, f"Return {n} from the core")
        shas.append(parent)
        repo.git.update_ref("HEAD", parent)
    repo.git.reset("--hard", parent)
    return repo, shas


def test_every_odd_header_is_read_the_same_by_both_passes(odd_repo):
    repo, shas = odd_repo
    logged = {c.sha: c for c in gitlog.read_history(repo, "HEAD")}
    patched = {c.sha: c for c in commits.read_commits(repo, shas)}
    recent = {c.sha: c for c in commits.recent_commits(repo)}
    for sha, (author, _, when, note) in zip(shas, CASES):
        for read in (logged[sha], patched[sha], recent[sha]):
            assert (read.date, read.date_note) == (when, note), (author, read)
            assert read.date.utcoffset() == when.utcoffset()
            assert read.author == (author.split(" <")[0] if author else "unknown author")
    assert logged[shas[0]].files and logged[shas[0]].files == patched[shas[0]].files


def test_narrate_and_show_a_history_of_odd_headers(odd_repo, settings, capsys, tmp_path, monkeypatch):
    repo, shas = odd_repo
    monkeypatch.setenv("COLUMNS", "1000")  # show wraps to the terminal: one line per evidence here
    assert main(["narrate", repo.working_tree_dir, "--commits", "20"]) == 0
    capsys.readouterr()
    assert main(["show", repo.working_tree_dir, "--commits", "20"]) == 0
    shown = capsys.readouterr().out
    for sha, (_, _, when, note) in zip(shas, CASES):
        [line] = [line for line in shown.splitlines() if f" {sha[:8]} " in line]
        assert line.startswith(f"- {when:%Y-%m-%d} ")
    assert "unknown author" in shown
    evidence = "\n".join(line for line in shown.splitlines() if line.startswith("  - Evidence: ")).replace("\\", "")
    for _, _, _, note in CASES:
        if note:
            assert note in evidence
    assert FUTURE in evidence
    service = NarratorService(settings)
    repo_id = service.find(repo.working_tree_dir).id
    by_sha = {c.sha: c for c in service.changes(repo_id)}
    assert by_sha[shas[-1]].date_note == FUTURE
    assert by_sha[shas[0]].date_note == ZONE_NOTE.format("+51800")  # on the Changes page's evidence too
    stored = {c.sha: c for c in service.store.list_commits(repo_id)}
    assert stored[shas[4]].details["date_note"].endswith("it is shown as 1 Jan 1970.")
    assert main(["report", repo.working_tree_dir, "--period", "2011-09-01..2011-09-30",
                 "--out", str(tmp_path / "odd.html")]) == 0
    assert ZONE_NOTE.format("+51800").replace("'", "&#x27;") in (tmp_path / "odd.html").read_text()


@pytest.mark.parametrize("author,committer,expected", [
    (Stamp("0", "+0000"), None, (datetime(1970, 1, 1, tzinfo=timezone.utc), None)),
    (Stamp("1315449530", "-0230"), None, (datetime(2011, 9, 8, 0, 8, 50, tzinfo=timezone(-timedelta(hours=2, minutes=30))), None)),
    (Stamp("1315449530", "+0260"), None, (datetime(2011, 9, 8, 2, 38, 50, tzinfo=timezone.utc), ZONE_NOTE.format("+0260"))),
    (Stamp("1315449530", "+99999999999"), None, (datetime(2011, 9, 8, 2, 38, 50, tzinfo=timezone.utc), None)),
    (Stamp("253402300799", "+1400"), None, (datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc), None)),
    (Stamp("12ab", "+0000"), None, (gitdates.UNKNOWN_DATE, "The commit's author date could not be read, nor could "
                                                            "its committer date; it is shown as 1 Jan 1970.")),
    (None, Stamp(""), (gitdates.UNKNOWN_DATE, "The commit's author date could not be read, nor could its committer "
                                              "date; it is shown as 1 Jan 1970.")),
])
def test_commit_date_policy(author, committer, expected):
    got = gitdates.commit_date(author, committer)
    assert got == expected and got[0].utcoffset() == expected[0].utcoffset()


def test_a_date_after_today_is_kept_and_warned_about():
    when = datetime(2100, 1, 1, 8, tzinfo=timezone.utc)
    assert gitdates.future_note(when, date(2026, 12, 6)) == FUTURE
    assert gitdates.future_note(when, date(2100, 1, 1)) is None


def test_split_ident_reads_as_git_does():
    read = gitdates.split_ident
    assert read(b"Ada Lovelace <ada@example.com> 1315449530 +0100") == gitdates.Ident(
        "Ada Lovelace", "ada@example.com", Stamp("1315449530", "+0100"))
    assert read(b"A <a@b> 1 +0a00").stamp == Stamp("1", "+0")  # git reads the zone's digits up to the letter
    assert read(b"A <a@b>x> 5 -0700").stamp == Stamp("5", "-0700")  # the date follows the last '>'
    assert read(b"A a@b 1 +0000") == gitdates.Ident("", "", Stamp(""))
    assert read(b"A <a@b> 1315449530") == gitdates.Ident("A", "a@b", Stamp(""))
    assert read(b"\xff <\xfe> 1 +0000", "latin-1").name == "\xff"
    assert read(b"A <a@b> 1 +0000", "hex").name == "A"  # a codec that is no text encoding: UTF-8


def _random_field(rng: random.Random) -> bytes:
    alphabet = b"0123456789+- <>\t\n:abcAZ@.\xff\xfe\x1e\\%"
    kind = rng.random()
    if kind < 0.3:
        return str(rng.choice([0, -1, 2**31, 2**63, 10**20, 253402300800, rng.randrange(10**12)])).encode()
    if kind < 0.4:
        return rng.choice([b"+051800", b"+9959", b"-0000", b"+0100", b"+", b"-99999999999999999999"])
    return bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 24)))


def test_the_history_parser_never_raises_on_random_header_bytes():
    rng = random.Random(16)
    header_fields = gitlog.LOG_FORMAT.count("%x00") + 1
    for _ in range(3000):
        tokens: list[bytes] = []
        for _ in range(rng.randrange(1, 4)):
            tokens.append(b"\x1e" + _random_field(rng))
            tokens += [_random_field(rng) for _ in range(rng.randrange(header_fields - 3, header_fields + 2))]
            for _ in range(rng.randrange(0, 3)):
                tokens += rng.choice([
                    [b"\n:100644 100644 " + _random_field(rng) + b" M", _random_field(rng)],
                    [b":100644 100644 a b R100", _random_field(rng), _random_field(rng)],
                    [_random_field(rng) + b"\t" + _random_field(rng) + b"\t" + _random_field(rng)],
                    [_random_field(rng) + b"\t" + _random_field(rng) + b"\t", _random_field(rng), _random_field(rng)],
                    [_random_field(rng)],
                ])
        for commit in gitlog.parse_log(tokens, tags={}, boundary=set(), known=set()):
            assert commit.date.tzinfo is not None and datetime.min.replace(tzinfo=timezone.utc) <= commit.date
            assert commit.author and all(f.added >= 0 and f.removed >= 0 for f in commit.files)


def test_the_header_reader_never_raises_on_random_bytes():
    rng = random.Random(1970)
    for _ in range(3000):
        lines = [rng.choice([b"author ", b"committer ", b"encoding ", b"parent ", b""]) + _random_field(rng)
                 + rng.choice([b"", b" <", b"> ", b" "]) + _random_field(rng) + b" " + _random_field(rng)
                 for _ in range(rng.randrange(0, 5))]
        author, committer = gitdates.header_idents(b"\n".join(lines) + b"\n\nmessage", rng.choice(["utf-8", "hex", "nope"]))
        when, _ = gitdates.commit_date(author and author.stamp, committer and committer.stamp)
        assert when.tzinfo is not None
