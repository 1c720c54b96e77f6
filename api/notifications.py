"""What the partnership told whom about a case: each notification, its deliveries, and every attempt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.concurrency import run_in_threadpool

from api.access import AGENCY, EVERYONE, allow
from api.dependencies import EngineDep
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.queries.notifications import Notification, case_notifications

router = APIRouter(tags=["notifications"])


@router.get(
    "/cases/{reference}/notifications",
    response_model=list[Notification],
    summary="Notifications about a case and every delivery attempt (an agency sees its own)",
)
async def get_case_notifications(
    reference: Annotated[str, Path(pattern=CASE_REFERENCE_PATTERN)],
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> list[Notification]:
    agency = actor.agency if actor.role is AGENCY else None
    found = await run_in_threadpool(case_notifications, engine, reference, agency)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {reference}")
    return found
