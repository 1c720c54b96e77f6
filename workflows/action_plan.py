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

from datetime import datetime

from temporalio import workflow

from safeguarding.domain.action_plan import (
    Action,
    ActionChange,
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionStatus,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    ImpactCheckDone,
    PlanClosed,
    PlanFile,
    PlanOutcome,
    PlanRecommendation,
    PlanStart,
    PlanStep,
    PlanStepInput,
    PlanView,
)
from safeguarding.domain.contracts import (
    ActionSummary,
    CaseChanges,
    PlanSummary,
    ProgressNote,
    RecommendationSummary,
)
from safeguarding.domain.deadline_book import Notice
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream, workflow_id_for
from safeguarding.domain.rules.action_plan import check_plan_step
from safeguarding.domain.tasks import Task, TaskStatus
from workflows.casework import Casework, StepChanges, step_outcome


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
