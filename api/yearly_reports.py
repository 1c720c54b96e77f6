"""The yearly report's process: its deadlines, and the Business Unit recording publication and sending.
The process starts by itself when the reporting year ends (a Schedule); the Business Unit can start it
for a year too. The figures the report needs are at ``GET /reports/yearly-figures``."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import Field
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.access import BU, REPORT_READERS, allow, allow_step, audited
from api.dependencies import ClientDep, PoliciesDep
from api.idempotency import update_id_of
from api.partnerships import require_served
from api.temporal import as_refusal
from safeguarding.domain import steps
from safeguarding.domain.fields import AGENCY_PATTERN, StrictModel
from safeguarding.domain.people import Actor, Attributed
from safeguarding.domain.policy import Policy
from safeguarding.domain.yearly_report import (
    ReportPublished,
    ReportSent,
    YearlyStart,
    YearlyView,
    workflow_id,
    workflow_ids,
)
from workflows.yearly_report import YearlyReportWorkflow

router = APIRouter(tags=["reports"])

Partnership = Annotated[str, Path(pattern=AGENCY_PATTERN)]
Year = Annotated[int, Path(ge=2000, le=2100, description="The calendar year the reporting year starts in.")]


class StartYear(StrictModel):
    partnership: str = Field(pattern=AGENCY_PATTERN)
    year: int = Field(ge=2000, le=2100, description="The calendar year the reporting year starts in.")


def _start(policy: Policy, year: int) -> YearlyStart:
    if policy.reports is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{policy.partnership}'s policy sets no reporting"
        )
    month, day = (int(part) for part in policy.reports.reporting_year_starts.split("-"))
    return YearlyStart(
        partnership=policy.partnership,
        year_start=date(year, month, day),
        timezone=policy.timezone,
        working_days=policy.working_days,
        rules=policy.reports,
    )


def _policy(policies: dict[str, Policy], partnership: str, actor: Actor) -> Policy:
    """The policy of one of the actor's partnerships: an unknown one is 422, another's 403."""
    require_served(actor, partnership, policies)
    return policies[partnership]


async def _process(client: Client, partnership: str, year_start: date) -> WorkflowHandle[Any, Any] | None:
    """The partnership's process for the year (under an older code of it, if begun before)."""
    for process in workflow_ids(partnership, year_start):
        handle = client.get_workflow_handle(process)
        try:
            await handle.describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                continue
            raise
        return handle
    return None


@router.post(
    "/yearly-reports",
    response_model=YearlyView,
    status_code=201,
    summary="Start a yearly report's process (Business Unit)",
)
async def start_yearly_report(
    body: StartYear,
    request: Request,
    client: ClientDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(BU))],
) -> YearlyView:
    """For a reporting year that has ended (the Schedule starts it by itself); starting it again
    returns the one already running."""
    start = _start(_policy(policies, body.partnership, actor), body.year)

    async def begin() -> YearlyView:
        process = workflow_id(start.partnership, start.year_start)
        existing = await _process(client, start.partnership, start.year_start)
        if existing is not None:
            return await existing.query(YearlyReportWorkflow.view)
        try:
            handle = await client.start_workflow(
                YearlyReportWorkflow.run,
                start,
                id=process,
                task_queue=request.app.state.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                # One process per year, ever: a finished one is shown, never begun again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return await client.get_workflow_handle(process).query(YearlyReportWorkflow.view)
        for _ in range(50):
            view = await handle.query(YearlyReportWorkflow.view)
            if view.deadlines:
                return view
            await asyncio.sleep(0.1)
        return view

    return await audited(request, actor, None, f"yearly report {body.partnership} {body.year}", begin())


@router.get(
    "/yearly-reports/{partnership}/{year}", response_model=YearlyView, summary="A yearly report's process"
)
async def get_yearly_report(
    partnership: Partnership,
    year: Year,
    client: ClientDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
) -> YearlyView:
    start = _start(_policy(policies, partnership, actor), year)
    handle = await _process(client, partnership, start.year_start)
    if handle is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no yearly report process for {partnership} {year}")
    return await handle.query(YearlyReportWorkflow.view)


async def _step(
    client: ClientDep,
    policies: dict[str, Policy],
    partnership: str,
    year: int,
    update: Any,
    step: Attributed[Any],
    update_id: str | None = None,
) -> YearlyView:
    start = _start(_policy(policies, partnership, step.actor), year)
    handle = await _process(client, partnership, start.year_start)
    if handle is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no running yearly report process for {partnership} {year}"
        )
    try:
        # With the request's Idempotency-Key as its update id: a retry gets the step's one outcome.
        return await handle.execute_update(update, step, id=update_id)
    except WorkflowUpdateFailedError as error:
        raise as_refusal(error) from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no running yearly report process for {partnership} {year}"
            ) from None
        raise


@router.post(
    steps.RECORD_YEARLY_PUBLICATION.path,
    response_model=YearlyView,
    summary="The yearly report was published (Business Unit)",
)
async def record_published(
    partnership: Partnership,
    year: Year,
    body: ReportPublished,
    request: Request,
    client: ClientDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_YEARLY_PUBLICATION))],
) -> YearlyView:
    published = Attributed[ReportPublished](actor=actor.acting_in(partnership), decision=body)
    call = _step(
        client,
        policies,
        partnership,
        year,
        YearlyReportWorkflow.record_publication,
        published,
        update_id_of(request),
    )
    return await audited(request, actor, None, f"yearly report {partnership} {year} published", call)


@router.post(
    steps.RECORD_YEARLY_SENDING.path,
    response_model=YearlyView,
    summary="The yearly report was sent to the Panel and/or the DfE (Business Unit)",
)
async def record_sent(
    partnership: Partnership,
    year: Year,
    body: ReportSent,
    request: Request,
    client: ClientDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_YEARLY_SENDING))],
) -> YearlyView:
    sent = Attributed[ReportSent](actor=actor.acting_in(partnership), decision=body)
    call = _step(
        client, policies, partnership, year, YearlyReportWorkflow.record_sending, sent, update_id_of(request)
    )
    return await audited(request, actor, None, f"yearly report {partnership} {year} sent", call)
