"""Scan targets are confined to the configured roots: no ``..``, no symlink escapes.

The roots are the operator's ``SCAN_ROOTS``; with ``SCAN_ROOTS_PER_ORGANIZATION`` each organization
gets only ``<root>/<organization id>`` under each of them (a shared host: no organization can name
another's checkout). An organization's admin may narrow that further (``Organization.scan_roots``),
never widen it: a stored root that no longer lies within what the operator allows is dropped.
"""

from __future__ import annotations

import os
import stat
from pathlib import PurePath

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
    # Strings and one ``stat`` rather than ``Path`` objects: this runs on every ``POST /scans``.
    real = os.path.realpath(raw if os.path.isabs(raw) else os.path.join(roots[0], raw))
    if not any(_real_within(real, os.path.realpath(root)) for root in roots):
        raise TargetError("The target is outside the allowed scan roots.")
    try:
        mode = os.stat(real).st_mode
    except OSError:
        raise TargetError("The target does not exist.") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise TargetError("The target is neither a directory nor a regular file.")
    return real


def _real_within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it; both are real paths (absolute, normalised, no trailing slash
    but the file system's root's)."""
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def _within_any(path: str, roots: list[str]) -> bool:
    real = os.path.realpath(path)
    return any(_real_within(real, os.path.realpath(root)) for root in roots)


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
