"""Masks of saved secrets that showed most of a short secret are made again

``n8n_credentials.api_key_masked`` and the ``secret_masked`` of HTTPS-token repository credentials showed
a secret's first and last four characters whatever its length: 8 of a 12-character password, to every
analyst. Each is masked again from its decrypted secret with the current rule (the ends only when 16
characters stay hidden); a secret this server cannot decrypt is masked whole.

Revision ID: 0022_sec_review12
Revises: 0021_sec_bounds11
Create Date: 2026-12-07 04:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from common.security import MASK, decrypt_secret, mask_secret

revision = "0022_sec_review12"
down_revision = "0021_sec_bounds11"
branch_labels = None
depends_on = None


def _mask_again(table: str, encrypted_column: str, masked_column: str, where: str = "") -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {encrypted_column} FROM {table} {where}")).all()
    for row_id, encrypted in rows:
        try:
            masked = mask_secret(decrypt_secret(encrypted))
        except ValueError:
            masked = MASK
        connection.execute(
            sa.text(f"UPDATE {table} SET {masked_column} = :masked WHERE id = :id"),
            {"masked": masked, "id": row_id},
        )


def upgrade() -> None:
    _mask_again("n8n_credentials", "api_key_encrypted", "api_key_masked")
    _mask_again("repository_credentials", "secret_encrypted", "secret_masked", "WHERE kind = 'https_token'")


def downgrade() -> None:
    """The earlier masks showed more of the secret than anyone should see again: nothing to restore."""
