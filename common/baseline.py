"""Baselines: judge only what is new or changed since an accepted earlier scan of the same target.

Both sides use :func:`new_since`, built on the compare library:
- the CLI reads a baseline file (``trusera scan --baseline previous.json``) and reports and gates only
  on the components it returns;
- the platform marks every component of a scan with ``new_since_baseline`` against the previous
  completed scan of the same source that is trusted for it (:func:`previous_completed_scan`, also what
  the ``new_component`` alert trigger compares with), so a policy condition
  ``{"field": "new_since_baseline", ...}`` can gate on it. The first scan of a target is the baseline
  itself: nothing in it is new.

A component whose only difference is where it is (``locations``) is not new: moving code or adding
lines above it must not re-open every finding below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from common.bom.compare import COMPARED_FIELDS, compare
from common.bom.upload import UPLOAD_TARGET_PREFIX
from common.jobs import JobStatus
from common.models import Component, Scan

BASELINE_FIELD = "new_since_baseline"
DEFAULT_REF = "HEAD"  # what a repository scan fetches when no ref is named: the remote's default branch
BASELINE_COMPARED_FIELDS = tuple(field for field in COMPARED_FIELDS if field != "locations")


class BaselineError(ValueError):
    """A baseline file that cannot be read or holds no component list."""


def new_since(baseline: list[dict], components: list[dict]) -> tuple[set[str], dict]:
    """Ids of the components added or changed against ``baseline``, and the comparison summary."""
    difference = compare(baseline, components, fields=BASELINE_COMPARED_FIELDS)
    new_ids = {c["id"] for c in difference["added"]} | {c["id"] for c in difference["changed"]}
    return new_ids, difference["summary"]


def mark_new_since_baseline(components: list[dict], baseline: list[dict] | None) -> None:
    """Set ``new_since_baseline`` on each component dict; with no baseline (a first scan) nothing is new."""
    new_ids = new_since(baseline, components)[0] if baseline is not None else set()
    for component in components:
        component[BASELINE_FIELD] = component.get("id") in new_ids


def load_baseline_file(path: str | Path) -> list[dict]:
    """The components of a baseline file: a ``trusera scan --format json`` report or a JSON export."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path}: cannot be read as JSON ({exc})") from exc
    components = data.get("components") if isinstance(data, dict) else None
    if not isinstance(components, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("name"), str)
        for c in components
    ):
        raise BaselineError(
            f"baseline {path}: expected a JSON object with a 'components' list "
            "(write one with trusera scan --write-baseline FILE)"
        )
    return components


def references_baseline(conditions: Iterable[object]) -> bool:
    """Does any condition (or policy rule, or list of them) test ``new_since_baseline``?"""
    pending = list(conditions)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("field") == BASELINE_FIELD:
                return True
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


def scan_source(scan: Scan) -> str:
    """What a scan looked at, the same for every scan of the same code: its repository (cloned at any ref,
    or uploaded from any branch), else its path, else its n8n instance."""
    return scan.repository_url or scan.target or scan.n8n_url or ""


def same_source(scan: Scan) -> ColumnElement[bool]:
    """The scans of what ``scan`` looked at: its repository, else its path together with the n8n instance
    read with it (if any), else its instance. Judged by :func:`scan_source` alone, every upload of a format
    (``target`` ``upload:json``) and every repository scan (no ``target``) were one source (a repository
    was judged against another repository's scan, and an upload of a decoy holding a new provider made it
    "not new" in the guarded repository's next scan), and a path scanned with an instance was the path's
    baseline (a provider of the instance's workflows was "not new" when it first appeared in the code)."""
    if scan.repository_url:
        return Scan.repository_url == scan.repository_url
    if scan.target:
        instance = Scan.n8n_url.is_(None) if scan.n8n_url is None else Scan.n8n_url == scan.n8n_url
        return and_(Scan.target == scan.target, Scan.repository_url.is_(None), instance)
    return and_(Scan.n8n_url == scan.n8n_url, Scan.target.is_(None), Scan.repository_url.is_(None))


