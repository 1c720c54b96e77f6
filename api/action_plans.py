"""The action plan of a case: one route per step, each taking its own update of ``ActionPlanWorkflow``;
who may take it comes from the table of steps. Impact checkpoints are completed under ``/tasks``."""

# No ``from __future__ import annotations``: FastAPI must see each body's real model class.

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.access import allow_step
from api.dependencies import ClientDep
from api.steps import Reference, documented, take_step
from safeguarding.domain import steps
from safeguarding.domain.action_plan import (
    ActionProgress,
    ActionRedated,
    ActionSignedOff,
    ActionWithdrawn,
    AddAction,
    AddRecommendation,
    PlanClosed,
)
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream
from workflows.action_plan import ActionPlanWorkflow

router = APIRouter(tags=["action plan"])


@router.post(steps.ADD_RECOMMENDATION.path, **documented(steps.ADD_RECOMMENDATION))
async def add_recommendation(
    reference: Reference,
    body: AddRecommendation,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.ADD_RECOMMENDATION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.add_recommendation, actor, body, Stream.plan
    )


@router.post(steps.ADD_ACTION.path, **documented(steps.ADD_ACTION))
async def add_action(
    reference: Reference,
    body: AddAction,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.ADD_ACTION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.add_action, actor, body, Stream.plan
    )


@router.post(steps.RECORD_PROGRESS.path, **documented(steps.RECORD_PROGRESS))
async def record_progress(
    reference: Reference,
    body: ActionProgress,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_PROGRESS))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.record_progress, actor, body, Stream.plan
    )


@router.post(steps.SIGN_OFF_ACTION.path, **documented(steps.SIGN_OFF_ACTION))
async def sign_off_action(
    reference: Reference,
    body: ActionSignedOff,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SIGN_OFF_ACTION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.sign_off_action, actor, body, Stream.plan
    )


@router.post(steps.REDATE_ACTION.path, **documented(steps.REDATE_ACTION))
async def redate_action(
    reference: Reference,
    body: ActionRedated,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.REDATE_ACTION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.redate_action, actor, body, Stream.plan
    )


@router.post(steps.WITHDRAW_ACTION.path, **documented(steps.WITHDRAW_ACTION))
async def withdraw_action(
    reference: Reference,
    body: ActionWithdrawn,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.WITHDRAW_ACTION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.withdraw_action, actor, body, Stream.plan
    )


@router.post(steps.CLOSE_PLAN.path, **documented(steps.CLOSE_PLAN))
async def close_plan(
    reference: Reference,
    body: PlanClosed,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.CLOSE_PLAN))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ActionPlanWorkflow.close_plan, actor, body, Stream.plan
    )
