"""The case: what is known about an incident, the decisions people make on it, and the views the
service gives back. Pure pydantic, safe inside the workflow sandbox.

No child or family is named anywhere: the partnership's case reference is the identifier, and the
summary is a short non-identifying description written by the Business Unit.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

# The case reference becomes part of the workflow id and of task ids, so it is kept to a safe
# alphabet with no dots (a task id is "<reference>.T<n>").
CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$"
AGENCY_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"
USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"

CaseReference = Annotated[str, StringConstraints(pattern=CASE_REFERENCE_PATTERN)]
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_PATTERN)]
UserId = Annotated[str, StringConstraints(pattern=USER_PATTERN)]


def _must_have_words(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


Reasons = Annotated[str, StringConstraints(min_length=1, max_length=4000), AfterValidator(_must_have_words)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=1000), AfterValidator(_must_have_words)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a time zone offset, e.g. 2026-12-18T10:00:00+00:00")
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between the years 2000 and 2100")
    return value


def _plausible_date(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be a date between the years 2000 and 2100")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
PlausibleDate = Annotated[date, AfterValidator(_plausible_date)]


class StrictModel(BaseModel):
    """Every input refuses fields it does not know: a typo must not be silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False)


# ---------------------------------------------------------------- vocabulary


class Route(StrEnum):
    serious_incident_notification = "serious_incident_notification"
    agency_referral = "agency_referral"
    cdop_referral = "cdop_referral"


class ChildStatus(StrEnum):
    looked_after = "looked_after"
    care_leaver = "care_leaver"
    neither = "neither"


class Role(StrEnum):
    business_unit = "business_unit"
    jcrg_member = "jcrg_member"
    jcrg_chair = "jcrg_chair"
    safeguarding_partner = "safeguarding_partner"
    independent_scrutineer = "independent_scrutineer"
    partner_agency = "partner_agency"
    manager = "manager"


class StatutoryPartner(StrEnum):
    local_authority = "local_authority"
    police = "police"
    integrated_care_board = "integrated_care_board"


class Stage(StrEnum):
    screening = "screening"
    rapid_review = "rapid_review"
    # Where a signed-off rapid review leads; issue 3 runs the review and the action plan here.
    local_review = "local_review"
    other_review = "other_review"
    learning_actions = "learning_actions"
    national_review = "national_review"
    closed = "closed"


class Milestone(StrEnum):
    """Things that happen on a case. The deadline policy starts and meets deadlines on these."""

    case_opened = "case_opened"
    incident_notifiable = "incident_notifiable"
    referral_made = "referral_made"
    referral_confirmed = "referral_confirmed"
    information_requested = "information_requested"
    information_returned = "information_returned"
    panel_notified = "panel_notified"
    partners_notified = "partners_notified"
    secretary_of_state_notified = "secretary_of_state_notified"
    ofsted_notified = "ofsted_notified"
    rapid_review_sent = "rapid_review_sent"
    panel_responded = "panel_responded"
    # The review (issue 3)
    review_decided = "review_decided"
    review_report_sent = "review_report_sent"
    review_completed = "review_completed"
    national_review_taken = "national_review_taken"
    national_information_sent = "national_information_sent"
    # The action plan
    action_agreed = "action_agreed"
    action_completed = "action_completed"
    # Tasks created by checkpoints and duties
    task_created = "task_created"
    task_completed = "task_completed"


class NotificationRecipient(StrEnum):
    panel = "panel"
    safeguarding_partners = "safeguarding_partners"
    secretary_of_state = "secretary_of_state"
    ofsted = "ofsted"


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


# ---------------------------------------------------------------- intake


class CaseOpening(StrictModel):
    """What the Business Unit knows when a case is opened."""

    reference: CaseReference = Field(description="The partnership's case reference: the only identifier.")
    partnership: str = Field(pattern=AGENCY_PATTERN, description="Which partnership's policy applies.")
    route: Route
    la_aware_at: AwareDatetime = Field(description="When the local authority became aware of the incident.")
    referred_at: AwareDatetime | None = Field(
        default=None, description="When the referral was made (required for agency and CDOP referrals)."
    )
    referring_agency: AgencyCode
    child_status: ChildStatus
    child_died: bool
    summary: ShortText = Field(description="A short, non-identifying summary. No names.")
    notified: dict[NotificationRecipient, AwareDatetime] = Field(
        default_factory=dict,
        description="Notifications already sent when the case is opened (a case entered after the event).",
    )

    @model_validator(mode="after")
    def _referral_has_a_time(self) -> CaseOpening:
        if self.route is not Route.serious_incident_notification and self.referred_at is None:
            raise ValueError(f"referred_at is required for a {self.route.value}")
        early = {NotificationRecipient.panel, NotificationRecipient.safeguarding_partners} & set(
            self.notified
        )
        if early and self.route is not Route.serious_incident_notification:
            raise ValueError(
                "a referral notifies the Panel and the partners only once screened: record it then"
            )
        for recipient, sent_at in self.notified.items():
            if sent_at < self.la_aware_at:
                raise ValueError(
                    f"{recipient.value} cannot be notified before the local authority became aware"
                )
        return self

    def facts(self) -> dict[str, Any]:
        """The non-identifying facts the deadline policy may condition on."""
        return {
            "route": self.route.value,
            "child_status": self.child_status.value,
            "child_died": self.child_died,
        }


