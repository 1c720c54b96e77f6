"""The learning routes a partnership runs, on the time-skipping server on real calendar dates.

The action plan opens when the rapid review concludes, holding its immediate learning actions whatever
it recommended; the CSPR it decided on runs beside it, and its recommendations join the plan when the
partners agree the final report, months before publication.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError

from safeguarding.domain.action_plan import AddAction, PlanClosed
from safeguarding.domain.case import (
    AdultsBoardSignOff,
    CaseOpening,
    CriteriaNotMet,
    InformationRequest,
    LearningSource,
    LearningSourceKind,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ReferralConfirmation,
    ScreeningDecision,
    ScreeningLearningRoute,
    ScrutineerInformed,
    ThematicScope,
)
from safeguarding.domain.facts import CareActBasis, ChildStatus, Route
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.domain.review import (
    AdultsBoardApproval,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    LearningEventHeld,
    ReportApproved,
    ReviewerAppointed,
    TermsAgreed,
)
from tests.conftest import running_worker
from tests.support import (
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    by,
    london,
    new_reference,
    opening,
    plan_step,
    review_step,
    start_case,
    view,
)
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

IMMEDIATE = "Brief GPs and health visitors on bruising in non-mobile infants"


async def child_view(env, workflow_id: str, query, ready=lambda view: True):  # type: ignore[no-untyped-def]
    """A child workflow's view, once it has started (and ``ready`` holds: its first deadlines computed)."""
    for _ in range(400):
        try:
            view = await env.client.get_workflow_handle(workflow_id).query(query)
        except Exception:  # not started yet
            view = None
        if view is not None and ready(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never started")


async def test_the_plan_opens_at_the_rapid_review_and_takes_the_csprs_recommendations_at_its_final_report(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        case = opening(london(2026, 5, 21, 10))
        handle = await start_case(env.client, task_queue, case, policy)
        for recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners):
            await handle.execute_update(
                CaseWorkflow.record_notification,
                by(BUSINESS_UNIT, NotificationRecord(recipient=recipient, sent_at=london(2026, 5, 27, 11))),
            )
        await handle.execute_update(
            CaseWorkflow.recommend,
            by(
                JCRG_CHAIR,
                Recommendation(
                    recommendation=RecommendationKind.local_cspr,
                    methodology="Systems methodology",
                    learning_actions=[IMMEDIATE],
                    reasons="Multi-agency practice issues; one lesson to act on now.",
                    occurred_at=london(2026, 6, 10, 14),
                ),
            ),
        )
        for partner in StatutoryPartner:
            await handle.execute_update(
                CaseWorkflow.sign_off,
                by(
                    PARTNERS[partner],
                    PartnerSignOff(
                        partner=partner, agrees=True, reasons="Agreed.", occurred_at=london(2026, 6, 12, 12)
                    ),
                ),
            )
        await handle.execute_update(
            CaseWorkflow.inform_scrutineer,
            by(BUSINESS_UNIT, ScrutineerInformed(informed_at=london(2026, 6, 15, 9))),
        )
        await handle.execute_update(
            CaseWorkflow.send_rapid_review,
            by(BUSINESS_UNIT, RapidReviewSent(sent_at=london(2026, 6, 15, 10))),
        )
        await handle.execute_update(
            CaseWorkflow.record_panel_response,
            by(
                BUSINESS_UNIT,
                PanelResponse(
                    response=PanelResponseKind.agrees, received_at=london(2026, 6, 26, 12), reasons="Agrees."
                ),
            ),
        )
        state = await view(handle)
        assert state.stage.value == "local_review"

        # The plan is open at once, with the rapid review's immediate learning, while the CSPR runs.
        plan_view = await child_view(
            env, state.plan_workflow_id or f"{handle.id}/plan", ActionPlanWorkflow.view
        )
        assert [(r.id, r.text, r.source) for r in plan_view.recommendations] == [
            ("R1", IMMEDIATE, "rapid_review")
        ]
        assert plan_view.awaiting_review == "local_cspr"
        plan = env.client.get_workflow_handle(f"{handle.id}/plan")
        added = await plan_step(
            plan,
            JCRG_CHAIR,
            AddAction(
                recommendation_id="R1",
                agency="luton-childrens-social-care",
                lead_role="Principal social worker",
                description=IMMEDIATE,
                measure="Briefings delivered to every practice",
                themes=["physical_harm_to_under_2s"],
                due_on=date(2027, 1, 29),
                occurred_at=london(2026, 7, 1, 10),
            ),
        )
        assert added.stage == "open"
        # The plan cannot close while the review's recommendations are still to come.
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await plan.execute_update("close_plan", by(JCRG_CHAIR, PlanClosed(reasons="Done")))
        assert "recommendations are still to come" in str(refusal.value.cause)

        # The CSPR, to its final report: the partners agree it, and its recommendations join the plan.
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        await child_view(env, review.id, ReviewWorkflow.view)
        for actor, step in [
            (JCRG_CHAIR, ReviewerAppointed(reviewer="Independent reviewer", appointed_on=date(2026, 7, 6))),
            (
                JCRG_CHAIR,
                TermsAgreed(methodology="Systems", terms_of_reference="Scope", agreed_on=date(2026, 7, 20)),
            ),
            (BUSINESS_UNIT, FamilyEngagement(status="offered", on=date(2026, 7, 21), reasons="Letter sent")),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2026, 9, 8))),
            (BUSINESS_UNIT, DraftReceived(received_on=date(2026, 10, 14))),
        ]:
            await review_step(review, actor, step)
        for partner in StatutoryPartner:
            await review_step(review, PARTNERS[partner], ReportApproved(partner=partner, reasons="Approved"))
        await review_step(
            review,
            JCRG_CHAIR,
            FinalReport(
                received_on=date(2026, 11, 2), recommendations=["Audit referrals", "Train on thresholds"]
            ),
        )
        for _ in range(200):
            plan_view = await plan.query(ActionPlanWorkflow.view)
            if plan_view.awaiting_review is None:
                break
            await asyncio.sleep(0.05)
        assert [(r.id, r.text, r.source) for r in plan_view.recommendations] == [
            ("R1", IMMEDIATE, "rapid_review"),
            ("R2", "Audit referrals", "local_cspr"),
            ("R3", "Train on thresholds", "local_cspr"),
        ]
        assert [a.recommendation_id for a in plan_view.actions] == ["R1"]  # the early action is kept
        # Publication has not happened: the review is still running, the plan is tracked meanwhile.
        assert (await review.query(ReviewWorkflow.view)).stage.value == "final_report"
        assert (await view(handle)).stage.value == "local_review"


