"""The Celery application, configured from ``celeryconfig``, loading every task module in ``workers/``."""

import gc
import os
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


def included_modules(selected: str | None) -> list[str]:
    """``WORKER_TASK_MODULES`` lets a worker that consumes only some queues (``make run``'s thread-pool
    worker) skip the task families it never runs and the libraries they import; unset, every module."""
    if not selected:
        return TASK_MODULES
    modules = [name.strip() for name in selected.split(",") if name.strip()]
    unknown = sorted(set(modules) - set(TASK_MODULES))
    if unknown:
        raise ValueError(f"WORKER_TASK_MODULES names no task module: {', '.join(unknown)}")
    return modules


app = Celery("trusera")
app.config_from_object("celeryconfig")
app.conf.include = included_modules(os.environ.get("WORKER_TASK_MODULES"))


@worker_init.connect
def keep_imports_shared(**_kwargs) -> None:
    """Prefork children share the parent's imported modules copy-on-write, but a garbage collection in a
    child walks (and so copies) every page holding those objects; frozen before the fork, they stay shared."""
    gc.freeze()
