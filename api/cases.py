"""The case: its list (read model), its live state (the workflow), and every human step on it."""

# No ``from __future__ import annotations``: FastAPI must see each body's real model class.

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.access import AGENCY, EVERYONE, STAFF, allow, allow_step, current_case, record
from api.dependencies import MAX_OFFSET, ClientDep, EngineDep, PoliciesDep
from api.partnerships import partnerships_read
from api.steps import Reference, documented, take_step
from api.temporal import query_case
from safeguarding.domain import steps
from safeguarding.domain.action_plan import PlanView
from safeguarding.domain.case import (
    AdultsBoardSignOff,
    CaseClosure,
    CaseView,
    ContributionSent,
    CriteriaNotMet,
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
from safeguarding.domain.tasks import Task
from safeguarding.queries.cases import CaseListItem, list_cases, thematic_reviews_covering
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["cases"])


@router.get("/cases", response_model=list[CaseListItem], summary="List cases (staff; not partner agencies)")
def get_cases(
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*STAFF))],
    stage: Stage | None = None,
    overdue: Annotated[
        bool | None, Query(description="Only cases with (true) or without (false) a deadline past due.")
    ] = None,
    partnership: Annotated[
        str | None, Query(pattern=AGENCY_PATTERN, description="One of the reader's partnerships.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many (the pages before).")] = 0,
) -> list[CaseListItem]:
    """From the SQL read model: the cases of the reader's partnerships (or the one asked for), with their
    stage and next due time, newest first."""
    return list_cases(
        engine,
        partnerships=partnerships_read(actor, partnership, policies),
        stage=stage.value if stage else None,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )


class CaseDetail(CaseView):
    """The case with its review and its action plan, each read live from its own workflow, and the
    thematic reviews that cover it."""

    review: ReviewView | None = None
    plan: PlanView | None = None
    thematic_reviews: list[str] = []


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


class DueDate(BaseModel):
    title: str
    due_at: datetime
    status: str
    met_at: datetime | None = None


class ContributorCaseView(BaseModel):
    """What a contributing partnership's Business Unit sees of another's case: the minimum (reference,
    stage, the lead's due dates, the outcome) and its own partnership's tasks. Never the lead's reasons,
    the case's summary or other agencies' returns."""

    reference: str
    lead: str  # the partnership that leads the case
    contributing: str  # the partnership the reader is of
    stage: Stage
    outcome: str | None
    due_dates: list[DueDate]
    tasks: list[AgencyTask]


async def _child_view(client, found, workflow_id, query, stream):  # type: ignore[no-untyped-def]
    """A review's or plan's view; None while it is being started (the case names it a moment before
    its workflow exists)."""
    if not workflow_id:
        return None
    try:
        return await query_case(client, found, query, stream)
    except HTTPException as missing:
        if missing.status_code == status.HTTP_409_CONFLICT:
            return None
        raise


@router.get(
    "/cases/{reference}",
    response_model=CaseDetail | ContributorCaseView | AgencyCaseView,
    summary="Read one case, live",
    responses={404: {"description": "No such case among the reader's partnerships (or their work)."}},
)
async def get_case(
    reference: Reference,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
) -> CaseDetail | ContributorCaseView | AgencyCaseView:
    """The live state from the case's workflows: stage, every deadline (due, met, missed), tasks,
    history; and, once they exist, the review (stage, pauses, deadlines) and the action plan.
    A partner agency sees only the case's reference and stage and its own tasks on it; a contributing
    partnership's Business Unit the case's minimum and its own partnership's tasks."""
    found = current_case(request)
    case: CaseView = await query_case(client, found, CaseWorkflow.view)
    review = await _child_view(client, found, case.review_workflow_id, ReviewWorkflow.view, Stream.review)
    plan = await _child_view(client, found, case.plan_workflow_id, ActionPlanWorkflow.view, Stream.plan)
    every_task = [*case.tasks, *(review.tasks if review else []), *(plan.tasks if plan else [])]
    await record(request, actor, "GET /cases/{reference}", "read", 200, reference)
    if actor.role is AGENCY:
        return AgencyCaseView(
            reference=reference,
            stage=case.stage,
            tasks=[
                _agency_task(t)
                for t in every_task
                if t.agency == actor.agency and actor.serves(t.partnership or found.partnership)
            ],
        )
    if found.contributing:
        deadlines = [
            *case.deadlines,
            *(review.deadlines if review else []),
            *(plan.deadlines if plan else []),
        ]
        return ContributorCaseView(
            reference=reference,
            lead=found.partnership,
            contributing=found.acting_in,
            stage=case.stage,
            outcome=case.outcome,
            due_dates=[
                DueDate(title=d.title, due_at=d.due_at, status=d.status.value, met_at=d.met_at)
                for d in deadlines
                if d.subject is None
            ],
            tasks=[_agency_task(t) for t in every_task if t.partnership == found.acting_in],
        )
    covering = await run_in_threadpool(
        thematic_reviews_covering, request.app.state.engine, found.partnership, reference
    )
    return CaseDetail(**dict(case), review=review, plan=plan, thematic_reviews=covering)


def _agency_task(task: Task) -> AgencyTask:
    return AgencyTask(**task.model_dump(include=set(AgencyTask.model_fields)))


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


@router.post(steps.SEND_CONTRIBUTION.path, **documented(steps.SEND_CONTRIBUTION))
async def send_contribution(
    reference: Reference,
    body: ContributionSent,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SEND_CONTRIBUTION))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.send_contribution, actor, body)


@router.post(steps.CLOSE_CASE.path, **documented(steps.CLOSE_CASE))
async def close_case(
    reference: Reference,
    body: CaseClosure,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.CLOSE_CASE))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.close_case, actor, body)


@router.post(steps.CLOSE_NOT_MEETING_CRITERIA.path, **documented(steps.CLOSE_NOT_MEETING_CRITERIA))
async def close_not_meeting_criteria(
    reference: Reference,
    body: CriteriaNotMet,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.CLOSE_NOT_MEETING_CRITERIA))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.close_not_meeting_criteria, actor, body)


@router.post(steps.ADULTS_BOARD_SIGN_OFF.path, **documented(steps.ADULTS_BOARD_SIGN_OFF))
async def adults_board_sign_off(
    reference: Reference,
    body: AdultsBoardSignOff,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.ADULTS_BOARD_SIGN_OFF))],
) -> StepOutcome:
    return await take_step(request, client, reference, CaseWorkflow.adults_board_sign_off, actor, body)
