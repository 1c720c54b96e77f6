"""What a review is for: commissioning it, and following the partners' decision when it changes.

A review begins on the partners' dated decision to hold it (Working Together: a CSPR is completed
within six months of the decision), before the Panel has answered the rapid review. Until the rapid
review concludes that decision may change: the Panel challenges it and the partners sign off another,
or the Panel takes a national review, or the case is closed as not meeting the criteria. The review
then follows the decision (``apply_rescope``): what it owed is cancelled and its open tasks are
withdrawn, with the reason; it is commissioned again as the review now decided on, from that decision,
or withdrawn (and finished, once nothing can bring it back).
"""

from __future__ import annotations

from datetime import datetime

from safeguarding.domain.case import CaseFile
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.review import (
    NATIONAL_REVIEW_DUTIES,
    ReviewFile,
    ReviewKind,
    ReviewRescope,
    ReviewStage,
    ReviewState,
)
from safeguarding.domain.rules.tasks import add_task, cancel_live_deadlines, withdraw_open_tasks
from safeguarding.domain.tasks import Task

# What the review has done so far: forgotten when it is commissioned again as another review.
PROGRESS = [
    name
    for name in ReviewState.model_fields
    if name
    not in {
        "kind",
        "stage",
        "decided_at",
        "started_at",
        "methodology",
        "review_type",
        "joint_with_adults_board",
    }
]


def commission(file: ReviewFile, now: datetime) -> tuple[list[Reached], list[Task]]:
    """The review is commissioned, from the decision to hold it: the milestones that open its
    deadlines, and for a national review the local partners' duties (tasks to announce)."""
    file.record(
        EventKind.review_commissioned,
        now,
        occurred_at=file.decided_at,
        kind=file.kind.value,
        methodology=file.methodology,
        review_type=file.review_type,
    )
    reached: list[Reached] = [(Milestone.review_decided, file.decided_at, None)]
    duties: list[Task] = []
    if file.kind is ReviewKind.national_review:
        reached.append((Milestone.national_review_taken, file.decided_at, None))
        duties = [
            add_task(file, "business_unit", "review_duty", duty, now) for duty in NATIONAL_REVIEW_DUTIES
        ]
    return reached, duties


def apply_rescope(file: ReviewFile, change: ReviewRescope, now: datetime) -> tuple[list[Reached], list[Task]]:
    """The partners' decision now stands for ``change.kind`` (or for no review): returns what
    commissioning it again reaches and the duties it gives. Nothing changes if the decision is for the
    review already running."""
    if file.stage is ReviewStage.finished:
        return [], []
    kind = ReviewKind(change.kind) if change.kind is not None else None
    if kind is file.kind and file.stage is not ReviewStage.withdrawn:
        return [], []
    _stop(file, change.reason, now)
    if kind is None:
        file.record(EventKind.review_withdrawn, now, reason=change.reason, final=change.final)
        file.stage = ReviewStage.withdrawn
        if change.final:
            file.stage, file.outcome, file.finished_at = ReviewStage.finished, "withdrawn", now
            file.record(EventKind.review_finished, now, outcome=file.outcome, recommendations=0)
        return [], []
    file.record(
        EventKind.review_rescoped, now, occurred_at=change.decided_at, kind=kind.value, reason=change.reason
    )
    defaults = ReviewState.model_fields
    for name in PROGRESS:
        setattr(file, name, defaults[name].get_default(call_default_factory=True))
    file.kind, file.stage, file.decided_at = kind, ReviewStage.commissioned, change.decided_at
    file.methodology, file.review_type = change.methodology, change.review_type
    file.joint_with_adults_board = change.joint_with_adults_board
    file.facts = {**file.facts, "review_kind": kind.value}
    return commission(file, now)


def change_for(
    case: CaseFile, kind: ReviewKind | None, reason: str, final: bool, decided_at: datetime
) -> ReviewRescope:
    """What the case tells its review when the decision changes: the kind now decided on, as its
    signed-off recommendation describes it."""
    recommendation = case.rapid_review.recommendation
    return ReviewRescope(
        kind=kind.value if kind else None,
        decided_at=decided_at,
        reason=reason,
        final=final,
        methodology=recommendation.methodology if recommendation else None,
        review_type=recommendation.review_type.value
        if recommendation and recommendation.review_type
        else None,
        joint_with_adults_board=bool(recommendation and recommendation.joint_with_adults_board),
    )


def _stop(file: ReviewFile, reason: str, now: datetime) -> None:
    """Nothing the review owed under the earlier decision is owed any more."""
    cancel_live_deadlines(file, reason, now)
    file.checkpoints.clear()
    withdraw_open_tasks(file, reason, now)
