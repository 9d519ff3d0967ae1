"""The dashboard under test: its app file, hostile text to render, the text a page shows, a job
worker that never starts, and signing in."""

from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
EVIL = "<script>alert(1)</script> and **bold** [link](http://example.com) $x$ :red[red]"


def no_worker(settings, store, job_id: int) -> int:
    """Stands in for jobs.spawn_worker: the job stays queued, marked as this process's, until the test
    runs it with run_job."""
    store.update_job(job_id, pid=os.getpid())
    return os.getpid()


def shown(at: AppTest) -> list[str]:
    """The Markdown source of every text element on the page (captions and errors included)."""
    return [e.value for kind in ("markdown", "caption", "error", "info", "success") for e in getattr(at, kind)]


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    """Fill in and send the sign-in form of a page that asks for it."""
    at.text_input(key="signin_form_name").input(name)
    at.text_input(key="signin_form_password").input(password)
    return at.button[0].click().run()
