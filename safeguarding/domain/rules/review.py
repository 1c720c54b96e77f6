"""The review's rules: which step may be taken now. Pure: they raise ``Refusal`` and change nothing."""

from __future__ import annotations

from datetime import date, timedelta

from safeguarding.domain.people import Actor
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import (
    SPINE,
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
    ReviewStage,
    ReviewStep,
    TaskWithdrawn,
    TermsAgreed,
)
from safeguarding.domain.tasks import TaskStatus

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
