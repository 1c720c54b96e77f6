"""Record a case workflow's history for the replay test:  python -m tests.record_history

Histories are recorded unencrypted (the codec passes unencrypted payloads through), so that they stay
readable whatever keys a later test run uses.

Runs a case through the rapid review on the time-skipping server (reminders, a missed deadline, a
Panel challenge, a second round, the conclusion) and writes its history to tests/histories/. Record a
new file whenever the workflow changes shape; keep the old ones: running cases have old histories.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from safeguarding.domain.action_plan import AddAction
from safeguarding.domain.case import (
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
    ScrutineerInformed,
)
from safeguarding.domain.people import StatutoryPartner
from safeguarding.domain.review import ClockRestarted, ClockStopped, ReviewerAppointed
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import get_settings
from safeguarding.store.engine import make_engine, migrate
from tests.conftest import running_worker
from tests.support import (
    AGENCY,
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    by,
    opening,
    plan_step,
    review_step,
    start_case,
)
from worker import ensure_search_attributes
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"


async def record(name: str) -> Path:
    policy = load_policies(get_settings().policy_dir)["luton"]
    binary = Path(sys.executable).parent / "temporal-test-server"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/read-model.sqlite"
        migrate(url)
        engine = make_engine(url)
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary), data_converter=pydantic_data_converter
        ) as env:
            await ensure_search_attributes(env.client, "default")
            async with running_worker(env.client, engine, "record"):
                now = await env.get_current_time()
                handle = await start_case(env.client, "record", opening(now, reference="REPLAY-1"), policy)

                async def step(update, actor, decision):  # type: ignore[no-untyped-def]
                    return await handle.execute_update(update, by(actor, decision))

                await step(
                    CaseWorkflow.record_notification,
                    BUSINESS_UNIT,
                    NotificationRecord(recipient=NotificationRecipient.panel, sent_at=now),
                )
                asked = await step(
                    CaseWorkflow.request_information,
                    BUSINESS_UNIT,
                    InformationRequest(
                        agencies=["luton-schools", "bedfordshire-police"], asked_for="Chronology"
                    ),
                )
                await env.sleep(timedelta(days=9))  # reminders, and the partners' notification missed
                await step(
                    CaseWorkflow.submit_return,
                    AGENCY,
                    InformationReturn(task_id=asked.tasks[0].id, summary="Return"),
                )
                for response in (PanelResponseKind.challenges, PanelResponseKind.agrees):
                    await step(
                        CaseWorkflow.recommend,
                        JCRG_CHAIR,
                        Recommendation(
                            recommendation=RecommendationKind.local_cspr,
                            methodology="Systems",
                            learning_actions=["Act on this now"],
                            reasons="Reasons",
                        ),
                    )
                    for partner in StatutoryPartner:
                        await step(
                            CaseWorkflow.sign_off,
                            PARTNERS[partner],
                            PartnerSignOff(partner=partner, agrees=True, reasons="Agreed"),
                        )
                    at = await env.get_current_time()
                    await step(
                        CaseWorkflow.inform_scrutineer, BUSINESS_UNIT, ScrutineerInformed(informed_at=at)
                    )
                    await step(CaseWorkflow.send_rapid_review, BUSINESS_UNIT, RapidReviewSent(sent_at=at))
                    await env.sleep(timedelta(days=2))
                    await step(
                        CaseWorkflow.record_panel_response,
                        BUSINESS_UNIT,
                        PanelResponse(
                            response=response, received_at=await env.get_current_time(), reasons="Panel"
                        ),
                    )
                # The review the case started: a few of its own steps, then its history too.
                review = env.client.get_workflow_handle_for(ReviewWorkflow.run, f"{handle.id}/review")
                await review.execute_update(ReviewWorkflow.await_opened)
                today = (await env.get_current_time()).date()
                await review_step(
                    review, JCRG_CHAIR, ReviewerAppointed(reviewer="Reviewer", appointed_on=today)
                )
                await env.sleep(timedelta(days=40))  # a monitoring checkpoint and its task
                await review_step(
                    review,
                    BUSINESS_UNIT,
                    ClockStopped(
                        proceedings="inquest",
                        reasons="Inquest",
                        expected_end=today + timedelta(days=90),
                        panel_told_on=today + timedelta(days=40),
                    ),
                )
                await env.sleep(timedelta(days=20))
                await review_step(review, BUSINESS_UNIT, ClockRestarted(reasons="Adjourned"))
                review_history = await review.fetch_history()
                # The plan opened at the rapid review with its immediate learning: an action on it.
                plan = env.client.get_workflow_handle_for(ActionPlanWorkflow.run, f"{handle.id}/plan")
                await plan_step(
                    plan,
                    JCRG_CHAIR,
                    AddAction(
                        recommendation_id="R1",
                        agency="luton-schools",
                        lead_role="Head of safeguarding",
                        description="Act on this now",
                        measure="Done",
                        themes=["neglect"],
                        due_on=today + timedelta(days=120),
                    ),
                )
                plan_history = await plan.fetch_history()
                history = await handle.fetch_history()
        engine.dispose()
    path = HISTORIES / f"{name}.json"
    path.write_text(history.to_json(), encoding="utf-8")
    (HISTORIES / f"{name}-review.json").write_text(review_history.to_json(), encoding="utf-8")
    (HISTORIES / f"{name}-plan.json").write_text(plan_history.to_json(), encoding="utf-8")
    return path


async def record_yearly(name: str) -> Path:
    """The yearly report's process for the reporting year 2026-27: reminders, the escalation of a late
    publication, then publication and sending (python -m tests.record_history yearly-v1)."""
    from datetime import date

    from safeguarding.domain.yearly_report import (
        ReportPublished,
        ReportSent,
        YearlyStart,
        YearlyStep,
        workflow_id,
    )
    from workflows.yearly_report import YearlyReportWorkflow

    policy = load_policies(get_settings().policy_dir)["luton"]
    binary = Path(sys.executable).parent / "temporal-test-server"
    year = date(2026, 4, 1)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/read-model.sqlite"
        migrate(url)
        engine = make_engine(url)
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary), data_converter=pydantic_data_converter
        ) as env:
            async with running_worker(env.client, engine, "record"):
                start = YearlyStart(
                    partnership=policy.partnership,
                    year_start=year,
                    timezone=policy.timezone,
                    working_days=policy.working_days,
                    rules=policy.reports,  # type: ignore[arg-type]
                )
                handle = await env.client.start_workflow(
                    YearlyReportWorkflow.run,
                    start,
                    id=workflow_id(policy.partnership, year),
                    task_queue="record",
                )
                await asyncio.sleep(1)
                now = await env.get_current_time()
                await env.sleep(datetime(2027, 10, 20, 12, tzinfo=UTC) - now)  # reminders, the escalation
                await handle.execute_update(
                    YearlyReportWorkflow.take_step,
                    YearlyStep(
                        actor=BUSINESS_UNIT, published=ReportPublished(published_on=date(2027, 10, 19))
                    ),
                )
                for to in ("panel", "dfe"):
                    await handle.execute_update(
                        YearlyReportWorkflow.take_step,
                        YearlyStep(actor=BUSINESS_UNIT, sent=ReportSent(sent_on=date(2027, 10, 20), to=[to])),
                    )
                await handle.result()
                history = await handle.fetch_history()
        engine.dispose()
    path = HISTORIES / f"{name}.json"
    path.write_text(history.to_json(), encoding="utf-8")
    return path


async def record_thematic(name: str) -> Path:
    """A thematic review across three cases (a route of its own): the case, its review to the final
    report, and the plan its recommendation opens (python -m tests.record_history thematic-v1)."""
    from safeguarding.domain.case import CaseOpening, ThematicScope
    from safeguarding.domain.facts import ChildStatus, Route
    from safeguarding.domain.review import FinalReport, LearningEventHeld, TermsAgreed

    policy = load_policies(get_settings().policy_dir)["luton"]
    binary = Path(sys.executable).parent / "temporal-test-server"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/read-model.sqlite"
        migrate(url)
        engine = make_engine(url)
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(binary), data_converter=pydantic_data_converter
        ) as env:
            await ensure_search_attributes(env.client, "default")
            async with running_worker(env.client, engine, "record"):
                now = await env.get_current_time()
                opening_ = CaseOpening(
                    reference="THEME-REPLAY-1",
                    partnership="luton",
                    route=Route.thematic_review,
                    la_aware_at=now,
                    referring_agency="lscp-business-unit",
                    child_status=ChildStatus.neither,
                    child_died=False,
                    summary="Serious youth violence across three cases.",
                    thematic=ThematicScope(
                        theme="extrafamilial_harm", title="Youth violence", cases=["A-1", "A-2", "A-3"]
                    ),
                )
                handle = await start_case(env.client, "record", opening_, policy)
                review = env.client.get_workflow_handle_for(ReviewWorkflow.run, f"{handle.id}/review")
                await review.execute_update(ReviewWorkflow.await_opened)
                today = now.date()
                for actor, step in [
                    (JCRG_CHAIR, ReviewerAppointed(reviewer="Reviewer", appointed_on=today)),
                    (
                        JCRG_CHAIR,
                        TermsAgreed(methodology="Thematic", terms_of_reference="T", agreed_on=today),
                    ),
                    (BUSINESS_UNIT, LearningEventHeld(held_on=today)),
                    (JCRG_CHAIR, FinalReport(received_on=today, recommendations=["A contextual panel"])),
                ]:
                    await review_step(review, actor, step)
                await review.result()
                plan = env.client.get_workflow_handle_for(ActionPlanWorkflow.run, f"{handle.id}/plan")
                await plan.execute_update(ActionPlanWorkflow.await_opened)
                await plan_step(
                    plan,
                    JCRG_CHAIR,
                    AddAction(
                        recommendation_id="R1",
                        agency="luton-schools",
                        lead_role="Head of safeguarding",
                        description="A contextual panel",
                        measure="Meets monthly",
                        themes=["extrafamilial_harm"],
                        due_on=today + timedelta(days=120),
                    ),
                )
                review_history = await review.fetch_history()
                plan_history = await plan.fetch_history()
                history = await handle.fetch_history()
        engine.dispose()
    path = HISTORIES / f"{name}.json"
    path.write_text(history.to_json(), encoding="utf-8")
    (HISTORIES / f"{name}-review.json").write_text(review_history.to_json(), encoding="utf-8")
    (HISTORIES / f"{name}-plan.json").write_text(plan_history.to_json(), encoding="utf-8")
    return path


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "case-v2"
    if name.startswith("yearly"):
        print(asyncio.run(record_yearly(name)))
    elif name.startswith("thematic"):
        print(asyncio.run(record_thematic(name)))
    else:
        print(asyncio.run(record(name)))
