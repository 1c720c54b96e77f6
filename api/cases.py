"""The case: its list (read model), its live state (the workflow), and every human step on it."""

# No ``from __future__ import annotations``: FastAPI must see each body's real model class.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel

from api.access import AGENCY, EVERYONE, STAFF, allow, allow_step, record
from api.dependencies import ClientDep, EngineDep
from api.steps import Reference, documented, take_step
from api.temporal import query_case
from safeguarding.domain import steps
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
from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream
from safeguarding.domain.review import ReviewView
from safeguarding.queries.cases import CaseListItem, list_cases
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["cases"])


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


# ---------------------------------------------------------------- the steps of intake and the rapid review


@router.post(steps.CONFIRM_REFERRAL.path, **documented(steps.CONFIRM_REFERRAL))
async def confirm_referral(
    reference: Reference,
    body: ReferralConfirmation,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.CONFIRM_REFERRAL))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.confirm_referral, actor, body)


@router.post(steps.SCREEN.path, **documented(steps.SCREEN))
async def screen(
    reference: Reference,
    body: ScreeningDecision,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SCREEN))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.screen, actor, body)


@router.post(steps.RECORD_NOTIFICATION.path, **documented(steps.RECORD_NOTIFICATION))
async def record_notification(
    reference: Reference,
    body: NotificationRecord,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_NOTIFICATION))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.record_notification, actor, body)


@router.post(steps.REQUEST_INFORMATION.path, **documented(steps.REQUEST_INFORMATION))
async def request_information(
    reference: Reference,
    body: InformationRequest,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.REQUEST_INFORMATION))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.request_information, actor, body)


@router.post(steps.RECOMMEND.path, **documented(steps.RECOMMEND))
async def recommend(
    reference: Reference,
    body: Recommendation,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECOMMEND))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.recommend, actor, body)


@router.post(steps.SIGN_OFF.path, **documented(steps.SIGN_OFF))
async def sign_off(
    reference: Reference,
    body: PartnerSignOff,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SIGN_OFF))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.sign_off, actor, body)


@router.post(steps.INFORM_SCRUTINEER.path, **documented(steps.INFORM_SCRUTINEER))
async def inform_scrutineer(
    reference: Reference,
    body: ScrutineerInformed,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.INFORM_SCRUTINEER))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.inform_scrutineer, actor, body)


@router.post(steps.SEND_RAPID_REVIEW.path, **documented(steps.SEND_RAPID_REVIEW))
async def send_rapid_review(
    reference: Reference,
    body: RapidReviewSent,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SEND_RAPID_REVIEW))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.send_rapid_review, actor, body)


@router.post(steps.RECORD_PANEL_RESPONSE.path, **documented(steps.RECORD_PANEL_RESPONSE))
async def record_panel_response(
    reference: Reference,
    body: PanelResponse,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_PANEL_RESPONSE))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.record_panel_response, actor, body)


@router.post(steps.CLOSE_CASE.path, **documented(steps.CLOSE_CASE))
async def close_case(
    reference: Reference,
    body: CaseClosure,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.CLOSE_CASE))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.close_case, actor, body)
