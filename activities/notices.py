"""Reminders and escalations owed by a deadline.

Each notice is written once to the outbox (keyed by its idempotency key) with its deliveries planned from
the partner directory, then the deliveries are started (``workflows/delivery.py``). A retried or replayed
call finds the notice written and adds nothing; deliveries not yet started are started again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import Engine, select
from temporalio import activity

from activities.delivery import DeliveryStarter
from safeguarding.domain.contracts import DeadlineNotice
from safeguarding.domain.notices import Notice
from safeguarding.domain.partnerships import FIRST_PARTNERSHIP, current
from safeguarding.domain.record import Stream
from safeguarding.store import outbox
from safeguarding.store.tables import TaskRow

log = structlog.get_logger(__name__)


class NoticeActivities:
    def __init__(self, engine: Engine, postroom: DeliveryStarter | None = None) -> None:
        self.engine = engine
        self.postroom = postroom

    @activity.defn
    def dispatch_notice(self, notice: DeadlineNotice) -> bool:
        """Called by the case workflow when a reminder or an escalation is owed. True if newly queued."""
        partnership = current(notice.partnership or FIRST_PARTNERSHIP)
        with self.engine.begin() as connection:
            asked = None
            if notice.subject is not None:  # a task's deadline: say again what is asked
                asked = connection.execute(
                    select(TaskRow.asked_for).where(
                        TaskRow.partnership == partnership, TaskRow.task_id == notice.subject
                    )
                ).scalar_one_or_none()
            queued = (
                outbox.queue(
                    connection,
                    Notice(
                        key=notice.idempotency_key,
                        partnership=partnership,
                        recipients_in=notice.recipients_in,
                        case_reference=notice.case_reference,
                        kind=notice.kind,
                        recipients=notice.recipients,
                        owning_agency=notice.owning_agency,
                        title=notice.deadline_title,
                        stream=stream_of(notice.idempotency_key.split(":", 1)[0]),
                        task_id=notice.subject,
                        asked=asked,
                        due_at=notice.due_at,
                        deadline_id=notice.deadline_id,
                        deadline_key=notice.deadline_key,
                        number=_number(notice.idempotency_key),
                    ),
                    datetime.now(UTC),
                    default_partnership=partnership,
                )
                is not None
            )
        if self.postroom is not None:
            self.postroom.start_pending(partnership, notice.case_reference)
        log.info(
            f"notice.{notice.kind}",
            partnership=partnership,
            case_reference=notice.case_reference,
            deadline=notice.deadline_key,
            due_at=notice.due_at.isoformat(),
            recipients=notice.recipients,
            newly_queued=queued,
        )
        return queued


def _number(key: str) -> int | None:
    """Which reminder or escalation tier: the key is ``<workflow id>:<deadline>:<kind>:<number>``."""
    last = key.rsplit(":", 1)[-1]
    return int(last) if last.isdigit() else None


def stream_of(workflow_id: str) -> str:
    """The stream a workflow id names: ``<partnership>/case-<ref>`` (or, before partnerships,
    ``case-<ref>``) is the case's; a child adds ``/review`` or ``/plan``."""
    last = workflow_id.rsplit("/", 1)[-1]
    return last if last in (Stream.review.value, Stream.plan.value) else Stream.case.value
