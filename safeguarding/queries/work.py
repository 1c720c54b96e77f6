"""Work owned by agencies: a partner agency's own tasks and actions (and of each case only its reference
and stage), and every agency's overdue work. By the agency and due-time indexes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session

from safeguarding.queries.due import LIVE, OPEN_ACTION, DueState, due_state
from safeguarding.queries.notifications import agency_names
from safeguarding.store.tables import ActionRow, CaseRow, DeadlineRow, TaskRow


class TaskLine(BaseModel):
    task_id: str
    case_reference: str
    case_stage: str
    agency: str
    agency_name: str
    kind: str
    asked_for: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    completed_at: datetime | None
    state: DueState | None


class ActionLine(BaseModel):
    case_reference: str
    case_stage: str
    action_id: str
    agency: str
    agency_name: str
    description: str | None
    recommendation_id: str | None
    due_at: datetime
    status: str
    completed_at: datetime | None
    escalations_sent: int
    state: DueState | None


Names = dict[tuple[str, str], str]  # directory names by (partnership, agency code)


def task_line(
    task: TaskRow, stage: str, names: Names, reminder_times: list[str] | None, now: datetime
) -> TaskLine:
    return TaskLine(
        task_id=task.task_id,
        case_reference=task.case_reference,
        case_stage=stage,
        agency=task.agency,
        agency_name=names.get((task.agency_partnership, task.agency), task.agency),
        kind=task.kind,
        asked_for=task.asked_for,
        requested_at=task.requested_at,
        due_at=task.due_at,
        status=task.status,
        completed_at=task.completed_at,
        state=due_state(
            task.due_at,
            now,
            status="open" if task.status == "open" else "done",
            reminder_times=reminder_times,
        ),
    )


def action_line(action: ActionRow, stage: str, names: Names, now: datetime) -> ActionLine:
    return ActionLine(
        case_reference=action.case_reference,
        case_stage=stage,
        action_id=action.action_id,
        agency=action.agency,
        agency_name=names.get((action.partnership, action.agency), action.agency),
        description=action.description,
        recommendation_id=action.recommendation_id,
        due_at=action.due_at,
        status=action.status,
        completed_at=action.completed_at,
        escalations_sent=action.escalations_sent,
        state=due_state(action.due_at, now, status="open" if action.status == OPEN_ACTION else "done"),
    )


class AgencyWork(BaseModel):
    """What a partner agency sees: its own tasks and actions, and of each case only its reference and
    stage. Never another agency's work, anyone's reasons, or the returns themselves."""

    agency: str
    agency_name: str
    tasks: list[TaskLine]
    actions: list[ActionLine]

    @property
    def case_stage(self) -> str | None:
        return next((w.case_stage for w in [*self.tasks, *self.actions]), None)


def agency_work(
    engine: Engine,
    agency: str | None,
    partnerships: list[str],
    *,
    now: datetime,
    case: tuple[str, str] | None = None,
) -> AgencyWork:
    """The agency's tasks (soonest due first, open work before finished) and actions, from the
    directories of ``partnerships`` (those its staff's token names), on every case or on one (its
    partnership and reference). ``agency`` None: every entry's of those directories (a contributing
    partnership's own part of another's case). By the agency index; one query per table."""
    of_agency = TaskRow.agency == agency if agency is not None else TaskRow.agency.is_not(None)
    task_query = (
        select(TaskRow, CaseRow.stage, DeadlineRow.reminder_times)
        .join(
            CaseRow,
            (CaseRow.partnership == TaskRow.partnership) & (CaseRow.reference == TaskRow.case_reference),
        )
        .outerjoin(
            DeadlineRow,
            and_(
                DeadlineRow.partnership == TaskRow.partnership,
                DeadlineRow.case_reference == TaskRow.case_reference,
                DeadlineRow.stream == TaskRow.stream,
                DeadlineRow.subject == TaskRow.task_id,
                DeadlineRow.status.in_(LIVE),
            ),
        )
        .where(
            of_agency,
            TaskRow.agency_partnership.in_(partnerships),
            TaskRow.kind != "action",
        )
        .order_by(TaskRow.status != "open", TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.task_id)
    )
    action_query = (
        select(ActionRow, CaseRow.stage)
        .join(
            CaseRow,
            (CaseRow.partnership == ActionRow.partnership) & (CaseRow.reference == ActionRow.case_reference),
        )
        # Actions are the lead's plan's: a contributing partnership has none.
        .where(ActionRow.agency == (agency or ""), ActionRow.partnership.in_(partnerships))
        .order_by(
            ActionRow.status != OPEN_ACTION, ActionRow.due_at, ActionRow.case_reference, ActionRow.action_id
        )
    )
    if case is not None:
        partnership, reference = case
        task_query = task_query.where(TaskRow.partnership == partnership, TaskRow.case_reference == reference)
        action_query = action_query.where(
            ActionRow.partnership == partnership, ActionRow.case_reference == reference
        )
    with Session(engine) as session:
        task_rows = session.execute(task_query).all()
        action_rows = session.execute(action_query).all()
        own = {(p, agency) for p in partnerships} if agency is not None else set()
        names = agency_names(session, own | {(t.agency_partnership, t.agency) for t, _, _ in task_rows})
    tasks: dict[str, TaskLine] = {}
    for task, stage, reminder_times in task_rows:  # a task has at most one live deadline
        tasks.setdefault(task.task_id, task_line(task, stage, names, reminder_times, now))
    return AgencyWork(
        agency=agency or partnerships[0],
        agency_name=next(
            (names[(p, agency)] for p in partnerships if agency and (p, agency) in names),
            agency or partnerships[0],
        ),
        tasks=list(tasks.values()),
        actions=[action_line(action, stage, names, now) for action, stage in action_rows],
    )


class AgencyOverdue(BaseModel):
    agency: str
    agency_name: str
    actions: list[ActionLine]
    tasks: list[TaskLine]


def overdue_by_agency(engine: Engine, partnerships: list[str], *, now: datetime) -> list[AgencyOverdue]:
    """Open actions and tasks past their due time owed to the partnerships' cases by the agencies of
    their own directories, grouped by the agency that owns them, the agencies with the most first. By
    the due-time and status indexes: only overdue rows are read."""
    with Session(engine) as session:
        action_rows = session.execute(
            select(ActionRow, CaseRow.stage)
            .join(
                CaseRow,
                (CaseRow.partnership == ActionRow.partnership)
                & (CaseRow.reference == ActionRow.case_reference),
            )
            .where(
                ActionRow.status == OPEN_ACTION,
                ActionRow.due_at < now,
                ActionRow.partnership.in_(partnerships),
            )
            .order_by(ActionRow.due_at, ActionRow.case_reference, ActionRow.action_id)
        ).all()
        task_rows = session.execute(
            select(TaskRow, CaseRow.stage)
            .join(
                CaseRow,
                (CaseRow.partnership == TaskRow.partnership) & (CaseRow.reference == TaskRow.case_reference),
            )
            .where(
                TaskRow.status == "open",
                TaskRow.due_at < now,
                TaskRow.kind != "action",
                TaskRow.agency_partnership.in_(partnerships),
            )
            .order_by(TaskRow.due_at, TaskRow.task_id)
        ).all()
        names = agency_names(
            session,
            {(a.partnership, a.agency) for a, _ in action_rows}
            | {(t.agency_partnership, t.agency) for t, _ in task_rows},
        )
    grouped: dict[str, AgencyOverdue] = {}

    def group(partnership: str, agency: str) -> AgencyOverdue:
        return grouped.setdefault(
            agency,
            AgencyOverdue(
                agency=agency, agency_name=names.get((partnership, agency), agency), actions=[], tasks=[]
            ),
        )

    for action, stage in action_rows:
        group(action.partnership, action.agency).actions.append(action_line(action, stage, names, now))
    for task, stage in task_rows:
        group(task.agency_partnership, task.agency).tasks.append(task_line(task, stage, names, None, now))
    return sorted(grouped.values(), key=lambda g: (-(len(g.actions) + len(g.tasks)), g.agency_name))
