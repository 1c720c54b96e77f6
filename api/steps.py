"""How every step's route takes its step: the same answers documented, the agencies named checked
against the partner directory, the update sent with the person who acts, and the attempt audited.

Each route is declared in its own module (``api/cases.py``, ``api/reviews.py``, ``api/action_plans.py``,
``api/tasks.py``) with its path and roles from the table of steps (``safeguarding/domain/steps.py``).
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations of the routes that use these.

from typing import Annotated, Any

from fastapi import Path, Request
from pydantic import BaseModel
from temporalio.client import Client

from api.access import audit_action, audited, current_case
from api.idempotency import key_of, update_id_of
from api.temporal import require_known_agencies, run_step
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, Attributed
from safeguarding.domain.record import Stream
from safeguarding.domain.steps import Step

Reference = Annotated[
    str, Path(pattern=CASE_REFERENCE_PATTERN, description="The partnership's case reference.")
]

STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token."},
    403: {"description": "This role (or agency, or partner) does not take this step."},
    404: {"description": "No such case, task, action or recommendation."},
    409: {"description": "The process does not allow this step now; the reason says why. Nothing changed."},
    422: {
        "description": "Malformed input, a time that cannot be right, or an Idempotency-Key first used "
        "for another request. Nothing changed."
    },
    503: {
        "description": "The database or the workflow service is unavailable: nothing was done. Try again "
        "after Retry-After seconds, with the same Idempotency-Key."
    },
    504: {
        "description": "The step was sent but not confirmed in time; it may still be taken. Send the same "
        "request again with the same Idempotency-Key to get its one outcome."
    },
}


def documented(step: Step) -> dict[str, Any]:
    """The OpenAPI description of a step's route, from its row of the table."""
    who = ", ".join(role.value for role in step.roles)
    return {
        "response_model": StepOutcome,
        "summary": f"{step.does[0].upper()}{step.does[1:]} ({who})",
        "responses": STEP_RESPONSES,
    }


async def take_step(
    request: Request,
    client: Client,
    reference: str,
    update: Any,
    actor: Actor,
    body: BaseModel,
    stream: Stream = Stream.case,
) -> StepOutcome:
    """Send one step to the case's workflow (or its review's, or its plan's); audited, accepted or not.
    The case is the one the route's ``allow`` found among the actor's partnerships, and the actor acts
    in its partnership (or the contributing one they are of, whose directory names its agencies)."""
    case = current_case(request)

    async def checked() -> StepOutcome:
        await require_known_agencies(request.app.state.engine, case.acting_in, body)
        step = Attributed[type(body)](  # type: ignore[misc]
            actor=actor, decision=body, action=audit_action(request)
        )
        return await run_step(
            client,
            case,
            update,
            step,
            stream,
            update_id=update_id_of(request),
            key=key_of(request),
            answer_within=request.app.state.settings.step_answer_timeout,
        )

    # An accepted step is audited by its workflow (with the step, exactly once); a refusal here.
    return await audited(
        request, actor, reference, getattr(body, "reasons", None), checked(), accepted_by_workflow=True
    )
