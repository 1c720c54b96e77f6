"""What an accepted step answers with: its events, and the tasks and deadlines it touched."""

from __future__ import annotations

from pydantic import BaseModel

from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import CaseEvent
from safeguarding.domain.tasks import Task


class StepOutcome(BaseModel):
    """What an accepted step changed: its events, and the tasks and deadlines it touched."""

    reference: str
    stage: str
    events: list[CaseEvent]
    tasks: list[Task]
    deadlines: list[Deadline]
