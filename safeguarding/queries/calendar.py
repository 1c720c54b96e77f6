"""The open deadlines a calendar feed shows: an agency's, or the whole partnership's."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.domain.tasks import TaskStatus
from safeguarding.queries.due import LIVE
from safeguarding.store.tables import AgencyRow, DeadlineRow, TaskRow


def _live_deadlines(engine: Engine, agency: str | None) -> list[tuple[DeadlineRow, TaskRow | None]]:
    query = (
        select(DeadlineRow, TaskRow)
        .outerjoin(TaskRow, TaskRow.task_id == DeadlineRow.subject)
        .where(DeadlineRow.status.in_(LIVE))
        .order_by(DeadlineRow.due_at, DeadlineRow.case_reference, DeadlineRow.stream, DeadlineRow.deadline_id)
    )
    with Session(engine) as session:
        if agency is not None:
            # An agency's calendar holds only the work still asked of it: its own tasks, and for one of
            # the partnership's offices the tasks owned by a role it holds (the Business Unit's duties).
            entry = session.get(AgencyRow, agency)
            owners = [agency, *(entry.roles if entry is not None else [])]
            query = query.where(TaskRow.agency.in_(owners), TaskRow.status == TaskStatus.open.value)
        return [(row.DeadlineRow, row.TaskRow) for row in session.execute(query)]
