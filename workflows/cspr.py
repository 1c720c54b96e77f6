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
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_due_dates
    from safeguarding.case import (
        Actor,
        CaseEvent,
        Deadline,
        Milestone,
        PlausibleDate,
        Reasons,
        Refusal,
        RefusalKind,
        ShortText,
        StatutoryPartner,
        StrictModel,
        Task,
        TaskDone,
        TaskStatus,
        TaskWithdrawal,
    )
    from safeguarding.contracts import CaseChanges, DueDateItem, ReviewSummary
    from safeguarding.policy import Policy
    from safeguarding.record import Stream, WorkRecord, workflow_id_for
    from workflows.casework import RETRY_FOREVER, Casework, StepChanges, StepOutcome, step_outcome


class ReviewKind(StrEnum):
    local_cspr = "local_cspr"
    other_review = "other_review"
    national_review = "national_review"


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
}


# ---------------------------------------------------------------- the steps (API bodies)


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


class ReportApproved(StrictModel):
    step: Literal["report_approved"] = "report_approved"
    partner: StatutoryPartner
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


class NotPublished(StrictModel):
    step: Literal["not_published"] = "not_published"
    reasons: Reasons
    published_instead: ShortText = Field(description="What is published instead, e.g. the improvements made.")


class ProceedingsKind(StrEnum):
    criminal_trial = "criminal_trial"
    inquest = "inquest"
    other = "other"


class ClockStopped(StrictModel):
    step: Literal["clock_stopped"] = "clock_stopped"
    proceedings: ProceedingsKind
    reasons: Reasons
    expected_end: PlausibleDate
    panel_told_on: PlausibleDate = Field(description="When the Panel was told of the delay.")


class ClockRestarted(StrictModel):
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


# ---------------------------------------------------------------- what the review keeps


class Pause(BaseModel):
    proceedings: ProceedingsKind
    reasons: str
    started_at: datetime
    expected_end: date
    panel_told_on: date
    ended_at: datetime | None = None
    days: int | None = None


class ReviewFile(WorkRecord):
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
    recommendations: list[str] = Field(default_factory=list)
    copy_sent_on: date | None = None
    earliest_publication_date: date | None = None
    publication_date: date | None = None
    published_on: date | None = None
    published_instead: str | None = None
    pauses: list[Pause] = Field(default_factory=list)
    outcome: str | None = None
    finished_at: datetime | None = None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].ended_at is None

    def reached(self, stage: ReviewStage) -> bool:
        spine = SPINE[self.kind]
        return stage in spine and spine.index(self.stage) >= spine.index(stage)


class ReviewView(BaseModel):
    """GET /cases/{ref} (``review``): where the review stands."""

    workflow_id: str
    kind: ReviewKind
    stage: ReviewStage
    decided_at: datetime
    started_at: datetime
    methodology: str | None
    review_type: str | None
    reviewer: str | None
    terms_of_reference: str | None
    family_engagement: list[FamilyEngagement]
    approvals: list[StatutoryPartner]
    recommendations: list[str]
    copy_sent_on: date | None
    earliest_publication_date: date | None
    publication_date: date | None
    published_on: date | None
    published_instead: str | None
    paused: bool
    pauses: list[Pause]
    outcome: str | None
    finished_at: datetime | None
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


class ReviewOutcome(BaseModel):
    outcome: str
    recommendations: list[str]
    finished_at: datetime


# ---------------------------------------------------------------- the rules (pure)

PARTNER_STEPS = {"report_approved"}
JCRG_STEPS = {"reviewer_appointed", "terms_agreed", "final_report", "panel_report_received", "not_published"}


def _fmt(day: date) -> str:
    return day.strftime("%A %d %B %Y").replace(" 0", " ")


def _require(file: ReviewFile, before: ReviewStage, what: str) -> None:
    """``what`` may be taken when the review's stage is exactly the one before it on its spine."""
    if file.stage is not before:
        spine = SPINE[file.kind]
        if before not in spine:
            raise Refusal(f"{what} is not part of a {file.kind.value.replace('_', ' ')}")
        if spine.index(file.stage) > spine.index(before):
            raise Refusal(f"{what} is already recorded (the review is at stage {file.stage.value})")
        raise Refusal(f"{what} comes after '{before.value}'; the review is at stage {file.stage.value}")


# The stage on a review's path that each step belongs to: a step off this kind's path is refused.
STEP_STAGE = {
    "reviewer_appointed": ReviewStage.reviewer_appointed,
    "terms_agreed": ReviewStage.terms_agreed,
    "family_engagement": ReviewStage.reviewer_appointed,
    "learning_event_held": ReviewStage.learning_event_held,
    "draft_received": ReviewStage.draft_received,
    "report_approved": ReviewStage.approved,
    "final_report": ReviewStage.final_report,
    "copy_sent": ReviewStage.copy_sent,
    "publication_scheduled": ReviewStage.publication_scheduled,
    "published": ReviewStage.publication_scheduled,
    "not_published": ReviewStage.copy_sent,
    "information_to_panel": ReviewStage.information_sent,
    "panel_report_received": ReviewStage.information_sent,
}


