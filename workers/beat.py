"""Beat without the task modules: it only sends periodic tasks by name, so the configuration is all it
needs (``celery -A workers.beat beat``); importing every task family would cost it ~40 MB for nothing."""

from common.celery_client import celery_client

app = celery_client()
