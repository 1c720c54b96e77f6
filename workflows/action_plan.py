"""The action plan: recommendations become actions owned by agencies, followed for as long as it takes.

A child workflow of the case (id ``case-<ref>/plan``). Each action has an owning agency, a lead role
(no names needed), the date the JCRG set, a measure of success and one or more themes; it is a task for
its agency. Agencies post progress with evidence; the JCRG signs an action off as completed (with the
evidence of impact) or completed with assurance pending an audit, and an impact checkpoint follows.
Overdue actions escalate along the policy's chain, each tier once. The JCRG may add, re-date or
withdraw actions with reasons; each action keeps its whole history.

Plans run for years: the workflow continues as new before its history grows large, carrying the plan
(the events already written to the read model are not carried), after every step in flight has finished.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from safeguarding.case import (
        Actor,
        AgencyCode,
        Milestone,
        PlausibleDate,
        Reasons,
        Refusal,
        RefusalKind,
        ShortText,
        StrictModel,
        Task,
        TaskDone,
        TaskStatus,
    )
    from safeguarding.contracts import (
        ActionSummary,
        CaseChanges,
        PlanSummary,
        ProgressNote,
        RecommendationSummary,
    )
    from safeguarding.policy import Policy
    from safeguarding.record import Stream, WorkRecord, workflow_id_for
    from workflows.casework import Casework, StepChanges, StepOutcome, step_outcome
    from workflows.deadlines import Notice

# Continue as new after this many history events unless told otherwise (Temporal suggests it too).
HISTORY_LIMIT = 5000


class Theme(StrEnum):
    """The partnership's themes for grouping learning (DOMAIN.md), and the golden threads."""

    neglect = "neglect"
    domestic_abuse = "domestic_abuse"
    child_sexual_abuse = "child_sexual_abuse"
    extrafamilial_harm = "extrafamilial_harm"
    online_safety = "online_safety"
    emotional_wellbeing_and_mental_health = "emotional_wellbeing_and_mental_health"
    special_educational_needs_and_disabilities = "special_educational_needs_and_disabilities"
    physical_harm_to_under_2s = "physical_harm_to_under_2s"
    safeguarding_in_education = "safeguarding_in_education"
    thresholds_and_early_help = "thresholds_and_early_help"
    information_sharing = "information_sharing"
    transitional_safeguarding = "transitional_safeguarding"
    voice_of_the_child = "voice_of_the_child"
    cultural_competence = "cultural_competence"


class ActionStatus(StrEnum):
    open = "open"
    completed = "completed"
    completed_pending_audit = "completed_pending_audit"
    withdrawn = "withdrawn"


SETTLED = {ActionStatus.completed, ActionStatus.completed_pending_audit, ActionStatus.withdrawn}


# ---------------------------------------------------------------- the steps (API bodies)


class AddRecommendation(StrictModel):
    step: Literal["add_recommendation"] = "add_recommendation"
    text: ShortText
    source: Literal["rapid_review", "local_cspr", "other_review", "national_review", "audit"]


class AddAction(StrictModel):
    step: Literal["add_action"] = "add_action"
    recommendation_id: str = Field(pattern=r"^R[0-9]{1,4}$")
    agency: AgencyCode
    lead_role: ShortText = Field(description="The lead's role in the agency, e.g. 'Head of Safeguarding'.")
    description: ShortText
    measure: ShortText = Field(description="How success will be measured.")
    themes: list[Theme] = Field(min_length=1, max_length=6)
    due_on: PlausibleDate


class ActionProgress(StrictModel):
    step: Literal["progress"] = "progress"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    summary: Reasons
    evidence: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=20)


class ActionSignedOff(StrictModel):
    step: Literal["sign_off_action"] = "sign_off_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    outcome: Literal["completed", "completed_pending_audit"]
    evidence_of_impact: Reasons
    reasons: Reasons


class ActionRedated(StrictModel):
    step: Literal["redate_action"] = "redate_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    due_on: PlausibleDate
    reasons: Reasons


class ActionWithdrawn(StrictModel):
    step: Literal["withdraw_action"] = "withdraw_action"
    action_id: str = Field(pattern=r"^A[0-9]{1,5}$")
    reasons: Reasons


class ImpactCheckDone(TaskDone):
    step: Literal["checkpoint_done"] = "checkpoint_done"


class PlanClosed(StrictModel):
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


# ---------------------------------------------------------------- what the plan keeps


class PlannedRecommendation(BaseModel):
    text: str
    source: str


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
    themes: list[Theme]
    due_on: date
    due_at: datetime | None = None
    task_id: str
    status: ActionStatus = ActionStatus.open
    completed_at: datetime | None = None
    evidence_of_impact: str | None = None
    escalations_sent: int = 0
    changes: list[ActionChange] = Field(default_factory=list)


