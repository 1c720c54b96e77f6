"""Helpers that read like the procedure: who acts, what a case opens with, how a step is sent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError

from safeguarding.domain.case import CaseOpening, CaseStart, CaseView
from safeguarding.domain.deadlines import Deadline
from safeguarding.domain.events import CaseEvent
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, Attributed, Role, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.steps import Process, step_for
from workflows.incident import CaseWorkflow, workflow_id_for

LONDON = ZoneInfo("Europe/London")

BUSINESS_UNIT = Actor(user_id="bu.officer1", role=Role.business_unit)
JCRG_CHAIR = Actor(user_id="jcrg.chair", role=Role.jcrg_chair)
AGENCY = Actor(user_id="school.dsl", role=Role.partner_agency, agency="luton-schools")
PARTNERS = {
    partner: Actor(user_id=f"{partner.value}.lead", role=Role.safeguarding_partner, partner=partner)
    for partner in StatutoryPartner
}


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def to_the_minute(moments: list[datetime]) -> list[datetime]:
    """Timers fire a few milliseconds after their moment: compare what people would see."""
    return [m.astimezone(LONDON).replace(second=0, microsecond=0) for m in moments]


def new_reference(prefix: str = "LSCP") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def opening(
    la_aware_at: datetime,
    *,
    route: Route = Route.serious_incident_notification,
    referred_at: datetime | None = None,
    child_status: ChildStatus = ChildStatus.neither,
    child_died: bool = False,
    reference: str | None = None,
) -> CaseOpening:
    return CaseOpening(
        reference=reference or new_reference(),
        partnership="luton",
        route=route,
        la_aware_at=la_aware_at,
        referred_at=referred_at,
        referring_agency="luton-childrens-social-care",
        child_status=child_status,
        child_died=child_died,
        summary="Infant admitted to hospital with unexplained injuries.",
    )


async def start_case(
    client: Client, task_queue: str, case: CaseOpening, policy: Policy
) -> WorkflowHandle[CaseWorkflow, object]:
    handle = await client.start_workflow(
        CaseWorkflow.run,
        CaseStart(opening=case, policy=policy, opened_by=BUSINESS_UNIT),
        id=workflow_id_for(case.partnership, case.reference),
        task_queue=task_queue,
    )
    await handle.execute_update(CaseWorkflow.await_opened)
    return handle


def by(actor: Actor, decision: BaseModel) -> Attributed:
    return Attributed[type(decision)](actor=actor, decision=decision)  # type: ignore[misc]


async def view(handle: WorkflowHandle) -> CaseView:
    return await handle.query(CaseWorkflow.view)


def deadline(case: CaseView, key: str, subject: str | None = None) -> Deadline:
    matches = [d for d in case.deadlines if d.key == key and (subject is None or d.subject == subject)]
    assert len(matches) == 1, f"expected one {key} deadline, found {len(matches)}"
    return matches[0]


def events(case: CaseView, kind: str, key: str | None = None) -> list[CaseEvent]:
    return [e for e in case.history if e.kind == kind and (key is None or e.details.get("key") == key)]


# ---------------------------------------------------------------- the review and the action plan


def seed_case_row(engine, reference: str, opened_at: datetime) -> None:  # type: ignore[no-untyped-def]
    """The case's own row, as its workflow writes it first: a review or a plan started on its own needs it."""
    from activities.read_model import ReadModelActivities
    from safeguarding.domain.contracts import CaseChanges, CaseSummary

    ReadModelActivities(engine).record_case_changes(
        CaseChanges(
            version=1,
            stream="case",
            reference=reference,
            workflow_id=f"luton/case-{reference}",
            events=[],
            deadlines=[],
            tasks=[],
            case=CaseSummary(
                partnership="luton",
                policy_version="test",
                route="serious_incident_notification",
                stage="local_review",
                outcome="local_cspr",
                opened_at=opened_at,
                closed_at=None,
            ),
        )
    )


async def start_review(
    client: Client,
    task_queue: str,
    policy: Policy,
    decided_at: datetime,
    kind: str = "local_cspr",
    reference: str | None = None,
) -> WorkflowHandle:  # type: ignore[type-arg]
    from safeguarding.domain.record import Stream
    from safeguarding.domain.record import workflow_id_for as stream_id
    from safeguarding.domain.review import ReviewStart
    from workflows.review import ReviewWorkflow

    reference = reference or new_reference("CSPR")
    handle = await client.start_workflow(
        ReviewWorkflow.run,
        ReviewStart(
            reference=reference,
            policy=policy,
            facts={
                "route": "serious_incident_notification",
                "child_status": "neither",
                "child_died": False,
                "review_kind": kind,
            },
            kind=kind,
            methodology="Systems approach",
            decided_at=decided_at,
        ),
        id=stream_id(policy.partnership, reference, Stream.review),
        task_queue=task_queue,
    )
    await handle.execute_update(ReviewWorkflow.await_opened)
    return handle


async def review_step(handle: WorkflowHandle, actor: Actor, step: BaseModel) -> StepOutcome:  # type: ignore[type-arg]
    """One step on a review, through its own update (as the API sends it)."""
    update = step_for(Process.review, type(step)).update
    return await handle.execute_update(update, by(actor, step), result_type=StepOutcome)


STEP_PATIENCE = 90  # seconds: a step that takes longer is stuck, and the test says where


async def plan_step(handle: WorkflowHandle, actor: Actor, step: BaseModel):  # type: ignore[no-untyped-def,type-arg]
    """One step on an action plan, as the API sends it. A step with no answer fails the test with the
    plan's last events (the Java time-skipping server can wedge a run under heavy load: see the note
    in tests/test_action_plan.py)."""
    name = step_for(Process.plan, type(step)).update
    update = handle.execute_update(name, by(actor, step), result_type=StepOutcome)
    try:
        return await asyncio.wait_for(update, STEP_PATIENCE)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise AssertionError(
            f"{type(step).__name__} had no answer within {STEP_PATIENCE} s; the plan's last events:\n"
            + await last_events(handle)
        ) from None


async def last_events(handle: WorkflowHandle, count: int = 25) -> str:
    """The newest events of every run of a workflow, for a test that has to say why it is stuck."""
    lines = []
    description = await handle.describe()
    run_id: str | None = description.run_id
    for _ in range(3):  # this run and the two before it
        if run_id is None:
            break
        history = await handle._client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        events = list(history.events)
        lines.append(f"run {run_id} ({len(events)} events):")
        lines += [f"  {e.event_id} {e.WhichOneof('attributes')}" for e in events[-count:]]
        first = events[0].workflow_execution_started_event_attributes
        run_id = first.continued_execution_run_id or None
    return "\n".join(lines)