async def test_a_care_leavers_death_is_told_to_the_secretary_of_state_and_ofsted_and_closes_without_a_rapid_review(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        aware = london(2026, 11, 2, 10)  # Monday 2 November 2026
        case = opening(
            aware, route=Route.care_leaver_death, child_status=ChildStatus.care_leaver, child_died=True
        )
        handle = await start_case(env.client, task_queue, case, policy)
        state = await view(handle)
        assert state.stage.value == "notifying"
        owed = {d.key: d.due_at for d in state.deadlines}
        # Five working days: Monday 9 November at the end of the day; nothing for the Panel.
        assert owed == {
            "notify_secretary_of_state_care_leaver_death": london(2026, 11, 9, 17),
            "notify_ofsted_care_leaver_death": london(2026, 11, 9, 17),
        }
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await handle.execute_update(
                CaseWorkflow.record_notification,
                by(BUSINESS_UNIT, NotificationRecord(recipient=NotificationRecipient.panel, sent_at=aware)),
            )
        assert "told to the Secretary of State and Ofsted" in str(refusal.value.cause)
        for recipient, day in (
            (NotificationRecipient.secretary_of_state, 4),
            (NotificationRecipient.ofsted, 6),
        ):
            await handle.execute_update(
                CaseWorkflow.record_notification,
                by(BUSINESS_UNIT, NotificationRecord(recipient=recipient, sent_at=london(2026, 11, day, 15))),
            )
        outcome = await handle.result()
        assert outcome.outcome == "care_leaver_death_notified"
        state = await view(handle)
        assert all(d.met_on_time for d in state.deadlines)


async def test_a_notified_incident_found_not_to_meet_the_criteria_is_closed_with_its_reasons_and_the_panel_told(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        case = opening(london(2026, 5, 21, 10))  # Thursday 21 May 2026
        handle = await start_case(env.client, task_queue, case, policy)
        asked = await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(
                    agencies=["luton-schools"], asked_for="Chronology", occurred_at=london(2026, 5, 22, 9)
                ),
            ),
        )
        decided = london(2026, 5, 27, 16)
        closed = await handle.execute_update(
            CaseWorkflow.close_not_meeting_criteria,
            by(
                BUSINESS_UNIT,
                CriteriaNotMet(
                    reasons="Checks found no abuse or neglect known or suspected.",
                    panel_told_at=london(2026, 5, 28, 10),
                    occurred_at=decided,
                ),
            ),
        )
        assert closed.stage == "closed"
        outcome = await handle.result()
        assert outcome.outcome == "did_not_meet_criteria"
        state = await view(handle)
        made = next(e for e in state.history if e.kind.value == "criteria_not_met")
        assert (
            made.occurred_at == decided
            and made.details["panel_told_at"] == london(2026, 5, 28, 10).isoformat()
        )
        assert {d.key: d.status.value for d in state.deadlines} == {
            "notify_panel": "cancelled",
            "report_to_partners": "cancelled",
            "agency_information_return": "cancelled",
        }
        assert [t.status.value for t in state.tasks] == ["withdrawn"] and asked.tasks[0].id == state.tasks[
            0
        ].id


