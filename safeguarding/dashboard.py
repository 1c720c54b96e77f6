"""What the dashboard shows, read from the SQL read model: pure functions returning view models.

Every page runs a fixed number of queries, whatever the number of cases (never one per case, and
never a workflow query). Each query filters on an indexed column (a case reference, an agency, a live
status, a due time compared with a bound value) so that it stays quick on a big partnership.

A deadline's state is computed at read time, as ``safeguarding/listings.py`` does: it is *overdue*
the moment its due time passes, *due soon* once its first reminder time has come (the policy's lead
times, stored on the deadline) and *on track* before that. Work whose deadline carries no reminder
times is due soon within ``DUE_SOON_WITHOUT_REMINDERS`` of its due time.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session

from safeguarding.policy import Policy
from safeguarding.store import (
    ActionPlanRow,
    ActionRow,
    AgencyRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    DeliveryRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

LIVE = ("open", "overdue")  # a deadline not yet met nor cancelled
OPEN_ACTION = "open"
DUE_SOON_WITHOUT_REMINDERS = timedelta(days=2)
PAGE_SIZE = 50

# The yearly report's timeliness measures: the deadline that records each, and what it is called.
TIMELINESS_MEASURES: dict[str, str] = {
    "rapid_review_to_panel": "Rapid reviews sent to the Panel within {due}",
    "cspr_completion": "Local CSPRs completed and published within {due}",
}
# Events the deadlines table shows better than the timeline does.
QUIET_EVENTS = frozenset({"deadline_opened", "deadline_met"})


class DueState(StrEnum):
    on_track = "on_track"
    due_soon = "due_soon"
    overdue = "overdue"
    met = "met"
    met_late = "met_late"
    cancelled = "cancelled"
    done = "done"  # work completed or withdrawn: no deadline left to watch


def due_state(
    due_at: datetime | None,
    now: datetime,
    *,
    status: str = "open",
    met_at: datetime | None = None,
    reminder_times: list[str] | None = None,
) -> DueState | None:
    """The state of one deadline (or piece of work with a due time) at ``now``."""
    if status == "cancelled":
        return DueState.cancelled
    if met_at is not None:
        return DueState.met if due_at is None or met_at <= due_at else DueState.met_late
    if status not in LIVE:
        return DueState.done
    if due_at is None:
        return None
    if due_at < now:
        return DueState.overdue
    reminders = [datetime.fromisoformat(t) for t in reminder_times or []]
    soon_from = min(reminders) if reminders else due_at - DUE_SOON_WITHOUT_REMINDERS
    return DueState.due_soon if now >= soon_from else DueState.on_track


# ---------------------------------------------------------------- the cases


class NextDeadline(BaseModel):
    key: str
    title: str
    due_at: datetime
    state: DueState


class CaseLine(BaseModel):
    reference: str
    partnership: str
    stage: str
    route: str
    opened_at: datetime
    closed_at: datetime | None
    next_deadline: NextDeadline | None


class CaseList(BaseModel):
    cases: list[CaseLine]
    total: int
    overdue: int  # cases (of the filter) whose next deadline has passed
    page: int
    pages: int
    stage: str | None


def case_list(
    engine: Engine, *, now: datetime, stage: str | None = None, page: int = 1, page_size: int = PAGE_SIZE
) -> CaseList:
    """Cases with their next live deadline (of any of the case's workflows), soonest first; cases with
    nothing due come last. One query: the live deadlines (few, by the status index) ranked per case."""
    ranked = (
        select(
            DeadlineRow.case_reference,
            DeadlineRow.key,
            DeadlineRow.title,
            DeadlineRow.due_at,
            DeadlineRow.reminder_times,
            func.row_number()
            .over(
                partition_by=DeadlineRow.case_reference,
                order_by=(DeadlineRow.due_at, DeadlineRow.stream, DeadlineRow.deadline_id),
            )
            .label("rank"),
        )
        .where(DeadlineRow.status.in_(LIVE))
        .subquery("live")
    )
    next_due = ranked.c.due_at
    query = (
        select(
            CaseRow.reference,
            CaseRow.partnership,
            CaseRow.stage,
            CaseRow.route,
            CaseRow.opened_at,
            CaseRow.closed_at,
            ranked.c.key,
            ranked.c.title,
            next_due,
            ranked.c.reminder_times,
            func.count().over().label("total"),
            func.sum(case((next_due < now, 1), else_=0)).over().label("overdue"),
        )
        .outerjoin(ranked, and_(ranked.c.case_reference == CaseRow.reference, ranked.c.rank == 1))
        .order_by(next_due.is_(None), next_due, CaseRow.reference)
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    if stage:
        query = query.where(CaseRow.stage == stage)
    with Session(engine) as session:
        rows = session.execute(query).all()
    if not rows and page > 1:  # past the last page (the list shrank): show the first
        return case_list(engine, now=now, stage=stage, page=1, page_size=page_size)
    total = rows[0].total if rows else 0
    lines = [
        CaseLine(
            reference=row.reference,
            partnership=row.partnership,
            stage=row.stage,
            route=row.route,
            opened_at=row.opened_at,
            closed_at=row.closed_at,
            next_deadline=None
            if row.due_at is None
            else NextDeadline(
                key=row.key,
                title=row.title,
                due_at=row.due_at,
                state=due_state(row.due_at, now, reminder_times=row.reminder_times),  # type: ignore[arg-type]
            ),
        )
        for row in rows
    ]
    return CaseList(
        cases=lines,
        total=total,
        overdue=int(rows[0].overdue or 0) if rows else 0,
        page=max(page, 1),
        pages=max(ceil(total / page_size), 1),
        stage=stage,
    )


# ---------------------------------------------------------------- this year's timeliness


class TimelinessMeasure(BaseModel):
    key: str
    label: str  # "Rapid reviews sent to the Panel within 15 working days"
    counted: int  # met in the year, or missed (due in the year and not met)
    on_time: int

    @property
    def percent(self) -> int | None:
        return None if self.counted == 0 else round(100 * self.on_time / self.counted)


class Timeliness(BaseModel):
    partnership: str
    name: str
    year_starts: date
    year_ends: date  # inclusive
    measures: list[TimelinessMeasure]


def reporting_year(policy: Policy, now: datetime) -> tuple[datetime, datetime]:
    """The partnership's reporting year holding ``now`` (from ``reports.reporting_year_starts``, 1 April
    by default), as UTC instants: its first moment and the first moment of the next."""
    zone = ZoneInfo(policy.timezone)
    starts = policy.reports.reporting_year_starts if policy.reports else "04-01"
    month, day = (int(part) for part in starts.split("-"))
    today = now.astimezone(zone).date()
    year = today.year if (today.month, today.day) >= (month, day) else today.year - 1
    start = datetime(year, month, day, tzinfo=zone)
    end = datetime(year + 1, month, day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def timeliness(engine: Engine, policies: dict[str, Policy], *, now: datetime) -> list[Timeliness]:
    """Per partnership, this reporting year's share of each measure's deadlines met on time.

    A deadline counts in the year its outcome became known: when it was met, or, never met, when it fell
    due. It is on time when met on or before its due time. Deadlines cancelled, or not yet due, do not
    count. One query for every partnership.
    """
    if not policies:
        return []
    years = {name: reporting_year(policy, now) for name, policy in policies.items()}
    earliest = min(start for start, _ in years.values())
    latest = max(end for _, end in years.values())
    query = (
        select(CaseRow.partnership, DeadlineRow.key, DeadlineRow.due_at, DeadlineRow.met_at)
        .join(CaseRow, CaseRow.reference == DeadlineRow.case_reference)
        .where(
            DeadlineRow.key.in_(list(TIMELINESS_MEASURES)),
            DeadlineRow.status != "cancelled",
            or_(
                and_(DeadlineRow.met_at >= earliest, DeadlineRow.met_at < latest),
                and_(DeadlineRow.met_at.is_(None), DeadlineRow.due_at >= earliest, DeadlineRow.due_at < now),
            ),
        )
    )
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with Session(engine) as session:
        for partnership, key, due_at, met_at in session.execute(query):
            if partnership not in years:
                continue
            start, end = years[partnership]
            known = start <= met_at < end if met_at is not None else start <= due_at < min(end, now)
            if not known:
                continue
            counts = tally[(partnership, key)]
            counts[0] += 1
            counts[1] += met_at is not None and met_at <= due_at
    result = []
    for name, policy in sorted(policies.items()):
        start, end = years[name]
        zone = ZoneInfo(policy.timezone)
        measures = [
            TimelinessMeasure(
                key=key,
                label=label.format(due=policy.deadlines[key].due),
                counted=tally[(name, key)][0],
                on_time=tally[(name, key)][1],
            )
            for key, label in TIMELINESS_MEASURES.items()
            if key in policy.deadlines
        ]
        result.append(
            Timeliness(
                partnership=name,
                name=policy.name,
                year_starts=start.astimezone(zone).date(),
                year_ends=end.astimezone(zone).date() - timedelta(days=1),
                measures=measures,
            )
        )
    return result


# ---------------------------------------------------------------- one case, for staff


class EventLine(BaseModel):
    stream: str
    seq: int
    kind: str
    at: datetime  # when it happened (or was recorded, when no other time is known)
    recorded_at: datetime
    actor_user: str | None
    actor_role: str | None
    actor_agency: str | None
    reasons: str | None
    details: dict[str, Any]


class DeadlineLine(BaseModel):
    stream: str
    key: str
    title: str
    subject: str | None
    statutory: bool
    started_at: datetime
    due_at: datetime
    met_at: datetime | None
    breached_at: datetime | None
    state: DueState | None


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


class RecommendationLine(BaseModel):
    recommendation_id: str
    text: str
    source: str


class DeliveryLine(BaseModel):
    agency: str
    agency_name: str
    channel: str
    address: str
    status: str
    sent_at: datetime | None
    attempts: int
    last_error: str | None


class NotificationLine(BaseModel):
    kind: str
    title: str | None
    created_at: datetime
    due_at: datetime | None
    status: str
    deliveries: list[DeliveryLine]


class ReviewLine(BaseModel):
    kind: str
    stage: str
    paused: bool
    due_at: datetime | None
    publication_date: date | None
    outcome: str | None


class CaseTimeline(BaseModel):
    reference: str
    partnership: str
    policy_version: str
    route: str
    stage: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    review: ReviewLine | None
    plan_status: str | None
    events: list[EventLine]
    deadlines: list[DeadlineLine]
    tasks: list[TaskLine]
    actions: list[ActionLine]
    recommendations: list[RecommendationLine]
    notifications: list[NotificationLine]


def _agency_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(AgencyRow.code, AgencyRow.name).where(AgencyRow.code.in_(sorted(codes))))
    return {code: name for code, name in rows}


def case_timeline(engine: Engine, reference: str, *, now: datetime) -> CaseTimeline | None:
    """Everything a member of staff sees of a case: its decisions (who and why), deadlines (due against
    met), tasks, actions and the notifications sent. One query per table, each by the case reference."""
    with Session(engine) as session:
        head = session.execute(
            select(CaseRow, ReviewRow, ActionPlanRow.status)
            .outerjoin(ReviewRow, ReviewRow.case_reference == CaseRow.reference)
            .outerjoin(ActionPlanRow, ActionPlanRow.case_reference == CaseRow.reference)
            .where(CaseRow.reference == reference)
        ).first()
        if head is None:
            return None
        case_row, review_row, plan_status = head
        events = session.scalars(
            select(CaseEventRow)
            .where(CaseEventRow.case_reference == reference, CaseEventRow.kind.not_in(QUIET_EVENTS))
            .order_by(CaseEventRow.id)
        ).all()
        deadlines = session.scalars(
            select(DeadlineRow)
            .where(DeadlineRow.case_reference == reference)
            .order_by(DeadlineRow.due_at, DeadlineRow.stream, DeadlineRow.deadline_id)
        ).all()
        tasks = session.scalars(
            select(TaskRow)
            .where(TaskRow.case_reference == reference, TaskRow.kind != "action")
            .order_by(TaskRow.requested_at, TaskRow.task_id)
        ).all()
        actions = session.scalars(
            select(ActionRow).where(ActionRow.case_reference == reference).order_by(ActionRow.action_id)
        ).all()
        recommendations = session.scalars(
            select(RecommendationRow)
            .where(RecommendationRow.case_reference == reference)
            .order_by(RecommendationRow.recommendation_id)
        ).all()
        sent = session.execute(
            select(NotificationRow, DeliveryRow)
            .outerjoin(DeliveryRow, DeliveryRow.notification_id == NotificationRow.id)
            .where(NotificationRow.case_reference == reference)
            .order_by(NotificationRow.id, DeliveryRow.id)
        ).all()
        names = _agency_names(
            session,
            {t.agency for t in tasks} | {a.agency for a in actions} | {d.agency for _, d in sent if d},
        )
    reminders_of = {
        (d.stream, d.subject): d.reminder_times for d in deadlines if d.subject and d.status in LIVE
    }
    notifications: dict[int, NotificationLine] = {}
    for notification, delivery in sent:
        line = notifications.setdefault(
            notification.id,
            NotificationLine(
                kind=notification.kind,
                title=notification.title,
                created_at=notification.created_at,
                due_at=notification.due_at,
                status=notification.status,
                deliveries=[],
            ),
        )
        if delivery is not None:
            line.deliveries.append(
                DeliveryLine(
                    agency=delivery.agency,
                    agency_name=names.get(delivery.agency, delivery.agency),
                    channel=delivery.channel,
                    address=delivery.address,
                    status=delivery.status,
                    sent_at=delivery.sent_at,
                    attempts=delivery.attempts,
                    last_error=delivery.last_error,
                )
            )
    event_lines = [
        EventLine(
            stream=e.stream,
            seq=e.seq,
            kind=e.kind,
            at=e.occurred_at or e.recorded_at,
            recorded_at=e.recorded_at,
            actor_user=e.actor_user,
            actor_role=e.actor_role,
            actor_agency=e.actor_agency,
            reasons=e.reasons,
            details=e.details or {},
        )
        for e in events
    ]
    event_lines.sort(key=lambda e: (e.at, e.recorded_at))
    return CaseTimeline(
        reference=case_row.reference,
        partnership=case_row.partnership,
        policy_version=case_row.policy_version,
        route=case_row.route,
        stage=case_row.stage,
        outcome=case_row.outcome,
        opened_at=case_row.opened_at,
        closed_at=case_row.closed_at,
        review=None
        if review_row is None
        else ReviewLine(
            kind=review_row.kind,
            stage=review_row.stage,
            paused=review_row.paused,
            due_at=review_row.due_at,
            publication_date=review_row.publication_date,
            outcome=review_row.outcome,
        ),
        plan_status=plan_status,
        events=event_lines,
        deadlines=[
            DeadlineLine(
                stream=d.stream,
                key=d.key,
                title=d.title,
                subject=d.subject,
                statutory=d.statutory,
                started_at=d.started_at,
                due_at=d.due_at,
                met_at=d.met_at,
                breached_at=d.breached_at,
                state=due_state(
                    d.due_at, now, status=d.status, met_at=d.met_at, reminder_times=d.reminder_times
                ),
            )
            for d in deadlines
        ],
        tasks=[
            _task_line(t, case_row.stage, names, reminders_of.get((t.stream, t.task_id)), now) for t in tasks
        ],
        actions=[_action_line(a, case_row.stage, names, now) for a in actions],
        recommendations=[
            RecommendationLine(recommendation_id=r.recommendation_id, text=r.text, source=r.source)
            for r in recommendations
        ],
        notifications=list(notifications.values()),
    )


def _task_line(
    task: TaskRow, stage: str, names: dict[str, str], reminder_times: list[str] | None, now: datetime
) -> TaskLine:
    return TaskLine(
        task_id=task.task_id,
        case_reference=task.case_reference,
        case_stage=stage,
        agency=task.agency,
        agency_name=names.get(task.agency, task.agency),
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


def _action_line(action: ActionRow, stage: str, names: dict[str, str], now: datetime) -> ActionLine:
    return ActionLine(
        case_reference=action.case_reference,
        case_stage=stage,
        action_id=action.action_id,
        agency=action.agency,
        agency_name=names.get(action.agency, action.agency),
        description=action.description,
        recommendation_id=action.recommendation_id,
        due_at=action.due_at,
        status=action.status,
        completed_at=action.completed_at,
        escalations_sent=action.escalations_sent,
        state=due_state(action.due_at, now, status="open" if action.status == OPEN_ACTION else "done"),
    )


# ---------------------------------------------------------------- a partner agency's own work


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


def agency_work(engine: Engine, agency: str, *, now: datetime, reference: str | None = None) -> AgencyWork:
    """The agency's tasks (soonest due first, open work before finished) and actions, on every case or
    on one. By the agency index; one query per table."""
    task_query = (
        select(TaskRow, CaseRow.stage, DeadlineRow.reminder_times)
        .join(CaseRow, CaseRow.reference == TaskRow.case_reference)
        .outerjoin(
            DeadlineRow,
            and_(
                DeadlineRow.case_reference == TaskRow.case_reference,
                DeadlineRow.stream == TaskRow.stream,
                DeadlineRow.subject == TaskRow.task_id,
                DeadlineRow.status.in_(LIVE),
            ),
        )
        .where(TaskRow.agency == agency, TaskRow.kind != "action")
        .order_by(TaskRow.status != "open", TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.task_id)
    )
    action_query = (
        select(ActionRow, CaseRow.stage)
        .join(CaseRow, CaseRow.reference == ActionRow.case_reference)
        .where(ActionRow.agency == agency)
        .order_by(
            ActionRow.status != OPEN_ACTION, ActionRow.due_at, ActionRow.case_reference, ActionRow.action_id
        )
    )
    if reference is not None:
        task_query = task_query.where(TaskRow.case_reference == reference)
        action_query = action_query.where(ActionRow.case_reference == reference)
    with Session(engine) as session:
        task_rows = session.execute(task_query).all()
        action_rows = session.execute(action_query).all()
        names = _agency_names(session, {agency})
    tasks: dict[str, TaskLine] = {}
    for task, stage, reminder_times in task_rows:  # a task has at most one live deadline
        tasks.setdefault(task.task_id, _task_line(task, stage, names, reminder_times, now))
    return AgencyWork(
        agency=agency,
        agency_name=names.get(agency, agency),
        tasks=list(tasks.values()),
        actions=[_action_line(action, stage, names, now) for action, stage in action_rows],
    )


# ---------------------------------------------------------------- overdue work, by agency


class AgencyOverdue(BaseModel):
    agency: str
    agency_name: str
    actions: list[ActionLine]
    tasks: list[TaskLine]


def overdue_by_agency(engine: Engine, *, now: datetime) -> list[AgencyOverdue]:
    """Open actions and tasks past their due time, grouped by the agency that owns them, the agencies
    with the most first. By the due-time and status indexes: only overdue rows are read."""
    with Session(engine) as session:
        action_rows = session.execute(
            select(ActionRow, CaseRow.stage)
            .join(CaseRow, CaseRow.reference == ActionRow.case_reference)
            .where(ActionRow.status == OPEN_ACTION, ActionRow.due_at < now)
            .order_by(ActionRow.due_at, ActionRow.case_reference, ActionRow.action_id)
        ).all()
        task_rows = session.execute(
            select(TaskRow, CaseRow.stage)
            .join(CaseRow, CaseRow.reference == TaskRow.case_reference)
            .where(TaskRow.status == "open", TaskRow.due_at < now, TaskRow.kind != "action")
            .order_by(TaskRow.due_at, TaskRow.task_id)
        ).all()
        names = _agency_names(session, {a.agency for a, _ in action_rows} | {t.agency for t, _ in task_rows})
    grouped: dict[str, AgencyOverdue] = {}

    def group(agency: str) -> AgencyOverdue:
        return grouped.setdefault(
            agency, AgencyOverdue(agency=agency, agency_name=names.get(agency, agency), actions=[], tasks=[])
        )

    for action, stage in action_rows:
        group(action.agency).actions.append(_action_line(action, stage, names, now))
    for task, stage in task_rows:
        group(task.agency).tasks.append(_task_line(task, stage, names, None, now))
    return sorted(grouped.values(), key=lambda g: (-(len(g.actions) + len(g.tasks)), g.agency_name))
