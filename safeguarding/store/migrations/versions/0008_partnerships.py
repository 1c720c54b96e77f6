"""Partnerships as a boundary: every row of a case is its partnership's (two partnerships may use the
same reference); the directory, deliveries, notifications, calendar feeds and the audit log say whose
they are; a case may have contributing partnerships. Everything written before moves into ``luton``
(the only partnership the service had: "pan-bedfordshire" was its shared procedure's name).

The tables whose key changes are built anew and filled from the old ones; the others gain a column.
The audit log's rows written before keep no partnership (their chain hashes stay as they were): they
are Luton's.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from safeguarding.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HOME = "luton"
RENAMED_ENTRIES = [
    ("joint-case-review-group", "Pan Bedfordshire Joint Case Review Group", "Luton Joint Case Review Group"),
    ("luton-childrens-social-care", "Luton Borough Council: Children's Services", "Luton Borough Council"),
]
OF_CASE = (["partnership", "case_reference"], ["cases.partnership", "cases.reference"])
_APPEND_ONLY_MESSAGE = "case_events is append-only"


def _partnership() -> sa.Column:
    return sa.Column("partnership", sa.String(64), nullable=False)


def _of_case() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(*OF_CASE, ondelete="CASCADE")


# The new shape of each table whose key changes: (columns and constraints, the old columns copied).
def _tables() -> dict[str, tuple[list, list[str]]]:
    return {
        "cases": (
            [
                _partnership(),
                sa.Column("reference", sa.String(40), nullable=False),
                sa.Column("workflow_id", sa.String(120), nullable=False),
                sa.Column("policy_version", sa.String(40), nullable=False),
                sa.Column("route", sa.String(40), nullable=False),
                sa.Column("stage", sa.String(40), nullable=False),
                sa.Column("outcome", sa.String(60)),
                sa.Column("opened_at", UTCDateTime(), nullable=False),
                sa.Column("closed_at", UTCDateTime()),
                sa.Column("next_due_at", UTCDateTime()),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("updated_at", UTCDateTime(), nullable=False),
                sa.PrimaryKeyConstraint("partnership", "reference", name="pk_cases"),
            ],
            ["reference", "workflow_id", "policy_version", "route", "stage", "outcome", "opened_at",
             "closed_at", "next_due_at", "version", "updated_at"],
        ),
        "deadlines": (
            [
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("stream", sa.String(10), nullable=False, server_default="case"),
                sa.Column("deadline_id", sa.String(20), nullable=False),
                sa.Column("key", sa.String(64), nullable=False),
                sa.Column("title", sa.String(200), nullable=False),
                sa.Column("subject", sa.String(60)),
                sa.Column("statutory", sa.Boolean, nullable=False),
                sa.Column("started_at", UTCDateTime(), nullable=False),
                sa.Column("due_at", UTCDateTime(), nullable=False),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("met_at", UTCDateTime()),
                sa.Column("breached_at", UTCDateTime()),
                sa.Column("reminder_times", sa.JSON),
                sa.PrimaryKeyConstraint("partnership", "case_reference", "stream", "deadline_id", name="pk_deadlines"),
                _of_case(),
            ],
            ["case_reference", "stream", "deadline_id", "key", "title", "subject", "statutory", "started_at",
             "due_at", "status", "met_at", "breached_at", "reminder_times"],
        ),
        "tasks": (
            [
                _partnership(),
                sa.Column("task_id", sa.String(60), nullable=False),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("agency_partnership", sa.String(64), nullable=False),
                sa.Column("stream", sa.String(10), nullable=False, server_default="case"),
                sa.Column("agency", sa.String(64), nullable=False),
                sa.Column("kind", sa.String(40), nullable=False),
                sa.Column("asked_for", sa.Text, nullable=False),
                sa.Column("requested_at", UTCDateTime(), nullable=False),
                sa.Column("due_at", UTCDateTime()),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("completed_at", UTCDateTime()),
                sa.PrimaryKeyConstraint("partnership", "task_id", name="pk_tasks"),
                _of_case(),
            ],
            ["task_id", "case_reference", "stream", "agency", "kind", "asked_for", "requested_at", "due_at",
             "status", "completed_at"],
        ),
        "case_events": (
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("stream", sa.String(10), nullable=False, server_default="case"),
                sa.Column("seq", sa.Integer, nullable=False),
                sa.Column("kind", sa.String(60), nullable=False),
                sa.Column("recorded_at", UTCDateTime(), nullable=False),
                sa.Column("occurred_at", UTCDateTime()),
                sa.Column("actor_user", sa.String(100)),
                sa.Column("actor_role", sa.String(40)),
                sa.Column("actor_agency", sa.String(64)),
                sa.Column("reasons", sa.Text),
                sa.Column("details", sa.JSON, nullable=False),
                sa.UniqueConstraint("partnership", "case_reference", "stream", "seq", name="uq_case_events_case_seq"),
            ],
            ["id", "case_reference", "stream", "seq", "kind", "recorded_at", "occurred_at", "actor_user",
             "actor_role", "actor_agency", "reasons", "details"],
        ),
        "reviews": (
            [
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("workflow_id", sa.String(120), nullable=False),
                sa.Column("kind", sa.String(40), nullable=False),
                sa.Column("stage", sa.String(40), nullable=False),
                sa.Column("started_at", UTCDateTime(), nullable=False),
                sa.Column("paused", sa.Boolean, nullable=False),
                sa.Column("due_at", UTCDateTime()),
                sa.Column("earliest_publication_date", sa.Date),
                sa.Column("publication_date", sa.Date),
                sa.Column("outcome", sa.String(60)),
                sa.Column("finished_at", UTCDateTime()),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("updated_at", UTCDateTime(), nullable=False),
                sa.PrimaryKeyConstraint("partnership", "case_reference", name="pk_reviews"),
                _of_case(),
            ],
            ["case_reference", "workflow_id", "kind", "stage", "started_at", "paused", "due_at",
             "earliest_publication_date", "publication_date", "outcome", "finished_at", "version", "updated_at"],
        ),
        "action_plans": (
            [
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("workflow_id", sa.String(120), nullable=False),
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("version", sa.Integer, nullable=False),
                sa.Column("updated_at", UTCDateTime(), nullable=False),
                sa.PrimaryKeyConstraint("partnership", "case_reference", name="pk_action_plans"),
                _of_case(),
            ],
            ["case_reference", "workflow_id", "status", "version", "updated_at"],
        ),
        "actions": (
            [
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("action_id", sa.String(20), nullable=False),
                sa.Column("agency", sa.String(64), nullable=False),
                sa.Column("lead_role", sa.String(100), nullable=False),
                sa.Column("source", sa.String(40), nullable=False),
                sa.Column("themes", sa.JSON, nullable=False),
                sa.Column("due_at", UTCDateTime(), nullable=False),
                sa.Column("status", sa.String(40), nullable=False),
                sa.Column("completed_at", UTCDateTime()),
                sa.Column("escalations_sent", sa.Integer, nullable=False),
                sa.Column("recommendation_id", sa.String(10)),
                sa.Column("description", sa.Text),
                sa.Column("measure", sa.Text),
                sa.Column("evidence_of_impact", sa.Text),
                sa.Column("progress", sa.JSON),
                sa.PrimaryKeyConstraint("partnership", "case_reference", "action_id", name="pk_actions"),
                _of_case(),
            ],
            ["case_reference", "action_id", "agency", "lead_role", "source", "themes", "due_at", "status",
             "completed_at", "escalations_sent", "recommendation_id", "description", "measure",
             "evidence_of_impact", "progress"],
        ),
        "recommendations": (
            [
                _partnership(),
                sa.Column("case_reference", sa.String(40), nullable=False),
                sa.Column("recommendation_id", sa.String(10), nullable=False),
                sa.Column("text", sa.Text, nullable=False),
                sa.Column("source", sa.String(40), nullable=False),
                sa.PrimaryKeyConstraint("partnership", "case_reference", "recommendation_id", name="pk_recommendations"),
                _of_case(),
            ],
            ["case_reference", "recommendation_id", "text", "source"],
        ),
        "agencies": (
            [
                _partnership(),
                sa.Column("code", sa.String(64), nullable=False),
                sa.Column("name", sa.String(200), nullable=False),
                sa.Column("roles", sa.JSON, nullable=False),
                sa.Column("mailboxes", sa.JSON, nullable=False),
                sa.Column("webhook_url", sa.String(500)),
                sa.Column("webhook_secret", sa.Text),
                sa.Column("digest", sa.Boolean, nullable=False),
                sa.Column("active", sa.Boolean, nullable=False),
                sa.Column("updated_at", UTCDateTime(), nullable=False),
                sa.Column("updated_by", sa.String(100), nullable=False),
                sa.PrimaryKeyConstraint("partnership", "code", name="pk_agencies"),
            ],
            ["code", "name", "roles", "mailboxes", "webhook_url", "webhook_secret", "digest", "active",
             "updated_at", "updated_by"],
        ),
    }  # fmt: skip


INDEXES = [
    ("ix_cases_stage", "cases", ["stage"]),
    ("ix_cases_next_due_at", "cases", ["next_due_at"]),
    ("ix_deadlines_due_at", "deadlines", ["due_at"]),
    ("ix_deadlines_status", "deadlines", ["status"]),
    ("ix_deadlines_key_met_at", "deadlines", ["key", "met_at"]),
    ("ix_tasks_case", "tasks", ["partnership", "case_reference"]),
    ("ix_tasks_agency", "tasks", ["agency"]),
    ("ix_tasks_status", "tasks", ["status"]),
    ("ix_tasks_agency_partnership", "tasks", ["agency_partnership"]),
    ("ix_case_events_case_reference", "case_events", ["case_reference"]),
    ("ix_reviews_stage", "reviews", ["stage"]),
    ("ix_action_plans_status", "action_plans", ["status"]),
    ("ix_actions_due_at", "actions", ["due_at"]),
    ("ix_actions_status", "actions", ["status"]),
    ("ix_actions_agency", "actions", ["agency"]),
]
# Children before their parent when dropping; the parent first when filling.
ORDER = ["cases", "deadlines", "tasks", "case_events", "reviews", "action_plans", "actions", "recommendations",
         "agencies"]  # fmt: skip


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    tables = _tables()
    # The event log refuses changes; the rows are copied, not changed, and its rules made again after.
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_change ON case_events")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_events_no_delete")
    for name in ORDER:
        op.rename_table(name, f"{name}_before_0008")
    for name in ORDER:
        if postgres:  # the old indexes keep their names: free them for the new table's
            for index, table, _ in INDEXES:
                if table == name:
                    op.execute(f"DROP INDEX IF EXISTS {index}")
        columns, copied = tables[name]
        op.create_table(name, *columns)
        listed = ", ".join(f'"{c}"' for c in copied)
        home = "'luton'" if name != "tasks" else "'luton', 'luton'"
        into = "partnership" if name != "tasks" else "partnership, agency_partnership"
        op.execute(f"INSERT INTO {name} ({into}, {listed}) SELECT {home}, {listed} FROM {name}_before_0008")
    for name in reversed(ORDER):
        op.drop_table(f"{name}_before_0008")
    for index, table, columns in INDEXES:
        op.create_index(index, table, columns)
    if postgres:
        # The ids the event log has given go on from where they were.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('case_events', 'id'), COALESCE(MAX(id), 1)) FROM case_events"
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

    op.create_table(
        "case_contributions",
        _partnership(),
        sa.Column("case_reference", sa.String(40), nullable=False),
        sa.Column("contributor", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("partnership", "case_reference", "contributor", name="pk_case_contributions"),
        _of_case(),
    )
    op.create_index("ix_case_contributions_contributor", "case_contributions", ["contributor"])
    for table in ("notifications", "deliveries", "calendar_feeds"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("partnership", sa.String(64), nullable=False, server_default=HOME))
    op.create_index("ix_notifications_partnership", "notifications", ["partnership"])
    op.create_index("ix_calendar_feeds_partnership", "calendar_feeds", ["partnership"])
    # Added without a default: the rows before hash as they were written (see the module's docstring).
    op.add_column("audit_log", sa.Column("partnership", sa.String(64)))
    op.create_index("ix_audit_log_partnership", "audit_log", ["partnership"])
    for table in ("reports", "yearly_reports"):
        op.execute(f"UPDATE {table} SET partnership = '{HOME}' WHERE partnership = 'pan-bedfordshire'")
    # Luton's entries as Luton names them, where the seed's old words were never edited.
    for code, old, new in RENAMED_ENTRIES:
        op.execute(
            sa.text(
                "UPDATE agencies SET name = :new WHERE partnership = :home AND code = :code "
                "AND name = :old AND updated_by = 'seed'"
            ).bindparams(new=new, home=HOME, code=code, old=old)
        )


def downgrade() -> None:
    raise NotImplementedError(
        "partnerships cannot be merged back into one: restore the backup taken before 0008"
    )
