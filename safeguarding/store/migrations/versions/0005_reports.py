"""What the reports need: each plan's recommendations, each action's description, measure, progress and
evidence; and the reports themselves (HTML and PDF).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendations",
        sa.Column(
            "case_reference",
            sa.String(40),
            sa.ForeignKey("cases.reference", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("recommendation_id", sa.String(10), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
    )
    with op.batch_alter_table("actions") as table:
        table.add_column(sa.Column("recommendation_id", sa.String(10)))
        table.add_column(sa.Column("description", sa.Text))
        table.add_column(sa.Column("measure", sa.Text))
        table.add_column(sa.Column("evidence_of_impact", sa.Text))
        table.add_column(sa.Column("progress", sa.JSON))
    op.create_table(
        "reports",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False, index=True),
        sa.Column("partnership", sa.String(64), nullable=False, index=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("pdf", sa.LargeBinary),
    )


def downgrade() -> None:
    op.drop_table("reports")
    with op.batch_alter_table("actions") as table:
        for column in ("progress", "evidence_of_impact", "measure", "description", "recommendation_id"):
            table.drop_column(column)
    op.drop_table("recommendations")
