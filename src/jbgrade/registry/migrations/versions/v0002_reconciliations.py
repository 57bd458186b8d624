"""Reconciliation records stored on a case (``jbgrade dispute --store``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("stored_by", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_reconciliations_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_reconciliations_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["stored_by"], ["users.id"], name=op.f("fk_reconciliations_stored_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
    )
    op.create_index(
        op.f("ix_reconciliations_case_id"), "reconciliations", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reconciliations_case_id"), table_name="reconciliations")
    op.drop_table("reconciliations")
