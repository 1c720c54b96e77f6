"""Agencies' work: their open tasks, and submitting a return."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.dependencies import ActorDep, ClientDep, EngineDep
from api.temporal import run_step
from safeguarding.case import (
    AGENCY_PATTERN,
    Attributed,
    InformationReturn,
    Reasons,
    StrictModel,
    TaskCompletion,
    TaskWithdrawal,
)
from safeguarding.listings import TaskListItem, list_tasks
from safeguarding.record import STREAM_FOR_LETTER, Stream
from workflows.action_plan import ActionPlanWorkflow, ImpactCheckDone, PlanStepInput
from workflows.cspr import CheckpointDone, ReviewStepInput, ReviewWorkflow, TaskWithdrawn
from workflows.incident import CaseWorkflow, StepOutcome

router = APIRouter(tags=["tasks"])


class Withdrawal(StrictModel):
    reasons: Reasons


# A task id is "<case reference>.<letter><number>": the case and the workflow (T the case, R its
# review, P its action plan) are read from the id itself.
TASK_ID = re.compile(r"^(?P<reference>[A-Za-z0-9][A-Za-z0-9-]{1,39})\.(?P<letter>[TRP])[0-9]{1,6}$")


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


def _parse(task_id: str) -> tuple[str, Stream]:
    match = TASK_ID.match(task_id)
    if match is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
    return match["reference"], STREAM_FOR_LETTER[match["letter"]]


@router.post(
    "/tasks/{task_id}/complete",
    response_model=StepOutcome,
    summary="Complete a task: an agency's return, a monitoring checkpoint, an impact check",
    responses={
        403: {"description": "Not this person's task."},
        404: {"description": "No such task."},
        409: {"description": "The task is not open, or is an action (post progress instead)."},
    },
)
async def complete_task(
    task_id: Annotated[str, Path(max_length=60)],
    completion: TaskCompletion,
    actor: ActorDep,
    client: ClientDep,
) -> StepOutcome:
    """An information return (partner agency), or the notes of a checkpoint (Business Unit)."""
    reference, stream = _parse(task_id)
    if stream is Stream.case:
        submission = InformationReturn(
            task_id=task_id, summary=completion.summary, documents=completion.documents
        )
        return await run_step(
            client,
            reference,
            CaseWorkflow.submit_return,
            Attributed[InformationReturn](actor=actor, decision=submission),
        )
    done = {"task_id": task_id, "summary": completion.summary, "documents": completion.documents}
    if stream is Stream.review:
        return await run_step(
            client,
            reference,
            ReviewWorkflow.take_step,
            ReviewStepInput(actor=actor, step=CheckpointDone(**done)),
            stream,
        )
    return await run_step(
        client,
        reference,
        ActionPlanWorkflow.take_step,
        PlanStepInput(actor=actor, step=ImpactCheckDone(**done)),
        stream,
    )


@router.post(
    "/tasks/{task_id}/withdraw",
    response_model=StepOutcome,
    summary="Withdraw a task that is no longer needed (Business Unit)",
    responses={404: {"description": "No such task."}, 409: {"description": "The task is not open."}},
)
async def withdraw_task(
    task_id: Annotated[str, Path(max_length=60)], withdrawal: Withdrawal, actor: ActorDep, client: ClientDep
) -> StepOutcome:
    """Its deadline is cancelled and nothing more is owed on it. Actions are withdrawn by the JCRG instead."""
    reference, stream = _parse(task_id)
    if stream is Stream.case:
        step = Attributed[TaskWithdrawal](
            actor=actor, decision=TaskWithdrawal(task_id=task_id, reasons=withdrawal.reasons)
        )
        return await run_step(client, reference, CaseWorkflow.withdraw_task, step)
    if stream is Stream.review:
        return await run_step(
            client,
            reference,
            ReviewWorkflow.take_step,
            ReviewStepInput(actor=actor, step=TaskWithdrawn(task_id=task_id, reasons=withdrawal.reasons)),
            stream,
        )
    raise HTTPException(
        status.HTTP_409_CONFLICT,
        "an action is withdrawn by the JCRG with its reasons: "
        f"POST /cases/{reference}/action-plan/withdraw-action",
    )
