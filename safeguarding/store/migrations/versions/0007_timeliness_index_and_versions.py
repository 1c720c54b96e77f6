"""An index for the dashboard's timeliness (deadlines by kind and when met); a version on the yearly
report's row so that a late write never overwrites a newer one; notices filed under a report or a
partnership's year need a longer reference than a case's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deadlines_key_met_at", "deadlines", ["key", "met_at"])
    with op.batch_alter_table("yearly_reports") as table:
        table.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("notifications") as table:
        table.alter_column("case_reference", existing_type=sa.String(40), type_=sa.String(100))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as table:
        table.alter_column("case_reference", existing_type=sa.String(100), type_=sa.String(40))
    with op.batch_alter_table("yearly_reports") as table:
        table.drop_column("version")
    op.drop_index("ix_deadlines_key_met_at", table_name="deadlines")
