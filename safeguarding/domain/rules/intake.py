"""Intake's rules: a referral's written confirmation, its screening, the statutory notifications, and
when a case closes.

Every step has a ``check_*`` (raises ``Refusal`` with a reason a person can act on, changes nothing: the
update's validator calls it, and the update again under its lock) and an ``apply_*`` (changes the case
file, records what happened, and returns the milestones reached, which the workflow turns into met and
opened deadlines). All take ``(file, actor, decision, now)``.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.case import (
    NOTIFICATION_MILESTONE,
    CaseClosure,
    CaseFile,
    CriteriaNotMet,
    NotificationRecipient,
    NotificationRecord,
    OtherReviewType,
    PanelResponseKind,
    RecommendationKind,
    ReferralConfirmation,
    ScreeningDecision,
    ScreeningLearningRoute,
    Stage,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.people import Actor
from safeguarding.domain.refusal import Refusal
from safeguarding.domain.review import ReviewKind
from safeguarding.domain.rules.common import check_happened, fmt, not_before
from safeguarding.domain.rules.tasks import cancel_live_deadlines, withdraw_open_tasks

POST_RAPID_REVIEW = {Stage.local_review, Stage.other_review, Stage.learning_actions, Stage.national_review}
# Where a case goes on to a review or a plan as its workflow's children.
FOLLOWED_UP = {*POST_RAPID_REVIEW, Stage.learning_review, Stage.thematic_review, Stage.adults_review}
# The review each of those stages runs (none: a plan of learning actions only).
REVIEW_KIND = {
    Stage.learning_review: ReviewKind.local_learning_review,
    Stage.thematic_review: ReviewKind.thematic_review,
    Stage.adults_review: ReviewKind.safeguarding_adults_review,
    Stage.local_review: ReviewKind.local_cspr,
    Stage.other_review: ReviewKind.other_review,
    Stage.national_review: ReviewKind.national_review,
}
# Where a case may be closed by hand (a contribution to another area's review, if the lead withdraws it).
CLOSABLE = {*POST_RAPID_REVIEW, Stage.contributing}
NOTIFICATION_MILESTONES = set(NOTIFICATION_MILESTONE.values())
LIVE = (DeadlineStatus.open, DeadlineStatus.overdue)


# ---------------------------------------------------------------- a referral's written confirmation


def check_referral_confirmation(
    file: CaseFile, actor: Actor, confirmation: ReferralConfirmation, now: datetime
) -> None:
    if not file.is_referral:
        raise Refusal(
            "only a referral is confirmed in writing; this case came as a serious incident notification"
        )
    if file.referral_confirmed_at is not None:
        raise Refusal(
            f"the referral was already recorded as confirmed in writing at {fmt(file.referral_confirmed_at)}"
        )
    check_happened(
        confirmation.confirmed_at, now, "the confirmation", file.opening.referred_at, "the referral"
    )


def apply_referral_confirmation(
    file: CaseFile, actor: Actor, confirmation: ReferralConfirmation, now: datetime
) -> list[Reached]:
    file.referral_confirmed_at = confirmation.confirmed_at
    file.record(
        EventKind.referral_confirmed,
        now,
        actor=actor,
        occurred_at=confirmation.confirmed_at,
        note=confirmation.note,
    )
    return [(Milestone.referral_confirmed, confirmation.confirmed_at, None)]


# ---------------------------------------------------------------- screening


def check_screening(file: CaseFile, actor: Actor, decision: ScreeningDecision, now: datetime) -> None:
    if file.stage is not Stage.screening:
        raise Refusal(f"case {file.reference} is not awaiting screening (stage {file.stage.value})")


def apply_screening(
    file: CaseFile, actor: Actor, decision: ScreeningDecision, now: datetime
) -> list[Reached]:
    """Screened in, the rapid review starts; screened out, the case closes with its learning route."""
    file.screening = decision
    file.record(
        EventKind.screened,
        now,
        actor=actor,
        reasons=decision.reasons,
        criteria_met=decision.criteria_met,
        learning_route=decision.learning_route.value if decision.learning_route else None,
    )
    if decision.criteria_met:
        file.stage = Stage.rapid_review
        return [(Milestone.incident_notifiable, file.opening.la_aware_at, None)]
    if decision.learning_route is ScreeningLearningRoute.local_learning_review:
        # Below the criteria, the JCRG's own learning review: it runs as the case's child.
        withdraw_open_tasks(file, "the referral goes to a local learning review", now)
        cancel_live_deadlines(
            file, "screened out of the criteria", now, keep=lambda d: d.met_by in NOTIFICATION_MILESTONES
        )
        file.stage = Stage.learning_review
        file.outcome = "local_learning_review"
        return []
    close(file, f"screened_out:{decision.learning_route.value}", now)  # type: ignore[union-attr]
    return []


def review_decided_at(file: CaseFile) -> datetime | None:
    """When the decision to hold the case's review was made: a screened-out referral's learning review
    at its screening; otherwise the partners' dated sign-off, or the Panel's answer where the policy
    says the review's clock starts there (``review_clock_starts``)."""
    if file.opening.route in (Route.thematic_review, Route.safeguarding_adults_review):
        return file.opening.la_aware_at  # the group's dated decision to hold it
    if file.stage is Stage.learning_review:
        screened = next((e for e in reversed(file.history) if e.kind is EventKind.screened), None)
        return (screened.occurred_at or screened.recorded_at) if screened else None
    rapid = file.rapid_review
    if file.stage is Stage.national_review and rapid.panel_response is PanelResponseKind.national_review:
        return rapid.panel_responded_at  # the Panel's own decision, not the partners'
    if rapid.signed_off_at is not None and file.policy.review_clock_starts == "partners_decision":
        return rapid.signed_off_at
    return rapid.panel_responded_at


