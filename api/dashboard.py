"""The dashboard: server-rendered pages in the GOV.UK Design System, for managers, the Scrutineer and
everyone else who watches the cases. They read the SQL read model (``safeguarding/dashboard.py``), never
a workflow, and work without JavaScript.

Sign-in takes the same bearer token as the API (minted locally, or from the identity provider) and keeps
it in a cookie: HttpOnly (scripts cannot read it), SameSite=Strict (no other site's page or link sends
it) and Secure when the service is reached over https. Every page verifies it again, so an expired
token sends the person back to sign in, and each role sees what the API would show it.

Forms (sign in, sign out) are protected from cross-site request forgery by SameSite=Strict and by
checking that the request comes from this service: its Origin (or, lacking one, its Referer) must be
the service's public URL or the address the browser used, and a browser's Sec-Fetch-Site must not say
another site. A request that fails the check is refused with 403 and changes nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.access import AGENCY, REPORT_READERS, record
from api.pages import PageProblem, PageRoute, Viewer, _page, _refuse, _staff_only
from safeguarding.domain.case import Stage
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy
from safeguarding.queries.case_timeline import case_timeline
from safeguarding.queries.cases import case_list
from safeguarding.queries.quarterly_timeliness import timeliness_by_quarter
from safeguarding.queries.scope import Ambiguous, find_case
from safeguarding.queries.stored_reports import list_reports, report_body, yearly_processes
from safeguarding.queries.timeliness import timeliness
from safeguarding.queries.work import agency_work, overdue_by_agency
from safeguarding.render.pictures import case_deadlines_picture

router = APIRouter(include_in_schema=False, route_class=PageRoute, tags=["dashboard"])

REFERENCE = re.compile(CASE_REFERENCE_PATTERN)
AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


# ---------------------------------------------------------------- the pages


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/dashboard")
async def cases_page(
    request: Request, actor: Viewer, stage: str | None = None, page: str | None = None
) -> Response:
    """Staff: every case with its stage and next deadline, and this year's timeliness. A partner
    agency: its own work."""
    now, engine = _now(), request.app.state.engine
    if actor.role is AGENCY:
        work = await run_in_threadpool(agency_work, engine, actor.agency, actor.partnerships, now=now)  # type: ignore[arg-type]
        return _page(request, "agency.html", {"title": "Your agency's work", "actor": actor, "work": work})
    chosen = stage if stage in Stage.__members__ else None
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    cases = await run_in_threadpool(
        partial(case_list, partnerships=actor.partnerships), engine, now=now, stage=chosen, page=number
    )
    years = await run_in_threadpool(timeliness, engine, _own(request, actor), now=now)
    quarters = await run_in_threadpool(timeliness_by_quarter, engine, _own(request, actor), now=now)
    return _page(
        request,
        "cases.html",
        {
            "title": "Cases",
            "actor": actor,
            "cases": cases,
            "years": years,
            "quarterly": {q.partnership: q for q in quarters},
            "nav": "cases",
        },
    )


def _name(request: Request, partnership: str) -> str:
    policy = request.app.state.policies.get(partnership)
    return policy.name if policy is not None else partnership


def _own(request: Request, actor: Actor) -> dict[str, Policy]:
    """The policies of the reader's partnerships."""
    return {p: policy for p, policy in request.app.state.policies.items() if p in actor.partnerships}


