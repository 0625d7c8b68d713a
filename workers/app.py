"""The Celery application, configured from ``celeryconfig``, loading every task module in ``workers/``."""

import pkgutil
from pathlib import Path

from celery import Celery

NOT_TASK_MODULES = {"app", "base"}
TASK_MODULES = sorted(
    f"workers.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent)])
    if module.name not in NOT_TASK_MODULES
)

app = Celery("trusera")
app.config_from_object("celeryconfig")
app.conf.include = TASK_MODULES
