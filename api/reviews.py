"""The review (CSPR, other review, national review duties) and the action plan of a case.

Each decision is its own route; the body names nothing but the decision. The routes are made from
the step models of ``workflows/cspr.py`` and ``workflows/action_plan.py``, so a new step there is a new
route here.
"""

# No ``from __future__ import annotations``: FastAPI must see each body's real class in the signature.

import typing
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from api.access import PLAN_STEPS, REVIEW_STEPS, allow, audited
from api.dependencies import ClientDep
from api.temporal import require_known_agencies, run_step
from safeguarding.domain.action_plan import PlanStep, PlanStepInput
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream
from safeguarding.domain.review import ReviewStep, ReviewStepInput
from workflows.action_plan import ActionPlanWorkflow
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["review and action plan"])

Reference = Annotated[
    str, Path(pattern=CASE_REFERENCE_PATTERN, description="The partnership's case reference.")
]

# Tasks (checkpoints, duties) are completed and withdrawn under /tasks, not here.
TASK_STEPS = {"checkpoint_done", "task_withdrawn"}

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No acting person given."},
    403: {"description": "This role (or agency) does not take this step."},
    404: {"description": "No such case, action or recommendation."},
    409: {"description": "The process does not allow this step now (or the case has no review / plan yet)."},
    422: {"description": "Malformed input. Nothing changed."},
}


def _members(union: Any) -> list[type]:
    return list(typing.get_args(typing.get_args(union)[0]))


def _add_route(prefix: str, body_model: type, stream: Stream, update: Any, wrap: Any) -> str:
    name = body_model.model_fields["step"].default
    path = name.replace("_", "-")

    roles = (REVIEW_STEPS if stream is Stream.review else PLAN_STEPS)[path]

    async def take_step(
        reference: Reference,
        body: body_model,  # type: ignore[valid-type]
        request: Request,
        actor: Annotated[Actor, Depends(allow(*roles))],
        client: ClientDep,
    ) -> StepOutcome:
        reason = getattr(body, "reasons", None)

        async def checked() -> StepOutcome:
            await require_known_agencies(request.app.state.engine, body)
            return await run_step(client, reference, update, wrap(actor=actor, step=body), stream)

        return await audited(request, actor, reference, reason, checked())

    take_step.__name__ = f"{stream.value}_{name}"
    take_step.__doc__ = (body_model.__doc__ or "").strip() or None
    router.add_api_route(
        f"/cases/{{reference}}/{prefix}/{path}",
        take_step,
        methods=["POST"],
        response_model=StepOutcome,
        summary=name.replace("_", " ").capitalize(),
        responses=RESPONSES,
    )
    return path


REVIEW_ROUTES = [
    _add_route("review", model, Stream.review, ReviewWorkflow.take_step, ReviewStepInput)
    for model in _members(ReviewStep)
    if model.model_fields["step"].default not in TASK_STEPS
]
PLAN_ROUTES = [
    _add_route("action-plan", model, Stream.plan, ActionPlanWorkflow.take_step, PlanStepInput)
    for model in _members(PlanStep)
    if model.model_fields["step"].default not in TASK_STEPS
]
