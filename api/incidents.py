"""POST /incidents: open a case. One workflow per case reference, whatever happens to the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, select
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.access import BU, allow, audited
from api.dependencies import ClientDep, EngineDep, PoliciesDep, SettingsDep
from api.partnerships import require_known, require_served
from api.temporal import agencies_not_in_directory, query_case, wait_until_open
from safeguarding.domain.case import CaseOpening, CaseStart, CaseView
from safeguarding.domain.people import Actor
from safeguarding.domain.record import workflow_id_for
from safeguarding.queries.scope import CaseAt
from safeguarding.store.tables import CaseRow
from workflows.incident import CaseWorkflow

router = APIRouter(tags=["incidents"])

CLOCK_TOLERANCE = timedelta(minutes=5)


@router.post(
    "/incidents",
    status_code=status.HTTP_201_CREATED,
    response_model=CaseView,
    summary="Open a case (Business Unit)",
    responses={
        200: {"description": "A case with this reference and these facts exists already: it is returned."},
        409: {
            "description": "The reference is already used by a case with different facts, or the referring agency is not active in the partner directory, or a thematic review names a theme or cases the partnership does not have."
        },
        404: {"description": "The partnership is not one the token names."},
        422: {"description": "Malformed input, an unknown partnership, or a time in the future."},
    },
)
async def open_case(
    opening: CaseOpening,
    request: Request,
    response: Response,
    actor: Annotated[Actor, Depends(allow(BU))],
    client: ClientDep,
    engine: EngineDep,
    policies: PoliciesDep,
    settings: SettingsDep,
) -> CaseView:
    """Opens a case from a serious incident notification, an agency referral or a CDOP referral.

    Repeating the request is safe: the same reference with the same facts returns the existing case
    (200) and never starts a second workflow.
    """

    async def opened() -> CaseView:
        require_served(actor, opening.partnership, policies)
        for contribution in opening.contributors:
            require_known(contribution.partnership, policies)
        policy = policies[opening.partnership]
        latest = datetime.now(UTC) + CLOCK_TOLERANCE
        for field in ("la_aware_at", "referred_at"):
            value = getattr(opening, field)
            if value is not None and value > latest:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} ({value.isoformat()}) is in the future"
                )

        # The referring agency is one of the partnership's own (its directory), or the Business Unit
        # adds it first: a case is never opened from an agency nobody can reach.
        unknown = await run_in_threadpool(
            agencies_not_in_directory, engine, opening.partnership, [opening.referring_agency]
        )
        if unknown:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"referring_agency {opening.referring_agency!r} is not an active agency of "
                f"{opening.partnership}'s partner directory; its Business Unit adds it with PUT /agencies/{{code}}",
            )
        if opening.thematic is not None:
            await _check_thematic(engine, opening, policy)
        opener = actor.acting_in(opening.partnership)
        # A case opened before partnerships were kept apart keeps the workflow id it was started with.
        known = await run_in_threadpool(_workflow_of, engine, opening.partnership, opening.reference)
        case = CaseAt(
            opening.partnership,
            opening.reference,
            known or workflow_id_for(opening.partnership, opening.reference),
            opening.partnership,
        )
        try:
            if known is not None:
                raise WorkflowAlreadyStartedError(known, "CaseWorkflow")
            await client.start_workflow(
                CaseWorkflow.run,
                CaseStart(opening=opening, policy=policy, opened_by=opener),
                id=case.workflow_id,
                task_queue=settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            existing: CaseOpening = await query_case(client, case, CaseWorkflow.opening)
            if existing != opening:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"reference {opening.reference} is already used by a case opened with different facts; "
                    "check the reference, or read the case with GET /cases/{reference}",
                ) from None
            response.status_code = status.HTTP_200_OK
        return await wait_until_open(client, case)

    return await audited(request, actor.acting_in(opening.partnership), opening.reference, None, opened())


async def _check_thematic(engine: Engine, opening: CaseOpening, policy) -> None:  # type: ignore[no-untyped-def]
    """A thematic review's theme is one of the partnership's, and it covers cases of its own
    partnership (another partnership's case is named as one it does not have)."""
    scope = opening.thematic
    if scope.theme not in policy.themes:  # type: ignore[union-attr]
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"theme {scope.theme!r} is not one of {opening.partnership}'s themes: {', '.join(policy.themes)}",  # type: ignore[union-attr]
        )
    found = await run_in_threadpool(_cases_of, engine, opening.partnership, scope.cases)  # type: ignore[union-attr]
    missing = [c for c in scope.cases if c not in found]  # type: ignore[union-attr]
    if missing:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"a thematic review covers cases of {opening.partnership}: no case {', '.join(missing)} there",
        )


def _cases_of(engine: Engine, partnership: str, references: list[str]) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                select(CaseRow.reference).where(
                    CaseRow.partnership == partnership,
                    CaseRow.reference.in_(references),
                    CaseRow.route != "thematic_review",
                )
            ).scalars()
        )


def _workflow_of(engine: Engine, partnership: str, reference: str) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            select(CaseRow.workflow_id).where(
                CaseRow.partnership == partnership, CaseRow.reference == reference
            )
        ).scalar_one_or_none()
