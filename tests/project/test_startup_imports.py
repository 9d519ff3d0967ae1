"""What a command that never uses the task queue, the mail or the sign-in provider loads at start-up."""

from __future__ import annotations

import subprocess
import sys

from narrator.pipeline.jobs import ROOT

QUEUE_AND_DELIVERY = ("dramatiq", "redis", "aiosmtpd", "authlib")


def test_commands_and_the_service_load_no_queue_mail_or_sign_in_library_until_used():
    """Dramatiq and Redis imported at the top raised `show`'s peak memory from 81 to 90 MB (narrator.eval.bench)."""
    probe = ("import sys, narrator.__main__, narrator.service.core, narrator.render.show; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({QUEUE_AND_DELIVERY!r})))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