async def test_a_referral_screened_out_into_a_local_learning_review_runs_it_and_its_plan_takes_the_learning(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        referred = london(2026, 3, 2, 11)  # Monday 2 March 2026
        case = opening(referred, route=Route.agency_referral, referred_at=referred)
        handle = await start_case(env.client, task_queue, case, policy)
        await handle.execute_update(
            CaseWorkflow.confirm_referral,
            by(BUSINESS_UNIT, ReferralConfirmation(confirmed_at=london(2026, 3, 3, 9))),
        )
        screened = london(2026, 3, 10, 14)
        await handle.execute_update(
            CaseWorkflow.screen,
            by(
                JCRG_CHAIR,
                ScreeningDecision(
                    criteria_met=False,
                    learning_route=ScreeningLearningRoute.local_learning_review,
                    reasons="Below the criteria; multi-agency learning about missed health appointments.",
                    occurred_at=screened,
                ),
            ),
        )
        state = await view(handle)
        assert state.stage.value == "learning_review"
        assert not [d for d in state.deadlines if d.key in ("notify_panel", "report_to_partners")]

        review = env.client.get_workflow_handle(f"{handle.id}/review")
        review_view = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        completion = next(d for d in review_view.deadlines if d.key == "learning_review_completion")
        # Four calendar months from the dated screening: Friday 10 July 2026 at the end of the day.
        assert (completion.started_at, completion.due_at, completion.statutory) == (
            screened,
            london(2026, 7, 10, 17),
            False,
        )
        for actor, step in [
            (JCRG_CHAIR, ReviewerAppointed(reviewer="Lead reviewer", appointed_on=date(2026, 3, 16))),
            (
                JCRG_CHAIR,
                TermsAgreed(
                    methodology="Learning event", terms_of_reference="Scope", agreed_on=date(2026, 3, 23)
                ),
            ),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2026, 5, 12))),
        ]:
            await review_step(review, actor, step)
        await review_step(
            review,
            JCRG_CHAIR,
            FinalReport(
                received_on=date(2026, 6, 29), recommendations=["Follow up missed health appointments"]
            ),
        )
        outcome = await review.result()
        assert outcome["outcome"] == "completed"  # an untyped handle: the outcome as data
        met = next(
            d
            for d in (await review.query(ReviewWorkflow.view)).deadlines
            if d.key == "learning_review_completion"
        )
        assert met.met_on_time and met.met_at == london(2026, 6, 29, 12)

        # Its recommendation opens the plan, from the day the report came in.
        plan = env.client.get_workflow_handle(f"{handle.id}/plan")
        plan_view = await child_view(env, plan.id, ActionPlanWorkflow.view)
        assert [(r.text, r.source) for r in plan_view.recommendations] == [
            ("Follow up missed health appointments", "local_learning_review")
        ]
        assert plan_view.awaiting_review is None
        assert (await view(handle)).stage.value == "learning_review"  # open while its plan runs


