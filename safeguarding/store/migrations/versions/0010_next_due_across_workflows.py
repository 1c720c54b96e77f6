"""A case's next due time across all its workflows: the case row's ``next_due_at`` becomes the soonest
live deadline of the case, its review and its action plan (it was the case's own), so that the case list
orders and pages by one indexed column instead of ranking every deadline on each request.

And the outbox's ``stream`` of reminders and escalations, which was read from the notice's key as
``case-<ref>`` (or ``case-<ref>/review``) since workflow ids began with their partnership: set to the
stream it names (on PostgreSQL no such row could be written: the column holds 10 characters).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for stream in ("review", "plan"):
        op.execute(f"UPDATE notifications SET stream = '{stream}' WHERE stream LIKE 'case-%/{stream}'")
    op.execute("UPDATE notifications SET stream = 'case' WHERE stream LIKE 'case-%'")
    op.execute(
        """
        UPDATE cases SET next_due_at = (
            SELECT min(d.due_at) FROM deadlines d
            WHERE d.partnership = cases.partnership AND d.case_reference = cases.reference
              AND d.status IN ('open', 'overdue')
        )
        """
    )


def downgrade() -> None:
    op.execute(
        """
        UPDATE cases SET next_due_at = (
            SELECT min(d.due_at) FROM deadlines d
            WHERE d.partnership = cases.partnership AND d.case_reference = cases.reference
              AND d.stream = 'case' AND d.status IN ('open', 'overdue')
        )
        """
    )
