"""Scan targets are confined to the configured roots: no ``..``, no symlink escapes."""

from __future__ import annotations

import os
from pathlib import Path, PurePath


class TargetError(ValueError):
    """The target is not allowed or does not exist; the message is safe to show."""


def resolve_target(raw: str, roots: list[str]) -> str:
    if not raw or "\x00" in raw:
        raise TargetError("The target path is empty or contains a NUL byte.")
    if ".." in PurePath(raw).parts:
        raise TargetError("The target path may not contain '..'.")
    if not roots:
        raise TargetError("No scan roots are configured (SCAN_ROOTS).")
    candidate = Path(raw) if os.path.isabs(raw) else Path(roots[0]) / raw
    real = Path(os.path.realpath(candidate))
    if not any(_within(real, Path(os.path.realpath(root))) for root in roots):
        raise TargetError("The target is outside the allowed scan roots.")
    if not real.exists():
        raise TargetError("The target does not exist.")
    if not (real.is_dir() or real.is_file()):
        raise TargetError("The target is neither a directory nor a regular file.")
    return str(real)


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
