"""The rapid review as the partnership runs it, step by step, on the time-skipping server.

Refusals are checked to change nothing: the case's history is the same length before and after.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from safeguarding.domain.case import (
    CaseClosure,
    InformationRequest,
    InformationReturn,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScreeningDecision,
    ScreeningLearningRoute,
    ScrutineerInformed,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.people import StatutoryPartner
from safeguarding.domain.tasks import TaskStatus
from safeguarding.store.tables import CaseEventRow, CaseRow
from tests.conftest import running_worker
from tests.support import (
    AGENCY,
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    by,
    deadline,
    events,
    opening,
    start_case,
    view,
)
from workflows.incident import CaseWorkflow

CSPR = Recommendation(
    recommendation=RecommendationKind.local_cspr,
    methodology="Systems methodology with a practitioner learning event",
    reasons="Multi-agency practice issues about recognising bruising in a non-mobile infant.",
)


async def refused(handle, update, step, reason_contains: str) -> None:
    """The step is refused with a reason, and nothing about the case changes."""
    before = await view(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await handle.execute_update(update, step)
    assert reason_contains in str(refusal.value.cause)
    after = await view(handle)
    assert after.history == before.history
    assert after.deadlines == before.deadlines and after.tasks == before.tasks and after.stage == before.stage


async def sign_off_all(handle, agrees: bool = True) -> None:
    for partner in StatutoryPartner:
        await handle.execute_update(
            CaseWorkflow.sign_off,
            by(
                PARTNERS[partner],
                PartnerSignOff(partner=partner, agrees=agrees, reasons="Agreed at the JCRG."),
            ),
        )


async def test_a_serious_incident_goes_from_notification_to_a_signed_off_local_review(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        aware = await env.get_current_time()
        case = opening(aware)
        handle = await start_case(env.client, task_queue, case, policy)
        now = await env.get_current_time()

        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(BUSINESS_UNIT, NotificationRecord(recipient=NotificationRecipient.panel, sent_at=now)),
        )
        requested = await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(
                    agencies=["luton-schools", "bedfordshire-police"], asked_for="Chronology of involvement"
                ),
            ),
        )
        tasks = {t.agency: t for t in requested.tasks}
        assert set(tasks) == {"luton-schools", "bedfordshire-police"}
        school_task = tasks["luton-schools"]
        assert (
            school_task.due_at
            == deadline(await view(handle), "agency_information_return", school_task.id).due_at
        )

        returned = await handle.execute_update(
            CaseWorkflow.submit_return,
            by(
                AGENCY,
                InformationReturn(task_id=school_task.id, summary="Attended nursery; no concerns recorded."),
            ),
        )
        assert returned.tasks[0].status is TaskStatus.completed
        await refused(
            handle,
            CaseWorkflow.submit_return,
            by(AGENCY, InformationReturn(task_id=school_task.id, summary="Again")),
            "already completed",
        )

        await handle.execute_update(CaseWorkflow.recommend, by(JCRG_CHAIR, CSPR))
        await refused(
            handle,
            CaseWorkflow.send_rapid_review,
            by(BUSINESS_UNIT, RapidReviewSent(sent_at=now)),
            "signed off",
        )
        await sign_off_all(handle)
        await refused(
            handle,
            CaseWorkflow.sign_off,
            by(
                PARTNERS[StatutoryPartner.police],
                PartnerSignOff(partner=StatutoryPartner.police, agrees=True, reasons="x"),
            ),
            "signed off by all three partners",
        )
        await refused(
            handle,
            CaseWorkflow.recommend,
            by(JCRG_CHAIR, CSPR),
            "already has sign-off from local_authority, police",
        )
        now = await env.get_current_time()
        await refused(
            handle,
            CaseWorkflow.send_rapid_review,
            by(BUSINESS_UNIT, RapidReviewSent(sent_at=now)),
            "Independent Scrutineer was informed",
        )
        await handle.execute_update(
            CaseWorkflow.inform_scrutineer, by(BUSINESS_UNIT, ScrutineerInformed(informed_at=now))
        )
        sent = await handle.execute_update(
            CaseWorkflow.send_rapid_review, by(BUSINESS_UNIT, RapidReviewSent(sent_at=now))
        )
        assert {d.key for d in sent.deadlines} == {"rapid_review_to_panel", "panel_response"}

        concluded = await handle.execute_update(
            CaseWorkflow.record_panel_response,
            by(
                BUSINESS_UNIT,
                PanelResponse(response=PanelResponseKind.agrees, received_at=now, reasons="Agrees."),
            ),
        )
        assert concluded.stage == "local_review"

        state = await view(handle)
        assert state.outcome == "local_cspr"
        assert deadline(state, "rapid_review_to_panel").status is DeadlineStatus.met
        assert deadline(state, "panel_response").status is DeadlineStatus.met
        # The police's return is no longer needed once the decision is made: withdrawn, nothing owed.
        police = tasks["bedfordshire-police"].id
        assert deadline(state, "agency_information_return", police).status is DeadlineStatus.cancelled
        assert next(t for t in state.tasks if t.id == police).status is TaskStatus.withdrawn
        # The review starts as the case's child workflow.
        assert state.review_workflow_id == f"luton/case-{case.reference}/review"
        signed = events(state, "partner_signed_off")
        assert [(e.actor.user_id, e.details["partner"]) for e in signed] == [
            ("local_authority.lead", "local_authority"),
            ("police.lead", "police"),
            ("integrated_care_board.lead", "integrated_care_board"),
        ]
        assert all(e.reasons for e in signed)

    # The read model holds the case's own events, once each (the review child writes its own stream,
    # which may or may not have started yet).
    with engine.connect() as connection:
        stored = connection.execute(
            select(func.count())
            .select_from(CaseEventRow)
            .where(CaseEventRow.case_reference == case.reference, CaseEventRow.stream == "case")
        ).scalar_one()
        stage = connection.execute(
            select(CaseRow.stage).where(CaseRow.reference == case.reference)
        ).scalar_one()
    assert stored == len(state.history)
    assert stage == "local_review"


async def test_a_partner_who_disagrees_returns_the_recommendation_to_the_jcrg(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
        await handle.execute_update(CaseWorkflow.recommend, by(JCRG_CHAIR, CSPR))
        await handle.execute_update(
            CaseWorkflow.sign_off,
            by(
                PARTNERS[StatutoryPartner.police],
                PartnerSignOff(partner=StatutoryPartner.police, agrees=True, reasons="Yes"),
            ),
        )
        await handle.execute_update(
            CaseWorkflow.sign_off,
            by(
                PARTNERS[StatutoryPartner.integrated_care_board],
                PartnerSignOff(
                    partner=StatutoryPartner.integrated_care_board,
                    agrees=False,
                    reasons="Health input missing",
                ),
            ),
        )
        state = await view(handle)
        assert state.rapid_review.recommendation is None and state.rapid_review.sign_offs == []
        assert [e.kind for e in state.history[-2:]] == ["partner_disagreed", "recommendation_returned"]
        # The JCRG may now recommend again.
        await handle.execute_update(CaseWorkflow.recommend, by(JCRG_CHAIR, CSPR))
        assert (await view(handle)).rapid_review.recommendation == CSPR


async def test_a_panel_challenge_reopens_the_decision_and_a_national_review_ends_the_rapid_review(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
        now = await env.get_current_time()
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(BUSINESS_UNIT, NotificationRecord(recipient=NotificationRecipient.panel, sent_at=now)),
        )
        for response in (PanelResponseKind.challenges, PanelResponseKind.national_review):
            await handle.execute_update(CaseWorkflow.recommend, by(JCRG_CHAIR, CSPR))
            await sign_off_all(handle)
            now = await env.get_current_time()
            await handle.execute_update(
                CaseWorkflow.inform_scrutineer, by(BUSINESS_UNIT, ScrutineerInformed(informed_at=now))
            )
            await handle.execute_update(
                CaseWorkflow.send_rapid_review, by(BUSINESS_UNIT, RapidReviewSent(sent_at=now))
            )
            await env.sleep(timedelta(days=3))
            await handle.execute_update(
                CaseWorkflow.record_panel_response,
                by(
                    BUSINESS_UNIT,
                    PanelResponse(
                        response=response, received_at=await env.get_current_time(), reasons="Panel"
                    ),
                ),
            )
            if response is PanelResponseKind.challenges:
                reopened = await view(handle)
                assert reopened.stage == "rapid_review" and reopened.rapid_review.rounds == 1
                assert reopened.rapid_review.sent_to_panel_at is None
        state = await view(handle)
        assert state.stage == "national_review" and state.outcome == "national_review"
        # Each submission had its own Panel response deadline, both met.
        responses = [d for d in state.deadlines if d.key == "panel_response"]
        assert [d.status for d in responses] == [DeadlineStatus.met, DeadlineStatus.met]


async def test_a_referral_screened_out_closes_with_its_learning_route_and_the_workflow_ends(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        now = await env.get_current_time()
        case = opening(now, route=Route.agency_referral, referred_at=now)
        handle = await start_case(env.client, task_queue, case, policy)
        await refused(
            handle,
            CaseWorkflow.record_notification,
            by(BUSINESS_UNIT, NotificationRecord(recipient=NotificationRecipient.panel, sent_at=now)),
            "record the screening decision first",
        )
        await refused(handle, CaseWorkflow.recommend, by(JCRG_CHAIR, CSPR), "at stage screening")
        closed = await handle.execute_update(
            CaseWorkflow.screen,
            by(
                JCRG_CHAIR,
                ScreeningDecision(
                    criteria_met=False,
                    learning_route=ScreeningLearningRoute.single_agency_learning,
                    reasons="No suspicion of abuse or neglect; single-agency learning for the school.",
                ),
            ),
        )
        assert closed.stage == "closed"
        # Nothing is owed by a closed referral (the written confirmation is moot): the workflow ends.
        result = await handle.result()
        assert result.outcome == "screened_out:single_agency_learning"
        state = await view(handle)
        assert deadline(state, "referral_written_confirmation").status is DeadlineStatus.cancelled
        assert not events(state, "escalation_sent")


async def test_a_looked_after_childs_death_keeps_the_closed_case_open_until_ofsted_and_the_secretary_of_state_are_told(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        now = await env.get_current_time()
        case = opening(
            now,
            route=Route.cdop_referral,
            referred_at=now,
            child_status=ChildStatus.looked_after,
            child_died=True,
        )
        handle = await start_case(env.client, task_queue, case, policy)
        await handle.execute_update(
            CaseWorkflow.screen,
            by(
                JCRG_CHAIR,
                ScreeningDecision(
                    criteria_met=False,
                    learning_route=ScreeningLearningRoute.no_further_action,
                    reasons="Expected death from a life-limiting condition; no concerns about care.",
                ),
            ),
        )
        for recipient in (NotificationRecipient.secretary_of_state, NotificationRecipient.ofsted):
            await handle.execute_update(
                CaseWorkflow.record_notification,
                by(
                    BUSINESS_UNIT,
                    NotificationRecord(recipient=recipient, sent_at=await env.get_current_time()),
                ),
            )
        result = await handle.result()
        assert result.outcome == "screened_out:no_further_action"
        # A workflow that has ended refuses further steps at the server.
        with pytest.raises(Exception):  # noqa: B017 - the RPC error type depends on the server
            await handle.execute_update(
                CaseWorkflow.close_case, by(BUSINESS_UNIT, CaseClosure(reasons="Again"))
            )


async def test_an_agency_that_misses_its_return_is_reminded_and_the_business_unit_is_escalated_to(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        handle = await start_case(env.client, task_queue, opening(await env.get_current_time()), policy)
        requested = await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(agencies=["luton-schools"], asked_for="Attendance and concerns"),
            ),
        )
        task = requested.tasks[0]
        await refused(
            handle,
            CaseWorkflow.request_information,
            by(BUSINESS_UNIT, InformationRequest(agencies=["luton-schools"], asked_for="Again")),
            f"already waiting for a return from luton-schools ({task.id})",
        )
        await refused(
            handle,
            CaseWorkflow.submit_return,
            by(AGENCY, InformationReturn(task_id=f"{task.id}9", summary="x")),
            "has no task",
        )
        await env.sleep(timedelta(days=10))
        state = await view(handle)
        overdue = deadline(state, "agency_information_return", task.id)
        assert overdue.status is DeadlineStatus.overdue
        reminders = [e for e in events(state, "reminder_sent") if e.details["deadline"] == overdue.id]
        assert [e.details["recipients"] for e in reminders] == [["owning_agency"], ["owning_agency"]]
        escalation = [e for e in events(state, "escalation_sent") if e.details["deadline"] == overdue.id]
        assert escalation[0].details["recipients"] == ["business_unit", "jcrg_chair"]


async def test_a_case_keeps_the_policy_version_it_opened_under(env, engine, policy, task_queue):
    from safeguarding.domain.policy import Duration, DurationUnit

    revised = policy.model_copy(deep=True)
    revised.version = "2027.1"
    revised.deadlines["agency_information_return"].due = Duration(amount=10, unit=DurationUnit.working_days)
    async with running_worker(env.client, engine, task_queue):
        now = await env.get_current_time()
        older = await start_case(env.client, task_queue, opening(now), policy)
        newer = await start_case(env.client, task_queue, opening(now), revised)
        due = {}
        for name, handle in (("older", older), ("newer", newer)):
            asked = await handle.execute_update(
                CaseWorkflow.request_information,
                by(BUSINESS_UNIT, InformationRequest(agencies=["luton-schools"], asked_for="Chronology")),
            )
            due[name] = asked.tasks[0].due_at
            assert (await view(handle)).policy_version == {"older": policy.version, "newer": "2027.1"}[name]
        # The same request on the same day: five working days under the old policy, ten under the new.
        assert (due["newer"] - due["older"]).days >= 7
