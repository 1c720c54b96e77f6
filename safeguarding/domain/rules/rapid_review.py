"""The rapid review's rules: which step may be taken now, and what taking it changes.

Pure functions over the case file, each taking ``(file, actor, decision, now)``. ``check_*`` raise
``Refusal`` with a reason a person can act on and change nothing (the update's validator calls it, and
the update again under its lock); ``apply_*`` change the file, record what happened and whom it asks to
act, and return the milestones reached, which the workflow turns into met and opened deadlines.

Order of the process (DOMAIN.md, step 2): information requested from agencies and returned; the JCRG
recommends; the three statutory partners sign off (one who disagrees returns it to the JCRG); the
Independent Scrutineer is informed; the rapid review goes to the Panel; the Panel agrees, challenges
(the recommendation is reopened) or takes a national review.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.case import (
    AdultsBoardSignOff,
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
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.common import check_happened, fmt, not_before
from safeguarding.domain.rules.tasks import (
    add_task,
    check_open_task,
    complete_task,
    find_own_task,
    find_task,
    withdraw_open_tasks,
)
from safeguarding.domain.tasks import Task, TaskStatus

OUTCOME_STAGE = {
    RecommendationKind.local_cspr: Stage.local_review,
    RecommendationKind.other_review: Stage.other_review,
    RecommendationKind.no_further_review: Stage.learning_actions,
    RecommendationKind.national_review: Stage.national_review,
}


def require_stage(file: CaseFile, step: str) -> RapidReviewView:
    if file.stage is not Stage.rapid_review:
        raise Refusal(
            f"{step} belongs to the rapid review; case {file.reference} is at stage {file.stage.value}"
        )
    return file.rapid_review


# ---------------------------------------------------------------- agency information


def check_information_request(
    file: CaseFile, actor: Actor, request: InformationRequest, now: datetime
) -> None:
    if file.stage is not Stage.contributing:
        review = require_stage(file, "requesting agency information")
        if review.signed_off_at is not None:
            raise Refusal(
                "the recommendation is already signed off; information is requested before the decision"
            )
    asking = asking_partnership(file, actor)
    open_agencies = {
        t.agency: t.id
        for t in file.tasks
        if t.status is TaskStatus.open
        and t.kind == "information_return"
        and file.task_partnership(t) == asking
    }
    repeated = [a for a in request.agencies if a in open_agencies]
    if repeated:
        listed = ", ".join(f"{a} ({open_agencies[a]})" for a in repeated)
        raise Refusal(f"already waiting for a return from {listed}; complete or withdraw that task first")


def asking_partnership(file: CaseFile, actor: Actor) -> str:
    """Whose agencies a Business Unit asks: its own partnership's (a contributor asks its own)."""
    return actor.partnership or file.partnership


def apply_information_request(
    file: CaseFile, actor: Actor, request: InformationRequest, now: datetime
) -> tuple[list[Task], list[Reached]]:
    """One task per agency; each is announced to its agency once its deadline gives it a due date.
    A contributing partnership's Business Unit asks its own agencies, from its own directory."""
    asking = asking_partnership(file, actor)
    contributor = asking if asking != file.partnership else None
    tasks = [
        add_task(file, agency, "information_return", request.asked_for, now, partnership=contributor)
        for agency in request.agencies
    ]
    details = {"partnership": contributor} if contributor else {}
    file.record(
        EventKind.information_requested,
        now,
        actor=actor,
        agencies=request.agencies,
        asked_for=request.asked_for,
        tasks=[t.id for t in tasks],
        **details,
    )
    return tasks, [(Milestone.information_requested, now, t.id) for t in tasks]


def check_information_return(
    file: CaseFile, actor: Actor, submission: InformationReturn, now: datetime
) -> None:
    # Whose task it is comes first: another agency's (or another partnership's) task answers as one
    # that does not exist, so nothing is learnt of it, not even that it is there.
    task = find_own_task(file, actor, submission.task_id)
    if actor.role is Role.partner_agency and (
        actor.agency != task.agency or not actor.serves(file.task_partnership(task))
    ):
        raise Refusal(f"case {file.reference} has no task {submission.task_id}", RefusalKind.not_found)
    check_open_task(file, submission.task_id, now)


