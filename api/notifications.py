"""What the partnership told whom about a case: each notification, its deliveries, and every attempt."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine, select

from api.access import AGENCY, EVERYONE, allow
from api.dependencies import EngineDep
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.store.tables import CaseRow, DeliveryAttemptRow, DeliveryRow, NotificationRow

router = APIRouter(tags=["notifications"])


class Attempt(BaseModel):
    number: int
    at: datetime
    outcome: str
    detail: str


class Delivery(BaseModel):
    channel: str
    agency: str
    address: str
    status: str  # pending, sent, failed; digest (held for the daily digest)
    sent_at: datetime | None
    attempts: list[Attempt]


class Notification(BaseModel):
    kind: str
    title: str | None
    task_id: str | None
    due_at: datetime | None
    number: int | None
    recipients: list[str]
    created_at: datetime
    status: str  # queued, or no_recipients: nobody in the directory to tell
    deliveries: list[Delivery]


def case_notifications(engine: Engine, reference: str, agency: str | None) -> list[Notification] | None:
    with engine.connect() as connection:
        if (
            connection.execute(select(CaseRow.reference).where(CaseRow.reference == reference)).first()
            is None
        ):
            return None
        notes = connection.execute(
            select(NotificationRow.__table__)
            .where(NotificationRow.case_reference == reference)
            .order_by(NotificationRow.id)
        ).all()
        deliveries = connection.execute(
            select(DeliveryRow.__table__)
            .join(NotificationRow, NotificationRow.id == DeliveryRow.notification_id)
            .where(NotificationRow.case_reference == reference)
            .order_by(DeliveryRow.id)
        ).all()
        attempts = connection.execute(
            select(DeliveryAttemptRow.__table__)
            .where(
                DeliveryAttemptRow.delivery_id.in_(
                    [d.id for d in deliveries] + [d.digest_id for d in deliveries if d.digest_id] or [-1]
                )
            )
            .order_by(DeliveryAttemptRow.delivery_id, DeliveryAttemptRow.number)
        ).all()
    tries = defaultdict(list)
    for attempt in attempts:
        tries[attempt.delivery_id].append(Attempt(**attempt._mapping))
    by_notification = defaultdict(list)
    for d in deliveries:
        if agency is None or d.agency == agency:
            by_notification[d.notification_id].append(
                Delivery(
                    channel=d.channel,
                    agency=d.agency,
                    address=d.address,
                    status=d.status,
                    sent_at=d.sent_at,
                    attempts=tries[d.digest_id or d.id],
                )
            )
    return [
        Notification(
            **{k: v for k, v in n._mapping.items() if k in Notification.model_fields},
            deliveries=by_notification[n.id],
        )
        for n in notes
        if agency is None or by_notification[n.id]
    ]


@router.get(
    "/cases/{reference}/notifications",
    response_model=list[Notification],
    summary="Notifications about a case and every delivery attempt (an agency sees its own)",
)
async def get_case_notifications(
    reference: Annotated[str, Path(pattern=CASE_REFERENCE_PATTERN)],
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> list[Notification]:
    agency = actor.agency if actor.role is AGENCY else None
    found = await run_in_threadpool(case_notifications, engine, reference, agency)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {reference}")
    return found
