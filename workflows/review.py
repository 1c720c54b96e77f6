"""The review that follows a rapid review: a local Child Safeguarding Practice Review (CSPR), another
type of review, or the local partners' duties when the Panel takes a national review.

A child workflow of the case (id ``case-<ref>/review``). Each stage is a decision sent as one update,
``take_step``, whose input says which step it is; the rules below say whether it is allowed now.

A local CSPR: reviewer appointed; terms of reference and methodology agreed; family engagement
(offered, accepted, declined, delayed: at any time); practitioner learning event; draft report; the
three partners' approval; final report with its recommendations; copy to the Panel and the Secretary
of State (and Ofsted); then publication on a date at least the policy's notice after that copy, or a
decision not to publish with what is published instead. Parallel proceedings stop the clock.
"""

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

from safeguarding.domain import steps
from safeguarding.domain.action_plan import ReviewRecommendations
from safeguarding.domain.activities import COMPUTE_DUE_DATES
from safeguarding.domain.contracts import CaseChanges, DueDateItem, ReviewSummary
from safeguarding.domain.dates import noon_utc
from safeguarding.domain.events import EventKind
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Attributed
from safeguarding.domain.record import Stream
from safeguarding.domain.review import (
    AdultsBoardApproval,
    AdultsBoardPublication,
    CheckpointDone,
    ClockRestarted,
    ClockStopped,
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    NotPublished,
    PanelReportReceived,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    ReviewFile,
    ReviewKind,
    ReviewOutcome,
    ReviewRescope,
    ReviewStage,
    ReviewStart,
    ReviewStepInput,
    ReviewView,
    TaskWithdrawn,
    TermsAgreed,
)
from safeguarding.domain.rules import review, review_scope, tasks
from workflows.calls import call
from workflows.casework import Casework, Check
from workflows.clock import CALENDAR_TIMEOUT


