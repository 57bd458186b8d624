"""The ``superadmin`` role: the instance super-administrator (organisations, and
users and tokens in every organisation); ``admin`` is bound to its organisation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

Only the users.role CHECK constraint changes (it admits one more value). On
PostgreSQL the constraint is replaced. SQLite cannot alter a constraint; since
the change only loosens a CHECK and leaves every stored row valid, the table
definition is edited in place (the procedure SQLite documents for removing or
loosening constraints: ``writable_schema``, then a schema-version bump), which
avoids recreating ``users`` under the foreign keys that point at it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD = "role IN ('reporter','assessor','regulator','admin')"
_NEW = "role IN ('reporter','assessor','regulator','admin','superadmin')"


def _sqlite_swap(old: str, new: str) -> None:
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError("users table definition is not the one migration 0003 expects")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'",
        (sql.replace(old, new),),
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_swap(_OLD, _NEW)
        return
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", _NEW)


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'admin' WHERE role = 'superadmin'")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_swap(_NEW, _OLD)
        return
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", _OLD)
