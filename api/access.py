"""Who may call what. Each route declares its roles with ``allow(...)`` as a dependency; the workflows
check the same process rules again, so a call that slips past one layer is refused by the other.

Who may take each step of the process is the table in ``safeguarding/domain/steps.py``: a step's route
reads it with ``allow_step``, and its workflow's validator reads the same row.

Roles (DOMAIN.md): the Business Unit runs the process; the JCRG decides; the three statutory partners sign
off; the Independent Scrutineer reads everything and decides nothing; partner agencies see their own
work; managers read.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.temporal import just_opened
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.steps import Step, roles_of
from safeguarding.platform.identity import NotAuthenticated
from safeguarding.queries.scope import Ambiguous, CaseAt, find_case
from safeguarding.store.audit import AuditEntry, append, now
from safeguarding.store.tables import AuditRow

BU = Role.business_unit
JCRG_MEMBER, JCRG_CHAIR = Role.jcrg_member, Role.jcrg_chair
PARTNER = Role.safeguarding_partner
SCRUTINEER = Role.independent_scrutineer
AGENCY = Role.partner_agency
MANAGER = Role.manager

JCRG = (JCRG_MEMBER, JCRG_CHAIR)
# Who reads the partnership's reports: its leaders (the partners among them) and those who oversee it.
REPORT_READERS = (BU, MANAGER, SCRUTINEER, *JCRG, PARTNER)
ADULTS_BOARD = Role.adults_board_representative
# Everyone but partner agencies (the adults board's representative reads cases as the partners do).
STAFF = (BU, JCRG_MEMBER, JCRG_CHAIR, PARTNER, SCRUTINEER, MANAGER, ADULTS_BOARD)
EVERYONE = (*STAFF, AGENCY)

REFERENCE = re.compile(CASE_REFERENCE_PATTERN)

_bearer = HTTPBearer(auto_error=False, description="A token from the partnership's identity provider.")


def _unauthenticated(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Actor:
    if credentials is None:
        raise _unauthenticated("sign in: send a bearer token (Authorization: Bearer <token>)")
    verified = getattr(request.state, "verified", None)  # by the Idempotency-Key middleware
    if verified is not None and verified[0] == credentials.credentials:
        actor = verified[1]
    else:
        try:
            actor = await request.app.state.verifier.verify_async(credentials.credentials)
        except NotAuthenticated as problem:
            raise _unauthenticated(str(problem)) from None
    request.state.actor = actor
    return actor


async def record(
    request: Request,
    actor: Actor,
    action: str,
    outcome: str,
    status_code: int,
    case_reference: str | None = None,
    reason: str | None = None,
) -> None:
    entry = AuditEntry(
        at=now(),
        user_id=_fitted(actor.user_id, AuditRow.user_id),
        role=actor.role.value,
        agency=_fitted(actor.agency, AuditRow.agency),
        partnership=_fitted(actor.partnership or next(iter(actor.partnerships), None), AuditRow.partnership),
        action=_fitted(action, AuditRow.action),
        case_reference=_fitted(case_reference, AuditRow.case_reference),
        outcome=outcome,
        status_code=status_code,
        reason=reason,
    )
    await run_in_threadpool(append, request.app.state.engine, entry)
    counted(request, entry.action, outcome)


def _fitted(value: str | None, column: Any) -> str | None:
    """What a request named, cut to its column's width and marked so: a reference or a token's claim
    longer than any real one is refused, and the refusal is still recorded."""
    width = column.type.length
    if value is None or len(value) <= width:
        return value
    return value[: width - 1] + "…"


def audit_action(request: Request) -> str:
    """The request in the audit log's words: its method and route."""
    return _action(request)


