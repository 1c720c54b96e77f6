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

from datetime import date, datetime
from typing import Any

from temporalio import workflow

from safeguarding.domain import steps
from safeguarding.domain.action_plan import (
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
    PlanStart,
    PlanStepInput,
    PlanView,
    ReviewRecommendations,
)
from safeguarding.domain.contracts import (
    ActionSummary,
    CaseChanges,
    PlanSummary,
    ProgressNote,
    RecommendationSummary,
)
from safeguarding.domain.deadline_book import Owed
from safeguarding.domain.events import EventKind
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Attributed
from safeguarding.domain.record import Stream
from safeguarding.domain.rules import action_plan as plan
from workflows.casework import Casework, Check


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
                workflow_id=workflow.info().workflow_id,
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
                now = workflow.now()
                began = start.began_at if start.began_at is not None and start.began_at < now else None
                file.record(EventKind.action_plan_opened, now, occurred_at=began)
                file.awaiting_review = start.awaiting_review
                for planned in self._recommendations:
                    plan.add_recommendation(file, planned.text, planned.source, None, now)
        else:
            self._log("action plan continued as new", run=file.runs)
        await self._run_casework()
        if self._time_to_move() and file.status == "open":
            # Everything so far is written to the read model: carry the plan, not its written events.
            file.first_seq += len(file.history)
            file.history, file.notices = [], []
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

    @workflow.signal
    async def take_review_recommendations(self, agreed: ReviewRecommendations) -> None:
        """From the case: the review's recommendations, agreed by the partners (once; a repeat changes
        nothing). A signal, not a person's step: the review's own steps were audited when taken."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            plan.take_review_recommendations(self.file, agreed, workflow.now())
        self._wake.set()

    def _done(self) -> bool:
        return self.file.status == "closed"

    def _stage(self) -> str:
        return self.file.status

    def _time_to_move(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= self._history_limit

    def _date_set(self, subject: str | None) -> date | None:
        action = self.file.action_for_task(subject)
        return action.due_on if action else None

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        file = self.file
        sources = {r.id: r.source for r in file.recommendations}
        changes.plan = PlanSummary(
            status=file.status,
            actions=[
                ActionSummary(
                    id=a.id,
                    agency=a.agency,
                    lead_role=a.lead_role,
                    source=sources.get(a.recommendation_id, "unknown"),
                    themes=list(a.themes),
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
                for a in file.actions
            ],
            recommendations=[
                RecommendationSummary(id=r.id, text=r.text, source=r.source) for r in file.recommendations
            ],
        )
        return changes

    def _on_notice(self, owed: Owed, now: datetime) -> None:
        action = self.file.action_for_task(owed.deadline.subject)
        if action is None:
            return
        if owed.kind == "escalation":
            action.escalations_sent += 1
        action.changes.append(
            ActionChange(
                at=now,
                kind=f"{owed.kind}_sent",
                details={"number": owed.number, "recipients": owed.recipients},
            )
        )

    @workflow.update
    async def await_opened(self) -> None:
        """Answers once the workflow has opened (its first deadlines recorded); changes nothing."""
        await workflow.wait_condition(lambda: self._ready)

    @workflow.query
    def view(self) -> PlanView:
        """GET /cases/{ref}: the plan, its actions with their histories, and its tasks."""
        return self.file.view()

    async def _take(
        self, step: steps.Step, attributed: Attributed[Any], check: Check, apply: Any
    ) -> StepOutcome:
        """A step whose whole effect is its ``apply_*`` and the milestones it reaches."""
        async with self._step(step, attributed, check) as changes:
            await changes.reach(apply(self.file, attributed.actor, attributed.decision, changes.at))
        return self._outcome(changes)

    # ------------------------------------------------------------ recommendations and actions

    @workflow.update
    async def add_recommendation(self, step: Attributed[AddRecommendation]) -> StepOutcome:
        """JCRG or Business Unit: a recommendation the plan follows."""
        return await self._take(
            steps.ADD_RECOMMENDATION, step, plan.check_add_recommendation, plan.apply_add_recommendation
        )

    @add_recommendation.validator
    def _validate_add_recommendation(self, step: Attributed[AddRecommendation]) -> None:
        self._validate(steps.ADD_RECOMMENDATION, step, plan.check_add_recommendation)

    @workflow.update
    async def add_action(self, step: Attributed[AddAction]) -> StepOutcome:
        """JCRG: an action for an agency, due on the date set; the agency hears of it."""
        async with self._step(steps.ADD_ACTION, step, plan.check_add_action) as changes:
            await changes.reach(plan.apply_add_action(self.file, step.actor, step.decision, changes.at))
            plan.announce_action(self.file, self.file.actions[-1])
        return self._outcome(changes)

    @add_action.validator
    def _validate_add_action(self, step: Attributed[AddAction]) -> None:
        self._validate(steps.ADD_ACTION, step, plan.check_add_action)

    @workflow.update
    async def record_progress(self, step: Attributed[ActionProgress]) -> StepOutcome:
        """The owning agency (or the Business Unit for it): progress on an action, with evidence."""
        return await self._take(steps.RECORD_PROGRESS, step, plan.check_progress, plan.apply_progress)

    @record_progress.validator
    def _validate_record_progress(self, step: Attributed[ActionProgress]) -> None:
        self._validate(steps.RECORD_PROGRESS, step, plan.check_progress)

    @workflow.update
    async def sign_off_action(self, step: Attributed[ActionSignedOff]) -> StepOutcome:
        """JCRG: the action is completed (or completed with assurance pending an audit)."""
        return await self._take(
            steps.SIGN_OFF_ACTION, step, plan.check_sign_off_action, plan.apply_sign_off_action
        )

    @sign_off_action.validator
    def _validate_sign_off_action(self, step: Attributed[ActionSignedOff]) -> None:
        self._validate(steps.SIGN_OFF_ACTION, step, plan.check_sign_off_action)

    @workflow.update
    async def redate_action(self, step: Attributed[ActionRedated]) -> StepOutcome:
        """JCRG: a new date for an action, with reasons; its deadline moves and its agency hears."""
        async with self._step(steps.REDATE_ACTION, step, plan.check_redate_action) as changes:
            action = plan.find_action(self.file, step.decision.action_id)
            await self._redate(plan.action_deadline(self.file, action), step.decision.due_on)
            plan.apply_redate_action(self.file, step.actor, step.decision, changes.at)
        return self._outcome(changes)

    @redate_action.validator
    def _validate_redate_action(self, step: Attributed[ActionRedated]) -> None:
        self._validate(steps.REDATE_ACTION, step, plan.check_redate_action)

    @workflow.update
    async def withdraw_action(self, step: Attributed[ActionWithdrawn]) -> StepOutcome:
        """JCRG: the action is withdrawn, with reasons."""
        return await self._take(
            steps.WITHDRAW_ACTION, step, plan.check_withdraw_action, plan.apply_withdraw_action
        )

    @withdraw_action.validator
    def _validate_withdraw_action(self, step: Attributed[ActionWithdrawn]) -> None:
        self._validate(steps.WITHDRAW_ACTION, step, plan.check_withdraw_action)

    # ------------------------------------------------------------ impact checks and closing

    @workflow.update
    async def complete_impact_check(self, step: Attributed[ImpactCheckDone]) -> StepOutcome:
        """JCRG or Business Unit: an impact checkpoint's notes."""
        return await self._take(
            steps.COMPLETE_IMPACT_CHECK, step, plan.check_impact_check, plan.apply_impact_check
        )

    @complete_impact_check.validator
    def _validate_complete_impact_check(self, step: Attributed[ImpactCheckDone]) -> None:
        self._validate(steps.COMPLETE_IMPACT_CHECK, step, plan.check_impact_check)

    @workflow.update
    async def close_plan(self, step: Attributed[PlanClosed]) -> StepOutcome:
        """JCRG: the plan is closed: every action settled, every impact check done."""
        return await self._take(steps.CLOSE_PLAN, step, plan.check_close_plan, plan.apply_close_plan)

    @close_plan.validator
    def _validate_close_plan(self, step: Attributed[PlanClosed]) -> None:
        self._validate(steps.CLOSE_PLAN, step, plan.check_close_plan)

    # ------------------------------------------------------------ runs recorded before one update per step

    @workflow.update
    async def take_step(self, step: PlanStepInput) -> StepOutcome:
        """Kept only for runs whose histories carry it (before one update per step): it takes the same
        step through that step's own update. The API never sends it."""
        rule = steps.step_for(steps.Process.plan, type(step.step))
        return await getattr(self, rule.update)(Attributed[Any](actor=step.actor, decision=step.step))

    @take_step.validator
    def _validate_take_step(self, step: PlanStepInput) -> None:
        rule = steps.step_for(steps.Process.plan, type(step.step))
        getattr(self, f"_validate_{rule.update}")(Attributed[Any](actor=step.actor, decision=step.step))