# The partners' own decisions for a review, which it may begin on before the Panel has answered.
BEGUN_ON_PARTNERS_DECISION = {
    RecommendationKind.local_cspr: ReviewKind.local_cspr,
    RecommendationKind.other_review: ReviewKind.other_review,
}


def review_kind(file: CaseFile) -> ReviewKind | None:
    """The review the case's stage runs (None: a plan of learning actions only). Another type of review
    that is a local learning review runs as one, with its own stages and deadline."""
    kind = REVIEW_KIND.get(file.stage)
    return _as_learning_review(file, kind)


def _as_learning_review(file: CaseFile, kind: ReviewKind | None) -> ReviewKind | None:
    recommendation = file.rapid_review.recommendation
    if (
        kind is ReviewKind.other_review
        and recommendation is not None
        and recommendation.review_type is OtherReviewType.local_learning_review
    ):
        return ReviewKind.local_learning_review
    return kind


def review_on_partners_decision(file: CaseFile) -> ReviewKind | None:
    """The review the partners' signed-off decision is for, while the rapid review waits for the
    Panel's answer, where the policy starts the review's clock at that decision; None otherwise."""
    rapid = file.rapid_review
    if (
        file.stage is not Stage.rapid_review
        or rapid.signed_off_at is None
        or rapid.recommendation is None
        or file.policy.review_clock_starts != "partners_decision"
    ):
        return None
    return _as_learning_review(file, BEGUN_ON_PARTNERS_DECISION.get(rapid.recommendation.recommendation))


# ---------------------------------------------------------------- the statutory notifications


def check_notification(file: CaseFile, actor: Actor, record: NotificationRecord, now: datetime) -> None:
    recipient = record.recipient
    if recipient.value in file.notifications:
        raise Refusal(
            f"{recipient.value} was already recorded as notified at {fmt(file.notifications[recipient.value])}"
        )
    milestone = NOTIFICATION_MILESTONE[recipient]
    if file.stage is Stage.closed and not any(
        d.met_by is milestone for d in file.deadlines if d.status in LIVE
    ):
        raise Refusal(f"case {file.reference} is closed and owes no notification to {recipient.value}")
    if (
        recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners)
        and not file.notifiable
    ):
        if file.opening.route is Route.care_leaver_death:
            raise Refusal(
                f"a care leaver's death is told to the Secretary of State and Ofsted, not {recipient.value}; "
                "where abuse or neglect is known or suspected, open it as a serious incident notification"
            )
        if file.stage is Stage.screening:
            raise Refusal(
                f"record the screening decision first: {recipient.value} is notified of a referral only once it "
                "meets the criteria"
            )
        raise Refusal(
            f"the referral was screened out; {recipient.value} is notified only of serious incidents"
        )
    check_happened(
        record.sent_at,
        now,
        "the time of the notification",
        file.opening.la_aware_at,
        "the local authority became aware",
    )