def check_review_step(file: ReviewFile, step: ReviewStep, today: date) -> None:
    if file.stage is ReviewStage.finished:
        raise Refusal(f"the review of case {file.reference} is finished ({file.outcome})")
    belongs = STEP_STAGE.get(step.step)
    if belongs is not None and belongs not in SPINE[file.kind]:
        raise Refusal(f"'{step.step}' is not part of a {file.kind.value.replace('_', ' ')}")
    dated = [
        getattr(step, name)
        for name in (
            "appointed_on",
            "agreed_on",
            "on",
            "held_on",
            "received_on",
            "sent_on",
            "published_on",
            "panel_told_on",
        )
        if hasattr(step, name)
    ]
    for day in dated:
        if day > today + timedelta(days=1):
            raise Refusal(
                f"{_fmt(day)} is in the future; record it once it has happened", RefusalKind.invalid
            )
    match step:
        case ReviewerAppointed():
            _require(file, ReviewStage.commissioned, "appointing the reviewer")
        case TermsAgreed():
            _require(file, ReviewStage.reviewer_appointed, "agreeing the terms of reference")
        case FamilyEngagement():
            if not file.reached(ReviewStage.reviewer_appointed) or file.reached(ReviewStage.final_report):
                raise Refusal(
                    "family engagement is recorded between the reviewer's appointment and the final report"
                )
        case LearningEventHeld():
            _require(file, ReviewStage.terms_agreed, "the practitioner learning event")
        case DraftReceived():
            before = (
                ReviewStage.learning_event_held
                if file.kind is ReviewKind.local_cspr
                else ReviewStage.terms_agreed
            )
            _require(file, before, "receiving the draft report")
        case ReportApproved():
            _require(file, ReviewStage.draft_received, "the partners' approval")
            if step.partner in file.approvals:
                raise Refusal(f"{step.partner.value} has already approved the report")
        case FinalReport():
            _require(file, ReviewStage.approved, "the final report")
        case CopySent():
            _require(
                file,
                ReviewStage.final_report,
                "sending the final report to the Panel and the Secretary of State",
            )
        case PublicationScheduled():
            _require_publishable(file, step.publication_date)
        case Published():
            if file.stage is not ReviewStage.publication_scheduled:
                raise Refusal("schedule the publication date first")
            if step.published_on < file.publication_date:  # type: ignore[operator]
                raise Refusal(
                    f"publication was scheduled for {_fmt(file.publication_date)}; record it on or after that "  # type: ignore[arg-type]
                    "date, or schedule an earlier one that keeps the notice"
                )
            _not_paused(file, "publication")
        case NotPublished():
            if file.stage not in (ReviewStage.copy_sent, ReviewStage.publication_scheduled):
                raise Refusal(
                    "the final report goes to the Panel and the Secretary of State before a decision "
                    "not to publish"
                )
        case ClockStopped():
            if file.paused:
                raise Refusal(f"the clock is already stopped (since {file.pauses[-1].started_at:%d %B %Y})")
            if step.expected_end <= today:
                raise Refusal(
                    "the expected end of the proceedings must be in the future", RefusalKind.invalid
                )
        case ClockRestarted():
            if not file.paused:
                raise Refusal("the clock is not stopped")
        case InformationToPanel():
            _require(file, ReviewStage.commissioned, "sending information to the Panel")
        case PanelReportReceived():
            _require(file, ReviewStage.information_sent, "the Panel's report")
        case CheckpointDone() | TaskWithdrawn():
            task = file.task(step.task_id)
            if task is None:
                raise Refusal(f"case {file.reference} has no task {step.task_id}", RefusalKind.not_found)
            if task.status is not TaskStatus.open:
                raise Refusal(f"task {task.id} is {task.status.value}")


def _not_paused(file: ReviewFile, what: str) -> None:
    if file.paused:
        raise Refusal(f"the clock is stopped for parallel proceedings; restart it before {what}")


def _require_publishable(file: ReviewFile, publication_date: date) -> None:
    if file.stage not in (ReviewStage.copy_sent, ReviewStage.publication_scheduled):
        raise Refusal(
            "send the final report to the Panel and the Secretary of State before setting a publication date"
        )
    earliest = file.earliest_publication_date
    if earliest is not None and publication_date < earliest:
        raise Refusal(
            f"the report went to the Panel and the Secretary of State on {_fmt(file.copy_sent_on)} and must reach "  # type: ignore[arg-type]
            f"them at least {file.policy.publication_notice} before publication: the earliest publication date is "
            f"{_fmt(earliest)}"
        )
    _not_paused(file, "setting the publication date")


def check_step_actor(step: ReviewStep, actor: Actor) -> None:
    name = step.step
    allowed = (
        ("safeguarding_partner",)
        if name in PARTNER_STEPS
        else ("jcrg_member", "jcrg_chair", "business_unit")
        if name in JCRG_STEPS
        else ("business_unit", "jcrg_chair")
    )
    if actor.role.value not in allowed:
        raise Refusal(
            f"a {actor.role.value} cannot record '{name}'; it is for: {', '.join(allowed)}",
            RefusalKind.forbidden,
        )
    if isinstance(step, ReportApproved) and actor.partner is not None and actor.partner is not step.partner:
        raise Refusal(
            f"{actor.user_id} approves for {actor.partner.value}, not for {step.partner.value}",
            RefusalKind.forbidden,
        )


# ---------------------------------------------------------------- the workflow


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
                (dates,) = await workflow.execute_activity(
                    compute_due_dates,
                    self._due_request(
                        [DueDateItem(started_at=_noon(step.sent_on), due=file.policy.publication_notice)]
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RETRY_FOREVER,
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
