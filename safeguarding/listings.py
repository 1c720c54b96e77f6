"""Lists read from the SQL read model: cases for managers, tasks for agencies.

"Overdue" is computed at read time against the database's rows, so a case shows as overdue the moment
a due time passes, even before its workflow has woken to record the breach.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine, and_, exists, select
from sqlalchemy.orm import Session

from safeguarding.store import CaseRow, DeadlineRow, TaskRow

LIVE = ("open", "overdue")


class CaseListItem(BaseModel):
    reference: str
    partnership: str
    route: str
    stage: str
    outcome: str | None
    policy_version: str
    opened_at: datetime
    closed_at: datetime | None
    next_due_at: datetime | None
    overdue: bool


class TaskListItem(BaseModel):
    task_id: str
    case_reference: str
    agency: str
    kind: str
    asked_for: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    completed_at: datetime | None
    overdue: bool


def _overdue_deadline(now: datetime):  # type: ignore[no-untyped-def]
    return exists().where(
        and_(
            DeadlineRow.case_reference == CaseRow.reference,
            DeadlineRow.status.in_(LIVE),
            DeadlineRow.due_at < now,
        )
    )


def list_cases(
    engine: Engine,
    *,
    stage: str | None = None,
    overdue: bool | None = None,
    partnership: str | None = None,
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> list[CaseListItem]:
    now = now or datetime.now(UTC)
    is_overdue = _overdue_deadline(now)
    query = select(CaseRow, is_overdue.label("overdue")).order_by(CaseRow.opened_at.desc(), CaseRow.reference)
    if stage is not None:
        query = query.where(CaseRow.stage == stage)
    if partnership is not None:
        query = query.where(CaseRow.partnership == partnership)
    if overdue is not None:
        query = query.where(is_overdue if overdue else ~is_overdue)
    with Session(engine) as session:
        rows = session.execute(query.limit(limit).offset(offset)).all()
    return [
        CaseListItem(
            reference=row.CaseRow.reference,
            partnership=row.CaseRow.partnership,
            route=row.CaseRow.route,
            stage=row.CaseRow.stage,
            outcome=row.CaseRow.outcome,
            policy_version=row.CaseRow.policy_version,
            opened_at=row.CaseRow.opened_at,
            closed_at=row.CaseRow.closed_at,
            next_due_at=row.CaseRow.next_due_at,
            overdue=bool(row.overdue),
        )
        for row in rows
    ]


def list_tasks(
    engine: Engine, *, agency: str, status: str | None = "open", now: datetime | None = None
) -> list[TaskListItem]:
    now = now or datetime.now(UTC)
    query = (
        select(TaskRow)
        .where(TaskRow.agency == agency)
        .order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.task_id)
    )
    if status is not None:
        query = query.where(TaskRow.status == status)
    with Session(engine) as session:
        rows = session.scalars(query).all()
    return [
        TaskListItem(
            task_id=row.task_id,
            case_reference=row.case_reference,
            agency=row.agency,
            kind=row.kind,
            asked_for=row.asked_for,
            requested_at=row.requested_at,
            due_at=row.due_at,
            status=row.status,
            completed_at=row.completed_at,
            overdue=row.status == "open" and row.due_at is not None and row.due_at < now,
        )
        for row in rows
    ]
