"""Task names and their queues, shared by the web app and the workers.

The web process enqueues by name (``send_task``) so it never imports worker code.
Every task is routed explicitly here; the task family (``scans.``, ``webhooks.``…)
names the worker module that implements it. ``EVENT_FOLLOW_UPS`` says which tasks follow which event.
"""

from dataclasses import dataclass
from enum import StrEnum

QUEUES = ("scans", "ingest", "compliance", "exports", "webhooks", "alerts", "maintenance")

SCAN_RUN = "scans.run"
SCAN_INGEST = "scans.ingest"
COMPLIANCE_EVALUATE_SCAN = "compliance.evaluate_scan"
EXPORT_RENDER = "exports.render"
WEBHOOK_DISPATCH = "webhooks.dispatch"
WEBHOOK_DELIVER = "webhooks.deliver"
ALERTS_EVALUATE_SCAN = "alerts.evaluate_scan"
DASHBOARD_ROLL_UP = "dashboard.roll_up"
DASHBOARD_RECONCILE = "dashboard.reconcile"
SCHEDULES_DISPATCH_DUE = "schedules.dispatch_due"
AUDIT_CLEANUP = "maintenance.audit_cleanup"
RECONCILE_JOBS = "maintenance.reconcile_jobs"
PRUNE_HISTORY = "maintenance.prune_history"

TASK_QUEUES = {
    SCAN_RUN: "scans",
    SCAN_INGEST: "ingest",
    COMPLIANCE_EVALUATE_SCAN: "compliance",
    EXPORT_RENDER: "exports",
    WEBHOOK_DISPATCH: "webhooks",
    WEBHOOK_DELIVER: "webhooks",
    ALERTS_EVALUATE_SCAN: "alerts",
    DASHBOARD_ROLL_UP: "compliance",  # after a completion, beside its evaluation
    DASHBOARD_RECONCILE: "maintenance",
    SCHEDULES_DISPATCH_DUE: "maintenance",
    AUDIT_CLEANUP: "maintenance",
    RECONCILE_JOBS: "maintenance",
    PRUNE_HISTORY: "maintenance",
}


@dataclass(frozen=True)
class FollowUp:
    """A task sent after an event, with one field of the event as its argument (skipped when absent)."""

    task: str
    argument: str


# The id of the event's webhook outbox row: set only when some webhook of the organization listens.
OUTBOX_ID = "outbox_id"
DISPATCH_WEBHOOKS = FollowUp(WEBHOOK_DISPATCH, OUTBOX_ID)

# Every piece of work that follows an event, and nothing else sends follow-up work: each task here is
# sent once the transaction that recorded the event commits (``common.events.record``). What happens
# after a scan completes? Its webhooks, then compliance, whose evaluation run then triggers the alerts;
# and its components are counted once for the dashboard.
EVENT_FOLLOW_UPS: dict[str, tuple[FollowUp, ...]] = {
    "scan.started": (DISPATCH_WEBHOOKS,),
    "scan.completed": (
        DISPATCH_WEBHOOKS,
        FollowUp(COMPLIANCE_EVALUATE_SCAN, "scan_id"),
        FollowUp(DASHBOARD_ROLL_UP, "scan_id"),
    ),
    "scan.failed": (DISPATCH_WEBHOOKS, FollowUp(ALERTS_EVALUATE_SCAN, "scan_id")),
    # The alert rules read what the evaluation stored (policy_failed), so they run after it, either way.
    "evaluation.completed": (FollowUp(ALERTS_EVALUATE_SCAN, "scan_id"),),
    "evaluation.failed": (FollowUp(ALERTS_EVALUATE_SCAN, "scan_id"),),
    "policy.violated": (DISPATCH_WEBHOOKS,),
    "export.completed": (DISPATCH_WEBHOOKS,),
    "alert.triggered": (DISPATCH_WEBHOOKS,),
}

# Redis hash where every task adds its run time (sum, count and histogram buckets), read by /metrics.
TASK_DURATIONS_KEY = "trusera:task_durations"
# Upper bounds (seconds) of the task duration histogram: from a webhook send to a long scan.
TASK_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
# Redis hash of task outcomes by ``<task>:<outcome>``: retried, failed, dead_lettered (gave up for good).
TASK_OUTCOMES_KEY = "trusera:task_outcomes"


class TaskOutcome(StrEnum):
    RETRIED = "retried"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"  # gave up for good


TASK_OUTCOMES = tuple(outcome.value for outcome in TaskOutcome)
# Message header stamped on every publish, so /metrics can tell how long the oldest message has waited.
SENT_AT_HEADER = "trusera_sent_at"


def queue_for(task_name: str) -> str:
    """Every task is routed explicitly; an unknown name is a programming error."""
    return TASK_QUEUES[task_name]
