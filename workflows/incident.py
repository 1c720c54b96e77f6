"""The case workflow: one durable workflow per serious incident, from intake to closure.

It holds the case file, takes every human step of intake, screening and the rapid review as an update
(validated before it reaches history), and keeps the statutory deadlines on its clock. When the rapid
review concludes, it starts the review (``workflows/review.py``) and then the action plan
(``workflows/action_plan.py``) as child workflows, and closes when both are done.

Every step reads the same way: the update, then its validator; the rules are in
``safeguarding/domain/rules/intake.py`` and ``rapid_review.py``, who may take each step in
``safeguarding/domain/steps.py``.
"""

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey

from safeguarding.domain import steps
from safeguarding.domain.action_plan import ReviewRecommendations
from safeguarding.domain.case import (
    AdultsBoardSignOff,
    CaseClosure,
    CaseFile,
    CaseOpening,
    CaseOutcome,
    CaseStart,
    CaseView,
    ContributionSent,
    CriteriaNotMet,
    InformationRequest,
    InformationReturn,
    NotificationRecord,
    PanelResponse,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    ReferralConfirmation,
    ScreeningDecision,
    ScrutineerInformed,
    Stage,
)
from safeguarding.domain.contracts import CaseChanges, CaseSummary
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Attributed
from safeguarding.domain.record import workflow_id_for
from safeguarding.domain.rules import contributions as contributions_rules
from safeguarding.domain.rules import intake, rapid_review, tasks
from safeguarding.domain.tasks import TaskWithdrawal
from workflows.casework import Casework
from workflows.follow_up import FollowUp

__all__ = ["CaseWorkflow", "StepOutcome", "workflow_id_for"]

# Non-identifying fields only: search attributes are not encrypted.
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_PARTNERSHIP = SearchAttributeKey.for_keyword("CasePartnership")
SEARCH_ATTRIBUTES = [CASE_STAGE, CASE_PARTNERSHIP]


