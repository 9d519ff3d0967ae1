"""Every file the product writes is whole or as it was: reports, the active adapter, admin records, study results.

A full disk is made real in a child process: ``RLIMIT_FSIZE`` 0 makes every write that grows a file
fail (EFBIG, the way ENOSPC does), so a writer that truncates its target first loses the old file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from db.files import atomic_writer, write_atomic
from tests.helpers.cli import ROOT

# Run with the disk "full": nothing written may grow a file. What it prints is the outcome.
FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
"""


def on_a_full_disk(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FULL_DISK + textwrap.dedent(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env})


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("the old report, whole\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("the new report, half")
        raise RuntimeError("killed half way")
    assert target.read_text() == "the old report, whole\n"
    assert leftovers(tmp_path) == []
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n" and leftovers(tmp_path) == []


def test_a_new_file_gets_the_permissions_asked_for_and_an_exclusive_write_never_replaces(tmp_path):
    secret = write_atomic(tmp_path / "secret.json", "{}", permissions=0o600)
    assert secret.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_atomic(secret, "other", replace=False)
    assert secret.read_text() == "{}" and leftovers(tmp_path) == []
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "a folder is not a file")


# Each writer, called as its command or page calls it, to replace the file made before.
WRITERS = {
    "report": "from narrator.render import renderers; renderers.write(b'the new report ' * 1000, FILE)",
    "active adapter": "from narrator.settings import set_active_adapter, active_adapter_file; "
                      "set_active_adapter(HOME, HOME / 'adapter-two')",
    "admin failures": "from dashboard import auth; auth.check(HOME, 'a wrong guess')",
    "admin password": "from dashboard import auth; auth.ensure_password(HOME, 'a new password')",
    "study results": "from training.study import _write_json; _write_json(FILE, {'new': 'results'})",
}


@pytest.mark.parametrize("what", WRITERS)
def test_a_full_disk_leaves_every_written_file_as_it_was(tmp_path, what):
    from dashboard import auth
    from narrator.settings import active_adapter_file, set_active_adapter

    home = tmp_path / "home"
    home.mkdir()
    set_active_adapter(home, tmp_path / "adapter-one")
    auth.ensure_password(home, "the old password")
    auth.check(home, "an old wrong guess")
    report = home / "old.md"
    report.write_text("# The old report\n")
    files = [report, active_adapter_file(home), auth.password_file(home), auth.attempts_file(home)]
    before = {path: path.read_bytes() for path in files}
    assert json.loads(before[auth.attempts_file(home)])["failures"] == 1

    result = on_a_full_disk(f"from pathlib import Path\nHOME = Path({str(home)!r})\nFILE = HOME / 'old.md'\n"
                            "try:\n" + textwrap.indent(WRITERS[what], "    ") + "\nexcept Exception as e:\n    print('failed:', e)\n")
    assert "failed:" in result.stdout, (what, result.stdout, result.stderr)
    assert {path: path.read_bytes() for path in files} == before, what
    assert leftovers(home) == []