@workflow.defn
class ReviewWorkflow(Casework):
    @workflow.init
    def __init__(self, start: ReviewStart) -> None:
        now = workflow.now()
        self.file = ReviewFile(
            reference=start.reference,
            stream=Stream.review,
            workflow_id=workflow.info().workflow_id,
            policy=start.policy,
            facts=start.facts,
            kind=ReviewKind(start.kind),
            decided_at=start.decided_at,
            started_at=now,
            methodology=start.methodology,
            review_type=start.review_type,
            joint_with_adults_board=start.joint_with_adults_board,
        )
        self._start_casework(self.file)

    @workflow.run
    async def run(self, start: ReviewStart) -> ReviewOutcome:
        file = self.file
        async with self._lock:
            now = workflow.now()
            reached, duties = review_scope.commission(file, now)
            await self._reach(reached)
            for duty in duties:
                tasks.announce(file, duty)
        self._log("review started", kind=file.kind.value)
        parent = workflow.info().parent
        if parent is not None and workflow.patched("review-tells-its-case-the-recommendations"):
            await asyncio.gather(self._run_casework(), self._tell_case(parent.workflow_id))
        else:
            await self._run_casework()
        return ReviewOutcome(
            outcome=file.outcome or "finished",
            recommendations=file.recommendations,
            finished_at=file.finished_at or workflow.now(),
        )

    async def _tell_case(self, case_workflow_id: str) -> None:
        """Once the partners have agreed the final report's recommendations (before publication), or the
        review finished without any, the case hears of it: its action plan takes them then."""
        file = self.file
        await workflow.wait_condition(
            lambda: bool(file.recommendations) or file.stage is ReviewStage.finished
        )
        agreed = next(
            (
                e
                for e in reversed(file.history)
                if e.kind in (EventKind.final_report, EventKind.panel_report_received)
            ),
            None,
        )
        at = (agreed.occurred_at or agreed.recorded_at) if agreed else (file.finished_at or workflow.now())
        await workflow.get_external_workflow_handle(case_workflow_id).signal(
            "review_recommendations_agreed",
            ReviewRecommendations(kind=file.kind.value, recommendations=file.recommendations, agreed_at=at),
        )

    @workflow.signal
    async def rescope(self, change: ReviewRescope) -> None:
        """From the case, while its rapid review has not concluded: the partners' decision changed
        (``safeguarding/domain/rules/review_scope.py``)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._lock:
            reached, duties = review_scope.apply_rescope(self.file, change, workflow.now())
            await self._reach(reached)
            for duty in duties:
                tasks.announce(self.file, duty)
        self._log("review rescoped", kind=change.kind, final=change.final)
        self._wake.set()

    def _done(self) -> bool:
        return self.file.stage is ReviewStage.finished

    def _stage(self) -> str:
        return self.file.stage.value

    def _snapshot(self, changes: CaseChanges) -> CaseChanges:
        file = self.file
        main = next((d for d in file.deadlines if d.pausable), None)
        changes.review = ReviewSummary(
            kind=file.kind.value,
            stage=file.stage.value,
            started_at=file.started_at,
            paused=file.paused,
            due_at=main.due_at if main else None,
            earliest_publication_date=file.earliest_publication_date,
            publication_date=file.publication_date,
            outcome=file.outcome,
            finished_at=file.finished_at,
        )
        return changes

    @workflow.update
    async def await_opened(self) -> None:
        """Answers once the workflow has opened (its first deadlines recorded); changes nothing."""
        await workflow.wait_condition(lambda: self._ready)

    @workflow.query
    def view(self) -> ReviewView:
        """GET /cases/{ref}: the review's stage, deadlines, pauses and tasks."""
        return self.file.view()

    def _began(self) -> tuple[datetime | None, str]:
        return self.file.decided_at, "the decision to hold the review"

    # ------------------------------------------------------------ the reviewer and the terms

    async def _take(
        self, step: steps.Step, attributed: Attributed[Any], check: Check, apply: Any
    ) -> StepOutcome:
        """A step whose whole effect is its ``apply_*`` and the milestones it reaches."""
        async with self._step(step, attributed, check) as changes:
            now = changes.at
            await changes.reach(apply(self.file, attributed.actor, attributed.decision, now))
            review.wind_up(self.file, now)
        return self._outcome(changes)

    @workflow.update
    async def appoint_reviewer(self, step: Attributed[ReviewerAppointed]) -> StepOutcome:
        """JCRG or Business Unit: the independent reviewer is appointed."""
        return await self._take(
            steps.APPOINT_REVIEWER, step, review.check_reviewer_appointed, review.apply_reviewer_appointed
        )

    @appoint_reviewer.validator
    def _validate_appoint_reviewer(self, step: Attributed[ReviewerAppointed]) -> None:
        self._validate(steps.APPOINT_REVIEWER, step, review.check_reviewer_appointed)

    @workflow.update
    async def agree_terms(self, step: Attributed[TermsAgreed]) -> StepOutcome:
        """JCRG or Business Unit: the terms of reference and the methodology are agreed."""
        return await self._take(steps.AGREE_TERMS, step, review.check_terms_agreed, review.apply_terms_agreed)

    @agree_terms.validator
    def _validate_agree_terms(self, step: Attributed[TermsAgreed]) -> None:
        self._validate(steps.AGREE_TERMS, step, review.check_terms_agreed)

    @workflow.update
    async def record_family_engagement(self, step: Attributed[FamilyEngagement]) -> StepOutcome:
        """Business Unit: the family was offered engagement, accepted, declined, or it was delayed."""
        return await self._take(
            steps.RECORD_FAMILY_ENGAGEMENT,
            step,
            review.check_family_engagement,
            review.apply_family_engagement,
        )

    @record_family_engagement.validator
    def _validate_record_family_engagement(self, step: Attributed[FamilyEngagement]) -> None:
        self._validate(steps.RECORD_FAMILY_ENGAGEMENT, step, review.check_family_engagement)

    @workflow.update
    async def record_learning_event(self, step: Attributed[LearningEventHeld]) -> StepOutcome:
        """Business Unit: the practitioner learning event was held."""
        return await self._take(
            steps.RECORD_LEARNING_EVENT, step, review.check_learning_event, review.apply_learning_event
        )

    @record_learning_event.validator
    def _validate_record_learning_event(self, step: Attributed[LearningEventHeld]) -> None:
        self._validate(steps.RECORD_LEARNING_EVENT, step, review.check_learning_event)

    # ------------------------------------------------------------ the report

    @workflow.update
    async def receive_draft(self, step: Attributed[DraftReceived]) -> StepOutcome:
        """Business Unit: the draft report arrived; the partners are asked to approve it."""
        return await self._take(
            steps.RECEIVE_DRAFT, step, review.check_draft_received, review.apply_draft_received
        )

    @receive_draft.validator
    def _validate_receive_draft(self, step: Attributed[DraftReceived]) -> None:
        self._validate(steps.RECEIVE_DRAFT, step, review.check_draft_received)

    @workflow.update
    async def approve_report_for_adults_board(self, step: Attributed[AdultsBoardApproval]) -> StepOutcome:
        """The Safeguarding Adults Board's representative: a joint CSPR/SAR's report."""
        return await self._take(
            steps.APPROVE_REPORT_FOR_ADULTS_BOARD,
            step,
            review.check_adults_board_approval,
            review.apply_adults_board_approval,
        )

    @approve_report_for_adults_board.validator
    def _validate_approve_report_for_adults_board(self, step: Attributed[AdultsBoardApproval]) -> None:
        self._validate(steps.APPROVE_REPORT_FOR_ADULTS_BOARD, step, review.check_adults_board_approval)

    @workflow.update
    async def agree_publication_for_adults_board(
        self, step: Attributed[AdultsBoardPublication]
    ) -> StepOutcome:
        """The Safeguarding Adults Board's representative: a joint CSPR/SAR's publication."""
        return await self._take(
            steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD,
            step,
            review.check_adults_board_publication,
            review.apply_adults_board_publication,
        )

    @agree_publication_for_adults_board.validator
    def _validate_agree_publication_for_adults_board(self, step: Attributed[AdultsBoardPublication]) -> None:
        self._validate(steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD, step, review.check_adults_board_publication)

    @workflow.update
    async def approve_report(self, step: Attributed[ReportApproved]) -> StepOutcome:
        """Safeguarding partner: its organisation approves the report."""
        return await self._take(
            steps.APPROVE_REPORT, step, review.check_report_approved, review.apply_report_approved
        )

    @approve_report.validator
    def _validate_approve_report(self, step: Attributed[ReportApproved]) -> None:
        self._validate(steps.APPROVE_REPORT, step, review.check_report_approved)

    @workflow.update
    async def receive_final_report(self, step: Attributed[FinalReport]) -> StepOutcome:
        """JCRG or Business Unit: the final report and its recommendations (another review finishes here)."""
        return await self._take(
            steps.RECEIVE_FINAL_REPORT, step, review.check_final_report, review.apply_final_report
        )

    @receive_final_report.validator
    def _validate_receive_final_report(self, step: Attributed[FinalReport]) -> None:
        self._validate(steps.RECEIVE_FINAL_REPORT, step, review.check_final_report)

    @workflow.update
    async def send_copy(self, step: Attributed[CopySent]) -> StepOutcome:
        """Business Unit: the final report went to the Panel and the Secretary of State (and Ofsted)."""
        async with self._step(steps.SEND_COPY, step, review.check_copy_sent) as changes:
            reached = review.apply_copy_sent(self.file, step.actor, step.decision, changes.at)
            # The earliest publication date: the policy's notice after the copy, on the working-day calendar.
            notice = DueDateItem(
                started_at=noon_utc(step.decision.sent_on), due=self.file.policy.publication_notice
            )
            (dates,) = await call(
                COMPUTE_DUE_DATES, self._due_request([notice]), start_to_close=CALENDAR_TIMEOUT
            )
            review.publication_notice_given(self.file, dates.due_at.date())
            await changes.reach(reached)
        return self._outcome(changes)

    @send_copy.validator
    def _validate_send_copy(self, step: Attributed[CopySent]) -> None:
        self._validate(steps.SEND_COPY, step, review.check_copy_sent)

    # ------------------------------------------------------------ publication

    @workflow.update
    async def schedule_publication(self, step: Attributed[PublicationScheduled]) -> StepOutcome:
        """Business Unit: the date the report will be published (refused if it gives too little notice)."""
        return await self._take(
            steps.SCHEDULE_PUBLICATION,
            step,
            review.check_publication_scheduled,
            review.apply_publication_scheduled,
        )

    @schedule_publication.validator
    def _validate_schedule_publication(self, step: Attributed[PublicationScheduled]) -> None:
        self._validate(steps.SCHEDULE_PUBLICATION, step, review.check_publication_scheduled)

    @workflow.update
    async def record_publication(self, step: Attributed[Published]) -> StepOutcome:
        """Business Unit: the report was published; the review is finished."""
        return await self._take(
            steps.RECORD_PUBLICATION, step, review.check_published, review.apply_published
        )

    @record_publication.validator
    def _validate_record_publication(self, step: Attributed[Published]) -> None:
        self._validate(steps.RECORD_PUBLICATION, step, review.check_published)

    @workflow.update
    async def decide_not_to_publish(self, step: Attributed[NotPublished]) -> StepOutcome:
        """JCRG or Business Unit: the report is not published; what is published instead."""
        return await self._take(
            steps.DECIDE_NOT_TO_PUBLISH, step, review.check_not_published, review.apply_not_published
        )

    @decide_not_to_publish.validator
    def _validate_decide_not_to_publish(self, step: Attributed[NotPublished]) -> None:
        self._validate(steps.DECIDE_NOT_TO_PUBLISH, step, review.check_not_published)

    # ------------------------------------------------------------ the clock

    @workflow.update
    async def stop_clock(self, step: Attributed[ClockStopped]) -> StepOutcome:
        """Business Unit: parallel proceedings stop the review's clock."""
        return await self._take(
            steps.STOP_CLOCK, step, review.check_clock_stopped, review.apply_clock_stopped
        )

    @stop_clock.validator
    def _validate_stop_clock(self, step: Attributed[ClockStopped]) -> None:
        self._validate(steps.STOP_CLOCK, step, review.check_clock_stopped)

    @workflow.update
    async def restart_clock(self, step: Attributed[ClockRestarted]) -> StepOutcome:
        """Business Unit: the clock restarts; every review deadline moves on by the days it stood."""
        async with self._step(steps.RESTART_CLOCK, step, review.check_clock_restarted) as changes:
            now = changes.at
            review.apply_clock_restarted(self.file, step.actor, step.decision, now)
            review.clock_moved_on(self.file, await self._resume_clock(now))
        return self._outcome(changes)

    @restart_clock.validator
    def _validate_restart_clock(self, step: Attributed[ClockRestarted]) -> None:
        self._validate(steps.RESTART_CLOCK, step, review.check_clock_restarted)

    # ------------------------------------------------------------ a national review's local duties

    @workflow.update
    async def send_information_to_panel(self, step: Attributed[InformationToPanel]) -> StepOutcome:
        """Business Unit: the partners' information about the case went to the Panel."""
        return await self._take(
            steps.SEND_INFORMATION_TO_PANEL,
            step,
            review.check_information_to_panel,
            review.apply_information_to_panel,
        )

    @send_information_to_panel.validator
    def _validate_send_information_to_panel(self, step: Attributed[InformationToPanel]) -> None:
        self._validate(steps.SEND_INFORMATION_TO_PANEL, step, review.check_information_to_panel)

    @workflow.update
    async def receive_panel_report(self, step: Attributed[PanelReportReceived]) -> StepOutcome:
        """JCRG or Business Unit: the Panel's national review report and its recommendations."""
        return await self._take(
            steps.RECEIVE_PANEL_REPORT, step, review.check_panel_report, review.apply_panel_report
        )

    @receive_panel_report.validator
    def _validate_receive_panel_report(self, step: Attributed[PanelReportReceived]) -> None:
        self._validate(steps.RECEIVE_PANEL_REPORT, step, review.check_panel_report)

    # ------------------------------------------------------------ the review's tasks

    @workflow.update
    async def complete_checkpoint(self, step: Attributed[CheckpointDone]) -> StepOutcome:
        """Business Unit: a monitoring checkpoint's notes."""
        return await self._take(
            steps.COMPLETE_REVIEW_CHECKPOINT, step, review.check_checkpoint_done, review.apply_checkpoint_done
        )

    @complete_checkpoint.validator
    def _validate_complete_checkpoint(self, step: Attributed[CheckpointDone]) -> None:
        self._validate(steps.COMPLETE_REVIEW_CHECKPOINT, step, review.check_checkpoint_done)

    @workflow.update
    async def withdraw_task(self, step: Attributed[TaskWithdrawn]) -> StepOutcome:
        """Business Unit: a review task no longer needed; its deadline is cancelled."""
        return await self._take(
            steps.WITHDRAW_REVIEW_TASK, step, review.check_task_withdrawn, review.apply_task_withdrawn
        )

    @withdraw_task.validator
    def _validate_withdraw_task(self, step: Attributed[TaskWithdrawn]) -> None:
        self._validate(steps.WITHDRAW_REVIEW_TASK, step, review.check_task_withdrawn)

    # ------------------------------------------------------------ runs recorded before one update per step

    @workflow.update
    async def take_step(self, step: ReviewStepInput) -> StepOutcome:
        """Kept only for runs whose histories carry it (before one update per step): it takes the same
        step through that step's own update. The API never sends it."""
        rule = steps.step_for(steps.Process.review, type(step.step))
        return await getattr(self, rule.update)(Attributed[Any](actor=step.actor, decision=step.step))

    @take_step.validator
    def _validate_take_step(self, step: ReviewStepInput) -> None:
        rule = steps.step_for(steps.Process.review, type(step.step))
        getattr(self, f"_validate_{rule.update}")(Attributed[Any](actor=step.actor, decision=step.step))