@workflow.defn
class CaseWorkflow(FollowUp, Casework):
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self.file = CaseFile.open(start.opening, start.policy, workflow.now(), workflow.info().workflow_id)
        self._start_casework(self.file)
        self._opened_by = start.opened_by
        self._published_stage: Stage | None = None
        self._agreed: ReviewRecommendations | None = None

    @workflow.run
    async def run(self, start: CaseStart) -> CaseOutcome:
        file, opening = self.file, self.file.opening
        self._log("case opened", route=opening.route.value, policy_version=file.policy.version)
        async with self._lock:
            now = workflow.now()
            file.record(
                EventKind.case_opened,
                now,
                actor=self._opened_by,
                occurred_at=opening.la_aware_at,
                route=opening.route.value,
                policy_version=file.policy.version,
                stage=file.stage.value,
                **(
                    {"covers": opening.thematic.cases, "theme": opening.thematic.theme}
                    if opening.thematic
                    else {}
                ),
                **({"lead": opening.external_lead.name} if opening.external_lead else {}),
            )
            reached: list[Reached] = [(Milestone.case_opened, opening.la_aware_at, None)]
            if file.notifiable:
                reached.append((Milestone.incident_notifiable, opening.la_aware_at, None))
            if opening.referred_at is not None:
                reached.append((Milestone.referral_made, opening.referred_at, None))
            await self._reach(reached)
            # Notifications made before the case was entered meet their deadlines at the time they were made.
            for recipient, sent_at in sorted(opening.notified.items(), key=lambda item: item[1]):
                made = NotificationRecord(recipient=recipient, sent_at=sent_at)
                await self._reach(intake.apply_notification(file, self._opened_by, made, now))
            if opening.contributors:
                asked, contributions = contributions_rules.open_contributions(file, now)
                await self._reach(contributions)
                for task in asked:
                    tasks.announce(file, task)
            self._publish_stage()
        # Side by side, and awaited together, so that a failure in either is never silent.
        await asyncio.gather(self._run_casework(), self._follow_up())
        self._log("case workflow complete", outcome=file.outcome)
        return CaseOutcome(reference=file.reference, outcome=file.outcome, closed_at=file.closed_at)

    def _done(self) -> bool:
        return self.file.stage is Stage.closed

    def _stage(self) -> str:
        return self.file.stage.value

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        file = self.file
        changes.case = CaseSummary(
            partnership=file.partnership,
            policy_version=file.policy.version,
            contributors=file.contributors,
            route=file.opening.route.value,
            stage=file.stage.value,
            outcome=file.outcome,
            opened_at=file.opened_at,
            closed_at=file.closed_at,
        )
        return changes

    def _after_step(self) -> None:
        self._publish_stage()

    def _contributors(self) -> list[str]:
        return self.file.contributors

    def _began(self) -> tuple[datetime | None, str]:
        return self.file.opening.la_aware_at, "the local authority became aware"

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
        async with self._step(steps.CONFIRM_REFERRAL, step, intake.check_referral_confirmation) as changes:
            await changes.reach(
                intake.apply_referral_confirmation(self.file, step.actor, step.decision, changes.at)
            )
        return self._outcome(changes)

    @confirm_referral.validator
    def _validate_confirm_referral(self, step: Attributed[ReferralConfirmation]) -> None:
        self._validate(steps.CONFIRM_REFERRAL, step, intake.check_referral_confirmation)

    @workflow.update
    async def screen(self, step: Attributed[ScreeningDecision]) -> StepOutcome:
        """JCRG / Business Unit: does the referral meet the serious incident notification criteria?"""
        async with self._step(steps.SCREEN, step, intake.check_screening) as changes:
            await changes.reach(intake.apply_screening(self.file, step.actor, step.decision, changes.at))
        return self._outcome(changes)

    @screen.validator
    def _validate_screen(self, step: Attributed[ScreeningDecision]) -> None:
        self._validate(steps.SCREEN, step, intake.check_screening)

    @workflow.update
    async def record_notification(self, step: Attributed[NotificationRecord]) -> StepOutcome:
        """Business Unit: the Panel, the partners, the Secretary of State or Ofsted was notified."""
        async with self._step(steps.RECORD_NOTIFICATION, step, intake.check_notification) as changes:
            await changes.reach(intake.apply_notification(self.file, step.actor, step.decision, changes.at))
        return self._outcome(changes)

    @record_notification.validator
    def _validate_record_notification(self, step: Attributed[NotificationRecord]) -> None:
        self._validate(steps.RECORD_NOTIFICATION, step, intake.check_notification)

    # ------------------------------------------------------------ rapid review

    @workflow.update
    async def request_information(self, step: Attributed[InformationRequest]) -> StepOutcome:
        """Business Unit: ask named agencies for their information; each gets a task with a due date."""
        async with self._step(
            steps.REQUEST_INFORMATION, step, rapid_review.check_information_request
        ) as changes:
            asked, reached = rapid_review.apply_information_request(
                self.file, step.actor, step.decision, changes.at
            )
            await changes.reach(reached)
            for task in asked:
                tasks.announce(self.file, task)
        return self._outcome(changes)

    @request_information.validator
    def _validate_request_information(self, step: Attributed[InformationRequest]) -> None:
        self._validate(steps.REQUEST_INFORMATION, step, rapid_review.check_information_request)

    @workflow.update
    async def submit_return(self, step: Attributed[InformationReturn]) -> StepOutcome:
        """Partner agency: submit the information return of one of its tasks."""
        async with self._step(steps.SUBMIT_RETURN, step, rapid_review.check_information_return) as changes:
            await changes.reach(
                rapid_review.apply_information_return(self.file, step.actor, step.decision, changes.at)
            )
        return self._outcome(changes)

    @submit_return.validator
    def _validate_submit_return(self, step: Attributed[InformationReturn]) -> None:
        self._validate(steps.SUBMIT_RETURN, step, rapid_review.check_information_return)

    @workflow.update
    async def withdraw_task(self, step: Attributed[TaskWithdrawal]) -> StepOutcome:
        """Business Unit: an information request is no longer needed; its task and deadline end."""
        async with self._step(steps.WITHDRAW_CASE_TASK, step, tasks.check_task_withdrawal) as changes:
            tasks.apply_task_withdrawal(self.file, step.actor, step.decision, changes.at)
        return self._outcome(changes)

    @withdraw_task.validator
    def _validate_withdraw_task(self, step: Attributed[TaskWithdrawal]) -> None:
        self._validate(steps.WITHDRAW_CASE_TASK, step, tasks.check_task_withdrawal)

    @workflow.update
    async def recommend(self, step: Attributed[Recommendation]) -> StepOutcome:
        """JCRG: the rapid review's recommendation, with the reasons for it."""
        async with self._step(steps.RECOMMEND, step, rapid_review.check_recommendation) as changes:
            await changes.reach(
                rapid_review.apply_recommendation(self.file, step.actor, step.decision, changes.at)
            )
        return self._outcome(changes)

    @recommend.validator
    def _validate_recommend(self, step: Attributed[Recommendation]) -> None:
        self._validate(steps.RECOMMEND, step, rapid_review.check_recommendation)

    @workflow.update
    async def sign_off(self, step: Attributed[PartnerSignOff]) -> StepOutcome:
        """Safeguarding partner (local authority, police or ICB): agree to the recommendation or return it."""
        async with self._step(steps.SIGN_OFF, step, rapid_review.check_sign_off) as changes:
            await changes.reach(rapid_review.apply_sign_off(self.file, step.actor, step.decision, changes.at))
        return self._outcome(changes)

    @sign_off.validator
    def _validate_sign_off(self, step: Attributed[PartnerSignOff]) -> None:
        self._validate(steps.SIGN_OFF, step, rapid_review.check_sign_off)

    @workflow.update
    async def adults_board_sign_off(self, step: Attributed[AdultsBoardSignOff]) -> StepOutcome:
        """The Safeguarding Adults Board's representative: a joint CSPR/SAR's recommendation."""
        async with self._step(
            steps.ADULTS_BOARD_SIGN_OFF, step, rapid_review.check_adults_board_sign_off
        ) as changes:
            await changes.reach(
                rapid_review.apply_adults_board_sign_off(self.file, step.actor, step.decision, changes.at)
            )
        return self._outcome(changes)

    @adults_board_sign_off.validator
    def _validate_adults_board_sign_off(self, step: Attributed[AdultsBoardSignOff]) -> None:
        self._validate(steps.ADULTS_BOARD_SIGN_OFF, step, rapid_review.check_adults_board_sign_off)

    @workflow.update
    async def inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> StepOutcome:
        """Business Unit: the Independent Scrutineer was informed of the signed-off decision."""
        async with self._step(
            steps.INFORM_SCRUTINEER, step, rapid_review.check_scrutineer_informed
        ) as changes:
            await changes.reach(
                rapid_review.apply_scrutineer_informed(self.file, step.actor, step.decision, workflow.now())
            )
        return self._outcome(changes)

    @inform_scrutineer.validator
    def _validate_inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> None:
        self._validate(steps.INFORM_SCRUTINEER, step, rapid_review.check_scrutineer_informed)

    @workflow.update
    async def send_rapid_review(self, step: Attributed[RapidReviewSent]) -> StepOutcome:
        """Business Unit: the signed-off rapid review was sent to the Panel."""
        async with self._step(steps.SEND_RAPID_REVIEW, step, rapid_review.check_sent) as changes:
            await changes.reach(rapid_review.apply_sent(self.file, step.actor, step.decision, changes.at))
        return self._outcome(changes)

    @send_rapid_review.validator
    def _validate_send_rapid_review(self, step: Attributed[RapidReviewSent]) -> None:
        self._validate(steps.SEND_RAPID_REVIEW, step, rapid_review.check_sent)

    @workflow.update
    async def record_panel_response(self, step: Attributed[PanelResponse]) -> StepOutcome:
        """Business Unit: the Panel agreed, challenged, or decided to take a national review."""
        async with self._step(
            steps.RECORD_PANEL_RESPONSE, step, rapid_review.check_panel_response
        ) as changes:
            now = workflow.now()
            await changes.reach(rapid_review.apply_panel_response(self.file, step.actor, step.decision, now))
            rapid_review.conclude(self.file, now)
        return self._outcome(changes)

    @record_panel_response.validator
    def _validate_record_panel_response(self, step: Attributed[PanelResponse]) -> None:
        self._validate(steps.RECORD_PANEL_RESPONSE, step, rapid_review.check_panel_response)

    # ------------------------------------------------------------ a contribution to a review led elsewhere

    @workflow.update
    async def send_contribution(self, step: Attributed[ContributionSent]) -> StepOutcome:
        """Business Unit: our contribution to a review another area leads was sent; the case closes."""
        async with self._step(
            steps.SEND_CONTRIBUTION, step, contributions_rules.check_contribution_sent
        ) as changes:
            now = workflow.now()
            await changes.reach(
                contributions_rules.apply_contribution_sent(self.file, step.actor, step.decision, now)
            )
            contributions_rules.close_contribution(self.file, now)
        return self._outcome(changes)

    @send_contribution.validator
    def _validate_send_contribution(self, step: Attributed[ContributionSent]) -> None:
        self._validate(steps.SEND_CONTRIBUTION, step, contributions_rules.check_contribution_sent)

    # ------------------------------------------------------------ closure

    @workflow.update
    async def close_case(self, step: Attributed[CaseClosure]) -> StepOutcome:
        """Business Unit: close the case, with reasons. Open tasks are withdrawn."""
        async with self._step(steps.CLOSE_CASE, step, intake.check_closure) as changes:
            await changes.reach(intake.apply_closure(self.file, step.actor, step.decision, changes.at))
        return self._outcome(changes)

    @close_case.validator
    def _validate_close_case(self, step: Attributed[CaseClosure]) -> None:
        self._validate(steps.CLOSE_CASE, step, intake.check_closure)

    @workflow.update
    async def close_not_meeting_criteria(self, step: Attributed[CriteriaNotMet]) -> StepOutcome:
        """Business Unit / JCRG chair: a notified incident does not meet the criteria; the case closes."""
        async with self._step(
            steps.CLOSE_NOT_MEETING_CRITERIA, step, intake.check_criteria_not_met
        ) as changes:
            await changes.reach(
                intake.apply_criteria_not_met(self.file, step.actor, step.decision, changes.at)
            )
        return self._outcome(changes)

    @close_not_meeting_criteria.validator
    def _validate_close_not_meeting_criteria(self, step: Attributed[CriteriaNotMet]) -> None:
        self._validate(steps.CLOSE_NOT_MEETING_CRITERIA, step, intake.check_criteria_not_met)

    # ------------------------------------------------------------ what follows the rapid review

    @workflow.signal
    def review_recommendations_agreed(self, agreed: ReviewRecommendations) -> None:
        """From the case's review: the recommendations its partners agreed (or none, at its end)."""
        self._agreed = agreed

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
