"""The case file: everything the case workflow keeps, from which its view is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from safeguarding.case import (
    Actor,
    CaseEvent,
    CaseOpening,
    CaseView,
    Deadline,
    RapidReviewView,
    Route,
    ScreeningDecision,
    Stage,
    Task,
)
from safeguarding.policy import Policy


class CaseFile(BaseModel):
    opening: CaseOpening
    policy: Policy
    workflow_id: str
    opened_at: datetime
    stage: Stage
    screening: ScreeningDecision | None = None
    referral_confirmed_at: datetime | None = None
    notifications: dict[str, datetime] = Field(default_factory=dict)
    rapid_review: RapidReviewView = Field(default_factory=RapidReviewView)
    outcome: str | None = None
    closed_at: datetime | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    history: list[CaseEvent] = Field(default_factory=list)
    version: int = 0

    @classmethod
    def open(cls, opening: CaseOpening, policy: Policy, workflow_id: str, now: datetime) -> CaseFile:
        first_stage = (
            Stage.rapid_review if opening.route is Route.serious_incident_notification else Stage.screening
        )
        return cls(opening=opening, policy=policy, workflow_id=workflow_id, opened_at=now, stage=first_stage)

    @property
    def reference(self) -> str:
        return self.opening.reference

    @property
    def is_referral(self) -> bool:
        return self.opening.route is not Route.serious_incident_notification

    @property
    def notifiable(self) -> bool:
        """A serious incident the Panel must hear of: notified as such, or a referral screened in."""
        return not self.is_referral or bool(self.screening and self.screening.criteria_met)

    def record(
        self,
        kind: str,
        now: datetime,
        *,
        actor: Actor | None = None,
        occurred_at: datetime | None = None,
        reasons: str | None = None,
        **details: Any,
    ) -> CaseEvent:
        event = CaseEvent(
            seq=len(self.history) + 1,
            kind=kind,
            recorded_at=now,
            occurred_at=occurred_at,
            actor=actor,
            reasons=reasons,
            details=details,
        )
        self.history.append(event)
        self.version += 1
        return event

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def view(self) -> CaseView:
        return CaseView(
            reference=self.reference,
            partnership=self.opening.partnership,
            policy_version=self.policy.version,
            route=self.opening.route,
            stage=self.stage,
            opened_at=self.opened_at,
            la_aware_at=self.opening.la_aware_at,
            referring_agency=self.opening.referring_agency,
            child_status=self.opening.child_status,
            child_died=self.opening.child_died,
            summary=self.opening.summary,
            screening=self.screening,
            referral_confirmed_at=self.referral_confirmed_at,
            notifications=self.notifications,
            rapid_review=self.rapid_review,
            outcome=self.outcome,
            closed_at=self.closed_at,
            deadlines=self.deadlines,
            tasks=self.tasks,
            history=self.history,
        )
