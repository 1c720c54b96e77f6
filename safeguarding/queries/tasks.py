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
    agency: str
    kind: str
    asked_for: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    completed_at: datetime | None
    overdue: bool


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
