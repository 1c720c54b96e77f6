"""The partnership's reports: the closing-the-loop report (made by its workflow, twice a year on a
Schedule or when the Business Unit asks), stored reports to list and download, and the yearly report's
figures.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import Engine
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from api.access import BU, REPORT_READERS, allow, audited
from api.dependencies import ClientDep, EngineDep, PoliciesDep, SettingsDep
from api.partnerships import partnerships_read, require_served
from safeguarding.domain.fields import AGENCY_PATTERN, PlausibleDate, StrictModel
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy
from safeguarding.domain.reporting import (
    ReportMade,
    ReportRequest,
    add_years,
    report_workflow_id,
    reporting_year_start,
)
from safeguarding.queries import stored_reports
from safeguarding.queries.stored_reports import ReportListItem, report_body, report_item
from safeguarding.queries.yearly_figures import YearlyFigures, yearly_figures
from safeguarding.render.reports import render_html, render_pdf
from workflows.reporting import ClosingTheLoopWorkflow

router = APIRouter(tags=["reports"])

LONDON = ZoneInfo("Europe/London")
LONGEST_PERIOD_YEARS = 2
# The report is made while the request waits; past this the caller finds it in GET /reports later.
WAIT_FOR_REPORT_SECONDS = 120
ReportId = Annotated[str, Path(max_length=40, description="The report's id, from GET /reports.")]
# The downloaded page is the report alone: no scripts, nothing fetched from elsewhere.
REPORT_HEADERS = {
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}


class ClosingTheLoopAsked(StrictModel):
    partnership: str = Field(pattern=AGENCY_PATTERN)
    period_start: PlausibleDate
    period_end: PlausibleDate = Field(description="The period's last day (inclusive).")


def _policy(policies: dict[str, Policy], partnership: str) -> Policy:
    policy = policies.get(partnership)
    if policy is None:
        known = ", ".join(sorted(policies))
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown partnership {partnership!r}; known: {known}"
        )
    if policy.reports is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the policy of {partnership} has no 'reports' section: add when it reports (see DOMAIN.md, step 5)",
        )
    return policy


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"period_end ({end}) is before period_start ({start})"
        )
    today = datetime.now(LONDON).date()
    if end >= today:
        # A report is kept once made: one on a period still running would stay partial for good.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the period has not ended (period_end {end} is today or later); it can be reported from {end + timedelta(days=1)}",
        )
    if end >= add_years(start, LONGEST_PERIOD_YEARS):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"a report covers at most {LONGEST_PERIOD_YEARS} years; make one for each part of a longer period",
        )


@router.post(
    "/reports/closing-the-loop",
    status_code=status.HTTP_201_CREATED,
    response_model=ReportListItem,
    summary="Make the closing-the-loop report for a period (Business Unit)",
    responses={
        200: {"description": "The report for this period was made before: it is returned."},
        422: {"description": "An unknown partnership, a period ending before it starts, or over 2 years."},
        504: {"description": "Still being made: it appears in GET /reports when done."},
    },
)
async def make_closing_the_loop(
    body: ClosingTheLoopAsked,
    request: Request,
    response: Response,
    client: ClientDep,
    policies: PoliciesDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(allow(BU))],
) -> ReportListItem:
    """The learning and progress against recommendations of every review, by theme, for the period;
    stored as HTML and PDF, and the Business Unit told where to download it. Asking again for the same
    period returns the report made the first time."""

    async def made() -> ReportListItem:
        policy = _policy(policies, body.partnership)
        require_served(actor, body.partnership, policies)
        _check_period(body.period_start, body.period_end)
        try:
            handle = await client.start_workflow(
                ClosingTheLoopWorkflow.run,
                ReportRequest(
                    partnership=body.partnership,
                    partnership_name=policy.name,
                    period_start=body.period_start,
                    period_end=body.period_end,
                    requested_by=actor.user_id,
                    rules=policy.reports,  # type: ignore[arg-type]  (checked by _policy)
                    timezone=policy.timezone,
                    themes=policy.themes,
                ),
                id=report_workflow_id(body.partnership, body.period_start, body.period_end),
                task_queue=settings.task_queue,
                # A run for this period in flight is joined; a finished one runs again and finds its report.
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            result: ReportMade = await asyncio.wait_for(handle.result(), timeout=WAIT_FOR_REPORT_SECONDS)
        except TimeoutError:
            raise HTTPException(
                status.HTTP_504_GATEWAY_TIMEOUT,
                "the report is still being made; it appears in GET /reports when it is done",
            ) from None
        except WorkflowFailureError as failure:
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY, f"the report could not be made: {failure.cause or failure}"
            ) from None
        except RPCError as error:
            if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE, "the workflow service is unavailable; try again"
                ) from None
            raise
        if not result.new:
            response.status_code = status.HTTP_200_OK
        return report_item(result)

    period = f"{body.partnership} {body.period_start} to {body.period_end}"
    return await audited(request, actor, None, f"closing-the-loop report for {period}", made())


@router.get(
    "/reports",
    response_model=list[ReportListItem],
    summary="List the stored reports (Business Unit, managers, Independent Scrutineer, JCRG)",
)
async def list_reports(
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
    partnership: Annotated[
        str | None, Query(pattern=AGENCY_PATTERN, description="One of the reader's partnerships.")
    ] = None,
    kind: Literal["closing_the_loop", "yearly_figures"] | None = None,
) -> list[ReportListItem]:
    """The reports of the reader's partnerships, newest period first; their metadata and where to
    download them, never their bodies."""
    scope = partnerships_read(actor, partnership, policies)
    return await run_in_threadpool(stored_reports.list_reports, engine, scope, kind)


@router.get(
    "/reports/yearly-figures",
    response_model=YearlyFigures,
    summary="The yearly report's figures (Business Unit, managers, Independent Scrutineer, JCRG)",
    responses={
        200: {
            "content": {"application/json": {}, "text/html": {}, "application/pdf": {}},
            "description": "The figures; as an HTML page or a PDF with format=html or format=pdf.",
        },
        422: {"description": "An unknown partnership, or a year out of range."},
    },
)
async def get_yearly_figures(
    request: Request,
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
    partnership: Annotated[str, Query(pattern=AGENCY_PATTERN)],
    year: Annotated[
        int, Query(ge=2000, le=2100, description="The calendar year the reporting year starts in.")
    ],
    format: Literal["json", "html", "pdf"] = "json",
) -> YearlyFigures | Response:
    """Notifications, referrals and their outcomes, rapid reviews, CSPRs and actions by theme for the
    reporting year that starts in ``year`` (e.g. 2026: 1 April 2026 to 31 March 2027), as recorded at its
    end, or now for a year still running."""

    async def figures() -> YearlyFigures | Response:
        _policy(policies, partnership)
        require_served(actor, partnership, policies)
        made = await run_in_threadpool(_figures, engine, policies[partnership], year)
        if format == "json":
            return made
        html = render_html(made)
        if format == "html":
            return Response(html, media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)
        pdf = await run_in_threadpool(render_pdf, html)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                **REPORT_HEADERS,
                "Content-Disposition": f'attachment; filename="yearly-figures-{partnership}-{year}.pdf"',
            },
        )

    return await audited(request, actor, None, f"yearly figures {partnership} {year} ({format})", figures())


def _figures(engine: Engine, policy: Policy, year: int) -> YearlyFigures:
    start = reporting_year_start(year, policy.reports)  # type: ignore[arg-type]
    return yearly_figures(
        engine,
        policy.partnership,
        start,
        timezone=policy.timezone,
        partnership_name=policy.name,
        themes=policy.themes,
    )


@router.get(
    "/reports/yearly-figures/side-by-side",
    response_model=list[YearlyFigures],
    summary="Several partnerships' yearly figures side by side (those the reader's token names)",
    responses={422: {"description": "An unknown partnership, or a year out of range."}},
)
async def get_yearly_figures_side_by_side(
    request: Request,
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
    year: Annotated[
        int, Query(ge=2000, le=2100, description="The calendar year the reporting years start in.")
    ],
    partnership: Annotated[
        list[str] | None,
        Query(description="Which of the reader's partnerships (repeat); all of them if none is given."),
    ] = None,
) -> list[YearlyFigures]:
    """For the pan-area assurance group: a manager whose token names several partnerships reads their
    figures for the same reporting year together. Only read: nothing here changes anything."""

    async def figures() -> list[YearlyFigures]:
        chosen = partnership or list(actor.partnerships)
        for code in chosen:
            _policy(policies, code)
            require_served(actor, code, policies)
        return [
            await run_in_threadpool(_figures, engine, policies[code], year) for code in dict.fromkeys(chosen)
        ]

    chosen_words = ", ".join(partnership or actor.partnerships)
    return await audited(request, actor, None, f"yearly figures {chosen_words} {year}", figures())


def _body(engine: Engine, partnerships: list[str], report: str, pdf: bool) -> tuple[str, str | bytes]:
    found = report_body(engine, partnerships, report, pdf)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report {report}")
    return found


@router.get(
    "/reports/{report}.html",
    response_class=Response,
    summary="Read a stored report (Business Unit, managers, Independent Scrutineer, JCRG)",
    responses={200: {"content": {"text/html": {}}}, 404: {"description": "No such report."}},
)
async def report_html(
    report: ReportId,
    request: Request,
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
) -> Response:
    """The report as the accessible HTML page it was stored as. Every download is in the audit log."""
    _, html = await audited(
        request,
        actor,
        None,
        f"report {report} (html)",
        run_in_threadpool(_body, engine, actor.partnerships, report, False),
    )
    return Response(html, media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)


@router.get(
    "/reports/{report}.pdf",
    response_class=Response,
    summary="Download a stored report as PDF (Business Unit, managers, Independent Scrutineer, JCRG)",
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "No such report."}},
)
async def report_pdf(
    report: ReportId,
    request: Request,
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*REPORT_READERS))],
) -> Response:
    """The report as the tagged PDF stored with it. Every download is in the audit log."""
    filename, pdf = await audited(
        request,
        actor,
        None,
        f"report {report} (pdf)",
        run_in_threadpool(_body, engine, actor.partnerships, report, True),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**REPORT_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
