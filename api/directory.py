"""The partner directory, managed by the Business Unit: agencies, their mailboxes and webhooks, the
roles they hold, and whether they want a daily digest."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine, select

from api.access import AGENCY, BU, EVERYONE, allow, record
from api.dependencies import EngineDep
from safeguarding.domain.directory import Agency, AgencyDetails
from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.people import Actor
from safeguarding.platform.codec import seal
from safeguarding.store.directory import as_agency
from safeguarding.store.tables import AgencyRow

router = APIRouter(tags=["directory"])

Code = Annotated[str, Path(pattern=AGENCY_PATTERN, description="The agency's code, e.g. luton-schools")]


class AgencyWritten(Agency):
    webhook_secret: str | None = None  # shown once, when made: the agency keeps it to verify signatures


class WebhookSecret(BaseModel):
    code: str
    webhook_secret: str


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _own_only(actor: Actor, code: str) -> None:
    if actor.role is AGENCY and actor.agency != code:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"a partner agency sees its own entry ({actor.agency})"
        )


def _read_all(engine: Engine) -> list[Agency]:
    with engine.connect() as connection:
        rows = connection.execute(select(AgencyRow.__table__).order_by(AgencyRow.code)).all()
    return [as_agency(row) for row in rows]


@router.get(
    "/agencies", response_model=list[Agency], summary="The partner directory (an agency sees its own)"
)
async def list_agencies(
    engine: EngineDep, actor: Annotated[Actor, Depends(allow(*EVERYONE))]
) -> list[Agency]:
    agencies = await run_in_threadpool(_read_all, engine)
    return [a for a in agencies if actor.role is not AGENCY or a.code == actor.agency]


@router.get("/agencies/{code}", response_model=Agency, summary="One agency of the directory")
async def get_agency(
    code: Code, engine: EngineDep, actor: Annotated[Actor, Depends(allow(*EVERYONE))]
) -> Agency:
    _own_only(actor, code)
    found = [a for a in await run_in_threadpool(_read_all, engine) if a.code == code]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no agency {code} in the directory")
    return found[0]


@router.put(
    "/agencies/{code}",
    response_model=AgencyWritten,
    summary="Add an agency or change its entry (Business Unit)",
    responses={422: {"description": "Malformed entry. Nothing changed."}},
)
async def put_agency(
    code: Code,
    details: AgencyDetails,
    request: Request,
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(BU))],
) -> AgencyWritten:
    """The whole entry. A webhook URL given for the first time gets a new signing secret, shown in this
    answer only; removing the URL removes the secret. To stop notifications, set ``active`` false: the
    entry stays, so past deliveries still name it."""
    codec = request.app.state.client.data_converter.payload_codec

    def write() -> tuple[AgencyWritten, bool]:
        now = datetime.now(UTC)
        with engine.begin() as connection:
            existing = connection.execute(
                select(AgencyRow.__table__).where(AgencyRow.code == code).with_for_update()
            ).first()
            secret, sealed = None, existing.webhook_secret if existing else None
            if details.webhook_url is None:
                sealed = None
            elif sealed is None:
                secret = _new_secret()
                sealed = seal(codec, secret)
            values = {
                "name": details.name,
                "roles": [r.value for r in details.roles],
                "mailboxes": list(dict.fromkeys(details.mailboxes)),
                "webhook_url": str(details.webhook_url) if details.webhook_url else None,
                "webhook_secret": sealed,
                "digest": details.digest,
                "active": details.active,
                "updated_at": now,
                "updated_by": actor.user_id,
            }
            if existing is None:
                connection.execute(AgencyRow.__table__.insert(), {"code": code, **values})
            else:
                connection.execute(
                    AgencyRow.__table__.update().where(AgencyRow.code == code).values(**values)
                )
            row = connection.execute(select(AgencyRow.__table__).where(AgencyRow.code == code)).one()
        return AgencyWritten(**as_agency(row).model_dump(), webhook_secret=secret), existing is None

    written, created = await run_in_threadpool(write)
    await record(
        request,
        actor,
        "PUT /agencies/{code}",
        "accepted",
        200,
        None,
        f"{'added' if created else 'changed'} {code}",
    )
    return written


@router.post(
    "/agencies/{code}/webhook-secret",
    response_model=WebhookSecret,
    summary="Make a new webhook signing secret (Business Unit)",
)
async def rotate_webhook_secret(
    code: Code, request: Request, engine: EngineDep, actor: Annotated[Actor, Depends(allow(BU))]
) -> WebhookSecret:
    """The old secret stops working at once: give the new one to the agency before its next delivery."""
    codec = request.app.state.client.data_converter.payload_codec
    secret = _new_secret()

    def write() -> str | None:
        with engine.begin() as connection:
            row = connection.execute(select(AgencyRow.__table__).where(AgencyRow.code == code)).first()
            if row is None:
                return f"no agency {code} in the directory"
            if row.webhook_url is None:
                return f"{code} has no webhook: set webhook_url first"
            connection.execute(
                AgencyRow.__table__.update()
                .where(AgencyRow.code == code)
                .values(
                    webhook_secret=seal(codec, secret), updated_at=datetime.now(UTC), updated_by=actor.user_id
                )
            )
        return None

    problem = await run_in_threadpool(write)
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
