"""The process gunicorn serves from (``web.wsgi``), as ``make run`` and the image start it."""

from __future__ import annotations

import os
import subprocess
import sys

LOADED = """
import gc

import web.wsgi

frozen = gc.get_freeze_count()
gc.collect()
print(frozen, len(gc.get_objects()))
"""


def test_the_loaded_app_is_out_of_the_collectors_reach():
    """A full collection walks every tracked object: the app's own (modules, routes, schemas, metadata)
    are frozen once loaded, so under load such a pass walks only what requests allocated."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, tracked = (int(value) for value in result.stdout.split()[-2:])
    assert frozen > 10 * tracked, (frozen, tracked)
