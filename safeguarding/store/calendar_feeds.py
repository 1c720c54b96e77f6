"""Calendar feeds: issued with a secret token (only its hash is kept), listed, revoked for good."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safeguarding.store.tables import AgencyRow, CalendarFeedRow

WHOLE_PARTNERSHIP = "Safeguarding partnership: open deadlines"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgencyNotActive(ValueError):
    """A feed was asked for an agency that is not (or no longer) an active entry of the directory."""


def issue_feed(
    engine: Engine,
    feed_id: str,
    token: str,
    partnership: str,
    agency: str | None,
    label: str | None,
    by: str,
) -> CalendarFeedRow:
    """A feed of the partnership's open deadlines, or of one agency's (an entry of its directory)."""
    with Session(engine) as session:
        if agency is not None:
            entry = session.get(AgencyRow, (partnership, agency))
            if entry is None or not entry.active:
                state = (
                    f"is not in {partnership}'s partner directory" if entry is None else "is no longer active"
                )
                raise AgencyNotActive(
                    f"agency {agency!r} {state}; use the code of an active agency "
                    "from the partner directory, or null for the whole partnership"
                )
            label = label or f"{entry.name}: open deadlines"
        feed = CalendarFeedRow(
            id=feed_id,
            token_hash=token_hash(token),
            partnership=partnership,
            agency=agency,
            label=(label or WHOLE_PARTNERSHIP).strip(),
            created_at=datetime.now(UTC),
            created_by=by,
        )
        session.add(feed)
        session.commit()
        session.refresh(feed)
        session.expunge(feed)
        return feed


def revoke_feed(engine: Engine, feed_id: str, by: str) -> None:
    """Revoking again changes nothing: the first revocation stands."""
    with Session(engine) as session:
        feed = session.get(CalendarFeedRow, feed_id)
        if feed is not None and feed.revoked_at is None:
            feed.revoked_at = datetime.now(UTC)
            feed.revoked_by = by
            session.commit()
