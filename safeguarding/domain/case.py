"""The case: what is known about an incident, the decisions people make on it during intake and the
rapid review, what its workflow keeps (``CaseFile``) and what it shows (``CaseView``).

No child or family is named anywhere: the partnership's case reference is the identifier, and the
summary is a short non-identifying description written by the Business Unit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import CaseEvent
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.fields import (
    AgencyCode,
    AwareDatetime,
    Dated,
    Reasons,
    ShortText,
    StrictModel,
)
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.opening import (  # re-exported: the case's models are read from here
    CaseOpening as CaseOpening,
)
from safeguarding.domain.opening import ExternalLead as ExternalLead
from safeguarding.domain.opening import ExternalReviewKind as ExternalReviewKind
from safeguarding.domain.opening import LearningSource as LearningSource
from safeguarding.domain.opening import LearningSourceKind as LearningSourceKind
from safeguarding.domain.opening import NotificationRecipient as NotificationRecipient
from safeguarding.domain.opening import ThematicScope as ThematicScope
from safeguarding.domain.partnerships import Contribution
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import Stream, WorkRecord, workflow_id_for
from safeguarding.domain.tasks import Task


class Stage(StrEnum):
    screening = "screening"
    rapid_review = "rapid_review"
    # Where a signed-off rapid review leads; issue 3 runs the review and the action plan here.
    local_review = "local_review"
    other_review = "other_review"
    learning_actions = "learning_actions"
    national_review = "national_review"
    # Our contribution to a review another area leads (route contribution_to_external_review).
    contributing = "contributing"
    # A care leaver's death: the Secretary of State and Ofsted to be told, then the case closes.
    notifying = "notifying"
    # A referral screened out of the criteria into a local learning review, which runs as its child.
    learning_review = "learning_review"
    # A thematic review across cases, which runs as its child.
    thematic_review = "thematic_review"
    # A Safeguarding Adults Review on its own, which runs as its child.
    adults_review = "adults_review"
    closed = "closed"


NOTIFICATION_MILESTONE: dict[NotificationRecipient, Milestone] = {
    NotificationRecipient.panel: Milestone.panel_notified,
    NotificationRecipient.safeguarding_partners: Milestone.partners_notified,
    NotificationRecipient.secretary_of_state: Milestone.secretary_of_state_notified,
    NotificationRecipient.ofsted: Milestone.ofsted_notified,
}


class ScreeningLearningRoute(StrEnum):
    """Where a referral that does not meet the notification criteria goes instead."""

    single_agency_learning = "single_agency_learning"
    local_learning_review = "local_learning_review"
    positive_learning_review = "positive_learning_review"
    multi_agency_audit = "multi_agency_audit"
    no_further_action = "no_further_action"


class RecommendationKind(StrEnum):
    local_cspr = "local_cspr"
    other_review = "other_review"
    no_further_review = "no_further_review"
    national_review = "national_review"


class OtherReviewType(StrEnum):
    local_learning_review = "local_learning_review"
    positive_learning_review = "positive_learning_review"
    multi_agency_audit = "multi_agency_audit"
    single_agency_review = "single_agency_review"


class PanelResponseKind(StrEnum):
    agrees = "agrees"
    challenges = "challenges"
    national_review = "national_review"


class ReferralConfirmation(StrictModel):
    confirmed_at: AwareDatetime = Field(description="When the written confirmation of the referral arrived.")
    note: ShortText | None = None


class ScreeningDecision(Dated):
    # The rule below, in the OpenAPI document: a route only when the criteria are not met, and then one.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"criteria_met": {"const": False}}, "required": ["criteria_met"]},
            "then": {
                "required": ["learning_route"],
                "properties": {"learning_route": {"not": {"type": "null"}}},
            },
            "else": {"properties": {"learning_route": {"type": "null"}}},
        },
    )

    criteria_met: bool
    learning_route: ScreeningLearningRoute | None = Field(
        default=None, description="Required when the criteria are not met: where the learning goes instead."
    )
    reasons: Reasons

    @model_validator(mode="after")
    def _route_when_not_met(self) -> ScreeningDecision:
        if not self.criteria_met and self.learning_route is None:
            raise ValueError("learning_route is required when the notification criteria are not met")
        if self.criteria_met and self.learning_route is not None:
            raise ValueError("learning_route applies only when the criteria are not met")
        return self


class NotificationRecord(StrictModel):
    recipient: NotificationRecipient
    sent_at: AwareDatetime
    reference: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="The recipient's acknowledgement or form reference, if any."
    )


class InformationRequest(Dated):
    agencies: list[AgencyCode] = Field(min_length=1, max_length=40, json_schema_extra={"uniqueItems": True})
    asked_for: ShortText = Field(
        description="What is asked of each agency, e.g. a chronology of involvement."
    )

    @model_validator(mode="after")
    def _distinct(self) -> InformationRequest:
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("each agency may appear only once in a request")
        return self


class InformationReturn(Dated):
    task_id: str = Field(max_length=60)
    summary: Reasons = Field(description="The agency's return (involvement summary / chronology).")
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20, description="References to documents held by the agency."
    )


class Recommendation(Dated):
    recommendation: RecommendationKind
    methodology: ShortText | None = Field(default=None, description="Required for a local CSPR.")
    review_type: OtherReviewType | None = Field(default=None, description="Required for another review.")
    learning_actions: list[ShortText] = Field(
        default_factory=list, max_length=50, description="Required when no further review is recommended."
    )
    reasons: Reasons
    joint_with_adults_board: bool = Field(
        default=False,
        description="A CSPR commissioned jointly with the Safeguarding Adults Board as a SAR (Care Act 2014, "
        "s44): its representative signs off and approves the report with the three partners.",
    )

    @model_validator(mode="after")
    def _complete(self) -> Recommendation:
        if self.joint_with_adults_board and self.recommendation is not RecommendationKind.local_cspr:
            raise ValueError("only a local CSPR is commissioned jointly with the Safeguarding Adults Board")
        kind = self.recommendation
        if kind is RecommendationKind.local_cspr and not self.methodology:
            raise ValueError("a local CSPR recommendation needs its methodology")
        if kind is RecommendationKind.other_review and self.review_type is None:
            raise ValueError("another type of review needs its review_type")
        if kind is RecommendationKind.no_further_review and not self.learning_actions:
            raise ValueError("no further review needs the learning actions that follow instead")
        return self


class PartnerSignOff(Dated):
    partner: StatutoryPartner
    agrees: bool
    reasons: Reasons


class AdultsBoardSignOff(Dated):
    """The Safeguarding Adults Board's representative, on a joint CSPR/SAR recommendation."""

    agrees: bool
    reasons: Reasons


