"""A job's heartbeat outlives a failed beat."""

from __future__ import annotations

import threading

from workers import base
from workers.base import Job


def test_a_beat_that_fails_for_lack_of_memory_does_not_end_the_heartbeat(monkeypatch):
    """While a scan in the pool process is at its memory cap (``SCAN_MEMORY_BYTES``) the heartbeat thread's
    allocations fail too; the thread ended with its first ``MemoryError``, and the scan ran on with no beat:
    its organization's turn, which only the beat renews, lapsed a minute later."""
    monkeypatch.setattr(base, "PROGRESS_INTERVAL_SECONDS", 0.01)
    beats = 0
    beat_after_failure = threading.Event()

    def on_beat() -> None:
        nonlocal beats
        beats += 1
        if beats == 1:
            raise MemoryError
        beat_after_failure.set()

    job = Job(model=None, row_id="scan", organization_id="organization", _last_publish=float("inf"))
    job.on_beat = on_beat
    with job.heartbeat():
        assert beat_after_failure.wait(timeout=5)
