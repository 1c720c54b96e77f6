"""What every workflow of a case keeps: its events, deadlines, tasks, scheduled checkpoints, and the
notices its steps have caused.

A case has up to three workflows, each writing its own *stream* of the case's record: ``case`` (intake
and rapid review), ``review`` (the CSPR or other review) and ``plan`` (the action plan). Sequence
numbers are per stream; task ids carry the stream's letter so an agency's submission finds its way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import AuditNote, CaseEvent, EventKind
from safeguarding.domain.notices import Notice, NoticeKind, decision_notice, task_notice
from safeguarding.domain.partnerships import current
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy
from safeguarding.domain.tasks import Task


class Stream(StrEnum):
    case = "case"
    review = "review"
    plan = "plan"


TASK_LETTER = {Stream.case: "T", Stream.review: "R", Stream.plan: "P"}
STREAM_FOR_LETTER = {letter: stream for stream, letter in TASK_LETTER.items()}


def workflow_id_for(partnership: str, reference: str, stream: Stream = Stream.case) -> str:
    """``<partnership>/case-<ref>`` for the case (a reference is unique within its partnership); its
    children add ``/review`` or ``/plan``. Cases opened before partnerships were kept apart keep the
    ids they were started with (``case-<ref>``): read a case's id from the read model, not from here."""
    return stream_workflow_id(f"{partnership}/case-{reference}", stream)


def stream_workflow_id(case_workflow_id: str, stream: Stream) -> str:
    """The id of a case's review or plan workflow, from the case's own workflow id."""
    return case_workflow_id if stream is Stream.case else f"{case_workflow_id}/{stream.value}"


class ScheduledCheckpoint(BaseModel):
    """A checkpoint from the policy (monthly CSPR monitoring, an action's impact test) waiting for its day."""

    key: str
    at: datetime
    subject: str | None = None
    sequence: int = 1


class WorkRecord(BaseModel):
    reference: str
    stream: Stream
    workflow_id: str
    policy: Policy
    facts: dict[str, Any]
    history: list[CaseEvent] = Field(default_factory=list)
    # Events before ``history`` were written to the read model by an earlier run (continue-as-new).
    first_seq: int = 1
    deadlines: list[Deadline] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    checkpoints: list[ScheduledCheckpoint] = Field(default_factory=list)
    # What the steps so far have told someone to hear of; written to the outbox with the events.
    notices: list[Notice] = Field(default_factory=list)
    # Accepted steps whose audit entries are not yet written (the next read-model write takes them).
    audit: list[AuditNote] = Field(default_factory=list)
    # The update ids of the steps taken lately, kept across continue-as-new: Temporal knows an update
    # id within a run only, so a step retried after a hand-over is recognised here and not taken twice.
    taken: list[str] = Field(default_factory=list)
    version: int = 0
    # While a dated step is taken: the server's time, kept as each event's ``recorded_at`` (the step's
    # rules run at the time it truly happened, which becomes the events' ``occurred_at``).
    _recording_at: datetime | None = PrivateAttr(default=None)

    def recording(self, at: datetime | None) -> None:
        self._recording_at = at

    @property
    def began_at(self) -> datetime | None:
        """When this stream's work began, as recorded (no dated step goes before it)."""
        first = self.history[0] if self.history and self.first_seq == 1 else None
        return (first.occurred_at or first.recorded_at) if first is not None else None

    def record(
        self,
        kind: EventKind,
        now: datetime,
        /,
        *,
        actor: Actor | None = None,
        occurred_at: datetime | None = None,
        reasons: str | None = None,
        **details: Any,
    ) -> CaseEvent:
        recorded_at = self._recording_at or now
        if occurred_at is None and now != recorded_at:
            occurred_at = now  # a dated step: the time it truly happened
        event = CaseEvent(
            seq=self.first_seq + len(self.history),
            kind=kind,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            actor=actor,
            reasons=reasons,
            details=details,
        )
        self.history.append(event)
        self.version += 1
        return event

    def notify_decision(self, event: CaseEvent) -> None:
        """The decision ``event`` records asks someone to act: they hear of it."""
        notice = decision_notice(self.workflow_id, self.reference, self.stream.value, event, self.partnership)
        if notice is not None:
            self.notices.append(notice)

    def notify_task(self, task: Task, kind: NoticeKind, *, number: int = 1) -> None:
        """The agency (or office) owning ``task`` hears that it was assigned, moved, withdrawn or closed."""
        self.notices.append(
            task_notice(
                self.workflow_id,
                self.reference,
                self.stream.value,
                task,
                kind,
                number=number,
                partnership=self.partnership,
            )
        )

    @property
    def partnership(self) -> str:
        """Whose case this is (a case opened under an older code is filed under today's)."""
        return current(self.policy.partnership)

    def task_partnership(self, task: Task) -> str:
        """Whose directory the task's owner is in: a contributing partnership's, or the case's own."""
        return task.partnership or self.partnership

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def next_task_id(self) -> str:
        return f"{self.reference}.{TASK_LETTER[self.stream]}{len(self.tasks) + 1}"