@router.get("/dashboard/cases/{reference}")
async def case_page(
    request: Request, reference: str, actor: Viewer, partnership: str | None = None
) -> Response:
    """Staff: the case's timeline. A partner agency: the case's reference and stage and its own work on
    it; a contributing partnership's Business Unit, its own partnership's work on it. A case of another
    partnership, or one an agency has no work on, is not found, as one that does not exist."""
    now, engine = _now(), request.app.state.engine
    found = None
    if REFERENCE.match(reference) is not None:
        try:
            found = await run_in_threadpool(find_case, engine, actor, reference, partnership)
        except Ambiguous as several:
            raise PageProblem(
                409,
                "Which partnership's case?",
                f"Case {reference} is a case of each of {several}: add ?partnership= to the address.",
            ) from None
    if found is None:
        await record(request, actor, "GET /dashboard/cases/{reference}", "not_found", 404, reference)
        raise PageProblem(404, "Case not found", "There is no case with this reference.")
    actor = actor.acting_in(found.acting_in)
    if actor.role is AGENCY or found.contributing:
        owner = actor.agency if actor.role is AGENCY else None
        directories = actor.partnerships if actor.role is AGENCY else [found.acting_in]
        work = await run_in_threadpool(
            agency_work, engine, owner, directories, now=now, case=(found.partnership, reference)
        )
        await record(request, actor, "GET /dashboard/cases/{reference}", "read", 200, reference)
        return _page(
            request,
            "agency_case.html",
            {
                "title": f"Case {reference}",
                "actor": actor,
                "reference": reference,
                "work": work,
                "lead": _name(request, found.partnership) if found.contributing else None,
            },
        )
    await _staff_only(request, actor, reference)
    timeline = await run_in_threadpool(case_timeline, engine, found.partnership, reference, now=now)
    if timeline is None:
        raise PageProblem(404, "Case not found", "There is no case with this reference.")
    await record(request, actor, "GET /dashboard/cases/{reference}", "read", 200, reference)
    return _page(
        request,
        "case.html",
        {
            "title": f"Case {reference}",
            "actor": actor,
            "case": timeline,
            "deadlines_picture": case_deadlines_picture(timeline, now),
            "partnership": getattr(request.app.state.policies.get(timeline.partnership), "name", None),
            "nav": "cases",
        },
    )


@router.get("/dashboard/overdue")
async def overdue_page(
    request: Request, actor: Viewer, agency: str | None = None, page: str | None = None
) -> Response:
    """Staff: how much open work past its due date each agency has, and one agency's (the one with the
    most, or the one chosen) a page at a time."""
    await _staff_only(request, actor)
    chosen = agency if agency and AGENCY_CODE.match(agency) else None
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    work = await run_in_threadpool(
        partial(overdue_by_agency, agency=chosen, page=number),
        request.app.state.engine,
        actor.partnerships,
        now=_now(),
    )
    return _page(
        request,
        "overdue.html",
        {"title": "Overdue work by agency", "actor": actor, "work": work, "nav": "overdue"},
    )


# ---------------------------------------------------------------- reports


def _report_readers(actor: Actor) -> bool:
    return actor.role in REPORT_READERS


@router.get("/dashboard/reports", include_in_schema=False)
async def reports_page(request: Request, actor: Viewer) -> Response:
    """The stored reports, to open in the browser (the emails about a new report link here)."""
    if not _report_readers(actor):
        raise await _refuse(request, actor, None, f"role {actor.role.value} does not read reports")
    engine = request.app.state.engine
    reports = await run_in_threadpool(list_reports, engine, actor.partnerships, "closing_the_loop")
    processes = await run_in_threadpool(yearly_processes, engine, actor.partnerships)
    return _page(
        request,
        "reports.html",
        {
            "title": "Reports",
            "actor": actor,
            "reports": reports,
            "yearly": processes,
            "names": {p: policy.name for p, policy in _own(request, actor).items()},
            "nav": "reports",
        },
    )


@router.get("/dashboard/reports/{report}.{form}", include_in_schema=False)
async def report_download(request: Request, report: str, form: str, actor: Viewer) -> Response:
    if not _report_readers(actor):
        raise await _refuse(request, actor, None, f"role {actor.role.value} does not read reports")
    if form not in ("pdf", "html"):
        raise PageProblem(404, "Page not found", "There is no such report.")

    found = await run_in_threadpool(
        report_body, request.app.state.engine, actor.partnerships, report, form == "pdf"
    )
    if found is None:
        raise PageProblem(404, "Page not found", "There is no such report.")
    _, body = found
    await record(request, actor, f"GET /dashboard/reports/{{report}}.{form}", "read", 200, None, report)
    if form == "pdf":
        return Response(
            body,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{report}.pdf"', "Cache-Control": "no-store"},
        )
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
        },
    )
