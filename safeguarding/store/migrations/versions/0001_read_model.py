"""Read model (cases, deadlines, tasks), the append-only case event log and the notification outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_APPEND_ONLY_MESSAGE = "case_events is append-only"


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("reference", sa.String(40), primary_key=True),
        sa.Column("workflow_id", sa.String(80), nullable=False),
        sa.Column("partnership", sa.String(64), nullable=False, index=True),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.Column("route", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False, index=True),
        sa.Column("outcome", sa.String(60)),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("next_due_at", UTCDateTime(), index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "deadlines",
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("deadline_id", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(60)),
        sa.Column("statutory", sa.Boolean, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("met_at", UTCDateTime()),
        sa.Column("breached_at", UTCDateTime()),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(60), primary_key=True),
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("agency", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("asked_for", sa.Text, nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime()),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("completed_at", UTCDateTime()),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_reference", sa.String(40), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("occurred_at", UTCDateTime()),
        sa.Column("actor_user", sa.String(100)),
        sa.Column("actor_role", sa.String(40)),
        sa.Column("actor_agency", sa.String(64)),
        sa.Column("reasons", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.UniqueConstraint("case_reference", "seq", name="uq_case_events_case_seq"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("case_reference", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("deadline_id", sa.String(20), nullable=False),
        sa.Column("deadline_key", sa.String(64), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("owning_agency", sa.String(64)),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )

    # The event log is the audit trail of what happened: the database itself refuses to change it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION case_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER case_events_no_change BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION case_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_events_no_{action.lower()} BEFORE {action} ON case_events "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_events_no_change ON case_events")
        op.execute("DROP FUNCTION IF EXISTS case_events_append_only()")
    for table in ("notifications", "case_events", "tasks", "deadlines", "cases"):
        op.drop_table(table)
