"""Reminders and escalations owed by a deadline.

Each notice is written once to the notification outbox (keyed by its idempotency key) with status
``queued``: the record of what was owed to whom and when. Delivery by email and webhook is issue 5's
work, and will read this outbox; until then the outbox and the log are where a notice is seen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import Engine
from temporalio import activity

from activities.read_model import dialect_insert
from safeguarding.contracts import DeadlineNotice
from safeguarding.store import NotificationRow

log = structlog.get_logger(__name__)


class NoticeActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def dispatch_notice(self, notice: DeadlineNotice) -> bool:
        """Called by the case workflow when a reminder or an escalation is owed. True if newly queued."""
        insert = dialect_insert(self.engine, NotificationRow).on_conflict_do_nothing(
            index_elements=["idempotency_key"]
        )
        with self.engine.begin() as connection:
            result = connection.execute(
                insert.returning(NotificationRow.id),
                {
                    "idempotency_key": notice.idempotency_key,
                    "case_reference": notice.case_reference,
                    "kind": notice.kind,
                    "deadline_id": notice.deadline_id,
                    "deadline_key": notice.deadline_key,
                    "recipients": notice.recipients,
                    "owning_agency": notice.owning_agency,
                    "due_at": notice.due_at,
                    "created_at": datetime.now(UTC),
                    "status": "queued",
                },
            )
            queued = result.first() is not None
        log.info(
            f"notice.{notice.kind}",
            case_reference=notice.case_reference,
            deadline=notice.deadline_key,
            due_at=notice.due_at.isoformat(),
            recipients=notice.recipients,
            newly_queued=queued,
        )
        return queued
