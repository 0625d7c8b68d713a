"""How many finished exports an organization keeps (``EXPORTS_KEPT_PER_ORG``).

Each export is a file kept in the database and any viewer may ask for one: without a count bound the
stored files of one organization grew with every request until ``HISTORY_RETENTION_DAYS`` removed them.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.jobs import TERMINAL_STATUSES
from common.models.exports import Export


def delete_finished_beyond_newest(session: Session, organization_id: str, kept: int) -> None:
    """Delete the organization's finished exports older than its newest ``kept`` (queued and running
    ones are never deleted: a worker is rendering them, and the in-flight limit bounds them)."""
    finished = (Export.organization_id == organization_id, Export.status.in_(TERMINAL_STATUSES))
    newest = (
        select(Export.id).where(*finished).order_by(Export.created_at.desc(), Export.id.desc()).limit(kept)
    )
    session.execute(
        delete(Export).where(*finished, Export.id.not_in(newest)).execution_options(synchronize_session=False)
    )