def apply_notification(
    file: CaseFile, actor: Actor | None, record: NotificationRecord, now: datetime
) -> list[Reached]:
    file.notifications[record.recipient.value] = record.sent_at
    file.record(
        EventKind.notification_recorded,
        now,
        actor=actor,
        occurred_at=record.sent_at,
        recipient=record.recipient.value,
        reference=record.reference,
    )
    reached = [(NOTIFICATION_MILESTONE[record.recipient], record.sent_at, None)]
    told = {NotificationRecipient.secretary_of_state.value, NotificationRecipient.ofsted.value}
    if file.stage is Stage.notifying and told <= set(file.notifications):
        # A care leaver's death: once the Secretary of State and Ofsted are told, nothing more is owed.
        close(file, "care_leaver_death_notified", now)
    return reached


# ---------------------------------------------------------------- a notified incident that does not meet the criteria

# What is still owed when a notified incident turns out not to meet the criteria: the notifications of
# a looked after child's death, which are owed whatever the criteria.
_OWED_WHATEVER_THE_CRITERIA = {Milestone.secretary_of_state_notified, Milestone.ofsted_notified}


def check_criteria_not_met(file: CaseFile, actor: Actor, step: CriteriaNotMet, now: datetime) -> None:
    if not file.notifiable or file.opening.route is Route.care_leaver_death:
        raise Refusal(
            f"case {file.reference} was not notified as a serious incident: a referral is screened out "
            "with its screening decision"
        )
    if file.stage is not Stage.rapid_review:
        raise Refusal(
            f"case {file.reference} is at stage {file.stage.value}: an incident is found not to meet the "
            "criteria during its rapid review"
        )
    not_before(
        step.panel_told_at, file.opening.la_aware_at, "panel_told_at", "the local authority became aware"
    )


def apply_criteria_not_met(
    file: CaseFile, actor: Actor, step: CriteriaNotMet, now: datetime
) -> list[Reached]:
    file.record(
        EventKind.criteria_not_met,
        now,
        actor=actor,
        reasons=step.reasons,
        panel_told_at=step.panel_told_at.isoformat(),
    )
    withdraw_open_tasks(file, "the incident does not meet the criteria", now)
    cancel_live_deadlines(
        file,
        "the incident does not meet the criteria for a serious incident notification",
        now,
        keep=lambda d: d.met_by in _OWED_WHATEVER_THE_CRITERIA,
    )
    close(file, "did_not_meet_criteria", now)
    return []


# ---------------------------------------------------------------- closure


def _no_rapid_review_work(file: CaseFile) -> bool:
    review = file.rapid_review
    return not file.tasks and review.recommendation is None and not review.sign_offs and review.rounds == 0


def check_closure(file: CaseFile, actor: Actor, closure: CaseClosure, now: datetime) -> None:
    if file.stage is Stage.closed:
        raise Refusal(f"case {file.reference} is already closed")
    if file.review_workflow_id or file.plan_workflow_id:
        raise Refusal(f"case {file.reference} closes by itself when its review and action plan are finished")
    # A care leaver's death needs no rapid review: such a case may close once the notifications are made.
    care_leaver_death = file.opening.child_status is ChildStatus.care_leaver and file.opening.child_died
    if file.stage not in CLOSABLE and not (care_leaver_death and _no_rapid_review_work(file)):
        raise Refusal(
            f"case {file.reference} is at stage {file.stage.value}: a case closes after its rapid review is concluded"
        )


def apply_closure(file: CaseFile, actor: Actor, closure: CaseClosure, now: datetime) -> list[Reached]:
    file.record(EventKind.closure_decided, now, actor=actor, reasons=closure.reasons)
    close(file, file.outcome or "closed", now)
    return []


def close(file: CaseFile, outcome: str, now: datetime) -> None:
    """The case closes: open tasks are withdrawn and nothing more is owed, but statutory notifications
    (a looked after child's death, say), which keep the clock running until they are recorded."""
    withdraw_open_tasks(file, "the case was closed", now)
    cancel_live_deadlines(
        file, "the case was closed", now, keep=lambda d: d.met_by in NOTIFICATION_MILESTONES
    )
    file.stage = Stage.closed
    file.outcome = outcome
    file.closed_at = now
    file.record(EventKind.case_closed, now, outcome=outcome)
