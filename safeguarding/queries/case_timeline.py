"""Everything a member of staff sees of one case on the dashboard: its decisions (who and why), its
deadlines (due against met), tasks, actions and the notifications sent. One query per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.queries.due import LIVE, DueState, due_state
from safeguarding.queries.notifications import Notification, agency_names, notification_rows, notifications_of
from safeguarding.queries.work import ActionLine, TaskLine, action_line, task_line
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

# A step recorded this long after it happened shows when it was recorded too.
RECORDED_LATE = timedelta(minutes=5)

# Events the deadlines table shows better than the timeline does.
QUIET_EVENTS = frozenset({"deadline_opened", "deadline_met"})


class EventLine(BaseModel):
    stream: str
    seq: int
    kind: str
    at: datetime  # when it happened (or was recorded, when no other time is known)
    recorded_at: datetime
    # Recorded after the fact (a dated step, or a case brought in with its history): both times shown.
    recorded_late: bool = False
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


class RecommendationLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recommendation_id: str
    text: str
    source: str


class ReviewLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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
    notifications: list[Notification]


def case_timeline(engine: Engine, partnership: str, reference: str, *, now: datetime) -> CaseTimeline | None:
    """Everything a member of the partnership's staff sees of its case: its decisions (who and why),
    deadlines (due against met), tasks, actions and the notifications sent. One query per table, each
    by the case's key."""
    with Session(engine) as session:
        head = session.execute(
            select(CaseRow, ReviewRow, ActionPlanRow.status)
            .outerjoin(
                ReviewRow,
                (ReviewRow.partnership == CaseRow.partnership)
                & (ReviewRow.case_reference == CaseRow.reference),
            )
            .outerjoin(
                ActionPlanRow,
                (ActionPlanRow.partnership == CaseRow.partnership)
                & (ActionPlanRow.case_reference == CaseRow.reference),
            )
            .where(CaseRow.partnership == partnership, CaseRow.reference == reference)
        ).first()
        if head is None:
            return None
        case_row, review_row, plan_status = head
        rows = _case_rows(session, partnership, reference)
        sent = notification_rows(session, partnership, reference)
        names = agency_names(
            session,
            {(t.agency_partnership, t.agency) for t in rows.tasks}
            | {(partnership, a.agency) for a in rows.actions}
            | {(d.partnership, d.agency) for _, d, _ in sent if d},
        )
    reminders_of = {
        (d.stream, d.subject): d.reminder_times for d in rows.deadlines if d.subject and d.status in LIVE
    }
    return CaseTimeline(
        **{field: getattr(case_row, field) for field in CASE_FIELDS},
        review=None if review_row is None else ReviewLine.model_validate(review_row),
        plan_status=plan_status,
        events=sorted((_event_line(e) for e in rows.events), key=lambda e: (e.at, e.recorded_at)),
        deadlines=[_deadline_line(d, now) for d in rows.deadlines],
        tasks=[
            task_line(t, case_row.stage, names, reminders_of.get((t.stream, t.task_id)), now)
            for t in rows.tasks
        ],
        actions=[action_line(a, case_row.stage, names, now) for a in rows.actions],
        recommendations=[RecommendationLine.model_validate(r) for r in rows.recommendations],
        notifications=notifications_of(sent, names),
    )


CASE_FIELDS = (
    "reference",
    "partnership",
    "policy_version",
    "route",
    "stage",
    "outcome",
    "opened_at",
    "closed_at",
)


@dataclass
class _CaseRows:
    events: Sequence[CaseEventRow]
    deadlines: Sequence[DeadlineRow]
    tasks: Sequence[TaskRow]
    actions: Sequence[ActionRow]
    recommendations: Sequence[RecommendationRow]


def _case_rows(session: Session, partnership: str, reference: str) -> _CaseRows:
    def of_case(table: Any) -> Any:
        return (table.partnership == partnership) & (table.case_reference == reference)

    return _CaseRows(
        events=session.scalars(
            select(CaseEventRow)
            .where(of_case(CaseEventRow), CaseEventRow.kind.not_in(QUIET_EVENTS))
            .order_by(CaseEventRow.id)
        ).all(),
        deadlines=session.scalars(
            select(DeadlineRow)
            .where(of_case(DeadlineRow))
            .order_by(DeadlineRow.due_at, DeadlineRow.stream, DeadlineRow.deadline_id)
        ).all(),
        tasks=session.scalars(
            select(TaskRow)
            .where(of_case(TaskRow), TaskRow.kind != "action")
            .order_by(TaskRow.requested_at, TaskRow.task_id)
        ).all(),
        actions=session.scalars(
            select(ActionRow).where(of_case(ActionRow)).order_by(ActionRow.action_id)
        ).all(),
        recommendations=session.scalars(
            select(RecommendationRow)
            .where(of_case(RecommendationRow))
            .order_by(RecommendationRow.recommendation_id)
        ).all(),
    )


def _event_line(e: CaseEventRow) -> EventLine:
    return EventLine(
        stream=e.stream,
        seq=e.seq,
        kind=e.kind,
        at=e.occurred_at or e.recorded_at,
        recorded_at=e.recorded_at,
        recorded_late=e.occurred_at is not None and e.recorded_at - e.occurred_at > RECORDED_LATE,
        actor_user=e.actor_user,
        actor_role=e.actor_role,
        actor_agency=e.actor_agency,
        reasons=e.reasons,
        details=e.details or {},
    )


def _deadline_line(d: DeadlineRow, now: datetime) -> DeadlineLine:
    return DeadlineLine(
        stream=d.stream,
        key=d.key,
        title=d.title,
        subject=d.subject,
        statutory=d.statutory,
        started_at=d.started_at,
        due_at=d.due_at,
        met_at=d.met_at,
        breached_at=d.breached_at,
        state=due_state(d.due_at, now, status=d.status, met_at=d.met_at, reminder_times=d.reminder_times),
    )