class Actor(StrictModel):
    """Who did something, and in which role. Staff identifiers only; issue 4 takes them from a token."""

    user_id: UserId
    role: Role
    agency: AgencyCode | None = None
    partner: StatutoryPartner | None = None  # which statutory partner a safeguarding partner acts for


D = TypeVar("D", bound=BaseModel)


class Attributed(BaseModel, Generic[D]):
    """A decision or submission together with the person who made it: the input of every update."""

    actor: Actor
    decision: D


# ---------------------------------------------------------------- decisions (API bodies)


class ReferralConfirmation(StrictModel):
    confirmed_at: AwareDatetime = Field(description="When the written confirmation of the referral arrived.")
    note: ShortText | None = None


class ScreeningDecision(StrictModel):
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


class InformationRequest(StrictModel):
    agencies: list[AgencyCode] = Field(min_length=1, max_length=40)
    asked_for: ShortText = Field(
        description="What is asked of each agency, e.g. a chronology of involvement."
    )

    @model_validator(mode="after")
    def _distinct(self) -> InformationRequest:
        if len(set(self.agencies)) != len(self.agencies):
            raise ValueError("each agency may appear only once in a request")
        return self


class InformationReturn(StrictModel):
    task_id: str = Field(max_length=60)
    summary: Reasons = Field(description="The agency's return (involvement summary / chronology).")
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20, description="References to documents held by the agency."
    )


class TaskCompletion(StrictModel):
    """Body of POST /tasks/{id}/complete: an information return."""

    summary: Reasons
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )


class TaskWithdrawal(StrictModel):
    task_id: str = Field(max_length=60)
    reasons: Reasons


class TaskDone(StrictModel):
    """A checkpoint or duty task completed (monitoring notes, an impact audit, information sent)."""

    task_id: str = Field(max_length=60)
    summary: Reasons
    documents: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )


class Recommendation(StrictModel):
    recommendation: RecommendationKind
    methodology: ShortText | None = Field(default=None, description="Required for a local CSPR.")
    review_type: OtherReviewType | None = Field(default=None, description="Required for another review.")
    learning_actions: list[ShortText] = Field(
        default_factory=list, max_length=50, description="Required when no further review is recommended."
    )
    reasons: Reasons

    @model_validator(mode="after")
    def _complete(self) -> Recommendation:
        kind = self.recommendation
        if kind is RecommendationKind.local_cspr and not self.methodology:
            raise ValueError("a local CSPR recommendation needs its methodology")
        if kind is RecommendationKind.other_review and self.review_type is None:
            raise ValueError("another type of review needs its review_type")
        if kind is RecommendationKind.no_further_review and not self.learning_actions:
            raise ValueError("no further review needs the learning actions that follow instead")
        return self


class PartnerSignOff(StrictModel):
    partner: StatutoryPartner
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


class CaseClosure(StrictModel):
    reasons: Reasons


# ---------------------------------------------------------------- what the workflow keeps and shows


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


class TaskStatus(StrEnum):
    open = "open"
    completed = "completed"
    withdrawn = "withdrawn"


TaskKind = Literal["information_return", "checkpoint", "review_duty", "action"]


class Task(BaseModel):
    id: str
    agency: str  # the agency that owns it, or the role that does (business_unit, jcrg_chair)
    kind: TaskKind = "information_return"
    asked_for: str
    requested_at: datetime
    due_at: datetime | None = None  # from the policy's deadline for this kind of task, if it sets one
    status: TaskStatus = TaskStatus.open
    completed_at: datetime | None = None
    completed_by: Actor | None = None
    summary: str | None = None
    documents: list[str] = Field(default_factory=list)


class CaseEvent(BaseModel):
    """One entry of the case's history; the read model's event log is a copy of these."""

    seq: int
    kind: str
    recorded_at: datetime
    occurred_at: datetime | None = None
    actor: Actor | None = None
    reasons: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


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
    scrutineer_informed_at: datetime | None = None
    sent_to_panel_at: datetime | None = None
    panel_response: PanelResponseKind | None = None
    panel_responded_at: datetime | None = None
    rounds: int = 0  # how many times the Panel challenged and the recommendation was reopened


class RefusalKind(StrEnum):
    not_allowed_now = "ProcessRefusal"  # the process does not allow this step in the case's state (409)
    forbidden = "NotYours"  # this person's role (or agency) does not take this step (403)
    not_found = "NotFound"  # the thing named does not exist on this case (404)
    invalid = "InvalidInput"  # the input cannot be right whatever the state, e.g. a time in the future (422)


class Refusal(Exception):
    """A step refused, with a reason a person can act on. Nothing is changed."""

    def __init__(self, reason: str, kind: RefusalKind = RefusalKind.not_allowed_now) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


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
