"""The audit log's seal: each entry's hash signed with the audit key, kept outside the database, so that
a chain recomputed by someone who can write to the database is detected. The entries already written are
sealed here (the key must be there: ``SLL_AUDIT_KEY`` in production). And on PostgreSQL, TRUNCATE of the
audit log or the event log is refused, as UPDATE and DELETE already are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.audit import seal_of

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NO_TRUNCATE = {"audit_log": "audit_log_append_only", "case_events": "case_events_append_only"}


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.add_column("audit_log", sa.Column("seal", sa.String(64)))
    # The entries already written, sealed once, here: the append-only trigger stands aside for it.
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    rows = bind.execute(sa.text("SELECT id, hash FROM audit_log")).all()
    for row_id, digest in rows:
        bind.execute(
            sa.text("UPDATE audit_log SET seal = :seal WHERE id = :id"),
            {"seal": seal_of(digest), "id": row_id},
        )
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
        for table, function in _NO_TRUNCATE.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("seal")