SAB = Actor(user_id="sab.representative", role=Role.adults_board_representative)


async def test_a_joint_cspr_sar_needs_the_adults_boards_sign_off_and_approval_with_the_three_partners(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        case = opening(london(2026, 5, 21, 10))
        handle = await start_case(env.client, task_queue, case, policy)
        for recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners):
            await handle.execute_update(
                CaseWorkflow.record_notification,
                by(BUSINESS_UNIT, NotificationRecord(recipient=recipient, sent_at=london(2026, 5, 27, 11))),
            )
        await handle.execute_update(
            CaseWorkflow.recommend,
            by(
                JCRG_CHAIR,
                Recommendation(
                    recommendation=RecommendationKind.local_cspr,
                    methodology="Systems methodology",
                    reasons="A young person and his mother, who has care and support needs: one joint review.",
                    joint_with_adults_board=True,
                    occurred_at=london(2026, 6, 10, 14),
                ),
            ),
        )
        for partner in StatutoryPartner:
            await handle.execute_update(
                CaseWorkflow.sign_off,
                by(
                    PARTNERS[partner],
                    PartnerSignOff(
                        partner=partner, agrees=True, reasons="Agreed.", occurred_at=london(2026, 6, 12, 12)
                    ),
                ),
            )
        assert (await view(handle)).rapid_review.signed_off_at is None  # waiting for the adults board
        # Only the adults board's representative signs for it.
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await handle.execute_update(
                CaseWorkflow.adults_board_sign_off,
                by(PARTNERS[StatutoryPartner.police], AdultsBoardSignOff(agrees=True, reasons="x")),
            )
        assert "cannot take this step" in str(refusal.value.cause)
        decided = london(2026, 6, 15, 16)
        await handle.execute_update(
            CaseWorkflow.adults_board_sign_off,
            by(
                SAB,
                AdultsBoardSignOff(
                    agrees=True, reasons="The SAB agrees to a joint review.", occurred_at=decided
                ),
            ),
        )
        assert (await view(handle)).rapid_review.signed_off_at == decided
        await handle.execute_update(
            CaseWorkflow.inform_scrutineer,
            by(BUSINESS_UNIT, ScrutineerInformed(informed_at=london(2026, 6, 16, 9))),
        )
        await handle.execute_update(
            CaseWorkflow.send_rapid_review,
            by(BUSINESS_UNIT, RapidReviewSent(sent_at=london(2026, 6, 16, 10))),
        )
        await handle.execute_update(
            CaseWorkflow.record_panel_response,
            by(
                BUSINESS_UNIT,
                PanelResponse(
                    response=PanelResponseKind.agrees, received_at=london(2026, 6, 26, 12), reasons="Agrees."
                ),
            ),
        )
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        review_view = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        assert review_view.joint_with_adults_board
        cspr = next(d for d in review_view.deadlines if d.key == "cspr_completion")
        assert cspr.started_at == decided  # the decision to hold it: the last of the four sign-offs
        for actor, step in [
            (JCRG_CHAIR, ReviewerAppointed(reviewer="Joint reviewer", appointed_on=date(2026, 7, 6))),
            (
                JCRG_CHAIR,
                TermsAgreed(methodology="Systems", terms_of_reference="Scope", agreed_on=date(2026, 7, 20)),
            ),
            (BUSINESS_UNIT, FamilyEngagement(status="offered", on=date(2026, 7, 21), reasons="Letter sent")),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2026, 9, 8))),
            (BUSINESS_UNIT, DraftReceived(received_on=date(2026, 10, 14))),
        ]:
            await review_step(review, actor, step)
        for partner in StatutoryPartner:
            await review_step(review, PARTNERS[partner], ReportApproved(partner=partner, reasons="Approved"))
        assert (await review.query(ReviewWorkflow.view)).stage.value == "draft_received"
        await review_step(review, SAB, AdultsBoardApproval(reasons="The SAB approves the report"))
        assert (await review.query(ReviewWorkflow.view)).stage.value == "approved"


