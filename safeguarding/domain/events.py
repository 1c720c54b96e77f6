"""The case's history: one event per thing recorded, copied to the read model's event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from safeguarding.domain.people import Actor


class CaseEvent(BaseModel):
    """One entry of the case's history; the read model's event log is a copy of these."""

    seq: int
    kind: str
    recorded_at: datetime
    occurred_at: datetime | None = None
    actor: Actor | None = None
    reasons: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
