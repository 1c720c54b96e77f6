"""The action plan: recommendations become actions owned by agencies, followed for as long as it takes.
What the plan keeps, what people send to it, and the partnership's themes.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from safeguarding.domain.fields import AgencyCode, Dated, PlausibleDate, Reasons, ShortText
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import THEME_PATTERN, Policy
from safeguarding.domain.record import WorkRecord
from safeguarding.domain.tasks import Task, TaskDone

# Continue as new after this many history events unless told otherwise (Temporal suggests it too).
HISTORY_LIMIT = 5000


class ActionStatus(StrEnum):
    open = "open"
    completed = "completed"
    completed_pending_audit = "completed_pending_audit"
    withdrawn = "withdrawn"


SETTLED = {ActionStatus.completed, ActionStatus.completed_pending_audit, ActionStatus.withdrawn}


class AddRecommendation(Dated):
    step: Literal["add_recommendation"] = "add_recommendation"
    text: ShortText
    source: Literal["rapid_review", "local_cspr", "other_review", "national_review", "audit"]


class AddAction(Dated):
    step: Literal["add_action"] = "add_action"
    recommendation_id: str = Field(pattern=r"^R[0-9]{1,4}$")
    agency: AgencyCode
    lead_role: ShortText = Field(description="The lead's role in the agency, e.g. 'Head of Safeguarding'.")
    description: ShortText
    measure: ShortText = Field(description="How success will be measured.")
    themes: list[Annotated[str, StringConstraints(pattern=THEME_PATTERN)]] = Field(
        min_length=1, max_length=6, description="The partnership's themes (its policy lists them)."
    )
    due_on: PlausibleDate


class ActionProgress(Dated):
    step: Literal["progress"] = "progress"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    summary: Reasons
    evidence: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=20)


class ActionSignedOff(Dated):
    step: Literal["sign_off_action"] = "sign_off_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    outcome: Literal["completed", "completed_pending_audit"]
    evidence_of_impact: Reasons
    reasons: Reasons


class ActionRedated(Dated):
    step: Literal["redate_action"] = "redate_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    due_on: PlausibleDate
    reasons: Reasons


class ActionWithdrawn(Dated):
    step: Literal["withdraw_action"] = "withdraw_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    reasons: Reasons


class ImpactCheckDone(TaskDone):
    step: Literal["checkpoint_done"] = "checkpoint_done"


class PlanClosed(Dated):
    step: Literal["close_plan"] = "close_plan"
    reasons: Reasons


PlanStep = Annotated[
    AddRecommendation
    | AddAction
    | ActionProgress
    | ActionSignedOff
    | ActionRedated
    | ActionWithdrawn
    | ImpactCheckDone
    | PlanClosed,
    Field(discriminator="step"),
]


class PlanStepInput(BaseModel):
    actor: Actor
    step: PlanStep


class PlannedRecommendation(BaseModel):
    text: str
    source: str


class ReviewRecommendations(BaseModel):
    """From the review to its case's plan: the recommendations the partners agreed (at the final
    report, before publication), or none when the review finished without any."""

    kind: str
    recommendations: list[str]
    agreed_at: datetime


class PlanRecommendation(BaseModel):
    id: str
    text: str
    source: str


class ActionChange(BaseModel):
    """One entry of an action's own history: the original, and every change after it."""

    at: datetime
    kind: str
    actor: Actor | None = None
    reasons: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Action(BaseModel):
    id: str
    recommendation_id: str
    agency: str
    lead_role: str
    description: str
    measure: str
    themes: list[str]
    due_on: date
    due_at: datetime | None = None
    task_id: str
    status: ActionStatus = ActionStatus.open
    completed_at: datetime | None = None
    evidence_of_impact: str | None = None
    escalations_sent: int = 0
    changes: list[ActionChange] = Field(default_factory=list)


class PlanState(BaseModel):
    """The plan itself: what the workflow keeps (``PlanFile``) and what it shows (``PlanView``)."""

    recommendations: list[PlanRecommendation] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    status: Literal["open", "closed"] = "open"
    closed_at: datetime | None = None
    runs: int = 1
    # A plan opened when the rapid review concluded, while the review it decided on still runs: the
    # review's recommendations are still to come (the plan cannot close before they do).
    awaiting_review: str | None = None  # the review's kind


class PlanFile(WorkRecord, PlanState):
    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def action_for_task(self, task_id: str | None) -> Action | None:
        return next((a for a in self.actions if a.task_id == task_id), None)

    def view(self) -> PlanView:
        return PlanView(**self.model_dump(include={*PlanView.model_fields}))


class PlanView(PlanState):
    """GET /cases/{ref} (``plan``): the plan, its actions with their histories, and its tasks."""

    workflow_id: str
    tasks: list[Task]


class PlanStart(BaseModel):
    reference: str
    policy: Policy
    facts: dict
    recommendations: list[PlannedRecommendation] = Field(default_factory=list)
    # When the plan truly began (the review's dated end, the rapid review's dated conclusion), for a
    # case entered after the fact: its dated steps may go back to then. None: now.
    began_at: datetime | None = None
    # The plan opens at the rapid review's conclusion while this review runs; its recommendations
    # come later (``ActionPlanWorkflow.take_review_recommendations``).
    awaiting_review: str | None = None
    carried: PlanFile | None = None  # the plan so far, when the workflow continues as new
    history_limit: int = HISTORY_LIMIT


class PlanOutcome(BaseModel):
    closed_at: datetime
    actions: int
    completed: int
    withdrawn: int
