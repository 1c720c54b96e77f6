"""What the partnership told whom about a case: each notification, its deliveries, and every attempt."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool

from api.access import AGENCY, EVERYONE, allow, current_case
from api.dependencies import EngineDep
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.queries.notifications import Notification, case_notifications

router = APIRouter(tags=["notifications"])


@router.get(
    "/cases/{reference}/notifications",
    response_model=list[Notification],
    summary="Notifications about a case and every delivery attempt (an agency sees its own)",
    responses={404: {"description": "No such case among the reader's partnerships (or their work)."}},
)
async def get_case_notifications(
    reference: Annotated[str, Path(pattern=CASE_REFERENCE_PATTERN)],
    request: Request,
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> list[Notification]:
    """Staff of the case's partnership see every notification; a partner agency what went to it; a
    contributing partnership's Business Unit what went to its own partnership's entries."""
    case = current_case(request)
    if actor.role is AGENCY:
        mine = partial(case_notifications, agency=actor.agency, directories=actor.partnerships)
    elif case.contributing:
        mine = partial(case_notifications, directories=[case.acting_in])
    else:
        mine = partial(case_notifications)
    return await run_in_threadpool(mine, engine, case.partnership, case.reference)
