"""How many condition parts an organization's custom rules, policies and alert rules hold in all.

Every scan's evaluation runs all of its organization's enabled custom rules and policies over one view of
the scan, and its alert evaluation all its alert rules; the cost is about proportional to their parts:
each leaf looks at every distinct value of its field. One rule is bounded (256 parts) and one policy too
(``MAX_POLICY_PARTS``), but editors (admins for alert rules) may save any number of them, and the workers
are shared by every organization.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.accounts import lock_organization
from common.compliance.conditions import condition_parts
from common.models.alerts import AlertRule
from common.models.compliance import CustomRule, Policy

PARTS_PER_ORGANIZATION = 4096  # of each kind: ~12 s of an evaluation over 50,000 components

_STORED = {
    "custom rules": (CustomRule, CustomRule.condition),
    "policies": (Policy, Policy.rules),
    "alert rules": (AlertRule, AlertRule.params),  # every rule counts at least one (its params)
}


def parts_problem(
    session: Session, organization_id: str, what: str, saving: object, replacing: str | None
) -> str | None:
    """Why saving ``saving`` (a rule's condition, a policy's rules) in place of the row ``replacing`` (None:
    a new one) would pass the organization's parts for ``what``, or None. The organization's row is locked
    until the transaction ends, so concurrent saves are counted one after the other."""
    model, column = _STORED[what]
    lock_organization(session, organization_id)
    stored = session.execute(select(model.id, column).where(model.organization_id == organization_id)).all()
    held = sum(condition_parts(value) for row_id, value in stored if row_id != replacing)
    adding = condition_parts(saving)
    if held + adding <= PARTS_PER_ORGANIZATION:
        return None
    return (
        f"The organization's {what} hold {held} condition parts; this one ({adding}) would pass the limit "
        f"of {PARTS_PER_ORGANIZATION}, which bounds what each scan's evaluation costs. Delete or simplify "
        f"some first."
    )
