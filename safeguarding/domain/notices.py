"""What someone must hear of, and why: a task assigned, re-dated, withdrawn or closed by someone else,
a decision that asks someone to act. Never a case summary, a decision's reasons or an agency's return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from safeguarding.domain.events import CaseEvent
from safeguarding.domain.policy import OWNING_AGENCY
from safeguarding.domain.tasks import Task, TaskStatus

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
