"""Everything a member of staff sees of one case on the dashboard: its decisions (who and why), its
deadlines (due against met), tasks, actions and the notifications sent. One query per table.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.queries.due import LIVE, DueState, due_state
from safeguarding.queries.work import ActionLine, TaskLine, _action_line, _agency_names, _task_line
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    DeliveryRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
    TaskRow,
)

# Events the deadlines table shows better than the timeline does.
QUIET_EVENTS = frozenset({"deadline_opened", "deadline_met"})


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