def apply_information_return(
    file: CaseFile, actor: Actor, submission: InformationReturn, now: datetime
) -> list[Reached]:
    task = find_task(file, submission.task_id)
    complete_task(file, task, actor, now, summary=submission.summary, documents=submission.documents)
    # The return's content stays in the case file; the event log records that it arrived.
    file.record(
        EventKind.information_returned,
        now,
        actor=actor,
        task=task.id,
        agency=task.agency,
        documents=len(submission.documents),
    )
    return [(Milestone.information_returned, now, task.id)]


# ---------------------------------------------------------------- the JCRG's recommendation


def check_recommendation(file: CaseFile, actor: Actor, recommendation: Recommendation, now: datetime) -> None:
    review = require_stage(file, "the JCRG's recommendation")
    agreed = [s.partner.value for s in review.sign_offs if s.agrees]
    if agreed:
        raise Refusal(
            "the recommendation already has sign-off from "
            + ", ".join(agreed)
            + "; it can change only if a partner disagrees and returns it, or the Panel challenges it"
        )


def apply_recommendation(
    file: CaseFile, actor: Actor, recommendation: Recommendation, now: datetime
) -> list[Reached]:
    """The partners are asked to sign it off."""
    review = file.rapid_review
    revised = review.recommendation is not None
    review.recommendation = recommendation
    review.recommended_by = actor
    review.recommended_at = now
    event = file.record(
        EventKind.recommendation_revised if revised else EventKind.recommendation_made,
        now,
        actor=actor,
        reasons=recommendation.reasons,
        recommendation=recommendation.recommendation.value,
        methodology=recommendation.methodology,
        review_type=recommendation.review_type.value if recommendation.review_type else None,
        learning_actions=recommendation.learning_actions,
    )
    file.notify_decision(event)
    return []


# ---------------------------------------------------------------- the partners' sign-off


def check_sign_off(file: CaseFile, actor: Actor, sign_off: PartnerSignOff, now: datetime) -> None:
    # Each of the three statutory partners signs for itself: the person's own partner, from their token.
    if actor.partner is not None and actor.partner is not sign_off.partner:
        raise Refusal(
            f"{actor.user_id} signs for {actor.partner.value}, not for {sign_off.partner.value}",
            RefusalKind.forbidden,
        )
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
    not_before(now, review.recommended_at, "the sign-off", "the JCRG's recommendation")


def apply_sign_off(file: CaseFile, actor: Actor, sign_off: PartnerSignOff, now: datetime) -> list[Reached]:
    review = file.rapid_review
    file.record(
        EventKind.partner_signed_off if sign_off.agrees else EventKind.partner_disagreed,
        now,
        actor=actor,
        reasons=sign_off.reasons,
        partner=sign_off.partner.value,
    )
    if not sign_off.agrees:
        _return_to_the_jcrg(file, now, partner=sign_off.partner.value)
        return []
    review.sign_offs.append(
        SignOffRecord(partner=sign_off.partner, agrees=True, actor=actor, at=now, reasons=sign_off.reasons)
    )
    _signed_off_when_all_have(file, now)
    return []


def _return_to_the_jcrg(file: CaseFile, now: datetime, **who: str) -> None:
    """One disagreement returns the decision to the JCRG; the agreements so far lapse."""
    review = file.rapid_review
    review.sign_offs = []
    review.adults_board_signed_off_at = None
    review.recommendation = None
    file.notify_decision(file.record(EventKind.recommendation_returned, now, **who))


def _signed_off_when_all_have(file: CaseFile, now: datetime) -> None:
    """Signed off once the three partners have (and, for a joint CSPR/SAR, the adults board)."""
    review = file.rapid_review
    recommendation = review.recommendation
    joint = recommendation is not None and recommendation.joint_with_adults_board
    partners = {s.partner for s in review.sign_offs} == set(StatutoryPartner)
    if partners and (not joint or review.adults_board_signed_off_at is not None):
        review.signed_off_at = now
        file.record(
            EventKind.recommendation_signed_off,
            now,
            recommendation=recommendation.recommendation.value,  # type: ignore[union-attr]
            **({"joint_with_adults_board": True} if joint else {}),
        )


