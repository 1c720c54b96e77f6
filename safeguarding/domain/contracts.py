"""What workflows and activities pass to each other. Pure pydantic, safe in the workflow sandbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import AuditNote, CaseEvent
from safeguarding.domain.notices import Notice
from safeguarding.domain.policy import Duration, WorkingDays
from safeguarding.domain.tasks import Task


class DueDateItem(BaseModel):
    started_at: datetime
    due: Duration | None = None
    due_on: date | None = None  # a date set by a decision (an action's due date) instead of a period
    reminders: list[Duration] = Field(default_factory=list)
    escalations_after: list[Duration | None] = Field(default_factory=list)


class DueDateRequest(BaseModel):
    timezone: str
    working_days: WorkingDays
    items: list[DueDateItem]


class DueDates(BaseModel):
    due_at: datetime
    reminder_times: list[datetime]
    escalation_times: list[datetime] = Field(default_factory=list)


class ShiftRequest(BaseModel):
    """A clock stop: move times on by the whole calendar days between pause and resume (local dates),
    keeping their local clock time."""

    timezone: str
    paused_at: datetime
    resumed_at: datetime
    times: list[datetime]


class Shifted(BaseModel):
    days: int
    times: list[datetime]


class NextDates(BaseModel):
    """When a recurring checkpoint next falls, after ``after``."""

    timezone: str
    working_days: WorkingDays
    after: datetime
    every: Duration


class DeadlineNotice(BaseModel):
    """A reminder before a deadline or an escalation after it; recorded once per idempotency key."""

    idempotency_key: str
    case_reference: str
    # Whose case (None: sent by a run begun before partnerships were kept apart), and for a contributing
    # partnership's own task, the directory its recipients are in.
    partnership: str | None = None
    recipients_in: str | None = None
    kind: Literal["reminder", "escalation"]
    deadline_id: str
    deadline_key: str
    deadline_title: str
    subject: str | None
    due_at: datetime
    recipients: list[str]
    owning_agency: str | None = None


class CaseSummary(BaseModel):
    """The non-identifying summary of a case that the read model lists and filters."""

    partnership: str
    policy_version: str
    route: str
    contributors: list[str] = Field(default_factory=list)
    stage: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None


class ReviewSummary(BaseModel):
    kind: str
    stage: str
    started_at: datetime
    paused: bool
    due_at: datetime | None
    earliest_publication_date: date | None
    publication_date: date | None
    outcome: str | None
    finished_at: datetime | None


class ProgressNote(BaseModel):
    at: datetime
    summary: str | None
    evidence: list[str] = Field(default_factory=list)


class RecommendationSummary(BaseModel):
    id: str
    text: str
    source: str


class ActionSummary(BaseModel):
    id: str
    agency: str
    lead_role: str
    source: str
    themes: list[str]
    due_at: datetime
    status: str
    completed_at: datetime | None
    escalations_sent: int
    # For the closing-the-loop report (defaults: written by runs begun before they were projected).
    recommendation_id: str = ""
    description: str = ""
    measure: str = ""
    evidence_of_impact: str | None = None
    progress: list[ProgressNote] = Field(default_factory=list)


class PlanSummary(BaseModel):
    status: str
    actions: list[ActionSummary]
    recommendations: list[RecommendationSummary] = Field(default_factory=list)


class CaseChanges(BaseModel):
    """Sent by a case's workflow after each change: its new events and its latest state.

    ``version`` only grows within a stream, so a retried or late write never overwrites a newer one;
    event sequence numbers are unique per case and stream, so a retried write never records an event
    twice. Exactly one of ``case``, ``review`` and ``plan`` is given: the stream's own summary.
    """

    version: int
    stream: str
    # Whose case (None: written by a run begun before partnerships were kept apart, all Luton's).
    partnership: str | None = None
    reference: str
    workflow_id: str
    events: list[CaseEvent]
    deadlines: list[Deadline]
    tasks: list[Task]
    # What the steps since the last write told someone to hear of (the outbox writes each once).
    notices: list[Notice] = Field(default_factory=list)
    # The steps accepted since the last write, for the audit log (each written once by its key).
    audit: list[AuditNote] = Field(default_factory=list)
    case: CaseSummary | None = None
    review: ReviewSummary | None = None
    plan: PlanSummary | None = None
    # False when a step was half-way at the snapshot (a new task's due date may still be coming).
    settled: bool = True
