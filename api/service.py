"""About the service itself: health, and the deadline policies it enforces."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.access import EVERYONE, allow
from api.dependencies import ClientDep, EngineDep, PoliciesDep
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy

router = APIRouter(tags=["service"])


class Health(BaseModel):
    temporal: bool
    database: bool
    down: list[str] = []  # the dependencies that cannot be reached, by name


HEALTH_CHECK_TIMEOUT = 5.0  # seconds: a dependency that does not answer in time is down


@router.get(
    "/health",
    response_model=Health,
    summary="Can the service do its work?",
    responses={503: {"model": Health, "description": "A dependency is down: ``down`` names it."}},
)
async def health(client: ClientDep, engine: EngineDep) -> Any:
    """Both dependencies, each checked on its own: 200 when both answer; 503 with ``Retry-After`` and
    the names of those that do not (``down``: temporal, database)."""

    def database_answers() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    async def checked(check: Any) -> bool:
        try:
            return bool(await asyncio.wait_for(check, HEALTH_CHECK_TIMEOUT))
        except Exception:  # any failure to reach it means "down"
            return False

    temporal_ok, database_ok = await asyncio.gather(
        checked(client.service_client.check_health()), checked(run_in_threadpool(database_answers))
    )
    down = [name for name, ok in (("temporal", temporal_ok), ("database", database_ok)) if not ok]
    answer = Health(temporal=temporal_ok, database=database_ok, down=down)
    if down:
        return JSONResponse(
            {**answer.model_dump(), "detail": f"unavailable: {', '.join(down)}"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    return answer


@router.get("/policies/{partnership}", response_model=Policy, summary="A partnership's deadline policy")
def get_policy(
    partnership: Annotated[str, Path(max_length=64)],
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> Policy:
    """Every deadline the service enforces for this partnership, with its source."""
    if partnership not in policies:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no policy for partnership {partnership!r}")
    return policies[partnership]
