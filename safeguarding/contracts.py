"""What workflows and activities pass to each other. Pure pydantic, safe in the workflow sandbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from safeguarding.case import CaseEvent, Deadline, Task
from safeguarding.policy import Duration, WorkingDays


class DueDateItem(BaseModel):
    started_at: datetime
    due: Duration
    reminders: list[Duration] = Field(default_factory=list)


class DueDateRequest(BaseModel):
    timezone: str
    working_days: WorkingDays
    items: list[DueDateItem]


class DueDates(BaseModel):
    due_at: datetime
    reminder_times: list[datetime]


class DeadlineNotice(BaseModel):
    """A reminder before a deadline or an escalation after it; recorded once per idempotency key."""

    idempotency_key: str
    case_reference: str
    kind: Literal["reminder", "escalation"]
    deadline_id: str
    deadline_key: str
    deadline_title: str
    subject: str | None
    due_at: datetime
    recipients: list[str]
    owning_agency: str | None = None


class CaseSnapshot(BaseModel):
    """The non-identifying summary of a case that the read model lists and filters."""

    reference: str
    workflow_id: str
    partnership: str
    policy_version: str
    route: str
    stage: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    deadlines: list[Deadline]
    tasks: list[Task]


class CaseChanges(BaseModel):
    """Sent by the case workflow after each change: the new events and the latest snapshot.

    ``version`` only grows, so a retried or late write never overwrites a newer one; event sequence
    numbers are unique per case, so a retried write never records an event twice.
    """

    version: int
    snapshot: CaseSnapshot
    events: list[CaseEvent]
