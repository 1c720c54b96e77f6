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

from __future__ import annotations

from datetime import date, datetime, timedelta

from temporalio import workflow

from safeguarding.domain.activities import COMPUTE_DUE_DATES
from safeguarding.domain.contracts import CaseChanges, DueDateItem, ReviewSummary
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.record import Stream, workflow_id_for
from safeguarding.domain.review import (
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
    Pause,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    ReviewFile,
    ReviewKind,
    ReviewOutcome,
    ReviewStage,
    ReviewStart,
    ReviewStep,
    ReviewStepInput,
    ReviewView,
    TaskWithdrawn,
    TermsAgreed,
)
from safeguarding.domain.rules.review import check_review_step, check_step_actor
from safeguarding.domain.tasks import Task, TaskStatus
from workflows.calls import call
from workflows.casework import Casework, StepChanges, step_outcome


@workflow.defn
class ReviewWorkflow(Casework):
    @workflow.init
    def __init__(self, start: ReviewStart) -> None:
        now = workflow.now()
        self.file = ReviewFile(
            reference=start.reference,
            stream=Stream.review,
            workflow_id=workflow_id_for(start.reference, Stream.review),
            policy=start.policy,
            facts=start.facts,
            kind=ReviewKind(start.kind),
            decided_at=start.decided_at,
            started_at=now,
            methodology=start.methodology,
            review_type=start.review_type,
        )
        self._start_casework(self.file)

    @workflow.run
    async def run(self, start: ReviewStart) -> ReviewOutcome:
        file = self.file
        async with self._lock:
            file.record(
                "review_commissioned",
                workflow.now(),
                occurred_at=file.decided_at,
                kind=file.kind.value,
                methodology=file.methodology,
                review_type=file.review_type,
            )
            reached = [(Milestone.review_decided, file.decided_at, None)]
            if file.kind is ReviewKind.national_review:
                reached.append((Milestone.national_review_taken, file.decided_at, None))
                self._add_duty("Information about the case sent to the Panel for its national review")
                self._add_duty("The Panel's national review report received and its learning taken forward")
            await self._reach(reached)
        self._log("review started", kind=file.kind.value)
        await self._run_casework()
        return ReviewOutcome(
            outcome=file.outcome or "finished",
            recommendations=file.recommendations,
            finished_at=file.finished_at or workflow.now(),
        )

    def _done(self) -> bool:
        return self.file.stage is ReviewStage.finished

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

    def _add_duty(self, what: str) -> Task:
        task = Task(
            id=self.file.next_task_id(),
            agency="business_unit",
            kind="review_duty",
            asked_for=what,
            requested_at=workflow.now(),
        )
        self.file.tasks.append(task)
        return task

    @workflow.update
    async def await_opened(self) -> None:
        """Answers once the workflow has opened (its first deadlines recorded); changes nothing."""
        await workflow.wait_condition(lambda: self._ready)

    @workflow.query
    def view(self) -> ReviewView:
        """GET /cases/{ref}: the review's stage, deadlines, pauses and tasks."""
        file = self.file
        return ReviewView(
            paused=file.paused, **file.model_dump(include=set(ReviewView.model_fields) - {"paused"})
        )

    @workflow.update
    async def take_step(self, step: ReviewStepInput) -> StepOutcome:
        """Business Unit, JCRG or partners: one decision on the review (which one is in ``step.step``)."""
        async with self._step() as changes:
            self._check(step)
            await self._apply(changes, step.actor, step.step)
        return step_outcome(self.file.reference, self.file.stage.value, changes)

    @take_step.validator
    def _validate_take_step(self, step: ReviewStepInput) -> None:
        self._validate(self._check, step)

    def _check(self, step: ReviewStepInput) -> None:
        check_step_actor(step.step, step.actor)
        check_review_step(self.file, step.step, self._today())

    def _today(self) -> date:
        # Dates in steps are London dates; at most an hour from UTC, which the one-day margin covers.
        return workflow.now().date()

    async def _apply(self, changes: StepChanges, actor: Actor, step: ReviewStep) -> None:
        file = self.file
        now = workflow.now()
        details = step.model_dump(mode="json", exclude={"step", "reasons"})
        changes.record(step.step, actor=actor, reasons=getattr(step, "reasons", None), **details)
        match step:
            case ReviewerAppointed():
                file.reviewer, file.stage = step.reviewer, ReviewStage.reviewer_appointed
            case TermsAgreed():
                file.methodology, file.terms_of_reference = step.methodology, step.terms_of_reference
                file.stage = ReviewStage.terms_agreed
            case FamilyEngagement():
                file.family_engagement.append(step)
            case LearningEventHeld():
                file.stage = ReviewStage.learning_event_held
            case DraftReceived():
                file.stage = ReviewStage.draft_received
            case ReportApproved():
                file.approvals.append(step.partner)
                if set(file.approvals) == set(StatutoryPartner):
                    file.stage = ReviewStage.approved
                    changes.record("report_approved_by_all_partners")
            case FinalReport():
                file.recommendations = list(step.recommendations)
                file.stage = ReviewStage.final_report
                if file.kind is ReviewKind.other_review:
                    await self._finish(changes, "completed", now)
            case CopySent():
                file.copy_sent_on = step.sent_on
                (dates,) = await call(
                    COMPUTE_DUE_DATES,
                    self._due_request(
                        [DueDateItem(started_at=_noon(step.sent_on), due=file.policy.publication_notice)]
                    ),
                    start_to_close=timedelta(seconds=30),
                )
                file.earliest_publication_date = dates.due_at.date()
                file.stage = ReviewStage.copy_sent
                await changes.reach([(Milestone.review_report_sent, now, None)])
            case PublicationScheduled():
                file.publication_date, file.stage = step.publication_date, ReviewStage.publication_scheduled
            case Published():
                file.published_on = step.published_on
                await self._finish(changes, "published", now)
            case NotPublished():
                file.published_instead = step.published_instead
                await self._finish(changes, "completed_not_published", now)
            case ClockStopped():
                file.pauses.append(
                    Pause(
                        proceedings=step.proceedings,
                        reasons=step.reasons,
                        started_at=now,
                        expected_end=step.expected_end,
                        panel_told_on=step.panel_told_on,
                    )
                )
                for deadline in self._pause_clock(now):
                    changes.deadlines.append(deadline)
            case ClockRestarted():
                pause = file.pauses[-1]
                resumed, days = await self._resume_clock(now)
                pause.ended_at, pause.days = now, days
                changes.deadlines.extend(resumed)
            case InformationToPanel():
                file.stage = ReviewStage.information_sent
                await self._complete_duty(changes, actor, "Information about the case sent to the Panel", now)
                await changes.reach([(Milestone.national_information_sent, now, None)])
            case PanelReportReceived():
                file.recommendations = list(step.recommendations)
                await self._complete_duty(changes, actor, "The Panel's national review report", now)
                await self._finish(changes, "national_review_reported", now)
            case CheckpointDone():
                task = file.task(step.task_id)
                task.status, task.completed_at, task.completed_by = TaskStatus.completed, now, actor  # type: ignore[union-attr]
                task.summary = step.summary  # type: ignore[union-attr]
                changes.tasks.append(task)  # type: ignore[arg-type]
                await changes.reach([(Milestone.task_completed, now, task.id)])  # type: ignore[union-attr]
            case TaskWithdrawn():
                self.withdraw(changes, file.task(step.task_id), actor, step.reasons)  # type: ignore[arg-type]

    async def _complete_duty(self, changes: StepChanges, actor: Actor, prefix: str, now: datetime) -> None:
        for task in self.file.tasks:
            if task.status is TaskStatus.open and task.asked_for.startswith(prefix):
                task.status, task.completed_at, task.completed_by = TaskStatus.completed, now, actor
                changes.tasks.append(task)

    async def _finish(self, changes: StepChanges, outcome: str, now: datetime) -> None:
        file = self.file
        file.stage, file.outcome, file.finished_at = ReviewStage.finished, outcome, now
        await changes.reach([(Milestone.review_completed, now, None)])
        file.checkpoints.clear()  # monitoring ends with the review
        for task in [t for t in file.tasks if t.status is TaskStatus.open]:
            self.withdraw(changes, task, None, "the review is finished")
        changes.record("review_finished", outcome=outcome, recommendations=len(file.recommendations))


def _noon(day: date) -> datetime:
    from datetime import UTC

    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
