"""All tables, imported here so Alembic and the app see one metadata."""

from common.db import Base
from common.models.audit import AuditLog
from common.models.identity import ROLE_RANK, ROLES, ApiKey, AuthSession, Membership, Organization, User
from common.models.scans import SCAN_STATUSES, Component, Scan, ScanRelationship, ScanResultPayload

__all__ = [
    "ROLES",
    "ROLE_RANK",
    "SCAN_STATUSES",
    "ApiKey",
    "AuditLog",
    "AuthSession",
    "Base",
    "Component",
    "Membership",
    "Organization",
    "Scan",
    "ScanRelationship",
    "ScanResultPayload",
    "User",
]
