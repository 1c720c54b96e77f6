"""The activities the workflows call: each one's name, what it takes and what it gives back.

Workflows call an activity through its definition here (``workflows/calls.py``), never by importing its
implementation: the implementations in ``activities/`` do I/O (the database, the holiday calendar, mail)
and the workflows' layer imports none of it. The worker registers the implementations; a test checks
that every definition has one under its name, taking and giving the same models.

The names are the activity types recorded in running workflows' histories: they never change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from safeguarding.domain.contracts import (
    CaseChanges,
    DeadlineNotice,
    DueDateRequest,
    DueDates,
    NextDates,
    Shifted,
    ShiftRequest,
)
from safeguarding.domain.delivery import DigestBatch, GiveUp
from safeguarding.domain.reporting import ReportMade, ReportOrder
from safeguarding.domain.yearly_report import YearlyNotice, YearlyState

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class ActivityDefinition(Generic[In, Out]):
    name: str
    takes: Any  # the input's type (None: no input)
    gives: Any  # the output's type


# Deadlines: due dates from the working-day calendar, recorded in history so that a newer holiday
# calendar never changes a running case.
COMPUTE_DUE_DATES = ActivityDefinition[DueDateRequest, list[DueDates]](
    "compute_due_dates", DueDateRequest, list[DueDates]
)
SHIFT_TIMES = ActivityDefinition[ShiftRequest, Shifted]("shift_times", ShiftRequest, Shifted)
NEXT_CHECKPOINT = ActivityDefinition[NextDates, datetime]("next_checkpoint", NextDates, datetime)

# The read model, the event log and the outbox, written after each change. (Run as local activities,
# these and the calendar's made the Java time-skipping test server refuse workflow tasks - "invalid
# history builder state for action" - and leave steps unanswered: README "Performance".)
RECORD_CASE_CHANGES = ActivityDefinition[CaseChanges, int]("record_case_changes", CaseChanges, int)
DISPATCH_NOTICE = ActivityDefinition[DeadlineNotice, bool]("dispatch_notice", DeadlineNotice, bool)

# The yearly report's process.
NOTIFY_YEARLY = ActivityDefinition[YearlyNotice, bool]("notify", YearlyNotice, bool)
RECORD_YEARLY_STATE = ActivityDefinition[YearlyState, None]("record_state", YearlyState, type(None))

# Reports.
BUILD_CLOSING_THE_LOOP = ActivityDefinition[ReportOrder, ReportMade](
    "build_closing_the_loop", ReportOrder, ReportMade
)

# Deliveries (their own task queue).
DELIVER = ActivityDefinition[int, str]("deliver", int, str)
GIVE_UP = ActivityDefinition[GiveUp, None]("give_up", GiveUp, type(None))
PREPARE_DIGESTS = ActivityDefinition[date, DigestBatch]("prepare_digests", date, DigestBatch)
START_WAITING_DELIVERIES = ActivityDefinition[None, int]("start_waiting_deliveries", None, int)

CASE_ACTIVITIES = [
    COMPUTE_DUE_DATES,
    SHIFT_TIMES,
    NEXT_CHECKPOINT,
    RECORD_CASE_CHANGES,
    DISPATCH_NOTICE,
    NOTIFY_YEARLY,
    RECORD_YEARLY_STATE,
    BUILD_CLOSING_THE_LOOP,
]
DELIVERY_ACTIVITIES = [DELIVER, GIVE_UP, PREPARE_DIGESTS, START_WAITING_DELIVERIES]
