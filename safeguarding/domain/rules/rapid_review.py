"""The rapid review's rules: which step may be taken now, and what taking it changes.

Pure functions over the case file. ``check_*`` raise ``Refusal`` with a reason a person can act on and
change nothing (the update validators call them); ``apply_*`` change the file and return the
milestones reached, which the workflow turns into met and opened deadlines.

Order of the process (DOMAIN.md, step 2): information requested from agencies and returned; the JCRG
recommends; the three statutory partners sign off (one who disagrees returns it to the JCRG); the
Independent Scrutineer is informed; the rapid review goes to the Panel; the Panel agrees, challenges
(the recommendation is reopened) or takes a national review.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from safeguarding.domain.case import (
    CaseFile,
    InformationRequest,
    InformationReturn,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    RapidReviewView,
    Recommendation,
    RecommendationKind,
    ScrutineerInformed,
    SignOffRecord,
    Stage,
)
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.tasks import Task, TaskStatus

# People give times to the minute and clocks differ: a time for something that happened may be this
# far ahead of the service's clock, or this far before the step it must follow.
CLOCK_TOLERANCE = timedelta(minutes=5)

Reached = tuple[Milestone, datetime, str | None]

OUTCOME_STAGE = {
    RecommendationKind.local_cspr: Stage.local_review,
    RecommendationKind.other_review: Stage.other_review,
    RecommendationKind.no_further_review: Stage.learning_actions,
    RecommendationKind.national_review: Stage.national_review,
}


def fmt(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%d %B %Y %H:%M:%S UTC")


def require_stage(file: CaseFile, step: str) -> RapidReviewView:
    if file.stage is not Stage.rapid_review:
        raise Refusal(
            f"{step} belongs to the rapid review; case {file.reference} is at stage {file.stage.value}"
        )
    return file.rapid_review


def check_happened(
    at: datetime, now: datetime, what: str, not_before: datetime | None, before_what: str
) -> None:
    if at > now + CLOCK_TOLERANCE:
        raise Refusal(
            f"{what} ({fmt(at)}) is in the future; record it once it has happened", RefusalKind.invalid
        )
    if not_before is not None and at < not_before - CLOCK_TOLERANCE:
        raise Refusal(f"{what} ({fmt(at)}) is before {before_what} ({fmt(not_before)})", RefusalKind.invalid)


# ---------------------------------------------------------------- agency information


def check_information_request(file: CaseFile, request: InformationRequest) -> None:
    review = require_stage(file, "requesting agency information")
    if review.signed_off_at is not None:
        raise Refusal(
            "the recommendation is already signed off; information is requested before the decision"
        )
    open_agencies = {t.agency: t.id for t in file.tasks if t.status is TaskStatus.open}
    repeated = [a for a in request.agencies if a in open_agencies]
    if repeated:
        listed = ", ".join(f"{a} ({open_agencies[a]})" for a in repeated)
        raise Refusal(f"already waiting for a return from {listed}; complete or withdraw that task first")


def apply_information_request(
    file: CaseFile, actor: Actor, request: InformationRequest, now: datetime
) -> list[tuple[Task, Reached]]:
    """Creates one task per agency; each task's due date comes with its deadline."""
    created = []
    for agency in request.agencies:
        task_id = f"{file.reference}.T{len(file.tasks) + 1}"
        task = Task(id=task_id, agency=agency, asked_for=request.asked_for, requested_at=now)
        file.tasks.append(task)
        created.append((task, (Milestone.information_requested, now, task_id)))
    file.record(
        "information_requested",
        now,
        actor=actor,
        agencies=request.agencies,
        asked_for=request.asked_for,
        tasks=[t.id for t, _ in created],
    )
    return created


