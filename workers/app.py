"""The Celery application, configured from ``celeryconfig``, loading every task module in ``workers/``."""

import gc
import pkgutil
from pathlib import Path

from celery import Celery
from celery.signals import worker_init

NOT_TASK_MODULES = {"app", "base", "beat"}
TASK_MODULES = sorted(
    f"workers.{module.name}"
    for module in pkgutil.iter_modules([str(Path(__file__).parent)])
    if module.name not in NOT_TASK_MODULES
)

app = Celery("trusera")
app.config_from_object("celeryconfig")
app.conf.include = TASK_MODULES


@worker_init.connect
def keep_imports_shared(**_kwargs) -> None:
    """Prefork children share the parent's imported modules copy-on-write, but a garbage collection in a
    child walks (and so copies) every page holding those objects; frozen before the fork, they stay shared."""
    gc.freeze()
