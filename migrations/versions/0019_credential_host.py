"""repository_credentials.host: the only host a saved credential is sent to

Before this revision a saved repository credential went to whatever repository URL a scan, a schedule or a
test named, so a member who may use it without reading it (an analyst) could name a server of their own
and read the token from git's request. From now on each credential names its host, and nothing sends it
anywhere else.

A credential that every scan and schedule used with one single host is bound to that host. One used with
several hosts (which may include someone's own server) or never used is left without a host: it is sent
nowhere until an editor saves it again with its host and secret.

Revision ID: 0019_credential_host
Revises: 0018_dash_reconcile
Create Date: 2026-12-06 18:40:00.000000
"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision = "0019_credential_host"
down_revision = "0018_dash_reconcile"
branch_labels = None
depends_on = None

DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22}
CREDENTIAL_DEFAULT_PORTS = {"https_token": 443, "ssh_key": 22}


def _host_of(url: str, kind: str) -> str | None:
    """``common.repositories.credential_host`` of the stored (normal) repository URL."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except (ValueError, KeyError):
        return None
    if not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return host if port == CREDENTIAL_DEFAULT_PORTS.get(kind) else f"{host}:{port}"


def upgrade() -> None:
    op.add_column("repository_credentials", sa.Column("host", sa.String(300), nullable=True))
    connection = op.get_bind()
    uses = connection.execute(
        sa.text(
            "SELECT c.id, c.kind, u.repository_url FROM repository_credentials c JOIN ("
            " SELECT repository_credential_id, repository_url FROM scans"
            " WHERE repository_credential_id IS NOT NULL AND repository_url IS NOT NULL"
            " UNION SELECT repository_credential_id, repository_url FROM schedules"
            " WHERE repository_credential_id IS NOT NULL AND repository_url IS NOT NULL"
            ") u ON u.repository_credential_id = c.id"
        )
    ).all()
    hosts: dict[str, set[str | None]] = {}
    for credential_id, kind, url in uses:
        hosts.setdefault(credential_id, set()).add(_host_of(url, kind))
    for credential_id, used in hosts.items():
        if len(used) == 1 and None not in used:
            connection.execute(
                sa.text("UPDATE repository_credentials SET host = :host WHERE id = :id"),
                {"host": used.pop(), "id": credential_id},
            )


def downgrade() -> None:
    op.drop_column("repository_credentials", "host")