def _action(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def allow(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """The route's roles. Anyone else gets 403, and the attempt is recorded in the audit log.

    On a route of one case (``{reference}``, or a task's ``{task_id}``) the case is found first, among
    the actor's partnerships: another partnership's case is 404 for every role, exactly as one that does
    not exist, and the attempt is audited. The actor then acts in the case's partnership (or the
    contributing one they are of); the route reads the case with ``CaseDep``."""

    async def permitted(request: Request, actor: Annotated[Actor, Depends(authenticated)]) -> Actor:
        reference = request.path_params.get("reference") or _reference_of_task(request)
        # A malformed reference is no case's: the route's own validation answers it (422).
        if reference is not None and REFERENCE.match(reference):
            case = await _find(request, actor, reference)
            actor = actor.acting_in(case.acting_in)
            request.state.actor = actor
        partnership = request.path_params.get("partnership")
        if actor.role not in roles:
            await record(
                request,
                actor,
                _action(request),
                "denied",
                403,
                reference,
                f"role {actor.role.value} not allowed",
            )
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"a {actor.role.value} may not do this; it is for: {', '.join(r.value for r in roles)}",
            )
        if partnership is not None:  # a route of one partnership's (its yearly report, its policy)
            actor = await _in_partnership(request, actor, partnership)
        return actor

    permitted.roles = roles  # type: ignore[attr-defined]  (read by the table-driven test)
    return permitted


async def _find(request: Request, actor: Actor, reference: str) -> CaseAt:
    wanted = request.query_params.get("partnership")
    engine = request.app.state.engine
    try:
        case = await run_in_threadpool(find_case, engine, actor, reference, wanted)
    except Ambiguous as several:
        await record(request, actor, _action(request), "refused", 409, reference, "ambiguous reference")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{reference} is a case of each of {several}: say which with ?partnership=",
        ) from None
    if case is None and actor.role is not Role.partner_agency:
        case = await just_opened(request.app.state.client, actor, reference, wanted)
    if case is None:
        await record(request, actor, _action(request), "not_found", 404, reference, "no such case")
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case with reference {reference}")
    request.state.case = case
    return case


async def _in_partnership(request: Request, actor: Actor, partnership: str) -> Actor:
    """The actor acts in ``partnership`` if the token names it; another partnership's is 404 (an
    unknown one 422, naming the known ones), and the attempt is audited."""
    policies = request.app.state.policies
    if partnership not in policies:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"unknown partnership {partnership!r}; known: {', '.join(sorted(policies))}",
        )
    if partnership not in actor.partnerships:
        await record(request, actor, _action(request), "not_found", 404, None, f"not of {partnership}")
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"nothing of {partnership} for you: your token names {', '.join(actor.partnerships)}",
        )
    actor = actor.acting_in(partnership)
    request.state.actor = actor
    return actor


def current_case(request: Request) -> CaseAt:
    """The case the route's ``allow`` found (a route of one case only)."""
    case = getattr(request.state, "case", None)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return case


CaseDep = Annotated[CaseAt, Depends(current_case)]


def allow_step(*steps: Step) -> Callable[..., Awaitable[Actor]]:
    """The route of a step: who may take it comes from the table of steps, which the workflows read
    too (a route taking one of several steps lets in anyone who takes one; the step checks which)."""
    return allow(*roles_of(*steps))


def _reference_of_task(request: Request) -> str | None:
    task_id = request.path_params.get("task_id", "")
    return task_id.split(".", 1)[0] if "." in task_id else None


async def audited(
    request: Request,
    actor: Actor,
    reference: str | None,
    reason: str | None,
    call: Awaitable[Any],
    *,
    accepted_by_workflow: bool = False,
) -> Any:
    """Take a step and record it, accepted or refused, with the reason the person gave. A workflow's
    step is recorded by the workflow itself once accepted (as durable as the step); here only its
    refusal. A 5xx is no answer about the step (it may yet be taken): not recorded as refused. If a
    refusal cannot be recorded, the database error answers 503 (nothing was done)."""
    try:
        result = await call
    except HTTPException as refusal:
        if refusal.status_code < 500:
            await record(request, actor, _action(request), "refused", refusal.status_code, reference, reason)
        raise
    if accepted_by_workflow:
        counted(request, _action(request), "accepted")
    else:
        await record(request, actor, _action(request), "accepted", 200, reference, reason)
    return result


def counted(request: Request, action: str, outcome: str) -> None:
    """The answer in this process's metrics (``api/metrics.py``): the route and the outcome, nothing else."""
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.answers.labels(action, outcome).inc()
