"""Defaults said once: how much a run narrates and which period a page or report covers.

Function defaults, command-line flags (and their help), the dashboard's widgets and the narration
job all read these; text caps live in :mod:`narrator.limits`, a run's other budgets in
``narrator.pipeline.tasks.Budget``.
"""

from __future__ import annotations

COMMITS = 30
"""The latest commits a run explains and a page or ``show`` lists."""

DIGEST_PERIOD = "7d"
"""What changed lately: the digest of ``show``, the Overview and Portfolio pages, their downloads."""

REPORT_PERIOD = "30d"
"""A status, a briefing and a shared report (``report``)."""
