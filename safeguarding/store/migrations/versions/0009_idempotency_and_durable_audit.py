"""Every decision exactly once: requests sent with an ``Idempotency-Key`` are kept with their answer;
an accepted step's audit entry is written by its workflow under a key of its own (so a retried write
finds it there), and says when the step truly happened beside when it was recorded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the audit log is append-only and its rows stay as written.
    op.add_column("audit_log", sa.Column("occurred_at", UTCDateTime(), nullable=True))
    op.add_column("audit_log", sa.Column("entry_key", sa.String(240), nullable=True))
    op.create_index("ux_audit_log_entry_key", "audit_log", ["entry_key"], unique=True)
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("request", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("headers", sa.JSON, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ux_audit_log_entry_key", table_name="audit_log")
    op.drop_column("audit_log", "entry_key")
    op.drop_column("audit_log", "occurred_at")
