"""Waiting on an event with a deadline, never on speed: ``wait_for`` polls a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 120.0, every: float = 0.2) -> T:
    """The first truthy value of ``condition()``, asked every ``every`` seconds; fails after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")
