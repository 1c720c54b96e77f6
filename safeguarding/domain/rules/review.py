"""The review's rules: which step may be taken now, and what taking it changes.

Each step has a ``check_*`` and an ``apply_*`` taking ``(file, actor, decision, now)``, as the rapid
review's. The order of the steps is the kind's ``SPINE`` (``safeguarding/domain/review.py``): a step that
moves the review to a stage may be taken when the review is at the stage just before it, so the order
is stated once. Family engagement, the clock and publication have rules of their own.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from safeguarding.domain.deadline_book import DeadlineBook
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.review import (
    SPINE,
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
    Pause,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    ReviewFile,
    ReviewKind,
    ReviewStage,
    TaskWithdrawn,
    TermsAgreed,
)
from safeguarding.domain.rules.common import check_day_happened, day_words, on_day
from safeguarding.domain.rules.tasks import check_open_task, complete_task, withdraw_open_tasks, withdraw_task
from safeguarding.domain.tasks import TaskStatus

# ---------------------------------------------------------------- the order of the steps

KIND_WORDS = {
    ReviewKind.local_cspr: "a local CSPR",
    ReviewKind.other_review: "another type of review",
    ReviewKind.national_review: "a national review",
    ReviewKind.local_learning_review: "a local learning review",
    ReviewKind.thematic_review: "a thematic review",
    ReviewKind.safeguarding_adults_review: "a Safeguarding Adults Review",
}


def _open(file: ReviewFile) -> None:
    if file.stage is ReviewStage.finished:
        raise Refusal(f"the review of case {file.reference} is finished ({file.outcome})")
    if file.stage is ReviewStage.withdrawn:
        raise Refusal(f"the review of case {file.reference} is withdrawn: the partners decided on no review")


def _belongs(file: ReviewFile, stage: ReviewStage, what: str) -> None:
    """The step is part of this kind of review (its stage is on the kind's spine)."""
    if stage not in SPINE[file.kind]:
        raise Refusal(f"{what} is not part of {KIND_WORDS[file.kind]}")


def _next(file: ReviewFile, stage: ReviewStage, what: str) -> None:
    """A step that moves the review to ``stage`` comes right after the stage before it on the spine."""
    spine = SPINE[file.kind]
    before = spine[spine.index(stage) - 1]
    if file.stage is before:
        return
    if spine.index(file.stage) > spine.index(before):
        raise Refusal(f"{what} is already recorded (the review is at stage {file.stage.value})")
    raise Refusal(f"{what} comes after '{before.value}'; the review is at stage {file.stage.value}")


def _step(file: ReviewFile, stage: ReviewStage, what: str, *days: date, now: datetime) -> None:
    """The usual checks, in order: the review is open, the step is part of it, its dates have
    happened, and it comes next."""
    _open(file)
    _belongs(file, stage, what)
    for day in days:
        check_day_happened(day, now)
    _next(file, stage, what)


def _not_paused(file: ReviewFile, what: str) -> None:
    if file.paused:
        raise Refusal(f"the clock is stopped for parallel proceedings; restart it before {what}")


def _record(file: ReviewFile, kind: EventKind, actor: Actor, step: BaseModel, now: datetime) -> None:
    """The step as an event: who, why, and what they recorded (the decision's fields)."""
    details = step.model_dump(mode="json", exclude={"step", "reasons"})
    file.record(kind, now, actor=actor, reasons=getattr(step, "reasons", None), **details)


def finish(file: ReviewFile, outcome: str, now: datetime) -> list[Reached]:
    """The review is finished, at ``now`` (the day its last step says, for a step recorded later);
    ``wind_up`` ends what it still had running once its deadlines are met."""
    file.stage, file.outcome, file.finished_at = ReviewStage.finished, outcome, now
    return [(Milestone.review_completed, now, None)]


def wind_up(file: ReviewFile, now: datetime) -> None:
    """After a step that finished the review: monitoring ends, open tasks are withdrawn."""
    if file.stage is not ReviewStage.finished or any(
        e.kind is EventKind.review_finished for e in file.history
    ):
        return
    file.checkpoints.clear()
    withdraw_open_tasks(file, "the review is finished", now)
    file.record(
        EventKind.review_finished, now, outcome=file.outcome, recommendations=len(file.recommendations)
    )


# ---------------------------------------------------------------- reviewer, terms, family, learning event


def check_reviewer_appointed(file: ReviewFile, actor: Actor, step: ReviewerAppointed, now: datetime) -> None:
    _step(file, ReviewStage.reviewer_appointed, "appointing the reviewer", step.appointed_on, now=now)


def apply_reviewer_appointed(
    file: ReviewFile, actor: Actor, step: ReviewerAppointed, now: datetime
) -> list[Reached]:
    _record(file, EventKind.reviewer_appointed, actor, step, now)
    file.reviewer, file.stage = step.reviewer, ReviewStage.reviewer_appointed
    return []


def check_terms_agreed(file: ReviewFile, actor: Actor, step: TermsAgreed, now: datetime) -> None:
    _step(file, ReviewStage.terms_agreed, "agreeing the terms of reference", step.agreed_on, now=now)


def apply_terms_agreed(file: ReviewFile, actor: Actor, step: TermsAgreed, now: datetime) -> list[Reached]:
    _record(file, EventKind.terms_agreed, actor, step, now)
    file.methodology, file.terms_of_reference = step.methodology, step.terms_of_reference
    file.stage = ReviewStage.terms_agreed
    return []


def check_family_engagement(file: ReviewFile, actor: Actor, step: FamilyEngagement, now: datetime) -> None:
    _open(file)
    _belongs(file, ReviewStage.reviewer_appointed, "family engagement")
    check_day_happened(step.on, now)
    if not file.reached(ReviewStage.reviewer_appointed) or file.reached(ReviewStage.final_report):
        raise Refusal("family engagement is recorded between the reviewer's appointment and the final report")


def apply_family_engagement(
    file: ReviewFile, actor: Actor, step: FamilyEngagement, now: datetime
) -> list[Reached]:
    _record(file, EventKind.family_engagement, actor, step, now)
    file.family_engagement.append(step)
    return []


def check_learning_event(file: ReviewFile, actor: Actor, step: LearningEventHeld, now: datetime) -> None:
    _step(file, ReviewStage.learning_event_held, "the practitioner learning event", step.held_on, now=now)


def apply_learning_event(
    file: ReviewFile, actor: Actor, step: LearningEventHeld, now: datetime
) -> list[Reached]:
    _record(file, EventKind.learning_event_held, actor, step, now)
    file.stage = ReviewStage.learning_event_held
    return []


# ---------------------------------------------------------------- the report


def check_draft_received(file: ReviewFile, actor: Actor, step: DraftReceived, now: datetime) -> None:
    _step(file, ReviewStage.draft_received, "receiving the draft report", step.received_on, now=now)


def apply_draft_received(file: ReviewFile, actor: Actor, step: DraftReceived, now: datetime) -> list[Reached]:
    """The partners are asked to approve it."""
    _record(file, EventKind.draft_received, actor, step, now)
    file.notify_decision(file.history[-1])
    file.stage = ReviewStage.draft_received
    return []


def check_report_approved(file: ReviewFile, actor: Actor, step: ReportApproved, now: datetime) -> None:
    if actor.partner is not None and actor.partner is not step.partner:
        raise Refusal(
            f"{actor.user_id} approves for {actor.partner.value}, not for {step.partner.value}",
            RefusalKind.forbidden,
        )
    _step(file, ReviewStage.approved, "the partners' approval", now=now)
    if step.partner in file.approvals:
        raise Refusal(f"{step.partner.value} has already approved the report")


def apply_report_approved(
    file: ReviewFile, actor: Actor, step: ReportApproved, now: datetime
) -> list[Reached]:
    _record(file, EventKind.report_approved, actor, step, now)
    file.approvals.append(step.partner)
    _approved_when_all_have(file, now)
    return []


def _approved_when_all_have(file: ReviewFile, now: datetime) -> None:
    """Approved once the three partners have (and, for a joint CSPR/SAR, the adults board)."""
    partners = set(file.approvals) == set(StatutoryPartner)
    if partners and (not file.joint_with_adults_board or file.adults_board_approved):
        file.stage = ReviewStage.approved
        file.record(EventKind.report_approved_by_all_partners, now)


def check_adults_board_approval(
    file: ReviewFile, actor: Actor, step: AdultsBoardApproval, now: datetime
) -> None:
    if not file.joint_with_adults_board:
        raise Refusal(
            "this review is not a joint CSPR/SAR: the Safeguarding Adults Board does not approve it"
        )
    _step(file, ReviewStage.approved, "the adults board's approval", now=now)
    if file.adults_board_approved:
        raise Refusal("the adults board has already approved the report")


def apply_adults_board_approval(
    file: ReviewFile, actor: Actor, step: AdultsBoardApproval, now: datetime
) -> list[Reached]:
    file.record(EventKind.adults_board_approved_report, now, actor=actor, reasons=step.reasons)
    file.adults_board_approved = True
    _approved_when_all_have(file, now)
    return []


def check_final_report(file: ReviewFile, actor: Actor, step: FinalReport, now: datetime) -> None:
    _step(file, ReviewStage.final_report, "the final report", step.received_on, now=now)


def apply_final_report(file: ReviewFile, actor: Actor, step: FinalReport, now: datetime) -> list[Reached]:
    """Another type of review finishes with its final report; a CSPR goes on to publication."""
    _record(file, EventKind.final_report, actor, step, now)
    file.recommendations = list(step.recommendations)
    file.stage = ReviewStage.final_report
    done = on_day(step.received_on, now, file.policy.timezone)
    finishes = file.kind in (
        ReviewKind.other_review,
        ReviewKind.local_learning_review,
        ReviewKind.thematic_review,
        ReviewKind.safeguarding_adults_review,
    )
    return finish(file, "completed", done) if finishes else []


def check_copy_sent(file: ReviewFile, actor: Actor, step: CopySent, now: datetime) -> None:
    _step(
        file,
        ReviewStage.copy_sent,
        "sending the final report to the Panel and the Secretary of State",
        step.sent_on,
        now=now,
    )


def apply_copy_sent(file: ReviewFile, actor: Actor, step: CopySent, now: datetime) -> list[Reached]:
    """The workflow then works out the earliest publication date (``publication_notice_given``)."""
    _record(file, EventKind.copy_sent, actor, step, now)
    file.copy_sent_on = step.sent_on
    file.stage = ReviewStage.copy_sent
    return [(Milestone.review_report_sent, on_day(step.sent_on, now, file.policy.timezone), None)]


def publication_notice_given(file: ReviewFile, earliest: date) -> None:
    """The policy's notice after the copy, on the working-day calendar: the earliest publication date."""
    file.earliest_publication_date = earliest


# ---------------------------------------------------------------- publication


def check_publication_scheduled(
    file: ReviewFile, actor: Actor, step: PublicationScheduled, now: datetime
) -> None:
    _open(file)
    _belongs(file, ReviewStage.publication_scheduled, "setting a publication date")
    if file.stage not in (ReviewStage.copy_sent, ReviewStage.publication_scheduled):
        raise Refusal(
            "send the final report to the Panel and the Secretary of State before setting a publication date"
        )
    if file.joint_with_adults_board and not file.adults_board_agreed_publication:
        raise Refusal(
            "a joint CSPR/SAR is published once the Safeguarding Adults Board has agreed to publication"
        )
    earliest = file.earliest_publication_date
    if earliest is not None and step.publication_date < earliest:
        raise Refusal(
            f"the report went to the Panel and the Secretary of State on {day_words(file.copy_sent_on)} and must "  # type: ignore[arg-type]
            f"reach them at least {file.policy.publication_notice} before publication: the earliest publication "
            f"date is {day_words(earliest)}"
        )
    _not_paused(file, "setting the publication date")


def apply_publication_scheduled(
    file: ReviewFile, actor: Actor, step: PublicationScheduled, now: datetime
) -> list[Reached]:
    _record(file, EventKind.publication_scheduled, actor, step, now)
    file.publication_date, file.stage = step.publication_date, ReviewStage.publication_scheduled
    return []


def check_published(file: ReviewFile, actor: Actor, step: Published, now: datetime) -> None:
    _open(file)
    _belongs(file, ReviewStage.publication_scheduled, "publication")
    check_day_happened(step.published_on, now)
    if file.stage is not ReviewStage.publication_scheduled:
        raise Refusal("schedule the publication date first")
    if step.published_on < file.publication_date:  # type: ignore[operator]
        raise Refusal(
            f"publication was scheduled for {day_words(file.publication_date)}; record it on or after that "  # type: ignore[arg-type]
            "date, or schedule an earlier one that keeps the notice"
        )
    _not_paused(file, "publication")


def apply_published(file: ReviewFile, actor: Actor, step: Published, now: datetime) -> list[Reached]:
    _record(file, EventKind.published, actor, step, now)
    file.published_on = step.published_on
    return finish(file, "published", on_day(step.published_on, now, file.policy.timezone))


def check_not_published(file: ReviewFile, actor: Actor, step: NotPublished, now: datetime) -> None:
    _open(file)
    _belongs(file, ReviewStage.copy_sent, "a decision not to publish")
    if file.stage not in (ReviewStage.copy_sent, ReviewStage.publication_scheduled):
        raise Refusal(
            "the final report goes to the Panel and the Secretary of State before a decision not to publish"
        )
    _not_paused(file, "deciding not to publish")


def apply_not_published(file: ReviewFile, actor: Actor, step: NotPublished, now: datetime) -> list[Reached]:
    _record(file, EventKind.not_published, actor, step, now)
    file.published_instead = step.published_instead
    return finish(file, "completed_not_published", now)


# ---------------------------------------------------------------- the clock (parallel proceedings)


def check_clock_stopped(file: ReviewFile, actor: Actor, step: ClockStopped, now: datetime) -> None:
    _open(file)
    check_day_happened(step.panel_told_on, now)
    if file.paused:
        raise Refusal(f"the clock is already stopped (since {file.pauses[-1].started_at:%d %B %Y})")
    if step.expected_end <= now.date():
        raise Refusal("the expected end of the proceedings must be in the future", RefusalKind.invalid)


def apply_clock_stopped(file: ReviewFile, actor: Actor, step: ClockStopped, now: datetime) -> list[Reached]:
    """No reminder or breach while stopped: every pausable deadline waits."""
    _record(file, EventKind.clock_stopped, actor, step, now)
    file.pauses.append(
        Pause(
            proceedings=step.proceedings,
            reasons=step.reasons,
            started_at=now,
            expected_end=step.expected_end,
            panel_told_on=step.panel_told_on,
        )
    )
    DeadlineBook(file.deadlines).pause(now)
    return []


def check_clock_restarted(file: ReviewFile, actor: Actor, step: ClockRestarted, now: datetime) -> None:
    _open(file)
    if not file.paused:
        raise Refusal("the clock is not stopped")


def apply_clock_restarted(
    file: ReviewFile, actor: Actor, step: ClockRestarted, now: datetime
) -> list[Reached]:
    """The workflow then moves the stopped deadlines on (``clock_moved_on``)."""
    _record(file, EventKind.clock_restarted, actor, step, now)
    file.pauses[-1].ended_at = now
    return []


def clock_moved_on(file: ReviewFile, days: int) -> None:
    """The stopped deadlines moved on by ``days`` calendar days."""
    file.pauses[-1].days = days


# ---------------------------------------------------------------- a national review's local duties


def _complete_duty(file: ReviewFile, actor: Actor, prefix: str, now: datetime) -> None:
    for task in file.tasks:
        if task.status is TaskStatus.open and task.asked_for.startswith(prefix):
            complete_task(file, task, actor, now)


def check_information_to_panel(
    file: ReviewFile, actor: Actor, step: InformationToPanel, now: datetime
) -> None:
    _step(file, ReviewStage.information_sent, "sending information to the Panel", step.sent_on, now=now)


def apply_information_to_panel(
    file: ReviewFile, actor: Actor, step: InformationToPanel, now: datetime
) -> list[Reached]:
    _record(file, EventKind.information_to_panel, actor, step, now)
    file.stage = ReviewStage.information_sent
    _complete_duty(file, actor, "Information about the case sent to the Panel", now)
    return [(Milestone.national_information_sent, on_day(step.sent_on, now, file.policy.timezone), None)]


def check_panel_report(file: ReviewFile, actor: Actor, step: PanelReportReceived, now: datetime) -> None:
    _open(file)
    _belongs(file, ReviewStage.information_sent, "the Panel's report")
    check_day_happened(step.received_on, now)
    _next(file, ReviewStage.finished, "the Panel's report")


def apply_panel_report(
    file: ReviewFile, actor: Actor, step: PanelReportReceived, now: datetime
) -> list[Reached]:
    _record(file, EventKind.panel_report_received, actor, step, now)
    file.recommendations = list(step.recommendations)
    _complete_duty(file, actor, "The Panel's national review report", now)
    return finish(file, "national_review_reported", on_day(step.received_on, now, file.policy.timezone))


# ---------------------------------------------------------------- the review's tasks


def check_checkpoint_done(file: ReviewFile, actor: Actor, step: CheckpointDone, now: datetime) -> None:
    _open(file)
    task = check_open_task(file, step.task_id, now)
    if task.kind == "review_duty":
        raise Refusal(
            "a national review's duty is done by recording it: POST /cases/"
            f"{file.reference}/review/information-to-panel or /review/panel-report-received"
        )


def apply_checkpoint_done(
    file: ReviewFile, actor: Actor, step: CheckpointDone, now: datetime
) -> list[Reached]:
    _record(file, EventKind.checkpoint_done, actor, step, now)
    task = check_open_task(file, step.task_id, now)
    complete_task(file, task, actor, now, summary=step.summary)
    return [(Milestone.task_completed, now, task.id)]


def check_task_withdrawn(file: ReviewFile, actor: Actor, step: TaskWithdrawn, now: datetime) -> None:
    _open(file)
    check_open_task(file, step.task_id, now)


def apply_task_withdrawn(file: ReviewFile, actor: Actor, step: TaskWithdrawn, now: datetime) -> list[Reached]:
    withdraw_task(file, check_open_task(file, step.task_id), actor, step.reasons, now)
    return []


def check_adults_board_publication(
    file: ReviewFile, actor: Actor, step: AdultsBoardPublication, now: datetime
) -> None:
    if not file.joint_with_adults_board:
        raise Refusal(
            "this review is not a joint CSPR/SAR: the Safeguarding Adults Board does not agree its publication"
        )
    _open(file)
    if not file.reached(ReviewStage.final_report):
        raise Refusal("the adults board agrees to publication once the final report is in")
    if file.adults_board_agreed_publication:
        raise Refusal("the adults board has already agreed to publication")


def apply_adults_board_publication(
    file: ReviewFile, actor: Actor, step: AdultsBoardPublication, now: datetime
) -> list[Reached]:
    file.record(EventKind.adults_board_agreed_publication, now, actor=actor, reasons=step.reasons)
    file.adults_board_agreed_publication = True
    return []
