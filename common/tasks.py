"""Task names and their queues, shared by the web app and the workers.

The web process enqueues by name (``send_task``) so it never imports worker code.
"""

QUEUES = ("scans", "ingest", "compliance", "exports", "webhooks", "alerts", "maintenance")

SCAN_RUN = "scans.run"
SCAN_INGEST = "scans.ingest"
RECONCILE_SCANS = "maintenance.reconcile_scans"

TASK_QUEUES = {
    SCAN_RUN: "scans",
    SCAN_INGEST: "ingest",
    RECONCILE_SCANS: "maintenance",
}


def queue_for(task_name: str) -> str:
    """Every task is routed explicitly; an unknown name is a programming error."""
    return TASK_QUEUES[task_name]


# Enqueued with the scan id once a scan completes.
AFTER_SCAN_TASKS: tuple[str, ...] = ()

# Redis hash where every task adds its run time (sum and count), read by /metrics.
TASK_DURATIONS_KEY = "trusera:task_durations"
