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
from sqlalchemy import Engine

from api.access import AGENCY, BU, MANAGER, SCRUTINEER, allow, audited
from api.dependencies import EngineDep, SettingsDep
from api.partnerships import one_partnership
from safeguarding.domain.fields import AgencyCode, StrictModel
from safeguarding.domain.people import Actor
from safeguarding.queries import calendar as feeds
from safeguarding.queries.calendar import FeedListItem
from safeguarding.render.calendar_feed import build_feed, feed_url
from safeguarding.store import calendar_feeds

router = APIRouter(tags=["calendar"])

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
    partnership: AgencyCode | None = Field(
        default=None, description="Whose deadlines: one of yours (needed only if your token names several)."
    )


class IssuedFeed(BaseModel):
    id: str
    partnership: str
    agency: str | None
    label: str
    url: str = Field(description="The secret address to subscribe to. Shown only now: keep it safe.")
    created_at: datetime


def _may_manage(actor: Actor, agency: str | None) -> None:
    if actor.role is AGENCY and (agency is None or agency != actor.agency):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"a partner agency manages only its own agency's calendar feeds ({actor.agency})",
        )


@router.post(
    "/calendar-feeds",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedFeed,
    summary="Make a calendar feed of open deadlines (Business Unit; a partner agency its own)",
    responses={
        403: {"description": "A partner agency asked for another agency's, or the whole partnership's."},
        409: {"description": "The agency is not (or no longer) active in the partner directory."},
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
    feed_id, token = uuid.uuid4().hex, calendar_feeds.new_token()

    async def issued() -> IssuedFeed:
        _may_manage(actor, body.agency)
        partnership = one_partnership(actor, body.partnership, request.app.state.policies)
        try:
            feed = await run_in_threadpool(
                calendar_feeds.issue_feed,
                engine,
                feed_id,
                token,
                partnership,
                body.agency,
                body.label,
                actor.user_id,
            )
        except calendar_feeds.AgencyNotActive as problem:
            raise HTTPException(status.HTTP_409_CONFLICT, str(problem)) from None
        return IssuedFeed(
            id=feed.id,
            partnership=feed.partnership,
            agency=feed.agency,
            label=feed.label,
            url=feed_url(settings.public_url, token),
            created_at=feed.created_at,
        )

    scope = body.agency or "the whole partnership"
    return await audited(request, actor, None, f"calendar feed {feed_id} for {scope}", issued())


@router.get(
    "/calendar-feeds",
    response_model=list[FeedListItem],
    summary="List calendar feeds, revoked ones too (a partner agency sees its own agency's)",
)
async def list_feeds(
    engine: EngineDep, actor: Annotated[Actor, Depends(allow(BU, MANAGER, SCRUTINEER, AGENCY))]
) -> list[FeedListItem]:
    """The feeds of the reader's partnerships, newest first; never their URLs, which are not kept."""
    if actor.role is AGENCY:
        if actor.agency is None:
            return []
        return await run_in_threadpool(feeds.list_feeds, engine, actor.partnerships, actor.agency)
    return await run_in_threadpool(feeds.list_feeds, engine, actor.partnerships, None)


def _revoke(engine: Engine, feed_id: str, actor: Actor) -> None:
    feed = feeds.find_feed(engine, feed_id)
    if feed is None or feed.partnership not in actor.partnerships:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no calendar feed {feed_id}")
    _may_manage(actor, feed.agency)
    calendar_feeds.revoke_feed(engine, feed_id, actor.user_id)


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
    feed = await run_in_threadpool(feeds.live_feed, engine, calendar_feeds.token_hash(token))
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_FEED)
    body = await run_in_threadpool(
        build_feed,
        engine,
        feed.partnership,
        feed.agency,
        feed.label,
        datetime.now(UTC),
        public_url=settings.public_url,
    )
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
