"""The detection engine: ``scan_path`` finds every AI component under a directory.

Plain library (no Flask/Celery): used by the ``scans`` worker, the CLI and the tests.
"""

from common.scanner.engine import fingerprint, scan_path, summarize

__all__ = ["fingerprint", "scan_path", "summarize"]
