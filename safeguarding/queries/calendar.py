"""Calendar feeds: the feeds issued, the live feed a secret URL names, and the open deadlines a feed
shows (an agency's, or the whole partnership's)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.domain.tasks import TaskStatus
from safeguarding.queries.due import LIVE
from safeguarding.store.tables import AgencyRow, CalendarFeedRow, DeadlineRow, TaskRow


def live_deadlines(
    engine: Engine, partnership: str, agency: str | None
) -> list[tuple[DeadlineRow, TaskRow | None]]:
    """The partnership's live deadlines, or the open tasks its directory's ``agency`` owes (on another
    partnership's case too, where the partnership contributes)."""
    query = (
        select(DeadlineRow, TaskRow)
        .outerjoin(
            TaskRow,
            (TaskRow.partnership == DeadlineRow.partnership)
            & (TaskRow.case_reference == DeadlineRow.case_reference)
            & (TaskRow.task_id == DeadlineRow.subject),
        )
        .where(DeadlineRow.status.in_(LIVE))
        .order_by(DeadlineRow.due_at, DeadlineRow.case_reference, DeadlineRow.stream, DeadlineRow.deadline_id)
    )
    with Session(engine) as session:
        if agency is None:
            query = query.where(DeadlineRow.partnership == partnership)
        else:
            # An agency's calendar holds only the work still asked of it: its own tasks, and for one of
            # the partnership's offices the tasks owned by a role it holds (the Business Unit's duties).
            entry = session.get(AgencyRow, (partnership, agency))
            owners = [agency, *(entry.roles if entry is not None else [])]
            query = query.where(
                TaskRow.agency.in_(owners),
                TaskRow.agency_partnership == partnership,
                TaskRow.status == TaskStatus.open.value,
            )
        return [(row.DeadlineRow, row.TaskRow) for row in session.execute(query)]


class FeedListItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    partnership: str
    agency: str | None
    label: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None


def list_feeds(engine: Engine, partnerships: list[str], agency: str | None) -> list[FeedListItem]:
    """The partnerships' feeds, newest first, revoked ones too; never their URLs, which are not kept."""
    query = (
        select(CalendarFeedRow)
        .where(CalendarFeedRow.partnership.in_(partnerships))
        .order_by(CalendarFeedRow.created_at.desc(), CalendarFeedRow.id)
    )
    if agency is not None:
        query = query.where(CalendarFeedRow.agency == agency)
    with Session(engine) as session:
        return [FeedListItem.model_validate(feed) for feed in session.scalars(query)]


def find_feed(engine: Engine, feed_id: str) -> FeedListItem | None:
    with Session(engine) as session:
        feed = session.get(CalendarFeedRow, feed_id)
        return None if feed is None else FeedListItem.model_validate(feed)


def live_feed(engine: Engine, hashed_token: str) -> FeedListItem | None:
    """The feed a secret URL names, unless revoked or its agency left the directory."""
    with Session(engine) as session:
        feed = session.scalars(
            select(CalendarFeedRow).where(
                CalendarFeedRow.token_hash == hashed_token, CalendarFeedRow.revoked_at.is_(None)
            )
        ).one_or_none()
        if feed is None:
            return None
        if feed.agency is not None:
            agency = session.get(AgencyRow, (feed.partnership, feed.agency))
            if agency is None or not agency.active:
                return None  # an agency taken out of the directory loses its feeds with it
        return FeedListItem.model_validate(feed)
