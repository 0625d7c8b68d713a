"""Audit rows for every state-changing request, written after the response is decided.

Views name the action and target with ``audit(...)``; otherwise the endpoint
name and path arguments are recorded, so no state-changing route is ever missed.
A view that commits its change can instead write the row in that very transaction with
``audit_in(...)`` (or, when it writes with one Core statement, ``audit_values(...)``): one commit instead
of a second transaction after the response.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import inspect, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from common.db import session_scope
from common.models import AuditLog
from common.models.base import new_id, utcnow

log = logging.getLogger(__name__)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
NOT_AUDITED_PREFIXES = ("internal.", "api-docs.")
STAGED_KEY = "trusera_staged_audit"  # in ``Session.info``: the entry whose row waits for the commit


def audit(action: str, target_type: str | None = None, target_id: str | None = None, **details) -> None:
    g.audit = {"action": action, "target_type": target_type, "target_id": target_id, "details": details}


def audit_in(
    session: Session,
    status_code: int,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    **details,
) -> None:
    """``audit(...)`` with its row added to ``session`` now, as the answer ``status_code`` the view will give.

    The entry is still written exactly once: if the transaction rolls back, the row is written after the
    response as for ``audit``; if the answer turns out different, the committed row's status is corrected.
    """
    entry = _stage(session, status_code, action, target_type, target_id, details)
    entry["row"] = AuditLog(**_values(entry, status_code))
    session.add(entry["row"])


def audit_values(
    session: Session,
    status_code: int,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    **details,
) -> dict:
    """``audit_in`` for a view that writes its change with one Core statement: the audit row's column
    values, for the caller to insert in that statement before ``session`` commits.

    The same guarantees hold: once the session commits, the row counts as written (its status is
    corrected if the answer differs); a rollback leaves the entry to the after-request recorder.
    """
    entry = _stage(session, status_code, action, target_type, target_id, details)
    return _values(entry, status_code)


def _stage(session: Session, status_code: int, action, target_type, target_id, details: dict) -> dict:
    audit(action, target_type, target_id, **details)
    entry = g.audit
    entry["row_id"], entry["status_code"] = new_id(), status_code
    session.info[STAGED_KEY] = entry
    return entry


def discard_audit() -> None:
    """The entry the view named describes a change that was rolled back: record the endpoint instead."""
    g.pop("audit", None)


def audit_organization(organization_id: str | None) -> None:
    """For requests without an organization context (login, register)."""
    g.audit_org = organization_id


def _values(entry: dict, status_code: int) -> dict:
    """The audit row's columns; ``id`` is the staged entry's when it has one."""
    context = g.get("context")
    principal = g.get("principal")
    return dict(
        id=entry.get("row_id") or new_id(),
        created_at=utcnow(),
        organization_id=context.organization_id if context else g.get("audit_org"),
        actor_user_id=principal.user_id if principal else g.get("audit_actor"),
        actor_api_key_id=principal.api_key_id if principal else None,
        action=entry["action"],
        target_type=entry["target_type"],
        target_id=entry["target_id"],
        status_code=status_code,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:500],
        details={**entry["details"], "method": request.method, "path": request.path},
    )


@sqlalchemy_event.listens_for(Session, "after_commit")
def _staged_row_committed(session: Session) -> None:
    entry = session.info.pop(STAGED_KEY, None)
    if entry is None:
        return
    row = entry.get("row")  # an ORM row (``audit_in``) is written only if it was flushed
    if row is None or inspect(row).has_identity:
        entry["committed"] = True


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _staged_row_discarded(session: Session) -> None:
    session.info.pop(STAGED_KEY, None)


def _record(response: Response) -> Response:
    endpoint = request.endpoint or ""
    if request.method not in STATE_CHANGING or not endpoint or endpoint.startswith(NOT_AUDITED_PREFIXES):
        return response
    entry = g.get("audit") or {
        "action": endpoint.replace(".", ":"),
        "target_type": None,
        "target_id": next(iter((request.view_args or {}).values()), None),
        "details": {},
    }
    committed = entry.get("committed", False)
    if committed and entry["status_code"] == response.status_code:
        return response
    try:
        with session_scope() as session:
            if not committed:
                session.add(AuditLog(**_values({**entry, "row_id": None}, response.status_code)))
            else:
                session.execute(
                    update(AuditLog)
                    .where(AuditLog.id == entry["row_id"])
                    .values(status_code=response.status_code)
                )
    except SQLAlchemyError as exc:
        log.error("audit entry for %s not written: %s", endpoint, exc)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_record)
