"""The partner directory, managed by the Business Unit: agencies, their mailboxes and webhooks, the
roles they hold, and whether they want a daily digest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.access import AGENCY, BU, EVERYONE, allow, record
from api.dependencies import EngineDep, PoliciesDep, SettingsDep
from api.partnerships import one_partnership, partnerships_read
from safeguarding.domain.directory import Agency, AgencyDetails
from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.platform import webhooks
from safeguarding.platform.codec import seal
from safeguarding.store import directory

router = APIRouter(tags=["directory"])

Code = Annotated[str, Path(pattern=AGENCY_PATTERN, description="The agency's code, e.g. luton-schools")]


class AgencyWritten(Agency):
    webhook_secret: str | None = None  # shown once, when made: the agency keeps it to verify signatures


class WebhookSecret(BaseModel):
    code: str
    webhook_secret: str


def _own_only(actor: Actor, code: str) -> None:
    if actor.role is AGENCY and actor.agency != code:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"a partner agency sees its own entry ({actor.agency})"
        )


PartnershipQuery = Annotated[
    str | None,
    Query(pattern=AGENCY_PATTERN, description="Whose directory: one of the reader's partnerships."),
]


@router.get(
    "/agencies",
    response_model=list[Agency],
    summary="The partner directories of the reader's partnerships (an agency sees its own entries)",
)
async def list_agencies(
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
    partnership: PartnershipQuery = None,
) -> list[Agency]:
    """Each partnership has its own directory; an organisation serving several has an entry in each."""
    found = []
    for code in partnerships_read(actor, partnership, policies):
        found += await run_in_threadpool(directory.all_agencies, engine, code)
    return [a for a in found if actor.role is not AGENCY or a.code == actor.agency]


@router.get(
    "/agencies/{code}",
    response_model=Agency,
    summary="One agency of a partnership's directory",
    responses={403: {"description": "A partner agency reads only its own entry."}},
)
async def get_agency(
    code: Code,
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(*EVERYONE))],
    partnership: PartnershipQuery = None,
) -> Agency:
    _own_only(actor, code)
    chosen = one_partnership(actor, partnership, policies)
    found = [a for a in await run_in_threadpool(directory.all_agencies, engine, chosen) if a.code == code]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agency {code} in {chosen}'s directory")
    return found[0]


@router.put(
    "/agencies/{code}",
    response_model=AgencyWritten,
    summary="Add an agency or change its entry (Business Unit)",
    responses={
        422: {
            "description": "Malformed entry, or (outside the embedded default) a webhook URL that is not https "
            "on a public address. Nothing changed."
        }
    },
)
async def put_agency(
    code: Code,
    details: AgencyDetails,
    request: Request,
    engine: EngineDep,
    policies: PoliciesDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(allow(BU))],
    partnership: PartnershipQuery = None,
) -> AgencyWritten:
    """The whole entry. A webhook URL given for the first time gets a new signing secret, shown in this
    answer only; removing the URL removes the secret. To stop notifications, set ``active`` false: the
    entry stays, so past deliveries still name it. Outside the embedded default a webhook URL is https on
    a public address (checked again at each delivery)."""
    codec = request.app.state.client.data_converter.payload_codec
    if details.webhook_url is not None and not settings.create_local_secrets:
        try:
            await run_in_threadpool(webhooks.check_target, str(details.webhook_url))
        except (webhooks.TargetRefused, OSError) as refused:
            problem = (
                str(refused) if isinstance(refused, webhooks.TargetRefused) else "its host cannot be resolved"
            )
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"webhook_url: {problem}") from None

    chosen = one_partnership(actor, partnership, policies)
    entry, secret, created = await run_in_threadpool(
        directory.put_agency, engine, chosen, code, details, actor.user_id, lambda text: seal(codec, text)
    )
    written = AgencyWritten(**entry.model_dump(), webhook_secret=secret)
    await record(
        request,
        actor,
        "PUT /agencies/{code}",
        "accepted",
        200,
        None,
        f"{'added' if created else 'changed'} {code} in {chosen}'s directory",
    )
    return written


@router.post(
    "/agencies/{code}/webhook-secret",
    response_model=WebhookSecret,
    summary="Make a new webhook signing secret (Business Unit)",
    responses={409: {"description": "The agency has no webhook: set its webhook_url first."}},
)
async def rotate_webhook_secret(
    code: Code,
    request: Request,
    engine: EngineDep,
    policies: PoliciesDep,
    actor: Annotated[Actor, Depends(allow(BU))],
    partnership: PartnershipQuery = None,
) -> WebhookSecret:
    """The old secret stops working at once: give the new one to the agency before its next delivery."""
    codec = request.app.state.client.data_converter.payload_codec
    chosen = one_partnership(actor, partnership, policies)
    secret = directory.new_webhook_secret()
    try:
        await run_in_threadpool(
            directory.replace_webhook_secret, engine, chosen, code, seal(codec, secret), actor.user_id
        )
        problem = None
    except (directory.NotInDirectory, directory.NoWebhook) as refused:
        problem = str(refused)
    if problem is not None:
        code_ = status.HTTP_404_NOT_FOUND if problem.startswith("no agency") else status.HTTP_409_CONFLICT
        await record(request, actor, "POST /agencies/{code}/webhook-secret", "refused", code_, None, problem)
        raise HTTPException(code_, problem)
    await record(
        request,
        actor,
        "POST /agencies/{code}/webhook-secret",
        "accepted",
        200,
        None,
        f"new secret for {code}",
    )
    return WebhookSecret(code=code, webhook_secret=secret)