class PlanFile(WorkRecord):
    recommendations: list[PlanRecommendation] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    status: Literal["open", "closed"] = "open"
    closed_at: datetime | None = None
    runs: int = 1

    def action(self, action_id: str) -> Action | None:
        return next((a for a in self.actions if a.id == action_id), None)

    def action_for_task(self, task_id: str | None) -> Action | None:
        return next((a for a in self.actions if a.task_id == task_id), None)


class PlanView(BaseModel):
    workflow_id: str
    status: str
    runs: int
    recommendations: list[PlanRecommendation]
    actions: list[Action]
    tasks: list[Task]


class PlanStart(BaseModel):
    reference: str
    policy: Policy
    facts: dict
    recommendations: list[PlannedRecommendation] = Field(default_factory=list)
    carried: PlanFile | None = None  # the plan so far, when the workflow continues as new
    history_limit: int = HISTORY_LIMIT


class PlanOutcome(BaseModel):
    closed_at: datetime
    actions: int
    completed: int
    withdrawn: int


# ---------------------------------------------------------------- the rules (pure)

JCRG = ("jcrg_member", "jcrg_chair")


def check_plan_step(file: PlanFile, actor: Actor, step: PlanStep, today: date) -> None:
    if file.status == "closed":
        raise Refusal(f"the action plan of case {file.reference} is closed")
    match step:
        case AddRecommendation():
            _role(actor, *JCRG, "business_unit")
        case AddAction():
            _role(actor, *JCRG)
            if not any(r.id == step.recommendation_id for r in file.recommendations):
                raise Refusal(
                    f"the plan has no recommendation {step.recommendation_id}", RefusalKind.not_found
                )
            if step.due_on < today:
                raise Refusal(f"the due date {step.due_on} is in the past", RefusalKind.invalid)
        case ActionProgress():
            action = _open_action(file, step.action_id)
            _role(actor, "partner_agency", "business_unit")
            if actor.role.value == "partner_agency" and actor.agency != action.agency:
                raise Refusal(f"action {action.id} belongs to {action.agency}", RefusalKind.forbidden)
        case ActionSignedOff():
            _role(actor, *JCRG)
            action = _open_action(file, step.action_id)
            if not any(c.kind == "progress" for c in action.changes):
                raise Refusal(f"action {action.id} has no progress with evidence from {action.agency} yet")
        case ActionRedated():
            _role(actor, *JCRG)
            action = _open_action(file, step.action_id)
            if step.due_on == action.due_on:
                raise Refusal(f"action {action.id} is already due on {action.due_on}")
            if step.due_on < today:
                raise Refusal(f"the new due date {step.due_on} is in the past", RefusalKind.invalid)
        case ActionWithdrawn():
            _role(actor, *JCRG)
            _open_action(file, step.action_id)
        case ImpactCheckDone():
            task = file.task(step.task_id)
            if task is None:
                raise Refusal(f"the plan has no task {step.task_id}", RefusalKind.not_found)
            if task.kind == "action":
                raise Refusal(
                    "an action is completed by the JCRG's sign-off: the agency posts its progress with evidence "
                    f"(POST /cases/{file.reference}/action-plan/progress)"
                )
            _role(actor, *JCRG, "business_unit")
            if task.status is not TaskStatus.open:
                raise Refusal(f"task {task.id} is {task.status.value}")
        case PlanClosed():
            _role(actor, *JCRG)
            still_open = [a.id for a in file.actions if a.status not in SETTLED]
            if still_open:
                raise Refusal(f"actions still open: {', '.join(still_open)}")
            pending = [c.subject or c.key for c in file.checkpoints] + [
                t.id for t in file.tasks if t.status is TaskStatus.open
            ]
            if pending:
                raise Refusal(f"impact checkpoints still to come or open: {', '.join(map(str, pending))}")


def _role(actor: Actor, *roles: str) -> None:
    if actor.role.value not in roles:
        raise Refusal(
            f"a {actor.role.value} cannot take this step; it is for: {', '.join(roles)}",
            RefusalKind.forbidden,
        )


def _open_action(file: PlanFile, action_id: str) -> Action:
    action = file.action(action_id)
    if action is None:
        raise Refusal(f"the plan has no action {action_id}", RefusalKind.not_found)
    if action.status in SETTLED:
        raise Refusal(f"action {action_id} is {action.status.value}")
    return action


# ---------------------------------------------------------------- the workflow


