"""What the partnership told whom about a case: each notification, its deliveries, and every attempt.
The API's ``GET /cases/{ref}/notifications`` and the dashboard's case page both show it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from safeguarding.store.tables import AgencyRow, CaseRow, DeliveryAttemptRow, DeliveryRow, NotificationRow


class Attempt(BaseModel):
    number: int
    at: datetime
    outcome: str
    detail: str


class Delivery(BaseModel):
    channel: str
    agency: str
    agency_name: str = ""
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


def notification_rows(session: Session, reference: str) -> Sequence[Any]:
    """One query: each notification with each of its deliveries and each attempt (a digest's attempts
    are its own delivery's)."""
    tried = func.coalesce(DeliveryRow.digest_id, DeliveryRow.id)
    return session.execute(
        select(NotificationRow, DeliveryRow, DeliveryAttemptRow)
        .outerjoin(DeliveryRow, DeliveryRow.notification_id == NotificationRow.id)
        .outerjoin(DeliveryAttemptRow, DeliveryAttemptRow.delivery_id == tried)
        .where(NotificationRow.case_reference == reference)
        .order_by(NotificationRow.id, DeliveryRow.id, DeliveryAttemptRow.number)
    ).all()


def notifications_of(rows: Sequence[Any], names: dict[str, str], agency: str | None) -> list[Notification]:
    """The rows as notifications; ``agency``: only what went to that agency."""
    found: dict[int, Notification] = {}
    deliveries: dict[int, Delivery] = {}
    for note, delivery, attempt in rows:
        if note.id not in found:
            found[note.id] = Notification(
                **{k: getattr(note, k) for k in Notification.model_fields if k != "deliveries"}, deliveries=[]
            )
        if delivery is None or (agency is not None and delivery.agency != agency):
            continue
        if delivery.id not in deliveries:
            deliveries[delivery.id] = Delivery(
                channel=delivery.channel,
                agency=delivery.agency,
                agency_name=names.get(delivery.agency, delivery.agency),
                address=delivery.address,
                status=delivery.status,
                sent_at=delivery.sent_at,
                attempts=[],
            )
            found[note.id].deliveries.append(deliveries[delivery.id])
        if attempt is not None:
            deliveries[delivery.id].attempts.append(
                Attempt(number=attempt.number, at=attempt.at, outcome=attempt.outcome, detail=attempt.detail)
            )
    return [n for n in found.values() if agency is None or n.deliveries]


def agency_names(bind: Connection | Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(
        bind.execute(select(AgencyRow.code, AgencyRow.name).where(AgencyRow.code.in_(sorted(codes)))).all()
    )


def case_notifications(engine: Engine, reference: str, agency: str | None) -> list[Notification] | None:
    """Every notification about the case, its deliveries and their attempts; None if there is no case."""
    with Session(engine) as session:
        if session.get(CaseRow, reference) is None:
            return None
        rows = notification_rows(session, reference)
        names = agency_names(session, {d.agency for _, d, _ in rows if d is not None})
    return notifications_of(rows, names, agency)
