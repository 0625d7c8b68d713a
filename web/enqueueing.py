"""Sending the task of a job row that the request has just committed."""

from __future__ import annotations

import logging

from flask_smorest import abort

from common.models.base import utcnow
from common.pipeline import enqueue
from web.database import db

log = logging.getLogger(__name__)


def enqueue_or_fail(row, task_name: str, *args, what: str) -> None:
    """Send ``task_name``; when the broker refuses, fail the row at once and answer 503, so the
    client learns now that it must retry instead of polling a job that may never start."""
    try:
        enqueue(task_name, *args)
    except Exception as exc:
        log.error("%s %s not enqueued: %s", what, row.id, exc)
        row.status, row.error, row.finished_at = "failed", "could not be queued", utcnow()
        db().commit()
        abort(503, message=f"The {what} could not be queued; retry shortly.")
