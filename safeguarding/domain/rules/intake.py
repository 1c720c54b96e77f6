"""Intake's rules: a referral's written confirmation, its screening, the statutory notifications, and
when a case may be closed by hand. Pure: ``check_*`` raise ``Refusal`` and change nothing.
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.case import (
    NOTIFICATION_MILESTONE,
    CaseFile,
    NotificationRecipient,
    NotificationRecord,
    ReferralConfirmation,
    Stage,
)
from safeguarding.domain.facts import ChildStatus
from safeguarding.domain.people import Actor, StatutoryPartner
from safeguarding.domain.refusal import Refusal, RefusalKind
from safeguarding.domain.rules.rapid_review import check_happened, fmt

POST_RAPID_REVIEW = {Stage.local_review, Stage.other_review, Stage.learning_actions, Stage.national_review}

NOTIFICATION_MILESTONES = set(NOTIFICATION_MILESTONE.values())


def check_referral_confirmation(file: CaseFile, confirmation: ReferralConfirmation, now: datetime) -> None:
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


def check_screening(file: CaseFile) -> None:
    if file.stage is not Stage.screening:
        raise Refusal(f"case {file.reference} is not awaiting screening (stage {file.stage.value})")


def check_notification(file: CaseFile, record: NotificationRecord, now: datetime) -> None:
    recipient = record.recipient
    if recipient.value in file.notifications:
        raise Refusal(
            f"{recipient.value} was already recorded as notified at {fmt(file.notifications[recipient.value])}"
        )
    milestone = NOTIFICATION_MILESTONE[recipient]
    if file.stage is Stage.closed and not any(
        d.met_by is milestone for d in file.deadlines if d.status.value in ("open", "overdue")
    ):
        raise Refusal(f"case {file.reference} is closed and owes no notification to {recipient.value}")
    if (
        recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners)
        and not file.notifiable
    ):
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


def check_signs_for(actor: Actor, partner: StatutoryPartner) -> None:
    """Each of the three statutory partners signs for itself: the person's own partner, from their token."""
    if actor.partner is not None and actor.partner is not partner:
        raise Refusal(
            f"{actor.user_id} signs for {actor.partner.value}, not for {partner.value}", RefusalKind.forbidden
        )


def _no_rapid_review_work(file: CaseFile) -> bool:
    review = file.rapid_review
    return not file.tasks and review.recommendation is None and not review.sign_offs and review.rounds == 0


def check_closure(file: CaseFile) -> None:
    if file.stage is Stage.closed:
        raise Refusal(f"case {file.reference} is already closed")
    if file.review_workflow_id or file.plan_workflow_id:
        raise Refusal(f"case {file.reference} closes by itself when its review and action plan are finished")
    # A care leaver's death needs no rapid review: such a case may close once the notifications are made.
    care_leaver_death = file.opening.child_status is ChildStatus.care_leaver and file.opening.child_died
    if file.stage not in POST_RAPID_REVIEW and not (care_leaver_death and _no_rapid_review_work(file)):
        raise Refusal(
            f"case {file.reference} is at stage {file.stage.value}: a case closes after its rapid review is concluded"
        )
