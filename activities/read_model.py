"""Keeps the SQL read model and the event log in step with each case workflow.

Idempotent by construction, so a retry, a replay or a late duplicate leaves exactly one record:
events are keyed by (case, sequence number) and inserted only if absent; the case snapshot is
written only if its version is newer than the one stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from temporalio import activity

from safeguarding.case import DeadlineStatus
from safeguarding.contracts import CaseChanges, CaseSnapshot
from safeguarding.store import CaseEventRow, CaseRow, DeadlineRow, TaskRow

log = structlog.get_logger(__name__)


def dialect_insert(engine: Engine, table: Any) -> Any:
    """INSERT with the dialect's ON CONFLICT support (PostgreSQL and SQLite share the API)."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


class ReadModelActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def record_case_changes(self, changes: CaseChanges) -> int:
        """Called by the case workflow after every change. Returns how many events were new."""
        snapshot = changes.snapshot
        with self.engine.begin() as connection:
            new_events = 0
            if changes.events:
                rows = [
                    {
                        "case_reference": snapshot.reference,
                        "seq": e.seq,
                        "kind": e.kind,
                        "recorded_at": e.recorded_at,
                        "occurred_at": e.occurred_at,
                        "actor_user": e.actor.user_id if e.actor else None,
                        "actor_role": e.actor.role.value if e.actor else None,
                        "actor_agency": e.actor.agency if e.actor else None,
                        "reasons": e.reasons,
                        "details": e.details,
                    }
                    for e in changes.events
                ]
                insert = dialect_insert(self.engine, CaseEventRow).on_conflict_do_nothing(
                    index_elements=["case_reference", "seq"]
                )
                new_events = len(connection.execute(insert.returning(CaseEventRow.seq), rows).all())

            applied = self._upsert_case(connection, changes.version, snapshot)
            if applied:
                connection.execute(
                    delete(DeadlineRow).where(DeadlineRow.case_reference == snapshot.reference)
                )
                connection.execute(delete(TaskRow).where(TaskRow.case_reference == snapshot.reference))
                if snapshot.deadlines:
                    connection.execute(dialect_insert(self.engine, DeadlineRow), _deadline_rows(snapshot))
                if snapshot.tasks:
                    connection.execute(dialect_insert(self.engine, TaskRow), _task_rows(snapshot))
        log.info(
            "read_model.recorded",
            case_reference=snapshot.reference,
            workflow_id=snapshot.workflow_id,
            version=changes.version,
            snapshot_applied=applied,
            events_new=new_events,
            events_sent=len(changes.events),
        )
        return new_events

    def _upsert_case(self, connection: Any, version: int, snapshot: CaseSnapshot) -> bool:
        live = [
            d.due_at for d in snapshot.deadlines if d.status in (DeadlineStatus.open, DeadlineStatus.overdue)
        ]
        values = {
            "reference": snapshot.reference,
            "workflow_id": snapshot.workflow_id,
            "partnership": snapshot.partnership,
            "policy_version": snapshot.policy_version,
            "route": snapshot.route,
            "stage": snapshot.stage,
            "outcome": snapshot.outcome,
            "opened_at": snapshot.opened_at,
            "closed_at": snapshot.closed_at,
            "next_due_at": min(live, default=None),
            "version": version,
            "updated_at": datetime.now(UTC),
        }
        insert = dialect_insert(self.engine, CaseRow)
        upsert = insert.on_conflict_do_update(
            index_elements=["reference"],
            set_={k: insert.excluded[k] for k in values if k != "reference"},
            where=CaseRow.version < insert.excluded.version,
        ).returning(CaseRow.version)
        return connection.execute(upsert, values).first() is not None


def _deadline_rows(snapshot: CaseSnapshot) -> list[dict[str, Any]]:
    return [
        {
            "case_reference": snapshot.reference,
            "deadline_id": d.id,
            "key": d.key,
            "title": d.title,
            "subject": d.subject,
            "statutory": d.statutory,
            "started_at": d.started_at,
            "due_at": d.due_at,
            "status": d.status.value,
            "met_at": d.met_at,
            "breached_at": d.breached_at,
        }
        for d in snapshot.deadlines
    ]


def _task_rows(snapshot: CaseSnapshot) -> list[dict[str, Any]]:
    # The agency's return itself stays in the workflow: the read model lists work, not content.
    return [
        {
            "task_id": t.id,
            "case_reference": snapshot.reference,
            "agency": t.agency,
            "kind": t.kind,
            "asked_for": t.asked_for,
            "requested_at": t.requested_at,
            "due_at": t.due_at,
            "status": t.status.value,
            "completed_at": t.completed_at,
        }
        for t in snapshot.tasks
    ]
