"""A deadline as a case keeps it: when it started, when it falls due, its reminders and tiers of
escalation, and whether it was met, missed or cancelled.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from safeguarding.domain.milestones import Milestone


class DeadlineStatus(StrEnum):
    open = "open"
    overdue = "overdue"  # due time passed, breach recorded, not met yet
    met = "met"
    cancelled = "cancelled"


class Reminder(BaseModel):
    at: datetime
    sent: bool = False


class Escalation(BaseModel):
    """One tier of escalation of a missed deadline: sent once, at its time."""

    at: datetime
    recipients: list[str]
    sent: bool = False


class Deadline(BaseModel):
    id: str
    key: str
    title: str
    subject: str | None = None
    started_at: datetime
    due_at: datetime
    original_due_at: datetime | None = None  # set when the due time moves (a pause, a new date)
    reminders: list[Reminder] = Field(default_factory=list)
    reminders_to: list[str] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    met_by: Milestone
    statutory: bool = True
    pausable: bool = False
    paused_since: datetime | None = None
    paused_days: int = 0
    source: str = ""
    status: DeadlineStatus = DeadlineStatus.open
    met_at: datetime | None = None
    breached_at: datetime | None = None
    cancelled_reason: str | None = None

    @property
    def met_on_time(self) -> bool | None:
        return None if self.met_at is None else self.met_at <= self.due_at
