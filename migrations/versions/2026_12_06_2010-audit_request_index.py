"""The audit trail by request (issue 17, item 4, branch i17-admin): the admin console shows
everything one request changed, `request_id = ?` newest first, one range of this index
instead of a walk of the whole trail.

The trail takes a write with every change, so on PostgreSQL the index is built CONCURRENTLY
outside a transaction, as in 0016: the statement_timeout lifted for the build, an INVALID
leftover of a failed build dropped first. SQLite: a plain CREATE INDEX.

Revision ID: 0018_audit_request_index
Revises: 0017_catalog_generation
Create Date: 2026-12-06 20:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_audit_request_index"
down_revision: str | None = "0017_catalog_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_audit_log_request"
COLUMNS = ["request_id", "occurred_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(INDEX, "audit_log", COLUMNS)
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            op.drop_index(INDEX, "audit_log", postgresql_concurrently=True, if_exists=True)
            op.create_index(INDEX, "audit_log", COLUMNS, postgresql_concurrently=True)
        finally:
            op.execute("RESET statement_timeout")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(INDEX, "audit_log")
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            op.drop_index(INDEX, "audit_log", postgresql_concurrently=True, if_exists=True)
        finally:
            op.execute("RESET statement_timeout")
