"""Work asked of someone: an agency's information return, a checkpoint, a duty, an action."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from safeguarding.domain.fields import Dated, Reasons
from safeguarding.domain.people import Actor


class TaskCompletion(Dated):
    """Body of POST /tasks/{id}/complete: an information return."""

    summary: Reasons
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )


class TaskWithdrawal(Dated):
    task_id: str = Field(max_length=60)
    reasons: Reasons


class TaskDone(Dated):
    """A checkpoint or duty task completed (monitoring notes, an impact audit, information sent)."""

    task_id: str = Field(max_length=60)
    summary: Reasons
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )


class TaskStatus(StrEnum):
    open = "open"
    completed = "completed"
    withdrawn = "withdrawn"


TaskKind = Literal["information_return", "checkpoint", "review_duty", "action", "coordination"]


class Task(BaseModel):
    id: str
    agency: str  # the agency that owns it, or the role that does (business_unit, jcrg_chair)
    # A contributing partnership's task (its agencies' returns, its Business Unit's coordination): whose
    # directory ``agency`` is in. None: the case's own partnership.
    partnership: str | None = None
    kind: TaskKind = "information_return"
    asked_for: str
    requested_at: datetime
    due_at: datetime | None = None  # from the policy's deadline for this kind of task, if it sets one
    status: TaskStatus = TaskStatus.open
    completed_at: datetime | None = None
    completed_by: Actor | None = None
    summary: str | None = None
    documents: list[str] = Field(default_factory=list)
