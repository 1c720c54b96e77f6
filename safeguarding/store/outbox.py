"""The outbox: what someone must hear of, written in the same transaction as the change that caused it.

A notification is keyed by its event, so a retried activity or a replayed workflow finds it already
there and adds nothing. When it is first written, its deliveries are planned from the partner
directory: one per mailbox (held for the daily digest if the agency asked for one) and one to the
agency's webhook. Sending is the delivery workflow's work (``workflows/delivery.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from safeguarding.domain.delivery import address_key
from safeguarding.domain.notices import Notice
from safeguarding.domain.partnerships import current
from safeguarding.store.directory import recipients
from safeguarding.store.engine import dialect_insert
from safeguarding.store.tables import DeliveryRow, NotificationRow


def queue(connection: Connection, notice: Notice, now: datetime, *, default_partnership: str) -> int | None:
    """Write the notification, filed under the partnership it concerns, and plan its deliveries from
    that partnership's directory (a contributing partnership's, for its own tasks); None if it was
    written before. ``default_partnership``: for a notice from a run begun before partnerships were
    kept apart."""
    partnership = current(notice.partnership or default_partnership)
    directory = notice.recipients_in or partnership
    inserted = connection.execute(
        dialect_insert(connection, NotificationRow)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(NotificationRow.id),
        {
            "idempotency_key": notice.key,
            "partnership": partnership,
            "case_reference": notice.case_reference,
            "kind": notice.kind.value,
            "deadline_id": notice.deadline_id,
            "deadline_key": notice.deadline_key,
            "recipients": notice.recipients,
            "owning_agency": notice.owning_agency,
            "due_at": notice.due_at,
            "created_at": now,
            "status": "queued",
            "stream": notice.stream,
            "task_id": notice.task_id,
            "title": notice.title,
            "asked": notice.asked,
            "number": notice.number,
        },
    ).first()
    if inserted is None:
        return None
    notification_id = inserted[0]
    found = recipients(connection, directory, notice.recipients, notice.owning_agency)
    rows = _deliveries(notification_id, notice.key, directory, found, now)
    if rows:
        connection.execute(
            dialect_insert(connection, DeliveryRow).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            ),
            rows,
        )
    else:
        connection.execute(
            update(NotificationRow)
            .where(NotificationRow.id == notification_id)
            .values(status="no_recipients")
        )
    return notification_id


def _deliveries(
    notification_id: int, key: str, partnership: str, agencies: list[Any], now: datetime
) -> list[dict[str, Any]]:
    rows = []
    for agency in agencies:
        channels = [("email", mailbox) for mailbox in agency.mailboxes]
        if agency.webhook_url and agency.webhook_secret:
            channels.append(("webhook", agency.webhook_url))
        for channel, address in channels:
            rows.append(
                {
                    "idempotency_key": f"{key}|{channel}|{agency.code}|{address_key(address)}",
                    "notification_id": notification_id,
                    "digest_id": None,
                    "channel": channel,
                    "partnership": partnership,
                    "agency": agency.code,
                    "address": address,
                    # Machines get every event at once; people on the digest get it the next morning.
                    "status": "digest" if channel == "email" and agency.digest else "pending",
                    "created_at": now,
                    "sent_at": None,
                    "attempts": 0,
                    "last_error": None,
                    "started": False,
                }
            )
    return rows
