"""``python -m narrator.eval.bench_queue`` with no servers given: it starts a throw-away redis-server and
PostgreSQL for the run (``narrator.eval.local_servers``), measures a real round and stops them at the end.
Not a timed test: it checks the figures are there and make sense."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import redis

from narrator.eval import bench_queue, local_servers
from narrator.settings import without_password
from tests.helpers.postgres import unavailable


@pytest.mark.slow  # starts redis-server, PostgreSQL and a queue worker process
def test_the_bench_starts_its_own_servers_measures_a_round_and_stops_them(monkeypatch, capsys):
    if local_servers.redis_bin() is None or local_servers.postgres_bin() is None:
        unavailable("redis-server or PostgreSQL is not installed (bash scripts/setup.sh --redis --postgres)")
    monkeypatch.delenv("CODE_NARRATOR_QUEUE", raising=False)
    monkeypatch.delenv("CODE_NARRATOR_DB", raising=False)

    status = bench_queue.main(["--repos", "2", "--workers", "1"])

    out, err = capsys.readouterr()
    assert status == 0, err
    figures = json.loads(out)
    (only,) = figures["rounds"]
    assert only["workers"] == 1 and only["repositories"] == 2 and only["failed"] == 0
    assert only["seconds"] > 0 and only["repositories_per_minute"] > 0 and only["narratives"] > 0
    queue = re.search(r"^queue: a throw-away redis-server for this run, (redis://\S+)$", err, re.M).group(1)
    socket_folder = re.search(r"^database: a throw-away PostgreSQL server for this run, \S+\?host=([^&]+)&", err,
                              re.M).group(1)
    with pytest.raises(redis.ConnectionError):  # both servers are gone with the run
        redis.Redis.from_url(queue, socket_connect_timeout=2).ping()
    assert not Path(socket_folder).exists()


def test_a_missing_server_binary_is_one_error_line_naming_the_setup_command(monkeypatch, capsys):
    monkeypatch.delenv("CODE_NARRATOR_QUEUE", raising=False)
    monkeypatch.setattr(local_servers, "redis_bin", lambda: None)

    status = bench_queue.main(["--repos", "1", "--workers", "1", "--db", "sqlite:///unused.db"])

    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err.splitlines()[-1] == "error: redis-server is not installed (bash scripts/setup.sh --redis installs it)"


def test_given_servers_are_named_without_their_passwords():
    """The bench names its servers through ``settings.without_password``, as the worker names its queue."""
    assert without_password("redis://:s3cret@queue.internal:6379/0") == "redis://:***@queue.internal:6379/0"
    assert without_password("postgresql://narrator:s3cret@db.internal/narrator") == \
        "postgresql://narrator:***@db.internal/narrator"
    assert without_password("redis://queue.internal:6379/0") == "redis://queue.internal:6379/0"
