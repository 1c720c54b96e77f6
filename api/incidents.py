"""POST /incidents: open a case. One workflow per case reference, whatever happens to the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.access import BU, allow, audited
from api.dependencies import ClientDep, PoliciesDep, SettingsDep
from api.temporal import query_case, wait_until_open
from safeguarding.domain.case import CaseOpening, CaseStart, CaseView
from safeguarding.domain.people import Actor
from workflows.incident import CaseWorkflow, workflow_id_for

router = APIRouter(tags=["incidents"])

CLOCK_TOLERANCE = timedelta(minutes=5)


@router.post(
    "/incidents",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseView,
    summary="Open a case (Business Unit)",
    responses={
        200: {"description": "A case with this reference and these facts exists already: it is returned."},
        409: {"description": "The reference is already used by a case with different facts."},
        422: {"description": "Malformed input, an unknown partnership, or a time in the future."},
    },
)
async def open_case(
    opening: CaseOpening,
    request: Request,
    response: Response,
    actor: Annotated[Actor, Depends(allow(BU))],
    client: ClientDep,
    policies: PoliciesDep,
    settings: SettingsDep,
) -> CaseView:
    """Opens a case from a serious incident notification, an agency referral or a CDOP referral.

    Repeating the request is safe: the same reference with the same facts returns the existing case
    (200) and never starts a second workflow.
    """

    async def opened() -> CaseView:
        policy = policies.get(opening.partnership)
        if policy is None:
            known = ", ".join(sorted(policies))
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"unknown partnership {opening.partnership!r}; known: {known}",
            )
        latest = datetime.now(UTC) + CLOCK_TOLERANCE
        for field in ("la_aware_at", "referred_at"):
            value = getattr(opening, field)
            if value is not None and value > latest:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} ({value.isoformat()}) is in the future"
                )

        try:
            await client.start_workflow(
                CaseWorkflow.run,
                CaseStart(opening=opening, policy=policy, opened_by=actor),
                id=workflow_id_for(opening.reference),
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            existing: CaseOpening = await query_case(client, opening.reference, CaseWorkflow.opening)
            if existing != opening:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"reference {opening.reference} is already used by a case opened with different facts; "
                    "check the reference, or read the case with GET /cases/{reference}",
                ) from None
            response.status_code = status.HTTP_200_OK
        return await wait_until_open(client, opening.reference)

    return await audited(request, actor, opening.reference, None, opened())
