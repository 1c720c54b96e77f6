"""About the service itself: health, and the deadline policies it enforces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
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


@router.get("/health", response_model=Health, summary="Can the service do its work?")
async def health(client: ClientDep, engine: EngineDep) -> Health:
    try:
        temporal_ok = await client.service_client.check_health()
    except Exception:  # any failure to reach Temporal means "not healthy"
        temporal_ok = False
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database_ok = True
    except Exception:  # likewise for the database
        database_ok = False
    if not (temporal_ok and database_ok):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"temporal={temporal_ok} database={database_ok}"
        )
    return Health(temporal=temporal_ok, database=database_ok)


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