async def test_a_plan_from_a_national_review_runs_without_a_case_of_its_own_and_closes_when_the_plan_does(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        received = london(2026, 3, 2, 10)  # the national review's report reached the partnership
        learning = CaseOpening(
            reference=new_reference("NAT"),
            partnership="luton",
            route=Route.learning_from_elsewhere,
            la_aware_at=received,
            referring_agency="lscp-business-unit",
            child_status=ChildStatus.neither,
            child_died=False,
            summary="Learning from a national review.",
            learning_source=LearningSource(
                kind=LearningSourceKind.national_review,
                title="The Myth of Invisible Men",
                recommendations=["Record who the men in the household are", "Invite fathers to every plan"],
            ),
        )
        handle = await start_case(env.client, task_queue, learning, policy)
        state = await view(handle)
        assert state.stage.value == "learning_actions" and state.deadlines == []
        plan = env.client.get_workflow_handle(f"{handle.id}/plan")
        plan_view = await child_view(env, plan.id, ActionPlanWorkflow.view, lambda v: bool(v.recommendations))
        assert [(r.id, r.source) for r in plan_view.recommendations] == [
            ("R1", "national_review"),
            ("R2", "national_review"),
        ]
        assert plan_view.awaiting_review is None
        # The plan began when the report arrived: actions dated from then on are taken as dated.
        added = await plan_step(
            plan,
            JCRG_CHAIR,
            AddAction(
                recommendation_id="R1",
                agency="luton-childrens-social-care",
                lead_role="Principal social worker",
                description="Add the men in the household to the assessment template",
                measure="Audit of twenty assessments",
                themes=["voice_of_the_child"],
                due_on=date(2026, 9, 30),
                occurred_at=london(2026, 3, 16, 10),
            ),
        )
        assert added.deadlines[0].started_at == london(2026, 3, 16, 10)
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await plan.execute_update(
                "add_action",
                by(
                    JCRG_CHAIR,
                    AddAction(
                        recommendation_id="R2",
                        agency="luton-schools",
                        lead_role="Head",
                        description="x",
                        measure="y",
                        themes=["voice_of_the_child"],
                        due_on=date(2026, 9, 30),
                        occurred_at=london(2026, 2, 20, 10),  # before the report arrived
                    ),
                ),
            )
        assert "before" in str(refusal.value.cause)


async def test_a_thematic_review_across_three_cases_runs_one_review_and_one_plan(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        decided = london(2026, 4, 14, 15)  # the JCRG decided on Tuesday 14 April 2026
        thematic = CaseOpening(
            reference=new_reference("THEME"),
            partnership="luton",
            route=Route.thematic_review,
            la_aware_at=decided,
            referring_agency="lscp-business-unit",
            child_status=ChildStatus.neither,
            child_died=False,
            summary="Serious youth violence: one review across three cases.",
            thematic=ThematicScope(
                theme="extrafamilial_harm",
                title="Serious youth violence",
                cases=["LSCP-2026-011", "LSCP-2026-014", "LSCP-2026-019"],
            ),
        )
        handle = await start_case(env.client, task_queue, thematic, policy)
        state = await view(handle)
        assert state.stage.value == "thematic_review" and state.deadlines == []
        opened = next(e for e in state.history if e.kind.value == "case_opened")
        assert opened.details["covers"] == thematic.thematic.cases
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        review_view = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        (completion,) = review_view.deadlines
        # Six calendar months from the dated decision: Wednesday 14 October 2026 at the end of the day.
        assert (completion.key, completion.started_at, completion.due_at) == (
            "thematic_review_completion",
            decided,
            london(2026, 10, 14, 17),
        )
        for actor, step in [
            (JCRG_CHAIR, ReviewerAppointed(reviewer="Thematic reviewer", appointed_on=date(2026, 4, 20))),
            (
                JCRG_CHAIR,
                TermsAgreed(
                    methodology="Thematic", terms_of_reference="Three cases", agreed_on=date(2026, 5, 4)
                ),
            ),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2026, 7, 1))),
        ]:
            await review_step(review, actor, step)
        await review_step(
            review,
            JCRG_CHAIR,
            FinalReport(received_on=date(2026, 9, 21), recommendations=["A contextual safeguarding panel"]),
        )
        plan = env.client.get_workflow_handle(f"{handle.id}/plan")
        plan_view = await child_view(env, plan.id, ActionPlanWorkflow.view, lambda v: bool(v.recommendations))
        assert [(r.text, r.source) for r in plan_view.recommendations] == [
            ("A contextual safeguarding panel", "thematic_review")
        ]
        done = next(d for d in (await review.query(ReviewWorkflow.view)).deadlines)
        assert done.met_on_time