def check_information_return(file: CaseFile, submission: InformationReturn) -> Task:
    task = file.task(submission.task_id)
    if task is None:
        raise Refusal(f"case {file.reference} has no task {submission.task_id}", RefusalKind.not_found)
    if task.status is TaskStatus.completed:
        raise Refusal(f"task {task.id} was already completed on {fmt(task.completed_at)}")  # type: ignore[arg-type]
    if task.status is TaskStatus.withdrawn:
        raise Refusal(f"task {task.id} was withdrawn; nothing is owed on it")
    return task


def apply_information_return(
    file: CaseFile, actor: Actor, submission: InformationReturn, now: datetime
) -> Reached:
    task = check_information_return(file, submission)
    task.status = TaskStatus.completed
    task.completed_at = now
    task.completed_by = actor
    task.summary = submission.summary
    task.documents = list(submission.documents)
    # The return's content stays in the case file; the event log records that it arrived.
    file.record(
        "information_returned",
        now,
        actor=actor,
        task=task.id,
        agency=task.agency,
        documents=len(submission.documents),
    )
    return (Milestone.information_returned, now, task.id)


# ---------------------------------------------------------------- the JCRG's recommendation


def check_recommendation(file: CaseFile, recommendation: Recommendation) -> None:
    review = require_stage(file, "the JCRG's recommendation")
    agreed = [s.partner.value for s in review.sign_offs if s.agrees]
    if agreed:
        raise Refusal(
            "the recommendation already has sign-off from "
            + ", ".join(agreed)
            + "; it can change only if a partner disagrees and returns it, or the Panel challenges it"
        )


def apply_recommendation(file: CaseFile, actor: Actor, recommendation: Recommendation, now: datetime) -> None:
    review = file.rapid_review
    revised = review.recommendation is not None
    review.recommendation = recommendation
    review.recommended_by = actor
    review.recommended_at = now
    file.record(
        "recommendation_revised" if revised else "recommendation_made",
        now,
        actor=actor,
        reasons=recommendation.reasons,
        recommendation=recommendation.recommendation.value,
        methodology=recommendation.methodology,
        review_type=recommendation.review_type.value if recommendation.review_type else None,
        learning_actions=recommendation.learning_actions,
    )


# ---------------------------------------------------------------- the partners' sign-off


def check_sign_off(file: CaseFile, sign_off: PartnerSignOff) -> None:
    review = require_stage(file, "the partners' sign-off")
    if review.recommendation is None:
        raise Refusal("there is no JCRG recommendation to sign off yet")
    if review.signed_off_at is not None:
        raise Refusal(
            f"the recommendation was signed off by all three partners on {fmt(review.signed_off_at)}"
        )
    earlier = next((s for s in review.sign_offs if s.partner is sign_off.partner), None)
    if earlier is not None:
        raise Refusal(f"{sign_off.partner.value} already signed off this recommendation on {fmt(earlier.at)}")


def apply_sign_off(file: CaseFile, actor: Actor, sign_off: PartnerSignOff, now: datetime) -> None:
    review = file.rapid_review
    file.record(
        "partner_signed_off" if sign_off.agrees else "partner_disagreed",
        now,
        actor=actor,
        reasons=sign_off.reasons,
        partner=sign_off.partner.value,
    )
    if not sign_off.agrees:
        # One partner's disagreement returns the decision to the JCRG; the agreements so far lapse.
        review.sign_offs = []
        review.recommendation = None
        file.record("recommendation_returned", now, partner=sign_off.partner.value)
        return
    review.sign_offs.append(
        SignOffRecord(partner=sign_off.partner, agrees=True, actor=actor, at=now, reasons=sign_off.reasons)
    )
    if {s.partner for s in review.sign_offs} == set(StatutoryPartner):
        review.signed_off_at = now
        file.record(
            "recommendation_signed_off", now, recommendation=review.recommendation.recommendation.value
        )  # type: ignore[union-attr]


# ---------------------------------------------------------------- scrutineer, Panel


