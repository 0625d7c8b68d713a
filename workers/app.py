"""The Celery application, configured from ``celeryconfig`` and loading every task module."""

from celery import Celery

TASK_MODULES = ["workers.scans", "workers.ingest", "workers.maintenance"]

app = Celery("trusera")
app.config_from_object("celeryconfig")
app.conf.include = TASK_MODULES
