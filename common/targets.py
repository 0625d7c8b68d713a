"""Scan targets are confined to the configured roots: no ``..``, no symlink escapes.

The roots are the operator's ``SCAN_ROOTS``; with ``SCAN_ROOTS_PER_ORGANIZATION`` each organization
gets only ``<root>/<organization id>`` under each of them (a shared host: no organization can name
another's checkout). An organization's admin may narrow that further (``Organization.scan_roots``),
never widen it: a stored root that no longer lies within what the operator allows is dropped.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from common.config import get_settings

MAX_ORGANIZATION_ROOTS = 50


class TargetError(ValueError):
    """The target is not allowed or does not exist; the message is safe to show."""


def resolve_target(raw: str, roots: list[str]) -> str:
    if not raw or "\x00" in raw:
        raise TargetError("The target path is empty or contains a NUL byte.")
    if ".." in PurePath(raw).parts:
        raise TargetError("The target path may not contain '..'.")
    if not roots:
        raise TargetError("No scan roots are configured for this organization (SCAN_ROOTS).")
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


def _within_any(path: str, roots: list[str]) -> bool:
    real = Path(os.path.realpath(path))
    return any(_within(real, Path(os.path.realpath(root))) for root in roots)


def operator_roots(organization_id: str) -> list[str]:
    """What the operator lets this organization scan: the global roots, or its own directory in each."""
    settings = get_settings()
    if settings.scan_roots_per_organization:
        return [os.path.join(root, organization_id) for root in settings.scan_roots]
    return list(settings.scan_roots)


def organization_roots(organization_id: str, narrowed: list[str] | None) -> list[str]:
    """The roots this organization's scans and schedules are confined to."""
    base = operator_roots(organization_id)
    if narrowed is None:
        return base
    return [root for root in narrowed if _within_any(root, base)]


def validate_organization_roots(organization_id: str, raw: list[str]) -> list[str]:
    """Existing absolute directories within what the operator allows, as real paths."""
    base = operator_roots(organization_id)
    roots: list[str] = []
    for value in raw:
        if not os.path.isabs(value) or "\x00" in value or ".." in PurePath(value).parts:
            raise TargetError(f"'{value}' is not an absolute path without '..'.")
        if not _within_any(value, base):
            raise TargetError(f"'{value}' is outside the scan roots this organization may use.")
        real = os.path.realpath(value)
        if not os.path.isdir(real):
            raise TargetError(f"'{value}' is not an existing directory.")
        if real not in roots:
            roots.append(real)
    return roots
