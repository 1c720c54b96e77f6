"""Temporal calls as the API makes them, with Temporal's errors turned into HTTP answers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream, workflow_id_for
from safeguarding.domain.refusal import RefusalKind
from safeguarding.queries.scope import CaseAt
from safeguarding.store.directory import unknown_agencies
from workflows.incident import CaseWorkflow

_STATUS_FOR_REFUSAL = {
    RefusalKind.not_allowed_now.value: status.HTTP_409_CONFLICT,
    RefusalKind.forbidden.value: status.HTTP_403_FORBIDDEN,
    RefusalKind.not_found.value: status.HTTP_404_NOT_FOUND,
    RefusalKind.invalid.value: status.HTTP_422_UNPROCESSABLE_CONTENT,
}
_STREAM_NAME = {Stream.case: "case", Stream.review: "review", Stream.plan: "action plan"}


def case_handle(client: Client, case: CaseAt, stream: Stream = Stream.case) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(case.workflow(stream))


def no_such_case(reference: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no case with reference {reference}")


async def just_opened(client: Client, actor: Actor, reference: str, wanted: str | None) -> CaseAt | None:
    """A case of the actor's partnerships that its workflow has but the read model does not show yet
    (opened a moment ago); None if there is none."""
    for partnership in actor.partnerships:
        if wanted is not None and partnership != wanted:
            continue
        workflow_id = workflow_id_for(partnership, reference)
        try:
            await client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                continue
            raise _temporal_unavailable(error) or error from None
        return CaseAt(partnership, reference, workflow_id, partnership)
    return None


def _temporal_unavailable(error: Exception) -> HTTPException | None:
    """The workflow service (or the worker behind it) cannot answer now: try again later."""
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT, "the case did not answer in time; try again shortly"
        )
    if isinstance(error, RPCError):
        if error.status is RPCStatusCode.RESOURCE_EXHAUSTED:
            return HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many steps in flight on this case; try again shortly",
                headers={"Retry-After": "2"},
            )
        if error.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the workflow service is unavailable; nothing was done: try again shortly",
                headers={"Retry-After": "5"},
            )
    return None


async def _missing(client: Client, case: CaseAt, stream: Stream) -> HTTPException:
    """Say why a workflow is not there: no such case, or the case has not reached this part yet (said
    only to those who find the case at all)."""
    if stream is Stream.case:
        return no_such_case(case.reference)
    try:
        await case_handle(client, case).describe()
    except RPCError:
        return no_such_case(case.reference)
    return HTTPException(
        status.HTTP_409_CONFLICT, f"case {case.reference} has no {_STREAM_NAME[stream]} (yet)"
    )


async def query_case(client: Client, case: CaseAt, query: Any, stream: Stream = Stream.case) -> Any:
    try:
        return await case_handle(client, case, stream).query(query)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise await _missing(client, case, stream) from None
        raise _temporal_unavailable(error) or error from None
    except WorkflowQueryFailedError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"case {case.reference} could not be read: {error}",
            headers={"Retry-After": "5"},
        ) from None


def agencies_not_in_directory(engine: Engine, partnership: str, codes: list[str]) -> list[str]:
    """Those of ``codes`` that are not active agencies of the partnership's directory."""
    with engine.connect() as connection:
        return unknown_agencies(connection, partnership, codes)


async def require_known_agencies(engine: Engine, partnership: str, body: Any) -> None:
    """Work goes only to agencies in the partnership's own directory (where their notifications are
    sent): an unknown or inactive code is refused before the case sees it (409: the directory, not the
    request's shape, says no; the Business Unit's PUT /agencies/{code} makes the same request good)."""
    codes = list(getattr(body, "agencies", None) or [])
    if isinstance(getattr(body, "agency", None), str):
        codes.append(body.agency)
    if not codes:
        return
    unknown = await run_in_threadpool(agencies_not_in_directory, engine, partnership, codes)
    if unknown:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"not an active agency of {partnership}'s partner directory: {', '.join(unknown)}; "
            "its Business Unit adds or reactivates one with PUT /agencies/{code}",
        )


