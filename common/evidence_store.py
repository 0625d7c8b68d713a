"""How many bytes of evidence files an organization keeps.

Each file is bounded (``EVIDENCE_MAX_BYTES``), but the files are kept in the database every organization
shares, and editors may attach one to any number of attestations: one editor at the request rate limit
stored 1 GB a minute. ``EVIDENCE_BYTES_PER_ORG`` bounds an organization's total.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.accounts import lock_organization
from common.models.compliance import ControlEvidence


def evidence_room_problem(session: Session, organization_id: str, adding: int, limit: int) -> str | None:
    """Why ``adding`` more bytes of evidence do not fit the organization's ``limit``, or None.

    The organization's row is locked until the transaction ends, so concurrent uploads are counted one
    after the other and cannot all fit together."""
    lock_organization(session, organization_id)
    held = session.scalar(
        select(func.coalesce(func.sum(ControlEvidence.size_bytes), 0)).where(
            ControlEvidence.organization_id == organization_id
        )
    )
    if held + adding <= limit:
        return None
    return (
        f"The organization's evidence files hold {held} bytes; this one ({adding} bytes) would pass the "
        f"limit of {limit} (EVIDENCE_BYTES_PER_ORG). Delete evidence no longer needed first."
    )
