"""Work owned by agencies: a partner agency's own tasks and actions (and of each case only its reference
and stage), and every agency's overdue work. By the agency and due-time indexes.
"""

from __future__ import annotations

from datetime import datetime
from math import ceil

from pydantic import BaseModel
from sqlalchemy import Engine, and_, func, select
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


class OverdueCount(BaseModel):
    agency: str
    agency_name: str
    actions: int
    tasks: int


class OverdueWork(BaseModel):
    """The overdue page: every agency's count (its totals), and one agency's overdue work a page at a time."""

    agencies: list[OverdueCount]
    chosen: AgencyOverdue | None
    page: int
    pages: int
    actions: int  # in all, every agency
    tasks: int


OVERDUE_PAGE_SIZE = 100


def overdue_by_agency(
    engine: Engine,
    partnerships: list[str],
    *,
    now: datetime,
    agency: str | None = None,
    page: int = 1,
    page_size: int = OVERDUE_PAGE_SIZE,
) -> OverdueWork:
    """Open actions and tasks past their due time owed to the partnerships' cases by the agencies of
    their own directories: how many each agency has (the agencies with the most first), and the work of
    one of them (``agency``, or the one with the most) ``page_size`` lines a page, actions first, each by
    due time. By the due-time and status indexes: only overdue rows are read, and only a page of them is
    loaded."""
    overdue_actions = (
        ActionRow.status == OPEN_ACTION,
        ActionRow.due_at < now,
        ActionRow.partnership.in_(partnerships),
    )
    overdue_tasks = (
        TaskRow.status == "open",
        TaskRow.due_at < now,
        TaskRow.kind != "action",
        TaskRow.agency_partnership.in_(partnerships),
    )
    with Session(engine) as session:
        counts: dict[tuple[str, str], list[int]] = {}
        for partnership, code, number in session.execute(
            select(ActionRow.partnership, ActionRow.agency, func.count())
            .where(*overdue_actions)
            .group_by(ActionRow.partnership, ActionRow.agency)
        ):
            counts.setdefault((partnership, code), [0, 0])[0] += number
        for partnership, code, number in session.execute(
            select(TaskRow.agency_partnership, TaskRow.agency, func.count())
            .where(*overdue_tasks)
            .group_by(TaskRow.agency_partnership, TaskRow.agency)
        ):
            counts.setdefault((partnership, code), [0, 0])[1] += number
        names = agency_names(session, set(counts))
        by_agency: dict[str, OverdueCount] = {}
        for (partnership, code), (actions, tasks) in counts.items():
            line = by_agency.setdefault(
                code,
                OverdueCount(
                    agency=code, agency_name=names.get((partnership, code), code), actions=0, tasks=0
                ),
            )
            line.actions += actions
            line.tasks += tasks
        agencies = sorted(by_agency.values(), key=lambda g: (-(g.actions + g.tasks), g.agency_name))
        chosen = by_agency.get(agency) if agency else (agencies[0] if agencies else None)
        pages = max(ceil((chosen.actions + chosen.tasks) / page_size), 1) if chosen else 1
        page = min(max(page, 1), pages)
        work = None
        if chosen is not None:
            start = (page - 1) * page_size
            action_rows = session.execute(
                select(ActionRow, CaseRow.stage)
                .join(
                    CaseRow,
                    (CaseRow.partnership == ActionRow.partnership)
                    & (CaseRow.reference == ActionRow.case_reference),
                )
                .where(*overdue_actions, ActionRow.agency == chosen.agency)
                .order_by(ActionRow.due_at, ActionRow.case_reference, ActionRow.action_id)
                .offset(start)
                .limit(page_size)
            ).all()
            task_rows = session.execute(
                select(TaskRow, CaseRow.stage)
                .join(
                    CaseRow,
                    (CaseRow.partnership == TaskRow.partnership)
                    & (CaseRow.reference == TaskRow.case_reference),
                )
                .where(*overdue_tasks, TaskRow.agency == chosen.agency)
                .order_by(TaskRow.due_at, TaskRow.task_id)
                .offset(max(start - chosen.actions, 0))
                .limit(page_size - len(action_rows))  # none on a page full of actions
            ).all()
            work = AgencyOverdue(
                agency=chosen.agency,
                agency_name=chosen.agency_name,
                actions=[action_line(a, stage, names, now) for a, stage in action_rows],
                tasks=[task_line(t, stage, names, None, now) for t, stage in task_rows],
            )
    return OverdueWork(
        agencies=agencies,
        chosen=work,
        page=page,
        pages=pages,
        actions=sum(a.actions for a in agencies),
        tasks=sum(a.tasks for a in agencies),
    )