def check_adults_board_sign_off(
    file: CaseFile, actor: Actor, step: AdultsBoardSignOff, now: datetime
) -> None:
    review = require_stage(file, "the adults board's sign-off")
    if review.recommendation is None:
        raise Refusal("there is no JCRG recommendation to sign off yet")
    if not review.recommendation.joint_with_adults_board:
        raise Refusal(
            "this recommendation is not a joint CSPR/SAR: the Safeguarding Adults Board does not sign it off"
        )
    if review.adults_board_signed_off_at is not None:
        raise Refusal(
            f"the adults board already signed off this recommendation on {fmt(review.adults_board_signed_off_at)}"
        )
    not_before(now, review.recommended_at, "the sign-off", "the JCRG's recommendation")


def apply_adults_board_sign_off(
    file: CaseFile, actor: Actor, step: AdultsBoardSignOff, now: datetime
) -> list[Reached]:
    file.record(
        EventKind.adults_board_signed_off if step.agrees else EventKind.adults_board_disagreed,
        now,
        actor=actor,
        reasons=step.reasons,
    )
    if not step.agrees:
        _return_to_the_jcrg(file, now, partner="adults_board")
        return []
    file.rapid_review.adults_board_signed_off_at = now
    _signed_off_when_all_have(file, now)
    return []


# ---------------------------------------------------------------- scrutineer, Panel


def _require_signed_off(review: RapidReviewView, step: str) -> datetime:
    if review.signed_off_at is None:
        raise Refusal(f"{step} comes after all three partners have signed off the recommendation")
    return review.signed_off_at


def check_scrutineer_informed(
    file: CaseFile, actor: Actor, informed: ScrutineerInformed, now: datetime
) -> None:
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
) -> list[Reached]:
    file.rapid_review.scrutineer_informed_at = informed.informed_at
    file.record(
        EventKind.scrutineer_informed, now, actor=actor, occurred_at=informed.informed_at, note=informed.note
    )
    return []


def check_sent(file: CaseFile, actor: Actor, sent: RapidReviewSent, now: datetime) -> None:
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


def apply_sent(file: CaseFile, actor: Actor, sent: RapidReviewSent, now: datetime) -> list[Reached]:
    file.rapid_review.sent_to_panel_at = sent.sent_at
    file.record(EventKind.rapid_review_sent, now, actor=actor, occurred_at=sent.sent_at)
    return [(Milestone.rapid_review_sent, sent.sent_at, None)]


def check_panel_response(file: CaseFile, actor: Actor, response: PanelResponse, now: datetime) -> None:
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


def apply_panel_response(
    file: CaseFile, actor: Actor, response: PanelResponse, now: datetime
) -> list[Reached]:
    """The Panel agrees (the rapid review concludes), challenges (the recommendation is reopened) or
    takes a national review. Information still awaited is not needed for a decision that is made."""
    review = file.rapid_review
    review.panel_response = response.response
    review.panel_responded_at = response.received_at
    file.record(
        EventKind.panel_responded,
        now,
        actor=actor,
        occurred_at=response.received_at,
        reasons=response.reasons,
        response=response.response.value,
    )
    reached: list[Reached] = [(Milestone.panel_responded, response.received_at, None)]
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
        file.record(EventKind.recommendation_reopened, now, round=review.rounds + 1)
        return reached
    outcome = (
        RecommendationKind.national_review
        if response.response is PanelResponseKind.national_review
        else review.recommendation.recommendation  # type: ignore[union-attr]
    )
    file.outcome = outcome.value
    file.stage = OUTCOME_STAGE[outcome]
    file.record(EventKind.rapid_review_concluded, now, outcome=outcome.value, next_stage=file.stage.value)
    return reached


def conclude(file: CaseFile, now: datetime) -> None:
    """After the Panel's answer has opened what follows: agency information still awaited is withdrawn."""
    if file.stage is not Stage.rapid_review:
        withdraw_open_tasks(file, "the rapid review is concluded", now)