class ScrutineerInformed(StrictModel):
    informed_at: AwareDatetime
    note: ShortText | None = None


class RapidReviewSent(StrictModel):
    sent_at: AwareDatetime


class PanelResponse(StrictModel):
    response: PanelResponseKind
    received_at: AwareDatetime
    reasons: Reasons = Field(description="What the Panel said, in short.")


class CaseClosure(Dated):
    reasons: Reasons


class CriteriaNotMet(Dated):
    """A notified incident found, on the facts gathered, not to meet the criteria for a serious incident
    notification: the case closes with the reasons, and the Panel is told."""

    reasons: Reasons
    panel_told_at: AwareDatetime = Field(description="When the Panel was told (with its offset).")


class ContributionSent(StrictModel):
    """Our contribution sent to the area that leads the review (route contribution_to_external_review)."""

    sent_at: AwareDatetime = Field(description="When it was sent.")
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=40, description="What was sent: the titles of the documents."
    )
    note: ShortText | None = None


class SignOffRecord(BaseModel):
    partner: StatutoryPartner
    agrees: bool
    actor: Actor
    at: datetime
    reasons: str


class RapidReviewView(BaseModel):
    recommendation: Recommendation | None = None
    recommended_by: Actor | None = None
    recommended_at: datetime | None = None
    sign_offs: list[SignOffRecord] = Field(default_factory=list)
    signed_off_at: datetime | None = None
    # A joint CSPR/SAR: when the Safeguarding Adults Board's representative signed it off too.
    adults_board_signed_off_at: datetime | None = None
    scrutineer_informed_at: datetime | None = None
    sent_to_panel_at: datetime | None = None
    panel_response: PanelResponseKind | None = None
    panel_responded_at: datetime | None = None
    rounds: int = 0  # how many times the Panel challenged and the recommendation was reopened


