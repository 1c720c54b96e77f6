"""POST /cases/import: bring in cases already in progress, with their past history (Business Unit).

The same import as ``python -m safeguarding.onboard`` (``safeguarding/onboarding.py``): every row checked
first and nothing of a refused row imported; the same file imported again changes nothing.
"""

# No ``from __future__ import annotations``: FastAPI must see the route's real types.

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from api.access import BU, allow, record
from api.dependencies import ClientDep, EngineDep, PoliciesDep, SettingsDep
from api.partnerships import require_served
from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.onboarding import (
    MAX_ROWS,
    ImportReport,
    RowOutcome,
    RowReport,
    UnreadableFile,
    read_rows,
)
from safeguarding.domain.people import Actor
from safeguarding.onboarding import Service, import_rows

router = APIRouter(tags=["cases"])

MAX_BYTES = 20 * 1024 * 1024

_EXAMPLE_ROW = {
    "reference": "LSCP-26-031",
    "route": "serious_incident_notification",
    "la_aware_at": "2026-10-05T10:00:00+01:00",
    "referring_agency": "luton-childrens-social-care",
    "child_status": "neither",
    "child_died": False,
    "summary": "Infant admitted with unexplained injuries.",
    "notified": {"panel": "2026-10-06T09:00:00+01:00"},
    "history": [
        {
            "step": "request_information",
            "occurred_at": "2026-10-07T10:00:00+01:00",
            "agencies": ["luton-schools"],
            "asked_for": "Chronology of involvement",
        }
    ],
}

_BODY = {
    "requestBody": {
        "required": True,
        "description": "One row per case: its opening and its history (the format: examples/onboarding/README.md).",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}, "minItems": 1, "maxItems": MAX_ROWS},
                "example": [_EXAMPLE_ROW],
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/cases/import",
    response_model=ImportReport,
    summary="Bring in cases already in progress, with their history (Business Unit)",
    responses={
        200: {
            "description": "The report, row by row: would open, opened, already imported, or refused and why."
        },
        403: {"description": "Only the Business Unit imports cases."},
        404: {"description": "The partnership asked for is not one the token names."},
        413: {"description": "The file is too large."},
        422: {"description": "The file cannot be read at all (not JSON or CSV, no rows): nothing imported."},
    },
    openapi_extra=_BODY,
)
async def import_cases(
    request: Request,
    actor: Annotated[Actor, Depends(allow(BU))],
    client: ClientDep,
    engine: EngineDep,
    policies: PoliciesDep,
    settings: SettingsDep,
    dry_run: Annotated[bool, Query(description="Check every row and report; import nothing.")] = False,
    partnership: Annotated[
        str | None,
        Query(pattern=AGENCY_PATTERN, description="The partnership the rows are of (they may leave it out)."),
    ] = None,
) -> ImportReport:
    """JSON (a list of cases) or CSV (``Content-Type: text/csv``). Each row is refused with its reason (and
    the step of its history at fault) or imported whole; a row whose case exists with the same facts is
    already imported (its steps are sent again and taken once)."""
    if partnership is not None:
        require_served(actor, partnership, policies)
    body = (
        await request.body()
    )  # at most MAX_BYTES: the API refuses more before reading it (api/body_limit.py)
    kind = "csv" if "csv" in request.headers.get("content-type", "") else "json"
    try:
        rows = read_rows(body.decode("utf-8-sig"), kind)
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the file is not UTF-8 text") from None
    except UnreadableFile as problem:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(problem)) from None

    async def audit(row: RowReport) -> None:
        """Each row opened or refused (its accepted steps are audited by its workflows)."""
        refused = row.outcome is RowOutcome.refused
        await record(
            request,
            actor.acting_in(row.partnership) if row.partnership else actor,
            "POST /cases/import",
            "refused" if refused else "accepted",
            422 if refused else 201,
            row.reference,
            row.reason,
        )

    return await import_rows(
        rows,
        Service(client, engine, policies, settings.task_queue),
        actor,
        dry_run=dry_run,
        partnership=partnership,
        audit=audit,
    )
