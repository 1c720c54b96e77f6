"""Calendar feeds of open deadlines: issuing and revoking their secret URLs, and serving them.

A calendar application sends no bearer token, so ``GET /calendar/{token}.ics`` is reached by the secret
in its URL alone. The token is shown once, when the feed is made; only its hash is kept.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.access import AGENCY, BU, MANAGER, SCRUTINEER, allow, audited
from api.dependencies import EngineDep, SettingsDep
from safeguarding.domain.fields import AgencyCode, StrictModel
from safeguarding.domain.people import Actor
from safeguarding.render.calendar_feed import build_feed, feed_url, new_token, token_hash
from safeguarding.store.tables import AgencyRow, CalendarFeedRow

router = APIRouter(tags=["calendar"])

WHOLE_PARTNERSHIP = "Safeguarding partnership: open deadlines"
# The same answer for a token never issued and one revoked: a revoked URL must reveal nothing.
NO_FEED = "no such calendar feed"
# One line of printable text with a word in it: it becomes the calendar's name.
LABEL_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
FeedId = Annotated[str, Path(max_length=32, description="The feed's id, from GET /calendar-feeds.")]


class FeedRequest(StrictModel):
    agency: AgencyCode | None = Field(
        description="The agency whose open deadlines the feed holds; null for the whole partnership's."
    )
    label: Annotated[str, Field(max_length=200, pattern=LABEL_PATTERN)] | None = Field(
        default=None, description="The calendar's name in the calendar application."
    )


class IssuedFeed(BaseModel):
    id: str
    agency: str | None
    label: str
    url: str = Field(description="The secret address to subscribe to. Shown only now: keep it safe.")
    created_at: datetime


class FeedListItem(BaseModel):
    id: str
    agency: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None


def _may_manage(actor: Actor, agency: str | None) -> None:
    if actor.role is AGENCY and (agency is None or agency != actor.agency):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"a partner agency manages only its own agency's calendar feeds ({actor.agency})",
        )


def _issue(engine: Engine, asked: FeedRequest, actor: Actor, feed_id: str, token: str) -> CalendarFeedRow:
    with Session(engine) as session:
        label = asked.label
        if asked.agency is not None:
            agency = session.get(AgencyRow, asked.agency)
            if agency is None or not agency.active:
                state = "is not in the partner directory" if agency is None else "is no longer active"
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    f"agency {asked.agency!r} {state}; use the code of an active agency "
                    "from the partner directory, or null for the whole partnership",
                )
            label = label or f"{agency.name}: open deadlines"
        feed = CalendarFeedRow(
            id=feed_id,
            token_hash=token_hash(token),
            agency=asked.agency,
            label=(label or WHOLE_PARTNERSHIP).strip(),
            created_at=datetime.now(UTC),
            created_by=actor.user_id,
        )
        session.add(feed)
        session.commit()
        session.refresh(feed)
        session.expunge(feed)
        return feed


@router.post(
    "/calendar-feeds",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedFeed,
    summary="Make a calendar feed of open deadlines (Business Unit; a partner agency its own)",
    responses={
        403: {"description": "A partner agency asked for another agency's, or the whole partnership's."},
        422: {"description": "Malformed input, or an agency not active in the partner directory."},
    },
)
async def issue_feed(
    body: FeedRequest,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    actor: Annotated[Actor, Depends(allow(BU, AGENCY))],
) -> IssuedFeed:
    """Returns the feed's secret URL, once: it is not kept, and cannot be shown again. A lost URL is
    replaced by revoking the feed and making another."""
    feed_id, token = uuid.uuid4().hex, new_token()

    async def issued() -> IssuedFeed:
        _may_manage(actor, body.agency)
        feed = await run_in_threadpool(_issue, engine, body, actor, feed_id, token)
        return IssuedFeed(
            id=feed.id,
            agency=feed.agency,
            label=feed.label,
            url=feed_url(settings.public_url, token),
            created_at=feed.created_at,
        )

    scope = body.agency or "the whole partnership"
    return await audited(request, actor, None, f"calendar feed {feed_id} for {scope}", issued())


def _feeds(engine: Engine, agency: str | None) -> list[FeedListItem]:
    query = select(CalendarFeedRow).order_by(CalendarFeedRow.created_at.desc(), CalendarFeedRow.id)
    if agency is not None:
        query = query.where(CalendarFeedRow.agency == agency)
    with Session(engine) as session:
        return [FeedListItem.model_validate(feed, from_attributes=True) for feed in session.scalars(query)]


@router.get(
    "/calendar-feeds",
    response_model=list[FeedListItem],
    summary="List calendar feeds, revoked ones too (a partner agency sees its own agency's)",
)
async def list_feeds(
    engine: EngineDep, actor: Annotated[Actor, Depends(allow(BU, MANAGER, SCRUTINEER, AGENCY))]
) -> list[FeedListItem]:
    """Newest first; never their URLs, which are not kept."""
    if actor.role is AGENCY:
        if actor.agency is None:
            return []
        return await run_in_threadpool(_feeds, engine, actor.agency)
    return await run_in_threadpool(_feeds, engine, None)


def _revoke(engine: Engine, feed_id: str, actor: Actor) -> None:
    with Session(engine) as session:
        feed = session.get(CalendarFeedRow, feed_id)
        if feed is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no calendar feed {feed_id}")
        _may_manage(actor, feed.agency)
        if feed.revoked_at is None:  # revoking again changes nothing: the first revocation stands
            feed.revoked_at = datetime.now(UTC)
            feed.revoked_by = actor.user_id
            session.commit()


@router.delete(
    "/calendar-feeds/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Revoke a calendar feed (Business Unit; a partner agency its own agency's)",
    responses={403: {"description": "Another agency's feed."}, 404: {"description": "No such feed."}},
)
async def revoke_feed(
    feed_id: FeedId,
    request: Request,
    engine: EngineDep,
    actor: Annotated[Actor, Depends(allow(BU, AGENCY))],
) -> Response:
    """Its URL stops working at once. Revoking a revoked feed is accepted and changes nothing."""
    await audited(
        request,
        actor,
        None,
        f"calendar feed {feed_id}",
        run_in_threadpool(_revoke, engine, feed_id, actor),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _feed_for(engine: Engine, token: str) -> CalendarFeedRow | None:
    with Session(engine) as session:
        feed = session.scalars(
            select(CalendarFeedRow).where(
                CalendarFeedRow.token_hash == token_hash(token), CalendarFeedRow.revoked_at.is_(None)
            )
        ).one_or_none()
        if feed is None:
            return None
        if feed.agency is not None:
            agency = session.get(AgencyRow, feed.agency)
            if agency is None or not agency.active:
                return None  # an agency taken out of the directory loses its feeds with it
        session.expunge(feed)
        return feed


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    summary="A calendar feed, for calendar applications (no sign-in: the URL is the secret)",
    responses={
        200: {"content": {"text/calendar": {}}, "description": "The feed (iCalendar)."},
        404: {"description": "No such feed: never issued, or revoked."},
    },
)
async def serve_feed(token: str, engine: EngineDep, settings: SettingsDep) -> Response:
    """Open deadlines as iCalendar events, refreshed by the calendar application about hourly."""
    feed = await run_in_threadpool(_feed_for, engine, token)
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_FEED)
    body = await run_in_threadpool(
        build_feed, engine, feed.agency, feed.label, datetime.now(UTC), public_url=settings.public_url
    )
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
