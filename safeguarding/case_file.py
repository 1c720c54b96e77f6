"""The case file: everything the case workflow keeps, from which its view is shown."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from safeguarding.case import (
    CaseOpening,
    CaseView,
    RapidReviewView,
    Route,
    ScreeningDecision,
    Stage,
)
from safeguarding.policy import Policy
from safeguarding.record import Stream, WorkRecord, workflow_id_for


class CaseFile(WorkRecord):
    opening: CaseOpening
    opened_at: datetime
    stage: Stage
    screening: ScreeningDecision | None = None
    referral_confirmed_at: datetime | None = None
    notifications: dict[str, datetime] = Field(default_factory=dict)
    rapid_review: RapidReviewView = Field(default_factory=RapidReviewView)
    outcome: str | None = None
    closed_at: datetime | None = None
    review_workflow_id: str | None = None
    plan_workflow_id: str | None = None

    @classmethod
    def open(cls, opening: CaseOpening, policy: Policy, now: datetime) -> CaseFile:
        serious = opening.route is Route.serious_incident_notification
        return cls(
            reference=opening.reference,
            stream=Stream.case,
            workflow_id=workflow_id_for(opening.reference),
            policy=policy,
            facts=opening.facts(),
            opening=opening,
            opened_at=now,
            stage=Stage.rapid_review if serious else Stage.screening,
        )

    @property
    def is_referral(self) -> bool:
        return self.opening.route is not Route.serious_incident_notification

    @property
    def notifiable(self) -> bool:
        """A serious incident the Panel must hear of: notified as such, or a referral screened in."""
        return not self.is_referral or bool(self.screening and self.screening.criteria_met)

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
            review_workflow_id=self.review_workflow_id,
            plan_workflow_id=self.plan_workflow_id,
        )
