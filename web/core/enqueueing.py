"""Sending the task of a job row that the request has just committed."""

from __future__ import annotations

import logging

from common import dashboard_cache, events
from common.celery_client import enqueue
from common.jobs import JobMixin

log = logging.getLogger(__name__)


def enqueue_or_leave_queued(
    row: JobMixin,
    task_name: str,
    *args,
    what: str,
    announcing: events.RecordedEvent | None = None,
    dashboard_writes: set[str] = frozenset(),
) -> None:
    """Send ``task_name`` for ``row``. The one rule for every kind of job when the broker refuses it:
    the row stays as it was committed and the request still answers 202, because the reconciler
    re-sends every job whose message never arrived (``SCAN_STALE_MINUTES``), and failing a job for
    a broker blip would make the client start over for nothing.

    ``announcing``: the event of ``events.record_for_task``, published first in the task's pipeline.
    ``dashboard_writes``: what the committed transaction wrote (``dashboard_cache.take``), bumped in that
    pipeline too, or on its own when it had none or it did not run."""
    leading = None
    try:
        if announcing is not None:
            leading = events.leading_for(announcing)
        if leading is not None:
            leading.commands.extend(dashboard_cache.bump_commands(dashboard_writes))
        if leading is None:
            enqueue(task_name, *args)
        else:
            enqueue(task_name, *args, leading=leading)
    except Exception as exc:
        log.error("%s %s saved but not enqueued yet (the reconciler re-sends it): %s", what, row.id, exc)
    if announcing is not None:
        events.published_with(announcing, leading)
    if dashboard_writes and (leading is None or leading.replies is None):
        dashboard_cache.bump(dashboard_writes)
