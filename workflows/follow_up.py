"""What follows a case's rapid review, as the case workflow's children: the review it decided on (or a
local learning, thematic or adults' review) and the action plan, side by side; then the case closes.

A part of ``CaseWorkflow`` (``workflows/incident.py``), kept apart for its length: it reads the case
file, its lock and clock as the workflow keeps them.
"""

from datetime import datetime
from typing import Any

from temporalio import workflow

from safeguarding.domain.action_plan import (
    PlannedRecommendation,
    PlanOutcome,
    PlanStart,
    ReviewRecommendations,
)
from safeguarding.domain.case import RecommendationKind, Stage
from safeguarding.domain.events import EventKind
from safeguarding.domain.record import Stream, stream_workflow_id
from safeguarding.domain.review import ReviewKind, ReviewOutcome, ReviewRescope, ReviewStart
from safeguarding.domain.rules import intake, review_scope

# The review's and the plan's workflows, and the signals they take, by name rather than by class: every
# run of a case imports its workflow's modules afresh in the sandbox, and theirs are not needed there.
# (A test holds these names to the classes.)
REVIEW_WORKFLOW = "ReviewWorkflow"
RESCOPE_REVIEW = "rescope"
PLAN_WORKFLOW = "ActionPlanWorkflow"
TAKE_REVIEW_RECOMMENDATIONS = "take_review_recommendations"


