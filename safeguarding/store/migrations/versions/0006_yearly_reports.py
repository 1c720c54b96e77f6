"""The yearly report's process, one row per partnership and reporting year.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "yearly_reports",
        sa.Column("partnership", sa.String(64), primary_key=True),
        sa.Column("year_start", sa.Date, primary_key=True),
        sa.Column("published_due_at", UTCDateTime()),
        sa.Column("published_on", sa.Date),
        sa.Column("sent_due_at", UTCDateTime()),
        sa.Column("sent_on", sa.Date),
        sa.Column("sent_to", sa.JSON, nullable=False),
        sa.Column("escalations", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("yearly_reports")
