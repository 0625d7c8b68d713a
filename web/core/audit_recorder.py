"""Audit rows for every state-changing request, written after the response is decided.

Views name the action and target with ``audit(...)``; otherwise the endpoint
name and path arguments are recorded, so no state-changing route is ever missed.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from common.db import session_scope
from common.models import AuditLog

log = logging.getLogger(__name__)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
NOT_AUDITED_PREFIXES = ("internal.", "api-docs.")


def audit(action: str, target_type: str | None = None, target_id: str | None = None, **details) -> None:
    g.audit = {"action": action, "target_type": target_type, "target_id": target_id, "details": details}


def audit_organization(organization_id: str | None) -> None:
    """For requests without an organization context (login, register)."""
    g.audit_org = organization_id


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
    context = g.get("context")
    principal = g.get("principal")
    row = AuditLog(
        organization_id=context.organization_id if context else g.get("audit_org"),
        actor_user_id=principal.user_id if principal else g.get("audit_actor"),
        actor_api_key_id=principal.api_key_id if principal else None,
        action=entry["action"],
        target_type=entry["target_type"],
        target_id=entry["target_id"],
        status_code=response.status_code,
        ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:500],
        details={**entry["details"], "method": request.method, "path": request.path},
    )
    try:
        with session_scope() as session:
            session.add(row)
    except SQLAlchemyError as exc:
        log.error("audit entry for %s not written: %s", endpoint, exc)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_record)