class FollowUp:
    """The case workflow's children. Needs ``file``, ``_lock``, ``_wake``, ``_agreed`` and
    ``_publish_stage`` from the workflow."""

    file: Any
    _lock: Any
    _wake: Any
    _agreed: ReviewRecommendations | None

    def _publish_stage(self) -> None:
        raise NotImplementedError

    async def _follow_up(self) -> None:
        """After the rapid review: the review (if any) and the action plan, then the case closes. A
        review the partners decided on may begin before the Panel has answered."""
        early = None
        if workflow.patched("review-on-partners-decision"):
            early = await self._review_on_partners_decision()
        await workflow.wait_condition(
            lambda: self.file.stage in intake.FOLLOWED_UP or self.file.stage is Stage.closed
        )
        if self.file.stage is Stage.closed or not workflow.patched("review-and-action-plan-children"):
            if early is not None:  # the case closed (not meeting the criteria) while it ran
                await self._withdraw(early[0], "the case was closed before the rapid review concluded")
            return  # a case concluded before this release waits at its stage to be closed by hand
        if workflow.patched("plan-from-the-rapid-review"):
            await self._review_and_plan_side_by_side(early)
            return
        file = self.file
        recommendation = file.rapid_review.recommendation
        planned: list[PlannedRecommendation] = []
        review_kind = _review_kind(file)
        began_at = file.rapid_review.panel_responded_at or file.rapid_review.signed_off_at
        if review_kind is not None:
            outcome = await self._review(review_kind)
            began_at = outcome.finished_at
            planned = [
                PlannedRecommendation(text=text, source=review_kind) for text in outcome.recommendations
            ]
        elif (
            recommendation is not None
            and recommendation.recommendation is RecommendationKind.no_further_review
        ):
            planned = [
                PlannedRecommendation(text=text, source="rapid_review")
                for text in recommendation.learning_actions
            ]
        if planned:
            await self._action_plan(planned, began_at)
        async with self._lock:
            intake.close(file, file.outcome or "closed", workflow.now())
            self._publish_stage()
        self._wake.set()

    async def _review_on_partners_decision(self):  # type: ignore[no-untyped-def]
        """While the rapid review waits for the Panel: the review begins once the partners have signed
        off a decision to hold one (where the policy starts its clock there), and follows their decision
        if it changes after a challenge. Returns the review and its kind when the rapid review has
        concluded or the case closed, or None if none began."""
        file = self.file
        review, current = None, None

        def changed() -> bool:
            if file.stage is not Stage.rapid_review:
                return True
            if file.rapid_review.signed_off_at is None:
                return False  # reconsidering: the review goes on until a new decision is signed off
            return intake.review_on_partners_decision(file) != current

        while True:
            await workflow.wait_condition(changed)
            if file.stage is not Stage.rapid_review:
                return (review, current) if review is not None else None
            wanted = intake.review_on_partners_decision(file)
            if review is None and wanted is not None:
                review = await self._start_review(wanted.value)
            elif review is not None and not review.done():  # (a review already finished stays so)
                await review.signal(
                    RESCOPE_REVIEW,
                    self._rescope(wanted, "the partners signed off a reconsidered decision", final=False),
                )
                await self._note(
                    EventKind.review_rescoped if wanted else EventKind.review_withdrawn,
                    kind=wanted.value if wanted else None,
                )
            current = wanted

    def _rescope(self, kind: ReviewKind | None, reason: str, final: bool) -> ReviewRescope:
        return review_scope.change_for(self.file, kind, reason, final, self._review_decided_at())

    async def _withdraw(self, review, reason: str) -> None:  # type: ignore[no-untyped-def]
        """A review begun on the partners' decision that the rapid review did not confirm: withdrawn."""
        if not review.done():
            await review.signal(RESCOPE_REVIEW, self._rescope(None, reason, final=True))
        outcome = await review
        await self._note(EventKind.review_finished, outcome=outcome.outcome)

    async def _review_and_plan_side_by_side(self, early=None) -> None:  # type: ignore[no-untyped-def]
        """The plan opens when the rapid review concludes, holding its immediate learning actions
        (whatever it recommended); a review decided on runs beside it, and its recommendations join the
        plan when the partners agree its final report, not only when it is published."""
        file = self.file
        recommendation = file.rapid_review.recommendation
        immediate = [
            PlannedRecommendation(text=text, source="rapid_review")
            for text in (recommendation.learning_actions if recommendation else [])
        ]
        concluded = file.rapid_review.panel_responded_at or file.rapid_review.signed_off_at
        source = file.opening.learning_source
        if source is not None:  # learning from elsewhere: its report's recommendations, from its receipt
            immediate = [
                PlannedRecommendation(text=t, source=source.kind.value) for t in source.recommendations
            ]
            concluded = file.opening.la_aware_at
        review_kind = _review_kind(file)
        review = None
        if early is not None:  # begun on the partners' decision: it follows the rapid review's outcome
            review, began_as = early
            if review_kind is None:
                await self._withdraw(review, "the rapid review concluded with no review")
            elif not review.done() and (began_as is None or review_kind != began_as.value):
                reason = "the Panel's answer to the rapid review"
                await review.signal(RESCOPE_REVIEW, self._rescope(ReviewKind(review_kind), reason, False))
                await self._note(EventKind.review_rescoped, kind=review_kind)
        plan = None
        if immediate:
            plan = await self._open_plan(immediate, concluded, awaiting_review=review_kind)
        if review_kind is not None:
            review = review or await self._start_review(review_kind)
            await workflow.wait_condition(lambda: self._agreed is not None or review.done())
            agreed = self._agreed or ReviewRecommendations(
                kind=review_kind, recommendations=[], agreed_at=workflow.now()
            )
            if plan is not None:
                await plan.signal(TAKE_REVIEW_RECOMMENDATIONS, agreed)
            elif agreed.recommendations:
                planned = [PlannedRecommendation(text=t, source=review_kind) for t in agreed.recommendations]
                plan = await self._open_plan(planned, agreed.agreed_at, awaiting_review=None)
            outcome = await review
            await self._note(EventKind.review_finished, outcome=outcome.outcome)
        if plan is not None:
            await plan
            await self._note(EventKind.action_plan_closed)
        async with self._lock:
            intake.close(file, file.outcome or "closed", workflow.now())
            self._publish_stage()
        self._wake.set()

    async def _start_review(self, kind: str):  # type: ignore[no-untyped-def]
        file = self.file
        recommendation = file.rapid_review.recommendation
        file.review_workflow_id = stream_workflow_id(file.workflow_id, Stream.review)
        await self._note(EventKind.review_started, workflow_id=file.review_workflow_id, kind=kind)
        return await workflow.start_child_workflow(
            REVIEW_WORKFLOW,
            ReviewStart(
                reference=file.reference,
                policy=file.policy,
                facts={**file.facts, "review_kind": kind},
                kind=kind,
                methodology=recommendation.methodology if recommendation else None,
                review_type=recommendation.review_type.value
                if recommendation and recommendation.review_type
                else None,
                decided_at=self._review_decided_at(),
                joint_with_adults_board=bool(recommendation and recommendation.joint_with_adults_board),
            ),
            id=file.review_workflow_id,
            result_type=ReviewOutcome,
        )

    async def _open_plan(
        self, planned: list[PlannedRecommendation], began_at: datetime | None, awaiting_review: str | None
    ):  # type: ignore[no-untyped-def]
        file = self.file
        file.plan_workflow_id = stream_workflow_id(file.workflow_id, Stream.plan)
        await self._note(
            EventKind.action_plan_started, workflow_id=file.plan_workflow_id, recommendations=len(planned)
        )
        return await workflow.start_child_workflow(
            PLAN_WORKFLOW,
            PlanStart(
                reference=file.reference,
                policy=file.policy,
                facts=file.facts,
                recommendations=planned,
                began_at=began_at,
                awaiting_review=awaiting_review,
            ),
            id=file.plan_workflow_id,
            result_type=PlanOutcome,
        )

    async def _review(self, kind: str):  # type: ignore[no-untyped-def]
        """Cases begun before the plan opened at the rapid review: the review, awaited."""
        outcome = await (await self._start_review(kind))
        await self._note(EventKind.review_finished, outcome=outcome.outcome)
        return outcome

    def _review_decided_at(self) -> datetime:
        """The review runs from the partners' decision to hold it (Working Together: six months from the
        decision), as dated by their sign-offs, or from the Panel's answer where the policy says so
        (``review_clock_starts``); cases begun before that ran from the Panel's answer."""
        rapid = self.file.rapid_review
        if self.file.stage in (Stage.learning_review, Stage.thematic_review, Stage.adults_review) or (
            rapid.signed_off_at is not None and workflow.patched("review-from-partners-decision")
        ):
            return intake.review_decided_at(self.file) or workflow.now()
        return rapid.panel_responded_at or workflow.now()

    async def _action_plan(self, planned: list[PlannedRecommendation], began_at: datetime | None) -> None:
        """Cases begun before the plan opened at the rapid review: the plan, awaited."""
        await (await self._open_plan(planned, began_at, awaiting_review=None))
        await self._note(EventKind.action_plan_closed)

    async def _note(self, event: EventKind, **details: object) -> None:
        async with self._lock:
            self.file.record(event, workflow.now(), **details)
        self._wake.set()


def _review_kind(file: Any) -> str | None:
    kind = intake.review_kind(file)
    return kind.value if kind is not None else None
