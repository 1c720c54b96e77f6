"""The review of a case (a CSPR, another review, a national review's local duties): one route per step,
each taking its own update of ``ReviewWorkflow``; who may take it comes from the table of steps. A
review's tasks (monitoring checkpoints, duties) are completed and withdrawn under ``/tasks``."""

# No ``from __future__ import annotations``: FastAPI must see each body's real model class.

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.access import allow_step
from api.dependencies import ClientDep
from api.steps import Reference, documented, take_step
from safeguarding.domain import steps
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor
from safeguarding.domain.record import Stream
from safeguarding.domain.review import (
    AdultsBoardApproval,
    AdultsBoardPublication,
    ClockRestarted,
    ClockStopped,
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    NotPublished,
    PanelReportReceived,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    TermsAgreed,
)
from workflows.review import ReviewWorkflow

router = APIRouter(tags=["review"])


@router.post(steps.APPOINT_REVIEWER.path, **documented(steps.APPOINT_REVIEWER))
async def appoint_reviewer(
    reference: Reference,
    body: ReviewerAppointed,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.APPOINT_REVIEWER))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.appoint_reviewer, actor, body, Stream.review
    )


@router.post(steps.AGREE_TERMS.path, **documented(steps.AGREE_TERMS))
async def agree_terms(
    reference: Reference,
    body: TermsAgreed,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.AGREE_TERMS))],
) -> StepOutcome:
    return await take_step(request, client, reference, ReviewWorkflow.agree_terms, actor, body, Stream.review)


@router.post(steps.RECORD_FAMILY_ENGAGEMENT.path, **documented(steps.RECORD_FAMILY_ENGAGEMENT))
async def record_family_engagement(
    reference: Reference,
    body: FamilyEngagement,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_FAMILY_ENGAGEMENT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.record_family_engagement, actor, body, Stream.review
    )


@router.post(steps.RECORD_LEARNING_EVENT.path, **documented(steps.RECORD_LEARNING_EVENT))
async def record_learning_event(
    reference: Reference,
    body: LearningEventHeld,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_LEARNING_EVENT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.record_learning_event, actor, body, Stream.review
    )


@router.post(steps.RECEIVE_DRAFT.path, **documented(steps.RECEIVE_DRAFT))
async def receive_draft(
    reference: Reference,
    body: DraftReceived,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECEIVE_DRAFT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.receive_draft, actor, body, Stream.review
    )


@router.post(steps.APPROVE_REPORT.path, **documented(steps.APPROVE_REPORT))
async def approve_report(
    reference: Reference,
    body: ReportApproved,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.APPROVE_REPORT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.approve_report, actor, body, Stream.review
    )


@router.post(steps.RECEIVE_FINAL_REPORT.path, **documented(steps.RECEIVE_FINAL_REPORT))
async def receive_final_report(
    reference: Reference,
    body: FinalReport,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECEIVE_FINAL_REPORT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.receive_final_report, actor, body, Stream.review
    )


@router.post(steps.SEND_COPY.path, **documented(steps.SEND_COPY))
async def send_copy(
    reference: Reference,
    body: CopySent,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SEND_COPY))],
) -> StepOutcome:
    return await take_step(request, client, reference, ReviewWorkflow.send_copy, actor, body, Stream.review)


@router.post(steps.SCHEDULE_PUBLICATION.path, **documented(steps.SCHEDULE_PUBLICATION))
async def schedule_publication(
    reference: Reference,
    body: PublicationScheduled,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SCHEDULE_PUBLICATION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.schedule_publication, actor, body, Stream.review
    )


@router.post(steps.RECORD_PUBLICATION.path, **documented(steps.RECORD_PUBLICATION))
async def record_publication(
    reference: Reference,
    body: Published,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECORD_PUBLICATION))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.record_publication, actor, body, Stream.review
    )


@router.post(steps.DECIDE_NOT_TO_PUBLISH.path, **documented(steps.DECIDE_NOT_TO_PUBLISH))
async def decide_not_to_publish(
    reference: Reference,
    body: NotPublished,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.DECIDE_NOT_TO_PUBLISH))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.decide_not_to_publish, actor, body, Stream.review
    )


@router.post(steps.STOP_CLOCK.path, **documented(steps.STOP_CLOCK))
async def stop_clock(
    reference: Reference,
    body: ClockStopped,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.STOP_CLOCK))],
) -> StepOutcome:
    return await take_step(request, client, reference, ReviewWorkflow.stop_clock, actor, body, Stream.review)


@router.post(steps.RESTART_CLOCK.path, **documented(steps.RESTART_CLOCK))
async def restart_clock(
    reference: Reference,
    body: ClockRestarted,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RESTART_CLOCK))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.restart_clock, actor, body, Stream.review
    )


@router.post(steps.SEND_INFORMATION_TO_PANEL.path, **documented(steps.SEND_INFORMATION_TO_PANEL))
async def send_information_to_panel(
    reference: Reference,
    body: InformationToPanel,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.SEND_INFORMATION_TO_PANEL))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.send_information_to_panel, actor, body, Stream.review
    )


@router.post(steps.RECEIVE_PANEL_REPORT.path, **documented(steps.RECEIVE_PANEL_REPORT))
async def receive_panel_report(
    reference: Reference,
    body: PanelReportReceived,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.RECEIVE_PANEL_REPORT))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.receive_panel_report, actor, body, Stream.review
    )


@router.post(steps.APPROVE_REPORT_FOR_ADULTS_BOARD.path, **documented(steps.APPROVE_REPORT_FOR_ADULTS_BOARD))
async def approve_report_for_adults_board(
    reference: Reference,
    body: AdultsBoardApproval,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.APPROVE_REPORT_FOR_ADULTS_BOARD))],
) -> StepOutcome:
    return await take_step(
        request, client, reference, ReviewWorkflow.approve_report_for_adults_board, actor, body, Stream.review
    )


@router.post(
    steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD.path, **documented(steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD)
)
async def agree_publication_for_adults_board(
    reference: Reference,
    body: AdultsBoardPublication,
    request: Request,
    client: ClientDep,
    actor: Annotated[Actor, Depends(allow_step(steps.AGREE_PUBLICATION_FOR_ADULTS_BOARD))],
) -> StepOutcome:
    return await take_step(
        request,
        client,
        reference,
        ReviewWorkflow.agree_publication_for_adults_board,
        actor,
        body,
        Stream.review,
    )
