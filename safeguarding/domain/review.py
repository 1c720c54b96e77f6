"""The review that follows a rapid review: a local Child Safeguarding Practice Review (CSPR), another
type of review, or the local partners' duties when the Panel takes a national review. What the review
keeps, what people send to it, and the order of its stages (``SPINE``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import CaseEvent
from safeguarding.domain.fields import Dated, PlausibleDate, Reasons, ShortText, StrictModel
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import WorkRecord
from safeguarding.domain.tasks import Task, TaskDone, TaskWithdrawal


class ReviewKind(StrEnum):
    local_cspr = "local_cspr"
    other_review = "other_review"
    national_review = "national_review"
    # A local learning review (the JCRG's own, below the criteria for a CSPR), e.g. for a referral
    # screened out of the notification criteria.
    local_learning_review = "local_learning_review"
    # One review of a theme across several cases.
    thematic_review = "thematic_review"
    # A Safeguarding Adults Review (Care Act 2014, s44) on its own.
    safeguarding_adults_review = "safeguarding_adults_review"


class ReviewStage(StrEnum):
    commissioned = "commissioned"
    reviewer_appointed = "reviewer_appointed"
    terms_agreed = "terms_agreed"
    learning_event_held = "learning_event_held"
    draft_received = "draft_received"
    approved = "approved"
    final_report = "final_report"
    copy_sent = "copy_sent"
    publication_scheduled = "publication_scheduled"
    # The local partners' part of a national review
    information_sent = "information_sent"
    finished = "finished"
    # Begun on the partners' decision, then withdrawn when their reconsidered decision was for no
    # review (off every spine: it takes no step until commissioned again or finished).
    withdrawn = "withdrawn"


SPINE = {
    ReviewKind.local_cspr: [
        ReviewStage.commissioned,
        ReviewStage.reviewer_appointed,
        ReviewStage.terms_agreed,
        ReviewStage.learning_event_held,
        ReviewStage.draft_received,
        ReviewStage.approved,
        ReviewStage.final_report,
        ReviewStage.copy_sent,
        ReviewStage.publication_scheduled,
        ReviewStage.finished,
    ],
    ReviewKind.other_review: [
        ReviewStage.commissioned,
        ReviewStage.reviewer_appointed,
        ReviewStage.terms_agreed,
        ReviewStage.draft_received,
        ReviewStage.approved,
        ReviewStage.final_report,
        ReviewStage.finished,
    ],
    ReviewKind.national_review: [
        ReviewStage.commissioned,
        ReviewStage.information_sent,
        ReviewStage.finished,
    ],
    # Its own stages: a lead reviewer, terms, a learning event with the practitioners, the final report
    # (no partners' approval of a draft, no publication).
    ReviewKind.local_learning_review: [
        ReviewStage.commissioned,
        ReviewStage.reviewer_appointed,
        ReviewStage.terms_agreed,
        ReviewStage.learning_event_held,
        ReviewStage.final_report,
        ReviewStage.finished,
    ],
    ReviewKind.thematic_review: [
        ReviewStage.commissioned,
        ReviewStage.reviewer_appointed,
        ReviewStage.terms_agreed,
        ReviewStage.learning_event_held,
        ReviewStage.final_report,
        ReviewStage.finished,
    ],
    # A SAR: reviewer, terms, learning event, a draft the partners approve, the final report.
    ReviewKind.safeguarding_adults_review: [
        ReviewStage.commissioned,
        ReviewStage.reviewer_appointed,
        ReviewStage.terms_agreed,
        ReviewStage.learning_event_held,
        ReviewStage.draft_received,
        ReviewStage.approved,
        ReviewStage.final_report,
        ReviewStage.finished,
    ],
}


class ReviewerAppointed(StrictModel):
    step: Literal["reviewer_appointed"] = "reviewer_appointed"
    reviewer: ShortText = Field(description="The independent reviewer or reviewing organisation.")
    appointed_on: PlausibleDate


class TermsAgreed(StrictModel):
    step: Literal["terms_agreed"] = "terms_agreed"
    methodology: ShortText
    terms_of_reference: ShortText
    agreed_on: PlausibleDate


class FamilyEngagementStatus(StrEnum):
    offered = "offered"
    accepted = "accepted"
    declined = "declined"
    delayed = "delayed"


class FamilyEngagement(StrictModel):
    step: Literal["family_engagement"] = "family_engagement"
    status: FamilyEngagementStatus
    on: PlausibleDate
    reasons: Reasons


class LearningEventHeld(StrictModel):
    step: Literal["learning_event_held"] = "learning_event_held"
    held_on: PlausibleDate


class DraftReceived(StrictModel):
    step: Literal["draft_received"] = "draft_received"
    received_on: PlausibleDate


class ReportApproved(Dated):
    step: Literal["report_approved"] = "report_approved"
    partner: StatutoryPartner
    reasons: Reasons


class AdultsBoardApproval(Dated):
    """The Safeguarding Adults Board's representative approves a joint CSPR/SAR's report."""

    step: Literal["adults_board_approval"] = "adults_board_approval"
    reasons: Reasons


class AdultsBoardPublication(Dated):
    """The Safeguarding Adults Board's representative agrees to a joint CSPR/SAR's publication."""

    step: Literal["adults_board_publication"] = "adults_board_publication"
    reasons: Reasons


class FinalReport(StrictModel):
    step: Literal["final_report"] = "final_report"
    received_on: PlausibleDate
    recommendations: list[ShortText] = Field(min_length=1, max_length=60)


class CopySent(StrictModel):
    step: Literal["copy_sent"] = "copy_sent"
    sent_on: PlausibleDate
    to_ofsted: bool = Field(
        default=False, description="Ofsted too (the Panel and the Secretary of State always)."
    )


class PublicationScheduled(StrictModel):
    step: Literal["publication_scheduled"] = "publication_scheduled"
    publication_date: PlausibleDate


class Published(StrictModel):
    step: Literal["published"] = "published"
    published_on: PlausibleDate


class NotPublished(Dated):
    step: Literal["not_published"] = "not_published"
    reasons: Reasons
    published_instead: ShortText = Field(description="What is published instead, e.g. the improvements made.")


class ProceedingsKind(StrEnum):
    criminal_trial = "criminal_trial"
    inquest = "inquest"
    other = "other"


class ClockStopped(Dated):
    step: Literal["clock_stopped"] = "clock_stopped"
    proceedings: ProceedingsKind
    reasons: Reasons
    expected_end: PlausibleDate
    panel_told_on: PlausibleDate = Field(description="When the Panel was told of the delay.")


class ClockRestarted(Dated):
    step: Literal["clock_restarted"] = "clock_restarted"
    reasons: Reasons


class InformationToPanel(StrictModel):
    step: Literal["information_to_panel"] = "information_to_panel"
    sent_on: PlausibleDate


class PanelReportReceived(StrictModel):
    step: Literal["panel_report_received"] = "panel_report_received"
    received_on: PlausibleDate
    recommendations: list[ShortText] = Field(min_length=1, max_length=60)


class CheckpointDone(TaskDone):
    step: Literal["checkpoint_done"] = "checkpoint_done"


class TaskWithdrawn(TaskWithdrawal):
    step: Literal["task_withdrawn"] = "task_withdrawn"


ReviewStep = Annotated[
    ReviewerAppointed
    | TermsAgreed
    | FamilyEngagement
    | LearningEventHeld
    | DraftReceived
    | ReportApproved
    | FinalReport
    | CopySent
    | PublicationScheduled
    | Published
    | NotPublished
    | ClockStopped
    | ClockRestarted
    | InformationToPanel
    | PanelReportReceived
    | CheckpointDone
    | TaskWithdrawn,
    Field(discriminator="step"),
]


class ReviewStepInput(BaseModel):
    actor: Actor
    step: ReviewStep


class Pause(BaseModel):
    proceedings: ProceedingsKind
    reasons: str
    started_at: datetime
    expected_end: date
    panel_told_on: date
    ended_at: datetime | None = None
    days: int | None = None


class ReviewState(BaseModel):
    """Where a review stands: what the workflow keeps (``ReviewFile``) and what it shows (``ReviewView``)."""

    kind: ReviewKind
    stage: ReviewStage = ReviewStage.commissioned
    decided_at: datetime
    started_at: datetime
    methodology: str | None = None
    review_type: str | None = None
    reviewer: str | None = None
    terms_of_reference: str | None = None
    family_engagement: list[FamilyEngagement] = Field(default_factory=list)
    approvals: list[StatutoryPartner] = Field(default_factory=list)
    # A joint CSPR/SAR: the Safeguarding Adults Board approves the report too.
    joint_with_adults_board: bool = False
    adults_board_approved: bool = False
    adults_board_agreed_publication: bool = False
    recommendations: list[str] = Field(default_factory=list)
    copy_sent_on: date | None = None
    earliest_publication_date: date | None = None
    publication_date: date | None = None
    published_on: date | None = None
    published_instead: str | None = None
    pauses: list[Pause] = Field(default_factory=list)
    outcome: str | None = None
    finished_at: datetime | None = None


class ReviewFile(WorkRecord, ReviewState):
    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].ended_at is None

    def reached(self, stage: ReviewStage) -> bool:
        spine = SPINE[self.kind]
        return stage in spine and self.stage in spine and spine.index(self.stage) >= spine.index(stage)

    def view(self) -> ReviewView:
        return ReviewView(
            paused=self.paused,
            **self.model_dump(include={*ReviewView.model_fields} - {"paused"}),
        )


class ReviewView(ReviewState):
    """GET /cases/{ref} (``review``): where the review stands, its deadlines, tasks and history."""

    workflow_id: str
    paused: bool
    deadlines: list[Deadline]
    tasks: list[Task]
    history: list[CaseEvent]


class ReviewStart(BaseModel):
    reference: str
    policy: Policy
    facts: dict
    kind: str
    methodology: str | None = None
    review_type: str | None = None
    decided_at: datetime
    joint_with_adults_board: bool = False


class ReviewRescope(BaseModel):
    """From the case, to a review begun on the partners' decision before the Panel answered: the
    decision now stands for ``kind`` (decided at ``decided_at``), or for no review (``kind`` None):
    withdrawn, and finished if ``final`` (the rapid review has concluded, or the case closed)."""

    kind: str | None
    decided_at: datetime
    reason: str
    final: bool = False
    methodology: str | None = None
    review_type: str | None = None
    joint_with_adults_board: bool = False


class ReviewOutcome(BaseModel):
    outcome: str
    recommendations: list[str]
    finished_at: datetime


# The duties a national review gives the partners: each a task of the Business Unit's.
NATIONAL_REVIEW_DUTIES = (
    "Information about the case sent to the Panel for its national review",
    "The Panel's national review report received and its learning taken forward",
)
