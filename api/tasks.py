"""Agencies' work: their open tasks, and submitting a return."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.dependencies import ActorDep, ClientDep, EngineDep
from api.temporal import run_step
from safeguarding.case import AGENCY_PATTERN, Attributed, InformationReturn, TaskCompletion
from safeguarding.listings import TaskListItem, list_tasks
from workflows.incident import CaseWorkflow, StepOutcome

router = APIRouter(tags=["tasks"])

# A task id is "<case reference>.T<number>": the case it belongs to is read from the id itself.
TASK_ID = re.compile(r"^(?P<reference>[A-Za-z0-9][A-Za-z0-9-]{1,39})\.T[0-9]{1,6}$")


@router.get("/tasks", response_model=list[TaskListItem], summary="An agency's tasks (partner agency)")
def get_tasks(
    engine: EngineDep,
    agency: Annotated[str, Query(pattern=AGENCY_PATTERN, description="The agency whose tasks to list.")],
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|completed|withdrawn|all)$")
    ] = "open",
) -> list[TaskListItem]:
    """Open tasks by default, soonest due first, from the read model."""
    return list_tasks(engine, agency=agency, status=None if status_ == "all" else status_)


@router.post(
    "/tasks/{task_id}/complete",
    response_model=StepOutcome,
    summary="Submit a task's return (partner agency)",
    responses={404: {"description": "No such task."}, 409: {"description": "The task is not open."}},
)
async def complete_task(
    task_id: Annotated[str, Path(max_length=60)],
    completion: TaskCompletion,
    actor: ActorDep,
    client: ClientDep,
) -> StepOutcome:
    """Submits the agency's information return; the task's deadline is met at this moment."""
    match = TASK_ID.match(task_id)
    if match is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
    submission = InformationReturn(
        task_id=task_id, summary=completion.summary, documents=completion.documents
    )
    return await run_step(
        client,
        match["reference"],
        CaseWorkflow.submit_return,
        Attributed[InformationReturn](actor=actor, decision=submission),
    )
