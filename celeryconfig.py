"""Celery settings: queues, explicit routes and the reliability knobs.

Task state lives in the database (each task family owns a table with a status),
so the result backend is off (``task_ignore_result``) and no ``setex`` churn hits Redis.
"""

from celery.schedules import crontab
from kombu import Queue

from common.config import get_settings
from common.tasks import (
    AUDIT_CLEANUP,
    DASHBOARD_RECONCILE,
    PRUNE_HISTORY,
    QUEUES,
    RECONCILE_JOBS,
    SCHEDULES_DISPATCH_DUE,
    TASK_QUEUES,
)

_settings = get_settings()

broker_url = _settings.broker_url
broker_connection_retry_on_startup = True
# How long a delivered message may stay unacknowledged (late acks: until its task ran; a countdown retry:
# until it is due) before the broker gives it to another worker (Redis ``visibility_timeout``) or
# closes the consumer (RabbitMQ ``consumer_timeout``, ops/rabbitmq/rabbitmq.conf): longer than the hard
# time limit, else a long task would be run twice or cut off.
UNACKED_MESSAGE_SECONDS = 2 * 3600
broker_transport_options = {"visibility_timeout": UNACKED_MESSAGE_SECONDS}
result_backend = None
task_ignore_result = True

task_queues = tuple(Queue(name, routing_key=name) for name in QUEUES)
task_default_queue = "maintenance"
task_routes = {name: {"queue": queue, "routing_key": queue} for name, queue in TASK_QUEUES.items()}

# Redelivery instead of loss: ack after the task body, requeue if the pool process dies.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_cancel_long_running_tasks_on_connection_loss = True
# Soft shutdown (Celery >= 5.5): on SIGQUIT, or SIGTERM with REMAP_SIGTERM=SIGQUIT as docker-compose.yml sets,
# a worker with running tasks waits this long, then cancels them and requeues them (late acks), never lost.
# An idle worker stops at once; the countdown retries it holds go back to the broker when it disconnects.
worker_soft_shutdown_timeout = 60.0

task_soft_time_limit = 50 * 60
task_time_limit = 60 * 60

task_serializer = "json"
accept_content = ["json"]
timezone = "UTC"
enable_utc = True

# Flower and operators see every task.
worker_send_task_events = True
task_send_sent_event = True

beat_schedule = {
    "reconcile-stale-jobs": {"task": RECONCILE_JOBS, "schedule": 300.0},
    # A lost ``dashboard.roll_up`` follow-up is otherwise made good only by the organization's next one.
    "reconcile-dashboard-rollups": {"task": DASHBOARD_RECONCILE, "schedule": 300.0},
    # On each minute boundary, so a "0 9 * * *" schedule starts within a second of 09:00.
    "dispatch-due-schedules": {"task": SCHEDULES_DISPATCH_DUE, "schedule": crontab()},
    "audit-log-retention": {"task": AUDIT_CLEANUP, "schedule": crontab(hour=3, minute=17)},
    "history-retention": {"task": PRUNE_HISTORY, "schedule": crontab(hour=3, minute=47)},
}
