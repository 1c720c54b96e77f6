"""A review begins on the partners' dated decision, before the Panel has answered the rapid review
(Working Together: a CSPR is completed within six months of the decision), and follows that decision
when it changes: on the time-skipping server, on real calendar dates.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from safeguarding.domain.case import (
    CriteriaNotMet,
    NotificationRecipient,
    NotificationRecord,
    OtherReviewType,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScrutineerInformed,
)
from safeguarding.domain.people import StatutoryPartner
from safeguarding.domain.review import ReviewerAppointed, ReviewOutcome
from tests.conftest import running_worker
from tests.support import (
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    by,
    london,
    opening,
    review_step,
    start_case,
    view,
)
from tests.test_learning_routes import child_view
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

CSPR = Recommendation(
    recommendation=RecommendationKind.local_cspr,
    methodology="Systems methodology",
    reasons="Multi-agency practice issues.",
    occurred_at=london(2026, 6, 10, 14),
)
SIGNED_OFF = london(2026, 6, 12, 12)  # Friday: the partners' decision to hold the review


async def notified_case(env, task_queue: str, policy) -> WorkflowHandle:  # type: ignore[no-untyped-def]
    """A serious incident known on Thursday 21 May 2026, the Panel and the partners told on the 27th."""
    handle = await start_case(env.client, task_queue, opening(london(2026, 5, 21, 10)), policy)
    for recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners):
        told = NotificationRecord(recipient=recipient, sent_at=london(2026, 5, 27, 11))
        await handle.execute_update(CaseWorkflow.record_notification, by(BUSINESS_UNIT, told))
    return handle


async def decide(handle: WorkflowHandle, recommendation: Recommendation, at: datetime) -> None:
    """The JCRG recommends and the three partners sign off, on the dates given."""
    await handle.execute_update(CaseWorkflow.recommend, by(JCRG_CHAIR, recommendation))
    for partner in StatutoryPartner:
        signed = PartnerSignOff(partner=partner, agrees=True, reasons="Agreed.", occurred_at=at)
        await handle.execute_update(CaseWorkflow.sign_off, by(PARTNERS[partner], signed))


async def to_the_panel(handle: WorkflowHandle, sent_at: datetime) -> None:
    await handle.execute_update(
        CaseWorkflow.inform_scrutineer, by(BUSINESS_UNIT, ScrutineerInformed(informed_at=sent_at))
    )
    await handle.execute_update(
        CaseWorkflow.send_rapid_review, by(BUSINESS_UNIT, RapidReviewSent(sent_at=sent_at))
    )


async def panel(handle: WorkflowHandle, response: PanelResponseKind, at: datetime) -> None:
    await handle.execute_update(
        CaseWorkflow.record_panel_response,
        by(BUSINESS_UNIT, PanelResponse(response=response, received_at=at, reasons="The Panel's letter.")),
    )


async def wait_for(review: WorkflowHandle, ready):  # type: ignore[no-untyped-def]
    for _ in range(400):
        state = await review.query(ReviewWorkflow.view)
        if ready(state):
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"{review.id} never reached the state awaited")


def live(state, key: str):  # type: ignore[no-untyped-def]
    return [d for d in state.deadlines if d.key == key and d.status.value in ("open", "overdue")]


async def test_the_cspr_begins_on_the_partners_decision_and_runs_on_when_the_panel_agrees(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await notified_case(env, task_queue, policy)
        await decide(handle, CSPR, SIGNED_OFF)
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        state = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        assert (await view(handle)).stage.value == "rapid_review"  # the Panel has not answered
        assert state.decided_at == SIGNED_OFF
        (cspr,) = live(state, "cspr_completion")
        assert cspr.started_at == SIGNED_OFF
        assert cspr.due_at.astimezone(ZoneInfo("Europe/London")).date() == date(2026, 12, 12)
        # The reviewer is appointed while the rapid review is with the Panel.
        await review_step(
            review,
            JCRG_CHAIR,
            ReviewerAppointed(reviewer="Independent reviewer", appointed_on=date(2026, 6, 15)),
        )
        await to_the_panel(handle, london(2026, 6, 15, 10))
        await panel(handle, PanelResponseKind.agrees, london(2026, 6, 26, 12))
        assert (await view(handle)).stage.value == "local_review"
        state = await review.query(ReviewWorkflow.view)
        assert state.stage.value == "reviewer_appointed"  # the same review, where it had got to
        assert [d.id for d in live(state, "cspr_completion")] == [cspr.id]
        assert not [e for e in state.history if e.kind.value in ("review_rescoped", "review_withdrawn")]


async def test_a_challenge_then_no_review_withdraws_it_and_a_national_review_recommissions_it(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await notified_case(env, task_queue, policy)
        await decide(handle, CSPR, SIGNED_OFF)
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        await to_the_panel(handle, london(2026, 6, 15, 10))
        await panel(handle, PanelResponseKind.challenges, london(2026, 6, 26, 12))
        # Reconsidering: the review goes on until the partners sign off another decision.
        assert live(await review.query(ReviewWorkflow.view), "cspr_completion")

        reconsidered = Recommendation(
            recommendation=RecommendationKind.no_further_review,
            learning_actions=["Brief GPs on bruising in non-mobile infants"],
            reasons="On the Panel's challenge: single-agency learning only.",
            occurred_at=london(2026, 7, 1, 10),
        )
        await decide(handle, reconsidered, london(2026, 7, 3, 12))
        state = await wait_for(review, lambda v: v.stage.value == "withdrawn")
        assert not live(state, "cspr_completion")
        (withdrawn,) = [e for e in state.history if e.kind.value == "review_withdrawn"]
        assert withdrawn.details["reason"] == "the partners signed off a reconsidered decision"
        cancelled = [d for d in state.deadlines if d.key == "cspr_completion"]
        assert [d.status.value for d in cancelled] == ["cancelled"]
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await review_step(
                review, JCRG_CHAIR, ReviewerAppointed(reviewer="Someone", appointed_on=date(2026, 7, 6))
            )
        assert "withdrawn" in str(refusal.value.cause)

        # The Panel takes a national review: the same review, now the local partners' part of it.
        await to_the_panel(handle, london(2026, 7, 6, 10))
        taken = london(2026, 7, 14, 15)
        await panel(handle, PanelResponseKind.national_review, taken)
        assert (await view(handle)).stage.value == "national_review"
        state = await wait_for(review, lambda v: v.stage.value == "commissioned")
        assert state.kind.value == "national_review"
        assert state.decided_at == taken  # the Panel's decision, not the partners'
        assert [t.asked_for for t in state.tasks if t.status.value == "open"][:1] == [
            "Information about the case sent to the Panel for its national review"
        ]
        assert not live(state, "cspr_completion")
        rescoped = [e for e in state.history if e.kind.value == "review_rescoped"]
        assert [e.details["kind"] for e in rescoped] == ["national_review"]


async def test_a_case_closed_as_not_meeting_the_criteria_finishes_its_review_as_withdrawn(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await notified_case(env, task_queue, policy)
        await decide(handle, CSPR, SIGNED_OFF)
        review = env.client.get_workflow_handle(f"{handle.id}/review", result_type=ReviewOutcome)
        await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        await handle.execute_update(
            CaseWorkflow.close_not_meeting_criteria,
            by(
                BUSINESS_UNIT,
                CriteriaNotMet(
                    reasons="The post-mortem found natural causes; no abuse or neglect suspected.",
                    panel_told_at=london(2026, 6, 22, 10),
                    occurred_at=london(2026, 6, 22, 9),
                ),
            ),
        )
        outcome = await review.result()
        assert outcome.outcome == "withdrawn"
        state = await review.query(ReviewWorkflow.view)
        assert all(d.status.value == "cancelled" for d in state.deadlines if d.key == "cspr_completion")
        assert (await handle.result()).outcome == "did_not_meet_criteria"


async def test_where_the_clock_starts_at_the_panels_answer_the_review_waits_for_it(
    env, engine, policy, task_queue
):
    policy = policy.model_copy(update={"review_clock_starts": "panel_response"})
    async with running_worker(env.client, engine, task_queue):
        handle = await notified_case(env, task_queue, policy)
        await decide(handle, CSPR, SIGNED_OFF)
        await to_the_panel(handle, london(2026, 6, 15, 10))
        assert (await view(handle)).review_workflow_id is None
        answered = london(2026, 6, 26, 12)
        await panel(handle, PanelResponseKind.agrees, answered)
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        state = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        assert state.decided_at == answered


async def test_a_notified_cases_local_learning_review_runs_as_one_from_the_partners_decision(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await notified_case(env, task_queue, policy)
        learning_review = Recommendation(
            recommendation=RecommendationKind.other_review,
            review_type=OtherReviewType.local_learning_review,
            reasons="Below the CSPR criteria; the JCRG's own learning review.",
            occurred_at=london(2026, 6, 10, 14),
        )
        await decide(handle, learning_review, SIGNED_OFF)
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        state = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        assert state.kind.value == "local_learning_review"
        (due,) = live(state, "learning_review_completion")  # four calendar months: a local setting
        assert (due.started_at, due.statutory) == (SIGNED_OFF, False)
        assert due.due_at.astimezone(ZoneInfo("Europe/London")).date() == date(2026, 10, 12)
        assert not live(state, "cspr_completion")
