"""Initial registry schema: organisations, users, tokens, cases, grants, lifecycle,
assessments, evidence, decisions and the hash-chained audit log.

On PostgreSQL the audit log also gets triggers that reject UPDATE, DELETE and
TRUNCATE for every role (defence in depth; ``jbgrade db create-app-role`` also
revokes those privileges from the application role).

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)

_PG_AUDIT_GUARD = (
    """
    CREATE FUNCTION jbgrade_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'jbgrade audit log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION jbgrade_audit_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION jbgrade_audit_append_only()
    """,
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION jbgrade_audit_append_only()
    """,
)


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTC_DT, nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column("actor_org_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("state_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("entry_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_case", "audit_log", ["case_id", "seq"], unique=False)
    op.create_index(
        "ix_audit_log_object", "audit_log", ["object_type", "object_id", "seq"], unique=False
    )
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.CheckConstraint(
            "role IN ('reporter','assessor','regulator','admin')", name=op.f("ck_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_users_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_org_id"), "users", ["org_id"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("expires_at", UTC_DT, nullable=True),
        sa.Column("revoked_at", UTC_DT, nullable=True),
        sa.CheckConstraint("kind IN ('api','session')", name=op.f("ck_api_tokens_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("affected_models", sa.Text(), nullable=False),
        sa.Column("affected_vendors", sa.Text(), nullable=False),
        sa.Column("affected_deployments", sa.Text(), nullable=False),
        sa.Column("attack_description", sa.Text(), nullable=False),
        sa.Column("payload_ct", sa.Text(), nullable=True),
        sa.Column("transcripts_ct", sa.Text(), nullable=True),
        sa.Column("embargo_until", UTC_DT, nullable=True),
        sa.Column("reporting_org_id", sa.String(length=40), nullable=False),
        sa.Column("owning_org_id", sa.String(length=40), nullable=False),
        sa.Column("reported_by", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("updated_at", UTC_DT, nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("rank_score", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=True),
        sa.Column("domain", sa.String(length=1), nullable=True),
        sa.CheckConstraint(
            "state IN ('reported','triaged','assessed','decided','mitigating','retested','closed')",
            name=op.f("ck_cases_state"),
        ),
        sa.ForeignKeyConstraint(
            ["owning_org_id"],
            ["organizations.id"],
            name=op.f("fk_cases_owning_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["users.id"], name=op.f("fk_cases_reported_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["reporting_org_id"],
            ["organizations.id"],
            name=op.f("fk_cases_reporting_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_created", "cases", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_cases_domain_updated", "cases", ["domain", "updated_at", "id"], unique=False
    )
    op.create_index(
        "ix_cases_owning_updated", "cases", ["owning_org_id", "updated_at", "id"], unique=False
    )
    op.create_index("ix_cases_rank", "cases", ["rank_score", "id"], unique=False)
    op.create_index(
        "ix_cases_reporting_updated",
        "cases",
        ["reporting_org_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_cases_severity_updated", "cases", ["severity", "updated_at", "id"], unique=False
    )
    op.create_index("ix_cases_state_updated", "cases", ["state", "updated_at", "id"], unique=False)
    op.create_index("ix_cases_updated", "cases", ["updated_at", "id"], unique=False)
    op.create_table(
        "assessments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("assessor_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.String(length=40), nullable=True),
        sa.Column("vector", sa.String(length=120), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("systemic", sa.Boolean(), nullable=False),
        sa.Column("domain", sa.String(length=1), nullable=False),
        sa.Column("rationales", sa.Text(), nullable=False),
        sa.Column("evidence_refs", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["users.id"], name=op.f("fk_assessments_assessor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_assessments_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_assessments_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["assessments.id"],
            name=op.f("fk_assessments_supersedes_id_assessments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint(
            "case_id", "org_id", "version", name=op.f("uq_assessments_case_id_org_id_version")
        ),
    )
    op.create_index(op.f("ix_assessments_case_id"), "assessments", ["case_id"], unique=False)
    op.create_table(
        "case_grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Boolean(), nullable=False),
        sa.Column("granted_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("revoked_at", UTC_DT, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_grants_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_case_grants_granted_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_case_grants_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_grants")),
        sa.UniqueConstraint("case_id", "org_id", name=op.f("uq_case_grants_case_id_org_id")),
    )
    op.create_index(op.f("ix_case_grants_org_id"), "case_grants", ["org_id"], unique=False)
    op.create_table(
        "case_transitions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_case_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_transitions_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transitions")),
    )
    op.create_index(
        op.f("ix_case_transitions_case_id"), "case_transitions", ["case_id"], unique=False
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("attached_by", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("format_version", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("transcripts_ct", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["attached_by"], ["users.id"], name=op.f("fk_evidence_attached_by_users")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_evidence_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_case_id"), "evidence", ["case_id"], unique=False)
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("assessment_id", sa.String(length=40), nullable=True),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=100), nullable=False),
        sa.Column("profile_version", sa.String(length=40), nullable=False),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_decisions_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_decisions_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_decisions_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_decisions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"], unique=False)

    op.execute(
        sa.text("INSERT INTO audit_head (id, seq, entry_sha256) VALUES (1, 0, :h)").bindparams(
            h="0" * 64
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        for stmt in _PG_AUDIT_GUARD:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_head_no_delete ON audit_head")
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION jbgrade_audit_append_only()")
    for table in (
        "decisions",
        "evidence",
        "case_transitions",
        "case_grants",
        "assessments",
        "cases",
        "api_tokens",
        "users",
        "organizations",
        "audit_log",
        "audit_head",
    ):
        op.drop_table(table)