def as_refusal(error: WorkflowUpdateFailedError) -> Exception:
    """A workflow's refusal as the HTTP answer that gives its reason; any other failure as it was."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in _STATUS_FOR_REFUSAL:
        return HTTPException(_STATUS_FOR_REFUSAL[cause.type], cause.message)
    return error


# A step the workflow service lost before the workflow accepted it is sent again this many times.
LOST_UPDATE_RETRIES = 3
LOST_UPDATE_PAUSE = 0.5  # seconds between


def _recovering(error: RPCError) -> bool:
    """The server refuses updates while the workflow's task is being retried (a worker died holding
    it): a passing state, not a fault."""
    return error.status is RPCStatusCode.FAILED_PRECONDITION and "Workflow Task in failed state" in str(error)


def unconfirmed(key: str | None) -> HTTPException:
    """A step sent but not confirmed in time: it may yet be taken, exactly once."""
    if key is None:
        return HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT,
            "the step was not confirmed in time and may still be taken: look at the case before "
            "trying again, or send steps with an Idempotency-Key so that a retry is always safe",
        )
    return HTTPException(
        status.HTTP_504_GATEWAY_TIMEOUT,
        f"the step was not confirmed in time and may still be taken: send the same request again "
        f"with Idempotency-Key {key} to get its one outcome",
        headers={"Idempotency-Key": key, "Retry-After": "5"},
    )


async def run_step(
    client: Client,
    case: CaseAt,
    update: Any,
    step: Any,
    stream: Stream = Stream.case,
    *,
    update_id: str | None = None,
    key: str | None = None,
    answer_within: float | None = None,
) -> Any:
    """Send one human step; a refusal becomes 409/403/404/422 with the workflow's reason. Sent with the
    request's update id (from its Idempotency-Key), a retry gets the step's one outcome from Temporal;
    not confirmed within ``answer_within`` seconds, 504 with the key to retry with."""
    handle = case_handle(client, case, stream)
    # One id for every attempt: the workflow takes an update id once.
    update_id = update_id or f"step-{uuid.uuid4()}"
    for attempt in range(LOST_UPDATE_RETRIES + 1):
        try:
            return await handle.execute_update(
                update,
                step,
                id=update_id,
                rpc_timeout=timedelta(seconds=answer_within) if answer_within else None,
            )
        except WorkflowUpdateFailedError as error:
            raise as_refusal(error) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            raise unconfirmed(key) from None
        except RPCError as error:
            if _recovering(error):
                # The case's worker went away mid-task and the server is retrying that task: it takes
                # no step until then (nothing was done). Shortly again, then 503.
                if attempt < LOST_UPDATE_RETRIES:
                    await asyncio.sleep(LOST_UPDATE_PAUSE * 2)
                    continue
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    "the case is recovering from a worker restart and took no step; try again shortly",
                    headers={"Retry-After": "5"},
                ) from None
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise _temporal_unavailable(error) or error from None
            # A workflow that has finished cannot take steps: say so rather than "not found".
            try:
                description = await handle.describe()
            except RPCError:
                raise await _missing(client, case, stream) from None
            if description.status is not WorkflowExecutionStatus.RUNNING:
                raise HTTPException(
                    status.HTTP_409_CONFLICT,
                    f"the {_STREAM_NAME[stream]} of case {case.reference} is finished",
                ) from None
            # The workflow runs but does not know the update: it was lost before it was accepted (its
            # worker died holding it), so it was never taken. Sent again under the same id.
            if attempt < LOST_UPDATE_RETRIES:
                await asyncio.sleep(LOST_UPDATE_PAUSE)
    raise unconfirmed(key)


async def wait_until_open(client: Client, case: CaseAt) -> Any:
    """The case once its opening is complete; a case whose workflow has ended is read as it stands."""
    try:
        return await case_handle(client, case).execute_update(CaseWorkflow.await_opened)
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:  # not an RPCError: it was a 500
        raise _temporal_unavailable(error) or error from None
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise _temporal_unavailable(error) or error from None
    return await query_case(client, case, CaseWorkflow.view)
