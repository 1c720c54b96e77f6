"""An agency's tasks (``GET /tasks``), soonest due first."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.store.tables import TaskRow


class TaskListItem(BaseModel):
    task_id: str
    case_reference: str
    case_partnership: str  # whose case (another partnership's, for a contributing partnership's task)
    agency: str
    kind: str
    asked_for: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    completed_at: datetime | None
    overdue: bool


def list_tasks(
    engine: Engine,
    *,
    agency: str | None,
    partnerships: list[str],
    status: str | None = "open",
    now: datetime | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[TaskListItem]:
    """The tasks of ``agency`` (None: of every agency) as an entry of these partnerships' directories (a
    contributing partnership's agencies' tasks on another's case among them)."""
    now = now or datetime.now(UTC)
    query = (
        select(TaskRow)
        .where(TaskRow.agency_partnership.in_(partnerships))
        .order_by(TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.task_id)
    )
    if agency is not None:
        query = query.where(TaskRow.agency == agency)
    if status is not None:
        query = query.where(TaskRow.status == status)
    with Session(engine) as session:
        rows = session.scalars(query.limit(limit).offset(offset)).all()
    return [
        TaskListItem(
            task_id=row.task_id,
            case_reference=row.case_reference,
            case_partnership=row.partnership,
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
