"""A dependency that is down is 503 with ``Retry-After``, never 500: the database (the read model, the
audit log, the idempotency keys) or the workflow service. Nothing was done; the same request, sent again
with its ``Idempotency-Key``, is safe."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request, status
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ProblemResponse, problem

log = structlog.get_logger(__name__)

RETRY_AFTER = "5"
_UNAVAILABLE_RPC = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


def _unavailable(what: str) -> ProblemResponse:
    return ProblemResponse(
        problem(503, f"{what} is unavailable; try again shortly (with the same Idempotency-Key)"),
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": RETRY_AFTER},
    )


async def _database_down(request: Request, error: Exception) -> ProblemResponse:
    if isinstance(error, DBAPIError) and not isinstance(error, (OperationalError, InterfaceError)):
        if not error.connection_invalidated:
            raise error  # a real fault (a constraint, a bad query): not an outage
    log.warning("api.database_unavailable", error=type(error).__name__, path=request.url.path)
    return _unavailable("the database")


async def _temporal_down(request: Request, error: Exception) -> ProblemResponse:
    recovering = (
        isinstance(error, RPCError)
        and error.status is RPCStatusCode.FAILED_PRECONDITION
        and "Workflow Task in failed state" in str(error)
    )  # a worker died holding the case's task; the server retries it
    if not isinstance(error, RPCError) or (error.status not in _UNAVAILABLE_RPC and not recovering):
        raise error
    log.warning("api.temporal_unavailable", status=error.status.name, path=request.url.path)
    return _unavailable("the workflow service")


def answer_outages(app: FastAPI) -> None:
    for error in (OperationalError, InterfaceError, PoolTimeout, DBAPIError):
        app.add_exception_handler(error, _database_down)
    app.add_exception_handler(RPCError, _temporal_down)
