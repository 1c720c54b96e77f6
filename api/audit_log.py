"""The audit log, for the Independent Scrutineer: the entries of their partnerships, and whether the
chain (one for the whole deployment) still holds."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.access import SCRUTINEER, allow
from api.dependencies import EngineDep
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.store.audit import AuditRecord, ChainCheck, entries, verify

router = APIRouter(tags=["audit"])


@router.get(
    "/audit", response_model=list[AuditRecord], summary="Export the audit log (Independent Scrutineer)"
)
async def export_audit(
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(SCRUTINEER))],
    after_id: Annotated[int, Query(ge=0, description="Entries after this id (for paging).")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    case_reference: Annotated[str | None, Query(pattern=CASE_REFERENCE_PATTERN)] = None,
) -> list[AuditRecord]:
    """Who did what, in which role and agency, on which case, when, with the reason given; each entry with
    the hash of the one before it. Only the entries of the partnerships the token names (one chain runs
    through every partnership's entries: ``/audit/verify`` checks it whole)."""
    return await run_in_threadpool(
        partial(entries, partnerships=actor.partnerships),
        engine,
        after_id=after_id,
        limit=limit,
        case_reference=case_reference,
    )


@router.get(
    "/audit/verify", response_model=ChainCheck, summary="Check the audit chain (Independent Scrutineer)"
)
async def verify_audit(engine: EngineDep, actor: Annotated[Actor, Depends(allow(SCRUTINEER))]) -> ChainCheck:
    return await run_in_threadpool(verify, engine)
