"""Task names and their queues, shared by the web app and the workers.

The web process enqueues by name (``send_task``) so it never imports worker code.
Every task is routed explicitly here; the task family (``scans.``, ``webhooks.``…)
names the worker module that implements it.
"""

QUEUES = ("scans", "ingest", "compliance", "exports", "webhooks", "alerts", "maintenance")

SCAN_RUN = "scans.run"
SCAN_INGEST = "scans.ingest"
COMPLIANCE_EVALUATE_SCAN = "compliance.evaluate_scan"
EXPORT_RENDER = "exports.render"
WEBHOOK_DISPATCH = "webhooks.dispatch"
WEBHOOK_DELIVER = "webhooks.deliver"
ALERTS_EVALUATE_SCAN = "alerts.evaluate_scan"
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
    SCHEDULES_DISPATCH_DUE: "maintenance",
    AUDIT_CLEANUP: "maintenance",
    RECONCILE_JOBS: "maintenance",
    PRUNE_HISTORY: "maintenance",
}

# Enqueued with the scan id once a scan completes; alerts run after compliance, which enqueues them.
AFTER_SCAN_TASKS: tuple[str, ...] = (COMPLIANCE_EVALUATE_SCAN,)

# Redis hash where every task adds its run time (sum and count), read by /metrics.
TASK_DURATIONS_KEY = "trusera:task_durations"


def queue_for(task_name: str) -> str:
    """Every task is routed explicitly; an unknown name is a programming error."""
    return TASK_QUEUES[task_name]
