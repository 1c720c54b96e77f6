"""Keeps the SQL read model and the event log in step with each case workflow.

Idempotent by construction, so a retry, a replay or a late duplicate leaves exactly one record:
events are keyed by (case, sequence number) and inserted only if absent; the case snapshot is
written only if its version is newer than the one stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine, delete, func, select, update
from temporalio import activity

from activities.delivery import DeliveryStarter
from safeguarding.domain.contracts import CaseChanges
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.partnerships import FIRST_PARTNERSHIP, current
from safeguarding.store import outbox
from safeguarding.store.audit import AuditEntry, append_in
from safeguarding.store.engine import dialect_insert
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    CaseContributionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

log = structlog.get_logger(__name__)


def _record_lag(partnership: str, stream: str) -> None:
    """The read model's lag, for the worker's metrics (``sll_read_model_lag``): from the workflow's asking
    to the change being written, retries through a database outage included. Labels: the partnership and
    the stream (case, review, plan), never a case."""
    if not activity.in_activity():  # called directly (a test, the import)
        return
    lag = datetime.now(UTC) - activity.info().scheduled_time
    activity.metric_meter().create_histogram_timedelta(
        "sll_read_model_lag", "From a workflow's change to its write in the read model.", unit="ms"
    ).with_additional_attributes({"partnership": partnership, "stream": stream}).record(
        max(lag, timedelta(0))
    )


class ReadModelActivities:
    def __init__(self, engine: Engine, postroom: DeliveryStarter | None = None) -> None:
        self.engine = engine
        self.postroom = postroom

    @activity.defn
    def record_case_changes(self, changes: CaseChanges) -> int:
        """Called by a case's workflows after every change. Returns how many events were new.

        The notices the workflow's steps stated (a task assigned, re-dated, withdrawn; a decision to act
        on) are written in the same transaction, each once by its key.
        """
        partnership = _partnership(changes)
        with self.engine.begin() as connection:
            audited = _audit(connection, changes, partnership)
            new_events = len(self._append_events(connection, changes))
            now = datetime.now(UTC)
            for notice in changes.notices:
                outbox.queue(connection, notice, now, default_partnership=partnership)
            applied = self._upsert_summary(connection, changes)
            if applied:
                for table in (DeadlineRow, TaskRow):
                    connection.execute(
                        delete(table).where(
                            table.partnership == partnership,
                            table.case_reference == changes.reference,
                            table.stream == changes.stream,
                        )
                    )
                if changes.deadlines:
                    connection.execute(dialect_insert(self.engine, DeadlineRow), _deadline_rows(changes))
                _refresh_next_due(connection, partnership, changes.reference)
                if changes.tasks:
                    connection.execute(dialect_insert(self.engine, TaskRow), _task_rows(changes))
                if changes.case is not None and changes.case.contributors:
                    connection.execute(
                        dialect_insert(self.engine, CaseContributionRow).on_conflict_do_nothing(
                            index_elements=["partnership", "case_reference", "contributor"]
                        ),
                        [
                            {
                                "partnership": partnership,
                                "case_reference": changes.reference,
                                "contributor": c,
                            }
                            for c in changes.case.contributors
                        ],
                    )
                if changes.plan is not None:
                    for table in (ActionRow, RecommendationRow):
                        connection.execute(
                            delete(table).where(
                                table.partnership == partnership, table.case_reference == changes.reference
                            )
                        )
                    if changes.plan.actions:
                        connection.execute(dialect_insert(self.engine, ActionRow), _action_rows(changes))
                    if changes.plan.recommendations:
                        connection.execute(
                            dialect_insert(self.engine, RecommendationRow), _recommendation_rows(changes)
                        )
        if self.postroom is not None:
            self.postroom.start_pending(partnership, changes.reference)
        _record_lag(partnership, changes.stream)
        log.info(
            "read_model.recorded",
            partnership=partnership,
            case_reference=changes.reference,
            stream=changes.stream,
            workflow_id=changes.workflow_id,
            version=changes.version,
            snapshot_applied=applied,
            events_new=new_events,
            events_sent=len(changes.events),
            audited=audited,
        )
        return new_events

    def _append_events(self, connection: Any, changes: CaseChanges) -> set[int]:
        """Insert the events not yet written; the sequence numbers of those that were new."""
        if not changes.events:
            return set()
        rows = [
            {
                "partnership": _partnership(changes),
                "case_reference": changes.reference,
                "stream": changes.stream,
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
            index_elements=["partnership", "case_reference", "stream", "seq"]
        )
        return {seq for (seq,) in connection.execute(insert.returning(CaseEventRow.seq), rows).all()}

    def _upsert_summary(self, connection: Any, changes: CaseChanges) -> bool:
        """Write the stream's summary if this version is newer than the stored one."""
        table, key, values = _summary_row(changes)
        values |= {
            "partnership": _partnership(changes),
            "version": changes.version,
            "updated_at": datetime.now(UTC),
        }
        keys = ("partnership", key)
        insert = dialect_insert(self.engine, table)
        upsert = insert.on_conflict_do_update(
            index_elements=list(keys),
            set_={k: insert.excluded[k] for k in values if k not in keys},
            where=table.version < insert.excluded.version,
        ).returning(table.version)
        return connection.execute(upsert, values).first() is not None


