"""The case workflow: one durable workflow per serious incident, from intake to closure.

It holds the case file, takes every human step of intake, screening and the rapid review as an update
(validated before it reaches history), and keeps the statutory deadlines on its clock. When the rapid
review concludes, it starts the review (``workflows/cspr.py``) and then the action plan
(``workflows/action_plan.py``) as child workflows, and closes when both are done.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import SearchAttributeKey

from safeguarding.domain.action_plan import PlannedRecommendation, PlanStart
from safeguarding.domain.case import (
    NOTIFICATION_MILESTONE,
    CaseClosure,
    CaseFile,
    CaseOpening,
    CaseOutcome,
    CaseStart,
    CaseView,
    InformationRequest,
    InformationReturn,
    NotificationRecord,
    PanelResponse,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ReferralConfirmation,
    ScreeningDecision,
    ScrutineerInformed,
    Stage,
)
from safeguarding.domain.contracts import CaseChanges, CaseSummary
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Attributed
from safeguarding.domain.record import Stream, workflow_id_for
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import ReviewStart
from safeguarding.domain.rules import rapid_review
from safeguarding.domain.rules.intake import (
    NOTIFICATION_MILESTONES,
    POST_RAPID_REVIEW,
    check_closure,
    check_notification,
    check_referral_confirmation,
    check_screening,
    check_signs_for,
)
from safeguarding.domain.tasks import Task, TaskStatus, TaskWithdrawal
from workflows.action_plan import ActionPlanWorkflow
from workflows.casework import Casework, StepChanges, step_outcome
from workflows.review import ReviewWorkflow

__all__ = ["CaseStart", "CaseWorkflow", "StepOutcome", "workflow_id_for"]

# Non-identifying fields only: search attributes are not encrypted.
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")

CASE_PARTNERSHIP = SearchAttributeKey.for_keyword("CasePartnership")

SEARCH_ATTRIBUTES = [CASE_STAGE, CASE_PARTNERSHIP]

BUSINESS_UNIT = ("business_unit",)

JCRG = ("jcrg_member", "jcrg_chair")


@workflow.defn
class CaseWorkflow(Casework):
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self.file = CaseFile.open(start.opening, start.policy, workflow.now())
        self._start_casework(self.file)
        self._opened_by = start.opened_by
        self._published_stage: Stage | None = None

    @workflow.run
    async def run(self, start: CaseStart) -> CaseOutcome:
        file, opening = self.file, self.file.opening
        self._log("case opened", route=opening.route.value, policy_version=file.policy.version)
        async with self._lock:
            now = workflow.now()
            file.record(
                "case_opened",
                now,
                actor=self._opened_by,
                occurred_at=opening.la_aware_at,
                route=opening.route.value,
                policy_version=file.policy.version,
                stage=file.stage.value,
            )
            reached: list[Reached] = [(Milestone.case_opened, opening.la_aware_at, None)]
            if file.notifiable:
                reached.append((Milestone.incident_notifiable, opening.la_aware_at, None))
            if opening.referred_at is not None:
                reached.append((Milestone.referral_made, opening.referred_at, None))
            await self._reach(reached)
            # Notifications made before the case was entered meet their deadlines at the time they were made.
            for recipient, sent_at in sorted(opening.notified.items(), key=lambda item: item[1]):
                file.notifications[recipient.value] = sent_at
                file.record(
                    "notification_recorded",
                    now,
                    actor=self._opened_by,
                    occurred_at=sent_at,
                    recipient=recipient.value,
                )
                await self._reach([(NOTIFICATION_MILESTONE[recipient], sent_at, None)])
            self._publish_stage()
        # Side by side, and awaited together, so that a failure in either is never silent.
        await asyncio.gather(self._run_casework(), self._follow_up())
        self._log("case workflow complete", outcome=file.outcome)
        return CaseOutcome(reference=file.reference, outcome=file.outcome, closed_at=file.closed_at)

    def _done(self) -> bool:
        return self.file.stage is Stage.closed

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        file = self.file
        changes.case = CaseSummary(
            partnership=file.opening.partnership,
            policy_version=file.policy.version,
            route=file.opening.route.value,
            stage=file.stage.value,
            outcome=file.outcome,
            opened_at=file.opened_at,
            closed_at=file.closed_at,
        )
        return changes

    def _after_step(self) -> None:
        self._publish_stage()

    # ------------------------------------------------------------ queries

    @workflow.query
    def view(self) -> CaseView:
        """GET /cases/{ref}: the live case, for the Business Unit, the JCRG and managers."""
        return self.file.view()

    @workflow.query
    def opening(self) -> CaseOpening:
        """POST /incidents: what the case was opened with, to tell a repeated request from a clash."""
        return self.file.opening

    @workflow.update
    async def await_opened(self) -> CaseView:
        """POST /incidents: answers once the case is open, its first deadlines computed and recorded.

        Changes nothing; it lets the API return the case as it stands rather than half-opened.
        """
        await workflow.wait_condition(lambda: self._ready)
        await self._await_read_model(self.file.version)
        return self.file.view()

    # ------------------------------------------------------------ intake and screening

    @workflow.update
    async def confirm_referral(self, step: Attributed[ReferralConfirmation]) -> StepOutcome:
        """Business Unit: the referring agency's written confirmation of its referral arrived."""
        async with self._step() as changes:
            self._check_confirm_referral(step)
            self.file.referral_confirmed_at = step.decision.confirmed_at
            changes.record(
                "referral_confirmed",
                actor=step.actor,
                occurred_at=step.decision.confirmed_at,
                note=step.decision.note,
            )
            await changes.reach([(Milestone.referral_confirmed, step.decision.confirmed_at, None)])
        return self._outcome(changes)

    @confirm_referral.validator
    def _validate_confirm_referral(self, step: Attributed[ReferralConfirmation]) -> None:
        self._validate(self._check_confirm_referral, step)

    def _check_confirm_referral(self, step: Attributed[ReferralConfirmation]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        check_referral_confirmation(self.file, step.decision, workflow.now())

    @workflow.update
    async def screen(self, step: Attributed[ScreeningDecision]) -> StepOutcome:
        """JCRG / Business Unit: does the referral meet the serious incident notification criteria?"""
        async with self._step() as changes:
            self._check_screen(step)
            decision = step.decision
            self.file.screening = decision
            changes.record(
                "screened",
                actor=step.actor,
                reasons=decision.reasons,
                criteria_met=decision.criteria_met,
                learning_route=decision.learning_route.value if decision.learning_route else None,
            )
            if decision.criteria_met:
                self.file.stage = Stage.rapid_review
                await changes.reach([(Milestone.incident_notifiable, self.file.opening.la_aware_at, None)])
            else:
                self._close(changes, outcome=f"screened_out:{decision.learning_route.value}")  # type: ignore[union-attr]
        return self._outcome(changes)

    @screen.validator
    def _validate_screen(self, step: Attributed[ScreeningDecision]) -> None:
        self._validate(self._check_screen, step)

    def _check_screen(self, step: Attributed[ScreeningDecision]) -> None:
        self.check_actor(step.actor, *JCRG, *BUSINESS_UNIT)
        check_screening(self.file)

    @workflow.update
    async def record_notification(self, step: Attributed[NotificationRecord]) -> StepOutcome:
        """Business Unit: the Panel, the partners, the Secretary of State or Ofsted was notified."""
        async with self._step() as changes:
            self._check_notification(step)
            record = step.decision
            self.file.notifications[record.recipient.value] = record.sent_at
            changes.record(
                "notification_recorded",
                actor=step.actor,
                occurred_at=record.sent_at,
                recipient=record.recipient.value,
                reference=record.reference,
            )
            await changes.reach([(NOTIFICATION_MILESTONE[record.recipient], record.sent_at, None)])
        return self._outcome(changes)

    @record_notification.validator
    def _validate_record_notification(self, step: Attributed[NotificationRecord]) -> None:
        self._validate(self._check_notification, step)

    def _check_notification(self, step: Attributed[NotificationRecord]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        check_notification(self.file, step.decision, workflow.now())

    # ------------------------------------------------------------ rapid review

    @workflow.update
    async def request_information(self, step: Attributed[InformationRequest]) -> StepOutcome:
        """Business Unit: ask named agencies for their information; each gets a task with a due date."""
        async with self._step() as changes:
            self._check_information_request(step)
            created = rapid_review.apply_information_request(
                self.file, step.actor, step.decision, workflow.now()
            )
            await changes.reach([reached for _, reached in created])
            for task, _ in created:
                deadline = next((d for d in self.file.deadlines if d.subject == task.id), None)
                task.due_at = deadline.due_at if deadline else None
                changes.tasks.append(task)
        return self._outcome(changes)

    @request_information.validator
    def _validate_request_information(self, step: Attributed[InformationRequest]) -> None:
        self._validate(self._check_information_request, step)

    def _check_information_request(self, step: Attributed[InformationRequest]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        rapid_review.check_information_request(self.file, step.decision)

    @workflow.update
    async def submit_return(self, step: Attributed[InformationReturn]) -> StepOutcome:
        """Partner agency: submit the information return of one of its tasks."""
        async with self._step() as changes:
            self._check_return(step)
            reached = rapid_review.apply_information_return(
                self.file, step.actor, step.decision, workflow.now()
            )
            changes.tasks.append(self.file.task(step.decision.task_id))  # type: ignore[arg-type]
            await changes.reach([reached])
        return self._outcome(changes)

    @submit_return.validator
    def _validate_submit_return(self, step: Attributed[InformationReturn]) -> None:
        self._validate(self._check_return, step)

    def _check_return(self, step: Attributed[InformationReturn]) -> None:
        # Whose task it is comes first: another agency learns nothing about it, not even its state.
        task = self.file.task(step.decision.task_id)
        if task is None:
            raise Refusal(
                f"case {self.file.reference} has no task {step.decision.task_id}", RefusalKind.not_found
            )
        self.check_actor(step.actor, "partner_agency", *BUSINESS_UNIT, agency=task.agency)
        rapid_review.check_information_return(self.file, step.decision)

    @workflow.update
    async def withdraw_task(self, step: Attributed[TaskWithdrawal]) -> StepOutcome:
        """Business Unit: an information request is no longer needed; its task and deadline end."""
        async with self._step() as changes:
            task = self._check_withdrawal(step)
            self.withdraw(changes, task, step.actor, step.decision.reasons)
        return self._outcome(changes)

    @withdraw_task.validator
    def _validate_withdraw_task(self, step: Attributed[TaskWithdrawal]) -> None:
        self._validate(self._check_withdrawal, step)

    def _check_withdrawal(self, step: Attributed[TaskWithdrawal]) -> Task:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        return self.check_withdrawal(step.decision.task_id)

    @workflow.update
    async def recommend(self, step: Attributed[Recommendation]) -> StepOutcome:
        """JCRG: the rapid review's recommendation, with the reasons for it."""
        async with self._step() as changes:
            self._check_recommend(step)
            rapid_review.apply_recommendation(self.file, step.actor, step.decision, workflow.now())
        return self._outcome(changes)

    @recommend.validator
    def _validate_recommend(self, step: Attributed[Recommendation]) -> None:
        self._validate(self._check_recommend, step)

    def _check_recommend(self, step: Attributed[Recommendation]) -> None:
        self.check_actor(step.actor, *JCRG)
        rapid_review.check_recommendation(self.file, step.decision)

    @workflow.update
    async def sign_off(self, step: Attributed[PartnerSignOff]) -> StepOutcome:
        """Safeguarding partner (local authority, police or ICB): agree to the recommendation or return it."""
        async with self._step() as changes:
            self._check_sign_off(step)
            rapid_review.apply_sign_off(self.file, step.actor, step.decision, workflow.now())
        return self._outcome(changes)

    @sign_off.validator
    def _validate_sign_off(self, step: Attributed[PartnerSignOff]) -> None:
        self._validate(self._check_sign_off, step)

    def _check_sign_off(self, step: Attributed[PartnerSignOff]) -> None:
        self.check_actor(step.actor, "safeguarding_partner")
        check_signs_for(step.actor, step.decision.partner)
        rapid_review.check_sign_off(self.file, step.decision)

    @workflow.update
    async def inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> StepOutcome:
        """Business Unit: the Independent Scrutineer was informed of the signed-off decision."""
        async with self._step() as changes:
            self._check_scrutineer(step)
            rapid_review.apply_scrutineer_informed(self.file, step.actor, step.decision, workflow.now())
        return self._outcome(changes)

    @inform_scrutineer.validator
    def _validate_inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> None:
        self._validate(self._check_scrutineer, step)

    def _check_scrutineer(self, step: Attributed[ScrutineerInformed]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        rapid_review.check_scrutineer_informed(self.file, step.decision, workflow.now())

    @workflow.update
    async def send_rapid_review(self, step: Attributed[RapidReviewSent]) -> StepOutcome:
        """Business Unit: the signed-off rapid review was sent to the Panel."""
        async with self._step() as changes:
            self._check_sent(step)
            reached = rapid_review.apply_sent(self.file, step.actor, step.decision, workflow.now())
            await changes.reach([reached])
        return self._outcome(changes)

    @send_rapid_review.validator
    def _validate_send_rapid_review(self, step: Attributed[RapidReviewSent]) -> None:
        self._validate(self._check_sent, step)

    def _check_sent(self, step: Attributed[RapidReviewSent]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        rapid_review.check_sent(self.file, step.decision, workflow.now())

    @workflow.update
    async def record_panel_response(self, step: Attributed[PanelResponse]) -> StepOutcome:
        """Business Unit: the Panel agreed, challenged, or decided to take a national review."""
        async with self._step() as changes:
            self._check_panel_response(step)
            reached = rapid_review.apply_panel_response(self.file, step.actor, step.decision, workflow.now())
            await changes.reach([reached])
            if self.file.stage is not Stage.rapid_review:
                # Information still awaited is no longer needed for a decision that has been made.
                for task in [t for t in self.file.tasks if t.status is TaskStatus.open]:
                    self.withdraw(changes, task, None, "the rapid review is concluded")
        return self._outcome(changes)

    @record_panel_response.validator
    def _validate_record_panel_response(self, step: Attributed[PanelResponse]) -> None:
        self._validate(self._check_panel_response, step)

    def _check_panel_response(self, step: Attributed[PanelResponse]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        rapid_review.check_panel_response(self.file, step.decision, workflow.now())

    # ------------------------------------------------------------ what follows the rapid review

    async def _follow_up(self) -> None:
        """After the rapid review: the review (if any), then the action plan, then the case closes."""
        await workflow.wait_condition(
            lambda: self.file.stage in POST_RAPID_REVIEW or self.file.stage is Stage.closed
        )
        if self.file.stage is Stage.closed or not workflow.patched("review-and-action-plan-children"):
            return  # a case concluded before this release waits at its stage to be closed by hand
        file = self.file
        decided_at = file.rapid_review.panel_responded_at or workflow.now()
        recommendation = file.rapid_review.recommendation
        planned: list[PlannedRecommendation] = []
        review_kind = {
            Stage.local_review: "local_cspr",
            Stage.other_review: "other_review",
            Stage.national_review: "national_review",
        }.get(file.stage)
        if review_kind is not None:
            file.review_workflow_id = workflow_id_for(file.reference, Stream.review)
            await self._note("review_started", workflow_id=file.review_workflow_id, kind=review_kind)
            outcome = await workflow.execute_child_workflow(
                ReviewWorkflow.run,
                ReviewStart(
                    reference=file.reference,
                    policy=file.policy,
                    facts={**file.facts, "review_kind": review_kind},
                    kind=review_kind,
                    methodology=recommendation.methodology if recommendation else None,
                    review_type=recommendation.review_type.value
                    if recommendation and recommendation.review_type
                    else None,
                    decided_at=decided_at,
                ),
                id=file.review_workflow_id,
            )
            await self._note("review_finished", outcome=outcome.outcome)
            planned = [
                PlannedRecommendation(text=text, source=review_kind) for text in outcome.recommendations
            ]
        elif (
            recommendation is not None
            and recommendation.recommendation is RecommendationKind.no_further_review
        ):
            planned = [
                PlannedRecommendation(text=text, source="rapid_review")
                for text in recommendation.learning_actions
            ]
        if planned:
            file.plan_workflow_id = workflow_id_for(file.reference, Stream.plan)
            await self._note(
                "action_plan_started", workflow_id=file.plan_workflow_id, recommendations=len(planned)
            )
            await workflow.execute_child_workflow(
                ActionPlanWorkflow.run,
                PlanStart(
                    reference=file.reference, policy=file.policy, facts=file.facts, recommendations=planned
                ),
                id=file.plan_workflow_id,
            )
            await self._note("action_plan_closed")
        async with self._lock:
            changes = StepChanges(self)
            self._close(changes, outcome=file.outcome or "closed")
            self._publish_stage()
        self._wake.set()

    async def _note(self, event: str, **details: object) -> None:
        async with self._lock:
            self.file.record(event, workflow.now(), **details)
        self._wake.set()

    # ------------------------------------------------------------ closure

    @workflow.update
    async def close_case(self, step: Attributed[CaseClosure]) -> StepOutcome:
        """Business Unit: close the case, with reasons. Open tasks are withdrawn."""
        async with self._step() as changes:
            self._check_closure(step)
            changes.record("closure_decided", actor=step.actor, reasons=step.decision.reasons)
            self._close(changes, outcome=self.file.outcome or "closed")
        return self._outcome(changes)

    @close_case.validator
    def _validate_close_case(self, step: Attributed[CaseClosure]) -> None:
        self._validate(self._check_closure, step)

    def _check_closure(self, step: Attributed[CaseClosure]) -> None:
        self.check_actor(step.actor, *BUSINESS_UNIT)
        check_closure(self.file)

    def _close(self, changes: StepChanges, outcome: str) -> None:
        for task in [t for t in self.file.tasks if t.status is TaskStatus.open]:
            self.withdraw(changes, task, None, "the case was closed")
        # Statutory notifications still owed (a looked after child's death, say) keep the case's clock
        # running until they are recorded; nothing else is owed by a closed case.
        self.cancel_live_deadlines(
            changes, "the case was closed", keep=lambda d: d.met_by in NOTIFICATION_MILESTONES
        )
        self.file.stage = Stage.closed
        self.file.outcome = outcome
        self.file.closed_at = workflow.now()
        changes.record("case_closed", outcome=outcome)

    # ------------------------------------------------------------ helpers

    def _outcome(self, changes: StepChanges) -> StepOutcome:
        return step_outcome(self.file.reference, self.file.stage.value, changes)

    def _publish_stage(self) -> None:
        if self.file.stage is self._published_stage:
            return
        self._published_stage = self.file.stage
        workflow.upsert_search_attributes(
            [
                CASE_STAGE.value_set(self.file.stage.value),
                CASE_PARTNERSHIP.value_set(self.file.opening.partnership),
            ]
        )
