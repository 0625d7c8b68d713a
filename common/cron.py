"""Cron expressions in an IANA timezone: validation and the next run as a UTC instant.

Wall-clock semantics follow classic cron across daylight-saving changes: a time
skipped when clocks go forward runs at the first instant after the gap, and a
fixed-hour time repeated when clocks go back runs once (at its first occurrence);
an expression over every hour keeps running each real hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

HOURS_IN_DAY = 24


class CronError(ValueError):
    """The expression or timezone is not usable; the message is safe to show."""


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CronError(f"'{name}' is not an IANA timezone (e.g. 'Europe/Berlin', 'UTC').") from exc


def _normalized(expression: str) -> str:
    normalized = " ".join(expression.split())
    if not normalized.startswith("@") and len(normalized.split(" ")) != 5:
        raise CronError("A cron expression has five fields: minute hour day-of-month month day-of-week.")
    if not croniter.is_valid(normalized):
        raise CronError(f"'{expression}' is not a valid cron expression.")
    return normalized


def _next(iterator: croniter, expression: str) -> datetime:
    """croniter's next match; a date that never comes (``0 0 30 2 *``) is a ``CronError``: croniter raises
    its own ``ValueError`` for it, which answered ``POST /schedules`` with a 500 and would end the
    dispatcher's whole batch, every organization's due schedules with it."""
    try:
        return iterator.get_next(datetime)
    except CroniterError as exc:
        raise CronError(
            f"'{expression}' names no date that comes (such as 30 February): it never runs."
        ) from exc


def validate_cron(expression: str) -> str:
    """Five-field cron (or an @-alias such as @daily) that runs at some date; seconds fields are refused."""
    normalized = _normalized(expression)
    _next(croniter(normalized, datetime.now(UTC)), expression)
    return normalized


def _repeats_wall_clock(moment: datetime, zone: ZoneInfo) -> bool:
    """True for the second occurrence of a wall-clock time that the fall-back change repeats."""
    first = moment.replace(tzinfo=None).replace(tzinfo=zone, fold=0)
    return first.utcoffset() != moment.utcoffset() and first.astimezone(UTC) < moment.astimezone(UTC)


def next_run_after(expression: str, timezone: str, after: datetime) -> datetime:
    """The first run strictly after ``after`` (an aware instant), as an aware UTC datetime."""
    zone = parse_timezone(timezone)
    iterator = croniter(_normalized(expression), after.astimezone(zone))
    every_hour = len(iterator.expanded[1]) == HOURS_IN_DAY or iterator.expanded[1] == ["*"]
    while True:
        candidate = _next(iterator, expression)
        if every_hour or not _repeats_wall_clock(candidate, zone):
            return candidate.astimezone(UTC)
