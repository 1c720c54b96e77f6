"""The outbox: what someone must hear of, written in the same transaction as the change that caused it.

A notification is keyed by its event (a task assigned, re-dated or withdrawn; a reminder; an escalation
tier), so a retried activity or a replayed workflow finds it already there and adds nothing. When it is
first written, its deliveries are planned from the partner directory: one per mailbox (held for the daily
digest if the agency asked for one) and one to the agency's webhook. Sending is the delivery workflow's
work (``workflows/delivery.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, update

from safeguarding.case import CaseEvent, Task, TaskStatus
from safeguarding.directory import OWNING_AGENCY, recipients
from safeguarding.store import DeliveryRow, NotificationRow, dialect_insert

# Decisions someone must act on, from the events that record them: who hears, and what is asked.
DECISIONS: dict[str, tuple[list[str], str, str]] = {
    "recommendation_made": (
        ["safeguarding_partner"],
        "Sign-off needed: the rapid review's recommendation",
        "The JCRG has made its recommendation: each safeguarding partner signs it off or returns it.",
    ),
    "recommendation_revised": (
        ["safeguarding_partner"],
        "Sign-off needed: the rapid review's revised recommendation",
        "The JCRG has revised its recommendation: each safeguarding partner signs it off or returns it.",
    ),
    "recommendation_returned": (
        ["jcrg_chair", "business_unit"],
        "Returned by a partner: the rapid review's recommendation",
        "A safeguarding partner did not agree: the JCRG reconsiders its recommendation.",
    ),
    "draft_received": (
        ["safeguarding_partner"],
        "Approval needed: the review's draft report",
        "The draft report has arrived: each safeguarding partner approves it.",
    ),
}

TASK_NOTICES = ("task_assigned", "task_redated", "task_withdrawn", "task_completed")
TASK_TITLES = {
    "information_return": "Information for the rapid review",
    "action": "Action from the action plan",
    "checkpoint": "Monitoring checkpoint",
    "review_duty": "Duty of the local partners in a national review",
}


@dataclass
class Notice:
    key: str
    case_reference: str
    kind: str  # task_assigned | task_redated | task_withdrawn | task_completed | decision | reminder | escalation
    recipients: list[str]  # the policy's names: roles, or owning_agency
    owning_agency: str | None
    title: str
    stream: str | None = None
    task_id: str | None = None
    asked: str | None = None
    due_at: datetime | None = None
    deadline_id: str | None = None
    deadline_key: str | None = None
    number: int | None = None


def address_key(address: str) -> str:
    """A mailbox or URL as a short fixed-length part of a key (they can run to 254 and 500 characters)."""
    return sha256(address.encode()).hexdigest()[:20]


def workflow_key(delivery_key: str) -> str:
    """The delivery workflow's id: derived from the delivery's key, so that one delivery is one workflow
    however often it is started, and nothing about the case or the recipient shows in it."""
    return f"delivery-{sha256(delivery_key.encode()).hexdigest()[:32]}"


def queue(connection: Connection, notice: Notice, now: datetime) -> int | None:
    """Write the notification and plan its deliveries; None if it was written before."""
    inserted = connection.execute(
        dialect_insert(connection, NotificationRow)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(NotificationRow.id),
        {
            "idempotency_key": notice.key,
            "case_reference": notice.case_reference,
            "kind": notice.kind,
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
    rows = _deliveries(
        notification_id, notice.key, recipients(connection, notice.recipients, notice.owning_agency), now
    )
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


def _deliveries(notification_id: int, key: str, agencies: list[Any], now: datetime) -> list[dict[str, Any]]:
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


def task_notices(
    reference: str,
    workflow_id: str,
    stream: str,
    told: dict[str, tuple[list[str], datetime | None]],
    tasks: list[Task],
    settled: bool,
) -> list[Notice]:
    """What the agencies must now hear of about a stream's tasks, given what they were told already
    (``told``: per task, the kinds of notice sent and the last due date given): a task assigned, its due
    date set or moved, a task withdrawn, a task closed by someone else. A task is announced once its due date is known, or, if it has
    none, once no step is half-way (``settled``): its due date may be on its way."""
    notices = []
    for task in tasks:
        common = {
            "case_reference": reference,
            "recipients": [OWNING_AGENCY],
            "owning_agency": task.agency,
            "title": TASK_TITLES.get(task.kind, task.kind),
            "stream": stream,
            "task_id": task.id,
            "asked": task.asked_for,
            "due_at": task.due_at,
        }
        if task.id not in told:
            if task.status is TaskStatus.open and (task.due_at is not None or settled):
                notices.append(
                    Notice(key=f"{workflow_id}:{task.id}:assigned", kind="task_assigned", **common)
                )
            continue
        kinds, last_due = told[task.id]
        if task.status is TaskStatus.withdrawn and "task_withdrawn" not in kinds:
            notices.append(Notice(key=f"{workflow_id}:{task.id}:withdrawn", kind="task_withdrawn", **common))
        elif (
            task.status is TaskStatus.completed
            and "task_completed" not in kinds
            and task.completed_by is not None
            and task.completed_by.agency != task.agency
            and task.completed_by.role.value != task.agency  # a role's own task, closed by that role
        ):
            # Closed by someone else (the JCRG signing an action off, the Business Unit recording a
            # return sent another way): the agency learns that nothing more is asked.
            notices.append(Notice(key=f"{workflow_id}:{task.id}:completed", kind="task_completed", **common))
        elif task.status is TaskStatus.open and task.due_at is not None and task.due_at != last_due:
            moved = kinds.count("task_redated")  # A to B and back to A is two changes, two notices
            notices.append(
                Notice(key=f"{workflow_id}:{task.id}:redated:{moved + 1}", kind="task_redated", **common)
            )
    return notices


def decision_notices(reference: str, workflow_id: str, stream: str, events: list[CaseEvent]) -> list[Notice]:
    """Notices for the decisions that ask someone to act, keyed by the event that recorded them. Only
    the fixed text of what is asked: never the decision's reasons."""
    notices = []
    for event in events:
        if event.kind not in DECISIONS:
            continue
        recipients, title, asked = DECISIONS[event.kind]
        notices.append(
            Notice(
                key=f"{workflow_id}:event:{event.seq}",
                case_reference=reference,
                kind="decision",
                recipients=recipients,
                owning_agency=None,
                title=title,
                stream=stream,
                asked=asked,
            )
        )
    return notices
