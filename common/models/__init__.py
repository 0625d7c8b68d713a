"""All tables: every module of this package is imported so Alembic and the app see one metadata."""

import importlib
import pkgutil

from common.db import Base
from common.models.audit import AuditLog
from common.models.identity import ROLE_RANK, ROLES, ApiKey, AuthSession, Membership, Organization, User
from common.models.scans import SCAN_STATUSES, Component, Scan, ScanRelationship, ScanResultPayload

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

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
