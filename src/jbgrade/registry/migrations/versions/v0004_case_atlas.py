"""Attack kind and MITRE ATLAS technique ids on a case.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

``cases.attack_kind`` (nullable: cases reported before it have none) and
``cases.atlas_techniques`` (canonical JSON list, ``[]`` for existing rows). Adding
columns is plain ``ALTER TABLE ... ADD COLUMN`` on both SQLite and PostgreSQL;
dropping them on SQLite goes through Alembic's batch mode (table copy).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("attack_kind", sa.String(length=60), nullable=True))
    op.add_column(
        "cases",
        sa.Column("atlas_techniques", sa.Text(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("atlas_techniques")
        batch.drop_column("attack_kind")
