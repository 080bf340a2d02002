"""Waiting on real processes (a worker, the demo stack, a private server) in the integration tests."""

from __future__ import annotations

import time
from pathlib import Path


def wait_until(what: str, predicate, timeout: float, logs=(), *, interval: float = 0.3):
    """``predicate()``'s first truthy value, polled every ``interval`` s; after ``timeout`` s a failure that says
    what was awaited, with the tail of each log so the failing process's own words are in the report."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    tails = "\n".join(Path(log).read_text(errors="replace")[-4000:] for log in logs)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tails}")