class CaseView(BaseModel):
    """GET /cases/{ref}: the live state of a case, from its workflow."""

    reference: str
    partnership: str
    policy_version: str
    route: Route
    stage: Stage
    opened_at: datetime
    la_aware_at: datetime
    referring_agency: str
    child_status: ChildStatus
    child_died: bool
    summary: str
    contributors: list[Contribution] = Field(default_factory=list)
    external_lead: ExternalLead | None = None
    screening: ScreeningDecision | None = None
    referral_confirmed_at: datetime | None = None
    notifications: dict[str, datetime] = Field(default_factory=dict)
    rapid_review: RapidReviewView
    outcome: str | None = None
    closed_at: datetime | None = None
    deadlines: list[Deadline]
    tasks: list[Task]
    history: list[CaseEvent]
    review_workflow_id: str | None = None
    plan_workflow_id: str | None = None


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
    def open(
        cls, opening: CaseOpening, policy: Policy, now: datetime, workflow_id: str | None = None
    ) -> CaseFile:
        first = {
            Route.serious_incident_notification: Stage.rapid_review,
            Route.contribution_to_external_review: Stage.contributing,
            Route.care_leaver_death: Stage.notifying,
            Route.learning_from_elsewhere: Stage.learning_actions,
            Route.thematic_review: Stage.thematic_review,
            Route.safeguarding_adults_review: Stage.adults_review,
        }
        return cls(
            reference=opening.reference,
            stream=Stream.case,
            workflow_id=workflow_id or workflow_id_for(opening.partnership, opening.reference),
            policy=policy,
            facts=opening.facts(),
            opening=opening,
            opened_at=now,
            stage=first.get(opening.route, Stage.screening),
        )

    @property
    def contributors(self) -> list[str]:
        return [c.partnership for c in self.opening.contributors]

    @property
    def is_referral(self) -> bool:
        return self.opening.route in (Route.agency_referral, Route.cdop_referral)

    @property
    def notifiable(self) -> bool:
        """A serious incident the Panel must hear of: notified as such, or a referral screened in."""
        if self.opening.route is Route.contribution_to_external_review:
            return False  # the leading area notifies
        if self.opening.route is Route.care_leaver_death:
            return False  # the Secretary of State and Ofsted are told; the Panel is not
        if self.opening.route in (
            Route.learning_from_elsewhere,
            Route.thematic_review,
            Route.safeguarding_adults_review,
        ):
            return False  # no child's incident of its own: learning from elsewhere, across cases, an adult
        return not self.is_referral or bool(self.screening and self.screening.criteria_met)

    def view(self) -> CaseView:
        return CaseView(
            reference=self.reference,
            partnership=self.partnership,
            policy_version=self.policy.version,
            route=self.opening.route,
            stage=self.stage,
            opened_at=self.opened_at,
            la_aware_at=self.opening.la_aware_at,
            referring_agency=self.opening.referring_agency,
            child_status=self.opening.child_status,
            child_died=self.opening.child_died,
            summary=self.opening.summary,
            contributors=self.opening.contributors,
            external_lead=self.opening.external_lead,
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


class CaseStart(BaseModel):
    """The workflow's input: the opening facts and the policy the case keeps for its whole life."""

    opening: CaseOpening
    policy: Policy
    opened_by: Actor


class CaseOutcome(BaseModel):
    reference: str
    outcome: str | None
    closed_at: datetime | None