def is_uploaded(scan: Scan) -> bool:
    """A result someone sent (``POST /scans/import``), not a scan the platform ran."""
    return (scan.target or "").startswith(UPLOAD_TARGET_PREFIX)


def read_with_senders_key(scan: Scan) -> bool:
    """An n8n instance read with a key the requester sent (``n8n_url`` with ``n8n_api_key``), not with a
    credential the organization saved: what it found is what that key sees."""
    return scan.n8n_url is not None and not scan.n8n_from_credential


def trusted_for(scan: Scan) -> ColumnElement[bool]:
    """The scans ``scan`` may be judged against. An upload's repository is its sender's word, so an upload
    speaks only for later uploads of the same sender (the same API key, else the same user from a
    session); a scan the platform ran (it walked the path, cloned the repository, read the instance) speaks
    for everyone. Without this any analyst, or another repository's CI key, uploaded a decoy naming a
    guarded repository, and a provider in the decoy was no longer new there.

    A repository's clone speaks for everyone only at the repository's default branch (``HEAD``), which its
    owners choose; at a ref the member named (a branch, a pull request's ``refs/pull/7/head``, a commit of
    a fork) it speaks for later clones of that same ref alone. Otherwise an analyst scanned a ref holding
    the decoy (anyone may open a pull request) and the provider was no longer new on the default branch.

    An n8n instance read with a key the requester sent is their word too (:func:`read_with_senders_key`):
    an analyst's own n8n account sees their own workflows, so a scan with its key of the organization's
    instance URL held a workflow of theirs with the new provider, and the next scan with the organization's
    saved credential found it not new. Such a scan speaks, as an upload does, for its sender alone; one
    made with a credential an editor saved (the API, a schedule) for everyone."""
    platform_run = or_(Scan.target.is_(None), Scan.target.not_like(f"{UPLOAD_TARGET_PREFIX}%"))
    instance_as_configured = or_(Scan.n8n_url.is_(None), Scan.n8n_from_credential.is_(True))
    for_everyone = and_(
        platform_run,
        instance_as_configured,
        or_(Scan.repository_ref.is_(None), Scan.repository_ref == DEFAULT_REF),
    )
    if not is_uploaded(scan) and not read_with_senders_key(scan):
        if scan.repository_url and scan.repository_ref not in (None, DEFAULT_REF):
            return or_(for_everyone, and_(platform_run, Scan.repository_ref == scan.repository_ref))
        return for_everyone
    if scan.api_key_id is not None:
        same_sender = Scan.api_key_id == scan.api_key_id
    elif scan.created_by is not None:
        same_sender = and_(Scan.created_by == scan.created_by, Scan.api_key_id.is_(None))
    else:
        same_sender = false()
    return or_(for_everyone, same_sender)


def previous_completed_scan(session: Session, scan: Scan) -> Scan | None:
    """The latest completed scan of the same source (:func:`same_source`) in the same organization, created
    before ``scan`` and trusted for it (:func:`trusted_for`)."""
    return session.scalar(
        select(Scan)
        .where(
            Scan.organization_id == scan.organization_id,
            same_source(scan),
            Scan.status == JobStatus.COMPLETED,
            trusted_for(scan),
            Scan.id != scan.id,
            Scan.created_at < scan.created_at,
        )
        .order_by(Scan.created_at.desc())
        .limit(1)
    )


def mark_against_previous_scan(session: Session, scan: Scan, components: list[dict]) -> None:
    """Mark ``new_since_baseline`` on ``scan``'s components against the previous scan of its target."""
    previous = previous_completed_scan(session, scan)
    baseline = None
    if previous is not None:
        rows = session.scalars(select(Component).where(Component.scan_id == previous.id))
        baseline = [row.to_dict() for row in rows]
    mark_new_since_baseline(components, baseline)