def _require_signed_off(review: RapidReviewView, step: str) -> datetime:
    if review.signed_off_at is None:
        raise Refusal(f"{step} comes after all three partners have signed off the recommendation")
    return review.signed_off_at


def check_scrutineer_informed(file: CaseFile, informed: ScrutineerInformed, now: datetime) -> None:
    review = require_stage(file, "informing the Independent Scrutineer")
    signed_off_at = _require_signed_off(review, "informing the Independent Scrutineer")
    if review.scrutineer_informed_at is not None:
        raise Refusal(
            f"the Independent Scrutineer was recorded as informed on {fmt(review.scrutineer_informed_at)}"
        )
    check_happened(
        informed.informed_at, now, "the time the Scrutineer was informed", signed_off_at, "the sign-off"
    )


def apply_scrutineer_informed(
    file: CaseFile, actor: Actor, informed: ScrutineerInformed, now: datetime
) -> None:
    file.rapid_review.scrutineer_informed_at = informed.informed_at
    file.record("scrutineer_informed", now, actor=actor, occurred_at=informed.informed_at, note=informed.note)


def check_sent(file: CaseFile, sent: RapidReviewSent, now: datetime) -> None:
    review = require_stage(file, "sending the rapid review to the Panel")
    signed_off_at = _require_signed_off(review, "sending the rapid review to the Panel")
    if review.scrutineer_informed_at is None:
        raise Refusal(
            "record that the Independent Scrutineer was informed before the rapid review goes to the Panel"
        )
    if "panel" not in file.notifications:
        raise Refusal(
            "the Panel has not been recorded as notified of the incident; record that notification first"
        )
    if review.sent_to_panel_at is not None:
        raise Refusal(f"the rapid review was recorded as sent to the Panel on {fmt(review.sent_to_panel_at)}")
    check_happened(sent.sent_at, now, "the time the rapid review was sent", signed_off_at, "the sign-off")


def apply_sent(file: CaseFile, actor: Actor, sent: RapidReviewSent, now: datetime) -> Reached:
    file.rapid_review.sent_to_panel_at = sent.sent_at
    file.record("rapid_review_sent", now, actor=actor, occurred_at=sent.sent_at)
    return (Milestone.rapid_review_sent, sent.sent_at, None)


def check_panel_response(file: CaseFile, response: PanelResponse, now: datetime) -> None:
    review = require_stage(file, "the Panel's response")
    if review.sent_to_panel_at is None:
        raise Refusal(
            "the rapid review has not been sent to the Panel yet, so there is no response to record"
        )
    check_happened(
        response.received_at,
        now,
        "the time of the Panel's response",
        review.sent_to_panel_at,
        "the rapid review was sent",
    )


def apply_panel_response(file: CaseFile, actor: Actor, response: PanelResponse, now: datetime) -> Reached:
    review = file.rapid_review
    review.panel_response = response.response
    review.panel_responded_at = response.received_at
    file.record(
        "panel_responded",
        now,
        actor=actor,
        occurred_at=response.received_at,
        reasons=response.reasons,
        response=response.response.value,
    )
    reached = (Milestone.panel_responded, response.received_at, None)
    if response.response is PanelResponseKind.challenges:
        # The partners reconsider: a new recommendation, sign-off and submission follow.
        review.rounds += 1
        review.recommendation = None
        review.recommended_by = None
        review.recommended_at = None
        review.sign_offs = []
        review.signed_off_at = None
        review.scrutineer_informed_at = None
        review.sent_to_panel_at = None
        file.record("recommendation_reopened", now, round=review.rounds + 1)
        return reached
    outcome = (
        RecommendationKind.national_review
        if response.response is PanelResponseKind.national_review
        else review.recommendation.recommendation  # type: ignore[union-attr]
    )
    file.outcome = outcome.value
    file.stage = OUTCOME_STAGE[outcome]
    file.record("rapid_review_concluded", now, outcome=outcome.value, next_stage=file.stage.value)
    return reached