def _refresh_next_due(connection: Any, partnership: str, reference: str) -> None:
    """The case's next due time: its soonest live deadline of any of its workflows (the case's, its
    review's, its plan's), kept on its row for the lists that order and filter by it."""
    soonest = (
        select(func.min(DeadlineRow.due_at))
        .where(
            DeadlineRow.partnership == partnership,
            DeadlineRow.case_reference == reference,
            DeadlineRow.status.in_((DeadlineStatus.open.value, DeadlineStatus.overdue.value)),
        )
        .scalar_subquery()
    )
    connection.execute(
        update(CaseRow)
        .where(CaseRow.partnership == partnership, CaseRow.reference == reference)
        .values(next_due_at=soonest)
    )


def _audit(connection: Any, changes: CaseChanges, partnership: str) -> int:
    """The accepted steps' audit entries, in the same transaction as their events: each once by its key
    (a retried write finds it there). First, so that on PostgreSQL the chain's lock is taken before any
    row lock. How many were new."""
    written = 0
    for note in changes.audit:
        entry = AuditEntry(
            at=note.at,
            occurred_at=note.occurred_at,
            user_id=note.actor.user_id,
            role=note.actor.role.value,
            agency=note.actor.agency,
            partnership=note.actor.partnership or partnership,
            action=note.action,
            case_reference=note.case_reference,
            outcome="accepted",
            status_code=200,
            reason=note.reason,
            entry_key=note.key,
        )
        written += append_in(connection, entry) is not None
    return written


def _partnership(changes: CaseChanges) -> str:
    """Whose case: today's code of the partnership it was opened in (before partnerships were kept
    apart, every case was Luton's)."""
    recorded = changes.partnership or (changes.case.partnership if changes.case is not None else None)
    return current(recorded or FIRST_PARTNERSHIP)


def _summary_row(changes: CaseChanges) -> tuple[Any, str, dict[str, Any]]:
    """The stream's own row: the case's, its review's or its plan's (table, key column, values)."""
    if changes.case is not None:
        case = changes.case.model_dump(
            include={"policy_version", "route", "stage", "outcome", "opened_at", "closed_at"}
        )
        return (
            CaseRow,
            "reference",
            {
                "reference": changes.reference,
                "workflow_id": changes.workflow_id,
                **case,
            },
        )
    if changes.review is not None:
        return (
            ReviewRow,
            "case_reference",
            {
                "case_reference": changes.reference,
                "workflow_id": changes.workflow_id,
                **changes.review.model_dump(),
            },
        )
    if changes.plan is not None:
        return (
            ActionPlanRow,
            "case_reference",
            {
                "case_reference": changes.reference,
                "workflow_id": changes.workflow_id,
                "status": changes.plan.status,
            },
        )
    raise ValueError("a change carries the summary of its stream")


def _deadline_rows(changes: CaseChanges) -> list[dict[str, Any]]:
    return [
        {
            "partnership": _partnership(changes),
            "case_reference": changes.reference,
            "stream": changes.stream,
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
            "reminder_times": [r.at.isoformat() for r in d.reminders],
        }
        for d in changes.deadlines
    ]


def _task_rows(changes: CaseChanges) -> list[dict[str, Any]]:
    # The agency's return itself stays in the workflow: the read model lists work, not content.
    return [
        {
            "partnership": _partnership(changes),
            "task_id": t.id,
            "case_reference": changes.reference,
            "agency_partnership": t.partnership or _partnership(changes),
            "stream": changes.stream,
            "agency": t.agency,
            "kind": t.kind,
            "asked_for": t.asked_for,
            "requested_at": t.requested_at,
            "due_at": t.due_at,
            "status": t.status.value,
            "completed_at": t.completed_at,
        }
        for t in changes.tasks
    ]


def _action_rows(changes: CaseChanges) -> list[dict[str, Any]]:
    return [
        {
            "partnership": _partnership(changes),
            "case_reference": changes.reference,
            "action_id": a.id,
            "agency": a.agency,
            "lead_role": a.lead_role,
            "source": a.source,
            "themes": a.themes,
            "due_at": a.due_at,
            "status": a.status,
            "completed_at": a.completed_at,
            "escalations_sent": a.escalations_sent,
            "recommendation_id": a.recommendation_id or None,
            "description": a.description or None,
            "measure": a.measure or None,
            "evidence_of_impact": a.evidence_of_impact,
            "progress": [p.model_dump(mode="json") for p in a.progress],
        }
        for a in changes.plan.actions  # type: ignore[union-attr]
    ]


def _recommendation_rows(changes: CaseChanges) -> list[dict[str, Any]]:
    return [
        {
            "partnership": _partnership(changes),
            "case_reference": changes.reference,
            "recommendation_id": r.id,
            "text": r.text,
            "source": r.source,
        }
        for r in changes.plan.recommendations  # type: ignore[union-attr]
    ]