async def test_a_safeguarding_adults_review_on_its_own_runs_under_the_care_act_with_its_own_deadline(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        decided = london(2026, 2, 9, 12)  # the all-age group decided on Monday 9 February 2026
        sar = CaseOpening(
            reference=new_reference("SAR"),
            partnership="luton",
            route=Route.safeguarding_adults_review,
            la_aware_at=decided,
            referring_agency="lscp-business-unit",
            child_status=ChildStatus.neither,
            child_died=True,
            summary="An adult with care and support needs died; abuse or neglect suspected.",
            care_act_basis=CareActBasis.mandatory,
        )
        handle = await start_case(env.client, task_queue, sar, policy)
        state = await view(handle)
        assert state.stage.value == "adults_review" and state.deadlines == []  # nothing owed to the Panel
        review = env.client.get_workflow_handle(f"{handle.id}/review")
        review_view = await child_view(env, review.id, ReviewWorkflow.view, lambda v: bool(v.deadlines))
        (completion,) = review_view.deadlines
        # Six calendar months from the decision: Sunday 9 August 2026, at the end of the day.
        assert (completion.key, completion.due_at, completion.statutory) == (
            "sar_completion",
            london(2026, 8, 9, 17),
            False,
        )
        for actor, step in [
            (JCRG_CHAIR, ReviewerAppointed(reviewer="SAR reviewer", appointed_on=date(2026, 2, 16))),
            (
                JCRG_CHAIR,
                TermsAgreed(methodology="SILP", terms_of_reference="Scope", agreed_on=date(2026, 3, 2)),
            ),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2026, 4, 21))),
            (BUSINESS_UNIT, DraftReceived(received_on=date(2026, 6, 1))),
        ]:
            await review_step(review, actor, step)
        for partner in StatutoryPartner:
            await review_step(review, PARTNERS[partner], ReportApproved(partner=partner, reasons="Approved"))
        await review_step(
            review, JCRG_CHAIR, FinalReport(received_on=date(2026, 7, 6), recommendations=["Hear the carer"])
        )
        plan = env.client.get_workflow_handle(f"{handle.id}/plan")
        plan_view = await child_view(env, plan.id, ActionPlanWorkflow.view, lambda v: bool(v.recommendations))
        assert [(r.text, r.source) for r in plan_view.recommendations] == [
            ("Hear the carer", "safeguarding_adults_review")
        ]
        done = (await review.query(ReviewWorkflow.view)).deadlines[0]
        assert done.met_on_time and done.met_at == london(2026, 7, 6, 12)
