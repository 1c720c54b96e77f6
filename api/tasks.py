"""Agencies' work: their tasks, completing them, and withdrawing one no longer needed."""

# No ``from __future__ import annotations``: FastAPI must see each body's real model class.

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel

from api.access import AGENCY, EVERYONE, allow, allow_step
from api.dependencies import MAX_OFFSET, ClientDep, EngineDep, PoliciesDep
from api.partnerships import partnerships_read
from api.steps import take_step
from safeguarding.domain import steps
from safeguarding.domain.action_plan import ImpactCheckDone
from safeguarding.domain.case import InformationReturn
from safeguarding.domain.fields import AGENCY_PATTERN, Dated, Reasons
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import STREAM_FOR_LETTER, Stream
from safeguarding.domain.review import CheckpointDone, TaskWithdrawn
from safeguarding.domain.tasks import TaskCompletion, TaskWithdrawal
from safeguarding.queries.tasks import TaskListItem, list_tasks
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["tasks"])

# A task id is "<case reference>.<letter><number>": the case and the workflow (T the case, R its
# review, P its action plan) are read from the id itself.
TASK_ID = re.compile(r"^(?P<reference>[A-Za-z0-9][A-Za-z0-9-]{1,39})\.(?P<letter>[TRP])[0-9]{1,6}$")
TaskId = Annotated[str, Path(max_length=60, description="e.g. LSCP-2026-014.T1")]


class Withdrawal(Dated):
    reasons: Reasons


@router.get(
    "/tasks",
    response_model=list[TaskListItem],
    summary="Tasks by agency (a partner agency sees its own)",
    responses={403: {"description": "A partner agency reads only its own tasks."}},
)
def get_tasks(
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
    agency: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$",
            description="Whose tasks: an agency code, or an office's role (business_unit); a partner "
            "agency's own by default, every agency's for anyone else.",
        ),
    ] = None,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|completed|withdrawn|all)$")
    ] = "open",
    partnership: Annotated[
        str | None, Query(pattern=AGENCY_PATTERN, description="One of the reader's partnerships.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many (a page).")] = 500,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many (the pages before).")] = 0,
) -> list[TaskListItem]:
    """Open tasks by default, soonest due first, ``limit`` at a time, from the read model: the agency's tasks as an entry of
    the reader's partnerships' directories (of another partnership's case too, where one of them
    contributes); without ``agency``, every agency's. The Business Unit's own tasks: ?agency=business_unit."""
    if actor.role is AGENCY:
        if agency not in (None, actor.agency):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"a partner agency sees its own tasks ({actor.agency})"
            )
        agency = actor.agency
    return list_tasks(
        engine,
        agency=agency,
        partnerships=partnerships_read(actor, partnership, policies),
        status=None if status_ == "all" else status_,
        limit=limit,
        offset=offset,
    )


def _parse(task_id: str) -> tuple[str, Stream]:
    match = TASK_ID.match(task_id)
    if match is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id}")
    return match["reference"], STREAM_FOR_LETTER[match["letter"]]


COMPLETING = (steps.SUBMIT_RETURN, steps.COMPLETE_REVIEW_CHECKPOINT, steps.COMPLETE_IMPACT_CHECK)
WITHDRAWING = (steps.WITHDRAW_CASE_TASK, steps.WITHDRAW_REVIEW_TASK)


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
    task_id: TaskId,
    completion: TaskCompletion,
    request: Request,
    actor: Annotated[Actor, Depends(allow_step(*COMPLETING))],
    client: ClientDep,
) -> StepOutcome:
    """An information return (the agency it was asked of), or the notes of a checkpoint (Business Unit)."""
    reference, stream = _parse(task_id)
    done = {
        "task_id": task_id,
        "summary": completion.summary,
        "documents": completion.documents,
        "occurred_at": completion.occurred_at,
    }
    body: BaseModel
    if stream is Stream.case:
        update, body = CaseWorkflow.submit_return, InformationReturn(**done)
    elif stream is Stream.review:
        update, body = ReviewWorkflow.complete_checkpoint, CheckpointDone(**done)
    else:
        update, body = ActionPlanWorkflow.complete_impact_check, ImpactCheckDone(**done)
    return await take_step(request, client, reference, update, actor, body, stream)


@router.post(
    "/tasks/{task_id}/withdraw",
    response_model=StepOutcome,
    summary="Withdraw a task that is no longer needed (Business Unit)",
    responses={404: {"description": "No such task."}, 409: {"description": "The task is not open."}},
)
async def withdraw_task(
    task_id: TaskId,
    withdrawal: Withdrawal,
    request: Request,
    actor: Annotated[Actor, Depends(allow_step(*WITHDRAWING))],
    client: ClientDep,
) -> StepOutcome:
    """Its deadline is cancelled and nothing more is owed on it. Actions are withdrawn by the JCRG instead."""
    reference, stream = _parse(task_id)
    if stream is Stream.plan:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "an action is withdrawn by the JCRG with its reasons: "
            f"POST /cases/{reference}/action-plan/withdraw-action",
        )
    body: BaseModel
    if stream is Stream.case:
        update, body = (
            CaseWorkflow.withdraw_task,
            TaskWithdrawal(task_id=task_id, reasons=withdrawal.reasons, occurred_at=withdrawal.occurred_at),
        )
    else:
        update, body = (
            ReviewWorkflow.withdraw_task,
            TaskWithdrawn(task_id=task_id, reasons=withdrawal.reasons, occurred_at=withdrawal.occurred_at),
        )
    return await take_step(request, client, reference, update, actor, body, stream)
