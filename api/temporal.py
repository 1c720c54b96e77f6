"""Temporal calls as the API makes them, with Temporal's errors turned into HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding.case import RefusalKind
from workflows.incident import CaseWorkflow, workflow_id_for

_STATUS_FOR_REFUSAL = {
    RefusalKind.not_allowed_now.value: status.HTTP_409_CONFLICT,
    RefusalKind.not_found.value: status.HTTP_404_NOT_FOUND,
    RefusalKind.invalid.value: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def case_handle(client: Client, reference: str) -> WorkflowHandle[CaseWorkflow, Any]:
    return client.get_workflow_handle_for(CaseWorkflow.run, workflow_id_for(reference))


def no_such_case(reference: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no case with reference {reference}")


async def query_case(client: Client, reference: str, query: Any) -> Any:
    try:
        return await case_handle(client, reference).query(query)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise no_such_case(reference) from None
        raise
    except WorkflowQueryFailedError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"case {reference} could not be read: {error}"
        ) from None


async def run_step(client: Client, reference: str, update: Any, step: Any) -> Any:
    """Send one human step to the case; a refusal becomes 409/404/422 with the workflow's reason."""
    handle = case_handle(client, reference)
    try:
        return await handle.execute_update(update, step)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type in _STATUS_FOR_REFUSAL:
            raise HTTPException(_STATUS_FOR_REFUSAL[cause.type], cause.message) from None
        raise
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        # The workflow of a closed case has completed: say so rather than "not found".
        try:
            description = await handle.describe()
        except RPCError:
            raise no_such_case(reference) from None
        if description.status is not WorkflowExecutionStatus.RUNNING:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"case {reference} is closed and all its deadlines are settled"
            ) from None
        raise


async def wait_until_open(client: Client, reference: str) -> Any:
    """The case once its opening is complete; a case whose workflow has ended is read as it stands."""
    try:
        return await case_handle(client, reference).execute_update(CaseWorkflow.await_opened)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
    return await query_case(client, reference, CaseWorkflow.view)