@workflow.defn
class ActionPlanWorkflow(Casework):
    @workflow.init
    def __init__(self, start: PlanStart) -> None:
        if start.carried is not None:
            self.file = start.carried
            self.file.runs += 1
        else:
            self.file = PlanFile(
                reference=start.reference,
                stream=Stream.plan,
                workflow_id=workflow_id_for(start.reference, Stream.plan),
                policy=start.policy,
                facts=start.facts,
            )
        self._start_casework(self.file)
        self._history_limit = start.history_limit
        self._fresh = start.carried is None
        self._recommendations = start.recommendations

    @workflow.run
    async def run(self, start: PlanStart) -> PlanOutcome:
        file = self.file
        if self._fresh:
            async with self._lock:
                file.record("action_plan_opened", workflow.now())
                for planned in self._recommendations:
                    self._add_recommendation(planned.text, planned.source, None)
        else:
            self._log("action plan continued as new", run=file.runs)
        await self._run_casework()
        if self._time_to_move() and file.status == "open":
            # Everything so far is written to the read model: carry the plan, not its written events.
            file.first_seq += len(file.history)
            file.history = []
            workflow.continue_as_new(
                PlanStart(
                    reference=file.reference,
                    policy=file.policy,
                    facts=file.facts,
                    carried=file,
                    history_limit=self._history_limit,
                )
            )
        return PlanOutcome(
            closed_at=file.closed_at or workflow.now(),
            actions=len(file.actions),
            completed=sum(
                a.status in (ActionStatus.completed, ActionStatus.completed_pending_audit)
                for a in file.actions
            ),
            withdrawn=sum(a.status is ActionStatus.withdrawn for a in file.actions),
        )

    def _done(self) -> bool:
        return self.file.status == "closed"

    def _time_to_move(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._history_limit

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        changes.plan = PlanSummary(
            status=self.file.status,
            actions=[
                ActionSummary(
                    id=a.id,
                    agency=a.agency,
                    lead_role=a.lead_role,
                    source=self._source(a),
                    themes=[t.value for t in a.themes],
                    due_at=a.due_at or workflow.now(),
                    status=a.status.value,
                    completed_at=a.completed_at,
                    escalations_sent=a.escalations_sent,
                    recommendation_id=a.recommendation_id,
                    description=a.description,
                    measure=a.measure,
                    evidence_of_impact=a.evidence_of_impact,
                    progress=[
                        ProgressNote(at=c.at, summary=c.reasons, evidence=c.details.get("evidence", []))
                        for c in a.changes
                        if c.kind == "progress"
                    ],
                )
                for a in self.file.actions
            ],
            recommendations=[
                RecommendationSummary(id=r.id, text=r.text, source=r.source)
                for r in self.file.recommendations
            ],
        )
        return changes

    def _source(self, action: Action) -> str:
        return next(
            (r.source for r in self.file.recommendations if r.id == action.recommendation_id), "unknown"
        )

    def _on_notice(self, notice: Notice, now: datetime) -> None:
        action = self.file.action_for_task(notice.deadline.subject)
        if action is None:
            return
        if notice.kind == "escalation":
            action.escalations_sent += 1
        action.changes.append(
            ActionChange(
                at=now,
                kind=f"{notice.kind}_sent",
                details={"number": notice.number, "recipients": notice.recipients},
            )
        )

    @workflow.update
    async def await_opened(self) -> None:
        """Answers once the workflow has opened (its first deadlines recorded); changes nothing."""
        await workflow.wait_condition(lambda: self._ready)

    @workflow.query
    def view(self) -> PlanView:
        """GET /cases/{ref}: the plan, its actions with their histories, and its tasks."""
        file = self.file
        return PlanView(
            workflow_id=file.workflow_id,
            status=file.status,
            runs=file.runs,
            recommendations=file.recommendations,
            actions=file.actions,
            tasks=file.tasks,
        )

    @workflow.update
    async def take_step(self, step: PlanStepInput) -> StepOutcome:
        """JCRG, Business Unit or the owning agency: one decision on the plan (which one is in ``step.step``)."""
        async with self._step() as changes:
            self._check(step)
            await self._apply(changes, step.actor, step.step)
        return step_outcome(self.file.reference, self.file.status, changes)

    @take_step.validator
    def _validate_take_step(self, step: PlanStepInput) -> None:
        self._validate(self._check, step)

    def _check(self, step: PlanStepInput) -> None:
        check_plan_step(self.file, step.actor, step.step, workflow.now().date())

    def _add_recommendation(self, text: str, source: str, actor: Actor | None) -> PlanRecommendation:
        recommendation = PlanRecommendation(
            id=f"R{len(self.file.recommendations) + 1}", text=text, source=source
        )
        self.file.recommendations.append(recommendation)
        self.file.record(
            "recommendation_added",
            workflow.now(),
            actor=actor,
            recommendation=recommendation.id,
            source=source,
        )
        return recommendation

    async def _apply(self, changes: StepChanges, actor: Actor, step: PlanStep) -> None:
        file, now = self.file, workflow.now()
        rule = file.policy.deadlines["action_due"]
        match step:
            case AddRecommendation():
                self._add_recommendation(step.text, step.source, actor)
            case AddAction():
                task = Task(
                    id=file.next_task_id(),
                    agency=step.agency,
                    kind="action",
                    asked_for=step.description,
                    requested_at=now,
                )
                file.tasks.append(task)
                action = Action(
                    id=f"A{len(file.actions) + 1}",
                    recommendation_id=step.recommendation_id,
                    agency=step.agency,
                    lead_role=step.lead_role,
                    description=step.description,
                    measure=step.measure,
                    themes=step.themes,
                    due_on=step.due_on,
                    task_id=task.id,
                )
                file.actions.append(action)
                action.changes.append(
                    ActionChange(
                        at=now,
                        kind="added",
                        actor=actor,
                        details=step.model_dump(mode="json", exclude={"step"}),
                    )
                )
                changes.record(
                    "action_added",
                    actor=actor,
                    action=action.id,
                    agency=step.agency,
                    task=task.id,
                    due_on=step.due_on.isoformat(),
                    themes=[t.value for t in step.themes],
                )
                (deadline, *_) = await changes.reach(
                    [(Milestone.action_agreed, now, task.id)], due_on={task.id: step.due_on}
                )
                action.due_at = task.due_at = deadline.due_at
                changes.tasks.append(task)
            case ActionProgress():
                action = file.action(step.action_id)
                action.changes.append(
                    ActionChange(
                        at=now,
                        kind="progress",
                        actor=actor,
                        reasons=step.summary,  # type: ignore[union-attr]
                        details={"evidence": step.evidence},
                    )
                )
                changes.record(
                    "action_progress", actor=actor, action=step.action_id, evidence=len(step.evidence)
                )
            case ActionSignedOff():
                action = file.action(step.action_id)
                assert action is not None
                action.status = ActionStatus(step.outcome)
                action.completed_at, action.evidence_of_impact = now, step.evidence_of_impact
                action.changes.append(
                    ActionChange(
                        at=now,
                        kind=step.outcome,
                        actor=actor,
                        reasons=step.reasons,
                        details={"evidence_of_impact": step.evidence_of_impact},
                    )
                )
                task = file.task(action.task_id)
                task.status, task.completed_at, task.completed_by = TaskStatus.completed, now, actor  # type: ignore[union-attr]
                changes.record(
                    "action_signed_off",
                    actor=actor,
                    reasons=step.reasons,
                    action=action.id,
                    outcome=step.outcome,
                )
                await changes.reach([(Milestone.action_completed, now, action.task_id)])
                changes.tasks.append(task)  # type: ignore[arg-type]
            case ActionRedated():
                action = file.action(step.action_id)
                assert action is not None
                deadline = next(d for d in self.book.live() if d.subject == action.task_id)
                action.changes.append(
                    ActionChange(
                        at=now,
                        kind="redated",
                        actor=actor,
                        reasons=step.reasons,
                        details={"from": action.due_on.isoformat(), "to": step.due_on.isoformat()},
                    )
                )
                action.due_on = step.due_on
                await self._redate(deadline, rule, step.due_on)
                action.due_at = deadline.due_at
                file.task(action.task_id).due_at = deadline.due_at  # type: ignore[union-attr]
                changes.record(
                    "action_redated",
                    actor=actor,
                    reasons=step.reasons,
                    action=action.id,
                    due_on=step.due_on.isoformat(),
                )
                changes.deadlines.append(deadline)
            case ActionWithdrawn():
                action = file.action(step.action_id)
                assert action is not None
                action.status = ActionStatus.withdrawn
                action.changes.append(
                    ActionChange(at=now, kind="withdrawn", actor=actor, reasons=step.reasons)
                )
                self.withdraw(changes, file.task(action.task_id), actor, step.reasons)  # type: ignore[arg-type]
            case ImpactCheckDone():
                task = file.task(step.task_id)
                assert task is not None
                task.status, task.completed_at, task.completed_by, task.summary = (
                    TaskStatus.completed,
                    now,
                    actor,
                    step.summary,
                )
                for action in file.actions:
                    if task.asked_for.endswith(f"({action.task_id})"):
                        action.changes.append(
                            ActionChange(at=now, kind="impact_checked", actor=actor, reasons=step.summary)
                        )
                changes.record("impact_checked", actor=actor, task=task.id)
                await changes.reach([(Milestone.task_completed, now, task.id)])
                changes.tasks.append(task)
            case PlanClosed():
                file.status, file.closed_at = "closed", now
                changes.record("action_plan_closed", actor=actor, reasons=step.reasons)
