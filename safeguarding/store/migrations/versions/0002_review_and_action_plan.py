"""Streams for the review and the action plan: per-stream event sequences, deadlines and tasks, and
the reviews, action_plans and actions tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import warnings

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_APPEND_ONLY_MESSAGE = "case_events is append-only"


def _sqlite_append_only_triggers() -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS case_events_no_{action.lower()}")
        op.execute(
            f"CREATE TRIGGER case_events_no_{action.lower()} BEFORE {action} ON case_events "
            f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Batch mode copies the table; the append-only triggers must not refuse the copy's clean-up.
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_delete")
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("stream", sa.String(10), nullable=False, server_default="case"))
        batch.drop_constraint("uq_case_events_case_seq", type_="unique")
        batch.create_unique_constraint("uq_case_events_stream_seq", ["case_reference", "stream", "seq"])
    if sqlite:
        _sqlite_append_only_triggers()

    with warnings.catch_warnings(), op.batch_alter_table("deadlines") as batch:
        # SQLite's batch copy warns that the new key differs from the reflected one: that is the point.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        batch.add_column(sa.Column("stream", sa.String(10), nullable=False, server_default="case"))
        if not sqlite:  # SQLite's key from 0001 has no name; batch mode rebuilds the table with the new one
            batch.drop_constraint("deadlines_pkey", type_="primary")
        batch.create_primary_key("deadlines_pkey", ["case_reference", "stream", "deadline_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("stream", sa.String(10), nullable=False, server_default="case"))

    op.create_table(
        "reviews",
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("workflow_id", sa.String(90), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False, index=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("earliest_publication_date", sa.Date),
        sa.Column("publication_date", sa.Date),
        sa.Column("outcome", sa.String(60)),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "action_plans",
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("workflow_id", sa.String(90), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "actions",
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("action_id", sa.String(20), primary_key=True),
        sa.Column("agency", sa.String(64), nullable=False, index=True),
        sa.Column("lead_role", sa.String(100), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("status", sa.String(40), nullable=False, index=True),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("escalations_sent", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("actions", "action_plans", "reviews"):
        op.drop_table(table)
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("stream")
    with op.batch_alter_table("deadlines") as batch:
        if not sqlite:
            batch.drop_constraint("deadlines_pkey", type_="primary")
        batch.drop_column("stream")
        batch.create_primary_key("deadlines_pkey", ["case_reference", "deadline_id"])
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_delete")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_constraint("uq_case_events_stream_seq", type_="unique")
        batch.drop_column("stream")
        batch.create_unique_constraint("uq_case_events_case_seq", ["case_reference", "seq"])
    if sqlite:
        _sqlite_append_only_triggers()
