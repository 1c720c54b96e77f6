"""What the partnership told whom about a case: each notification, its deliveries, and every attempt.
The API's ``GET /cases/{ref}/notifications`` and the dashboard's case page both show it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from safeguarding.store.tables import AgencyRow, DeliveryAttemptRow, DeliveryRow, NotificationRow


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


def notification_rows(session: Session, partnership: str, reference: str) -> Sequence[Any]:
    """One query: each notification with each of its deliveries and each attempt (a digest's attempts
    are its own delivery's)."""
    tried = func.coalesce(DeliveryRow.digest_id, DeliveryRow.id)
    return session.execute(
        select(NotificationRow, DeliveryRow, DeliveryAttemptRow)
        .outerjoin(DeliveryRow, DeliveryRow.notification_id == NotificationRow.id)
        .outerjoin(DeliveryAttemptRow, DeliveryAttemptRow.delivery_id == tried)
        .where(NotificationRow.partnership == partnership, NotificationRow.case_reference == reference)
        .order_by(NotificationRow.id, DeliveryRow.id, DeliveryAttemptRow.number)
    ).all()


def notifications_of(
    rows: Sequence[Any],
    names: dict[tuple[str, str], str],
    agency: str | None = None,
    directories: list[str] | None = None,
) -> list[Notification]:
    """The rows as notifications; ``agency``: only what went to that agency; ``directories``: only what
    went to entries of these partnerships' directories (a contributing partnership sees its own)."""
    mine = agency is not None or directories is not None
    found: dict[int, Notification] = {}
    deliveries: dict[int, Delivery] = {}
    for note, delivery, attempt in rows:
        if note.id not in found:
            found[note.id] = Notification(
                **{k: getattr(note, k) for k in Notification.model_fields if k != "deliveries"}, deliveries=[]
            )
        if delivery is None or (agency is not None and delivery.agency != agency):
            continue
        if directories is not None and delivery.partnership not in directories:
            continue
        if delivery.id not in deliveries:
            deliveries[delivery.id] = Delivery(
                channel=delivery.channel,
                agency=delivery.agency,
                agency_name=names.get((delivery.partnership, delivery.agency), delivery.agency),
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
    return [n for n in found.values() if not mine or n.deliveries]


def agency_names(bind: Connection | Session, entries: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The directory's names of these entries, by (partnership, code)."""
    if not entries:
        return {}
    codes = sorted({code for _, code in entries})
    rows = bind.execute(
        select(AgencyRow.partnership, AgencyRow.code, AgencyRow.name).where(AgencyRow.code.in_(codes))
    ).all()
    return {(p, code): name for p, code, name in rows if (p, code) in entries}


def case_notifications(
    engine: Engine,
    partnership: str,
    reference: str,
    *,
    agency: str | None = None,
    directories: list[str] | None = None,
) -> list[Notification]:
    """Every notification about the partnership's case, its deliveries and their attempts (only those
    to ``agency``, or to entries of ``directories``, if given)."""
    with Session(engine) as session:
        rows = notification_rows(session, partnership, reference)
        names = agency_names(session, {(d.partnership, d.agency) for _, d, _ in rows if d is not None})
    return notifications_of(rows, names, agency, directories)
