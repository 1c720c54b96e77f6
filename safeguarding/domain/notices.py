"""What someone must hear of, stated by the step that causes it: a task assigned, re-dated, withdrawn or
closed by someone else; a decision that asks someone to act; a reminder or an escalation.

A notice carries only the case reference, what is asked, the due date and who should hear: never a case
summary, a decision's reasons or an agency's return. Its key names the event that caused it, so the
outbox writes it once however often a workflow is replayed or an activity retried; the keys below are
the ones recorded by running cases and never change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from safeguarding.domain.events import CaseEvent, EventKind
from safeguarding.domain.policy import OWNING_AGENCY
from safeguarding.domain.tasks import Task


class NoticeKind(StrEnum):
    task_assigned = "task_assigned"
    task_redated = "task_redated"
    task_withdrawn = "task_withdrawn"
    task_completed = "task_completed"  # closed by someone other than its owner: nothing more is asked
    decision = "decision"
    reminder = "reminder"
    escalation = "escalation"


class Notice(BaseModel):
    key: str
    # Whose case (or report, or year) it concerns (None: from a run begun before partnerships were
    # kept apart), and, for a contributing partnership's own task, the directory its recipients are in.
    partnership: str | None = None
    recipients_in: str | None = None
    case_reference: str  # or, for a report or the yearly process, what the outbox files it under
    kind: NoticeKind
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


# Decisions someone must act on: who hears, and what is asked (fixed words, never the decision's reasons).
DECISIONS: dict[EventKind, tuple[list[str], str, str]] = {
    EventKind.recommendation_made: (
        ["safeguarding_partner"],
        "Sign-off needed: the rapid review's recommendation",
        "The JCRG has made its recommendation: each safeguarding partner signs it off or returns it.",
    ),
    EventKind.recommendation_revised: (
        ["safeguarding_partner"],
        "Sign-off needed: the rapid review's revised recommendation",
        "The JCRG has revised its recommendation: each safeguarding partner signs it off or returns it.",
    ),
    EventKind.recommendation_returned: (
        ["jcrg_chair", "business_unit"],
        "Returned by a partner: the rapid review's recommendation",
        "A safeguarding partner did not agree: the JCRG reconsiders its recommendation.",
    ),
    EventKind.draft_received: (
        ["safeguarding_partner"],
        "Approval needed: the review's draft report",
        "The draft report has arrived: each safeguarding partner approves it.",
    ),
}

TASK_TITLES = {
    "information_return": "Information for the rapid review",
    "action": "Action from the action plan",
    "checkpoint": "Monitoring checkpoint",
    "review_duty": "Duty of the local partners in a national review",
    "coordination": "Information from your partnership's agencies for another partnership's review",
}


def task_notice(
    workflow_id: str,
    reference: str,
    stream: str,
    task: Task,
    kind: NoticeKind,
    *,
    number: int = 1,
    partnership: str | None = None,
) -> Notice:
    """``partnership``: the case's."""
    """To the agency (or office) that owns the task. ``number``: which change of its due date."""
    suffix = {
        NoticeKind.task_assigned: "assigned",
        NoticeKind.task_withdrawn: "withdrawn",
        NoticeKind.task_completed: "completed",
        NoticeKind.task_redated: f"redated:{number}",
    }[kind]
    return Notice(
        key=f"{workflow_id}:{task.id}:{suffix}",
        partnership=partnership,
        recipients_in=task.partnership,
        case_reference=reference,
        kind=kind,
        recipients=[OWNING_AGENCY],
        owning_agency=task.agency,
        title=TASK_TITLES.get(task.kind, task.kind),
        stream=stream,
        task_id=task.id,
        asked=task.asked_for,
        due_at=task.due_at,
    )


def closed_by_someone_else(task: Task) -> bool:
    """A task closed by another than its owner (the JCRG signing an action off, the Business Unit
    recording a return sent another way): its owner learns that nothing more is asked."""
    by = task.completed_by
    return by is not None and by.agency != task.agency and by.role.value != task.agency


def decision_notice(
    workflow_id: str, reference: str, stream: str, event: CaseEvent, partnership: str | None = None
) -> Notice | None:
    """For a decision that asks someone to act, keyed by the event that recorded it."""
    if event.kind not in DECISIONS:
        return None
    recipients, title, asked = DECISIONS[event.kind]
    return Notice(
        key=f"{workflow_id}:event:{event.seq}",
        partnership=partnership,
        case_reference=reference,
        kind=NoticeKind.decision,
        recipients=recipients,
        owning_agency=None,
        title=title,
        stream=stream,
        asked=asked,
    )
