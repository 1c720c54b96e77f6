"""The case: its list (read model), its live state (the workflow), and every human step on it."""

# No ``from __future__ import annotations`` here: the step routes are built in a loop and FastAPI
# must see each body's real model class in the endpoint's signature.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel

from api.access import AGENCY, CASE_STEPS, EVERYONE, STAFF, allow, audited, record
from api.dependencies import ClientDep, EngineDep
from api.temporal import query_case, require_known_agencies, run_step
from safeguarding.domain.action_plan import PlanView
from safeguarding.domain.case import (
    CaseClosure,
    CaseView,
    InformationRequest,
    NotificationRecord,
    PanelResponse,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    ReferralConfirmation,
    ScreeningDecision,
    ScrutineerInformed,
    Stage,
)
from safeguarding.domain.fields import AGENCY_PATTERN, CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor, Attributed
from safeguarding.domain.record import Stream
from safeguarding.domain.review import ReviewView
from safeguarding.queries.cases import CaseListItem, list_cases
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow, StepOutcome
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["cases"])

Reference = Annotated[
    str, Path(pattern=CASE_REFERENCE_PATTERN, description="The partnership's case reference.")
]


@router.get("/cases", response_model=list[CaseListItem], summary="List cases (staff; not partner agencies)")
def get_cases(
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(*STAFF))],
    stage: Stage | None = None,
    overdue: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) a deadline past due.")
    ] = None,
    partnership: Annotated[str | None, Query(pattern=AGENCY_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseListItem]:
    """From the SQL read model: every case with its stage and next due time, newest first."""
    return list_cases(
        engine,
        stage=stage.value if stage else None,
        overdue=overdue,
        partnership=partnership,
        limit=limit,
        offset=offset,
    )


class CaseDetail(CaseView):
    """The case with its review and its action plan, each read live from its own workflow."""

    review: ReviewView | None = None
    plan: PlanView | None = None


class AgencyTask(BaseModel):
    id: str
    kind: str
    asked_for: str
    requested_at: datetime
    due_at: datetime | None
    status: str


class AgencyCaseView(BaseModel):
    """What a partner agency sees of a case: the minimum, and its own work on it. Never another agency's
    returns or the JCRG's deliberations."""

    reference: str
    stage: Stage
    tasks: list[AgencyTask]


@router.get("/cases/{reference}", response_model=CaseDetail | AgencyCaseView, summary="Read one case, live")
async def get_case(
    reference: Reference,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> CaseDetail | AgencyCaseView:
    """The live state from the case's workflows: stage, every deadline (due, met, missed), tasks,
    history; and, once they exist, the review (stage, pauses, deadlines) and the action plan.
    A partner agency sees only the case's reference and stage and its own tasks on it."""
    case: CaseView = await query_case(client, reference, CaseWorkflow.view)
    review = plan = None
    if case.review_workflow_id:
        review = await query_case(client, reference, ReviewWorkflow.view, Stream.review)
    if case.plan_workflow_id:
        plan = await query_case(client, reference, ActionPlanWorkflow.view, Stream.plan)
    if actor.role is AGENCY:
        tasks = [
            t
            for t in [*case.tasks, *(review.tasks if review else []), *(plan.tasks if plan else [])]
            if t.agency == actor.agency
        ]
        if not tasks:
            await record(
                request, actor, "GET /cases/{reference}", "denied", 403, reference, "no work on this case"
            )
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{actor.agency} has no work on case {reference}")
        return AgencyCaseView(
            reference=reference,
            stage=case.stage,
            tasks=[
                AgencyTask(
                    **t.model_dump(include=set(AgencyTask.model_fields)),
                )
                for t in tasks
            ],
        )
    await record(request, actor, "GET /cases/{reference}", "read", 200, reference)
    return CaseDetail(**dict(case), review=review, plan=plan)


# Each human step: path, the update it sends, its body, and who takes it.
STEPS: list[tuple[str, Any, type, str]] = [
    (
        "referral-confirmation",
        CaseWorkflow.confirm_referral,
        ReferralConfirmation,
        "Record the written confirmation of a referral (Business Unit)",
    ),
    (
        "screening",
        CaseWorkflow.screen,
        ScreeningDecision,
        "Screen a referral against the notification criteria (JCRG / Business Unit)",
    ),
    (
        "notifications",
        CaseWorkflow.record_notification,
        NotificationRecord,
        "Record that the Panel, the partners, the Secretary of State or Ofsted was notified (Business Unit)",
    ),
    (
        "information-requests",
        CaseWorkflow.request_information,
        InformationRequest,
        "Request information from agencies for the rapid review (Business Unit)",
    ),
    (
        "recommendation",
        CaseWorkflow.recommend,
        Recommendation,
        "Record the rapid review recommendation (JCRG)",
    ),
    (
        "sign-offs",
        CaseWorkflow.sign_off,
        PartnerSignOff,
        "Sign off, or return, the recommendation (safeguarding partner)",
    ),
    (
        "scrutineer-informed",
        CaseWorkflow.inform_scrutineer,
        ScrutineerInformed,
        "Record that the Independent Scrutineer was informed (Business Unit)",
    ),
    (
        "rapid-review-sent",
        CaseWorkflow.send_rapid_review,
        RapidReviewSent,
        "Record that the rapid review was sent to the Panel (Business Unit)",
    ),
    (
        "panel-response",
        CaseWorkflow.record_panel_response,
        PanelResponse,
        "Record the Panel's response to the rapid review (Business Unit)",
    ),
    ("closure", CaseWorkflow.close_case, CaseClosure, "Close the case, with reasons (Business Unit)"),
]

STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No acting person given."},
    403: {"description": "This role (or agency) does not take this step."},
    404: {"description": "No case with this reference (or no such task on it)."},
    409: {"description": "The process does not allow this step now; the reason says why. Nothing changed."},
    422: {"description": "Malformed input. Nothing changed."},
}


def _add_step_route(path: str, update: Any, body_model: type, summary: str) -> None:
    async def take_step(
        reference: Reference,
        body: body_model,  # type: ignore[valid-type]
        request: Request,
        actor: Annotated[Actor, Depends(allow(*CASE_STEPS[path]))],
        client: ClientDep,
    ) -> StepOutcome:
        step = Attributed[body_model](actor=actor, decision=body)  # type: ignore[valid-type]
        reason = getattr(body, "reasons", None)

        async def checked() -> StepOutcome:
            await require_known_agencies(request.app.state.engine, body)
            return await run_step(client, reference, update, step)

        return await audited(request, actor, reference, reason, checked())

    take_step.__name__ = f"post_{path.replace('-', '_')}"
    take_step.__doc__ = update.__doc__
    router.add_api_route(
        f"/cases/{{reference}}/{path}",
        take_step,
        methods=["POST"],
        response_model=StepOutcome,
        summary=summary,
        responses=STEP_RESPONSES,
    )


for _path, _update, _body, _summary in STEPS:
    _add_step_route(_path, _update, _body, _summary)
