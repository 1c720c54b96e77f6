"""The partner directory, deliveries of notifications with every attempt, calendar feeds, and the
reminder times of each deadline (for the calendar's alarms).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("mailboxes", sa.JSON, nullable=False),
        sa.Column("webhook_url", sa.String(500)),
        sa.Column("webhook_secret", sa.Text),
        sa.Column("digest", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    with op.batch_alter_table("notifications") as table:
        table.alter_column("deadline_id", existing_type=sa.String(20), nullable=True)
        table.alter_column("deadline_key", existing_type=sa.String(64), nullable=True)
        table.alter_column("due_at", existing_type=UTCDateTime(), nullable=True)
        table.add_column(sa.Column("stream", sa.String(10)))
        table.add_column(sa.Column("task_id", sa.String(60)))
        table.add_column(sa.Column("title", sa.String(200)))
        table.add_column(sa.Column("asked", sa.Text))
        table.add_column(sa.Column("number", sa.Integer))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(240), nullable=False, unique=True),
        sa.Column("notification_id", sa.Integer, sa.ForeignKey("notifications.id"), index=True),
        sa.Column("digest_id", sa.Integer, sa.ForeignKey("deliveries.id"), index=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False, index=True),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("started", sa.Boolean, nullable=False),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("agency", sa.String(64), index=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by", sa.String(100)),
    )
    op.add_column("deadlines", sa.Column("reminder_times", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as table:
        table.drop_column("reminder_times")
    op.drop_table("calendar_feeds")
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    with op.batch_alter_table("notifications") as table:
        for column in ("number", "asked", "title", "task_id", "stream"):
            table.drop_column(column)
    op.drop_table("agencies")
