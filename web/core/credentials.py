"""What the n8n and repository credential endpoints share: a unique name, and no deletion in use."""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common.models.schedules import Schedule
from web.core.audit_recorder import audit
from web.core.database import db


def commit_named_credential() -> None:
    """Commit a saved credential; its name is unique per organization, so a clash is a 409."""
    try:
        db().commit()
    except IntegrityError:
        db().rollback()
        abort(409, message="A credential with this name already exists.", errors={"name": ["Taken."]})


def delete_unscheduled_credential(credential, schedule_column, action: str, resource_type: str) -> None:
    """Delete a credential no schedule names in ``schedule_column``; one that is in use is a 409."""
    users = db().scalars(select(Schedule.name).where(schedule_column == credential.id)).all()
    if users:
        abort(409, message=f"Schedules use this credential: {', '.join(sorted(users))}. Change them first.")
    credential_id = credential.id  # read before the commit expires the deleted row
    db().delete(credential)
    db().commit()
    audit(action, resource_type, credential_id)
