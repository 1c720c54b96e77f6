"""A deadline's state, computed at read time: *overdue* the moment its due time passes, *due soon* once
its first reminder time has come (the policy's lead times, stored on the deadline) and *on track* before
that. Work whose deadline carries no reminder times is due soon within ``DUE_SOON_WITHOUT_REMINDERS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

LIVE = ("open", "overdue")  # a deadline not yet met nor cancelled

OPEN_ACTION = "open"

DUE_SOON_WITHOUT_REMINDERS = timedelta(days=2)


class DueState(StrEnum):
    on_track = "on_track"
    due_soon = "due_soon"
    overdue = "overdue"
    met = "met"
    met_late = "met_late"
    cancelled = "cancelled"
    done = "done"  # work completed or withdrawn: no deadline left to watch


def due_state(
    due_at: datetime | None,
    now: datetime,
    *,
    status: str = "open",
    met_at: datetime | None = None,
    reminder_times: list[str] | None = None,
) -> DueState | None:
    """The state of one deadline (or piece of work with a due time) at ``now``."""
    if status == "cancelled":
        return DueState.cancelled
    if met_at is not None:
        return DueState.met if due_at is None or met_at <= due_at else DueState.met_late
    if status not in LIVE:
        return DueState.done
    if due_at is None:
        return None
    if due_at < now:
        return DueState.overdue
    reminders = [datetime.fromisoformat(t) for t in reminder_times or []]
    soon_from = min(reminders) if reminders else due_at - DUE_SOON_WITHOUT_REMINDERS
    return DueState.due_soon if now >= soon_from else DueState.on_track
