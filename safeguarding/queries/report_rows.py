"""The rows of one partnership's cases that the reports read, fetched once, and the small readings the
closing-the-loop report and the yearly figures share.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguarding.domain.events import EventKind
from safeguarding.store.tables import (
    ActionPlanRow,
    ActionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
)

COMPLETED = ("completed", "completed_pending_audit")
# The events the reports read.
REPORTED_EVENTS = [
    EventKind.screened,
    EventKind.notification_recorded,
    EventKind.rapid_review_sent,
    EventKind.rapid_review_concluded,
    EventKind.review_commissioned,
    EventKind.final_report,
    EventKind.published,
    EventKind.not_published,
    EventKind.review_finished,
    EventKind.clock_stopped,
    EventKind.clock_restarted,
    EventKind.action_added,
    EventKind.task_withdrawn,
    EventKind.action_plan_closed,
    EventKind.escalation_sent,
    EventKind.case_opened,
    EventKind.contribution_sent,
    EventKind.recommendation_signed_off,
]


# Columns no report reads (free text it must never show, and bulky ones).
UNREAD: dict[Any, tuple[str, ...]] = {CaseEventRow: ("reasons",)}


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


class EscalationTier(BaseModel):
    number: int
    recipients: list[str]
    at: datetime | None


def event_time(event: CaseEventRow) -> datetime:
    return event.occurred_at or event.recorded_at


def ordinal(identifier: str) -> tuple[int, str]:
    """A1, A2, ..., A10 in that order (not A1, A10, A2)."""
    digits = "".join(c for c in identifier if c.isdigit())
    return (int(digits) if digits else 0, identifier)


class ReportRows:
    """The rows of one partnership's cases that the reports read, fetched once."""

    def __init__(self, session: Session, partnership: str) -> None:
        self.partnership = partnership

        def rows(table: Any, *where: Any) -> list[Any]:
            """Plain rows (attribute access as on the mapped class), not ORM objects: a report reads
            tens of thousands and changes none."""
            columns = [c for c in table.__table__.columns if c.key not in UNREAD.get(table, ())]
            return list(session.execute(select(*columns).where(table.partnership == partnership, *where)))

        self.cases = {c.reference: c for c in rows(CaseRow)}

        self.reviews = {r.case_reference: r for r in rows(ReviewRow)}
        self.plans = {p.case_reference: p for p in rows(ActionPlanRow)}
        self.actions = sorted(rows(ActionRow), key=lambda a: (a.case_reference, ordinal(a.action_id)))
        self.recommendations = sorted(
            rows(RecommendationRow), key=lambda r: (r.case_reference, ordinal(r.recommendation_id))
        )
        self.deadlines = rows(DeadlineRow)
        self.events = sorted(
            rows(
                CaseEventRow,
                CaseEventRow.kind.in_(REPORTED_EVENTS),
            ),
            key=lambda e: (e.case_reference, e.stream, e.seq),
        )
        self.escalations = rows(NotificationRow, NotificationRow.kind == "escalation")
        self._by_kind: dict[tuple[str, str], list[CaseEventRow]] = defaultdict(list)
        self._by_case: dict[tuple[str, str, str], list[CaseEventRow]] = defaultdict(list)
        for e in self.events:
            self._by_kind[(e.stream, e.kind)].append(e)
            self._by_case[(e.case_reference, e.stream, e.kind)].append(e)

    def events_of(self, kind: str, stream: str) -> list[CaseEventRow]:
        return self._by_kind.get((stream, kind), [])

    def case_events(self, reference: str, stream: str, *kinds: str) -> list[CaseEventRow]:
        found = [e for kind in kinds for e in self._by_case.get((reference, stream, kind), [])]
        return sorted(found, key=lambda e: e.seq)

    @cached_property
    def joint_reviews(self) -> set[str]:
        """The cases whose review is a joint CSPR/SAR (the recommendation signed off as one)."""
        signed = sorted(self.events_of(EventKind.recommendation_signed_off, "case"), key=lambda e: e.seq)
        last = {e.case_reference: bool(e.details.get("joint_with_adults_board")) for e in signed}
        return {reference for reference, joint in last.items() if joint}

    @cached_property
    def plan_closed_at(self) -> dict[str, datetime]:
        """case -> when its action plan was closed."""
        return {e.case_reference: event_time(e) for e in self.events_of(EventKind.action_plan_closed, "plan")}

    @cached_property
    def published_on(self) -> dict[str, date]:
        """case -> the day its review was published, as recorded."""
        return {
            e.case_reference: date.fromisoformat(e.details["published_on"])
            for e in self.events_of(EventKind.published, "review")
            if e.details.get("published_on")
        }

    @cached_property
    def action_tasks(self) -> dict[tuple[str, str], str]:
        """(case, action id) -> the action's task id, from the events that added them."""
        return {
            (e.case_reference, e.details.get("action")): e.details.get("task")
            for e in self.events_of(EventKind.action_added, "plan")
        }

    @cached_property
    def action_added_at(self) -> dict[tuple[str, str], datetime]:
        return {
            (e.case_reference, e.details.get("action")): event_time(e)
            for e in self.events_of(EventKind.action_added, "plan")
        }

    @cached_property
    def withdrawn_at(self) -> dict[tuple[str, str], datetime]:
        """(case, task id) -> when the task was withdrawn."""
        return {
            (e.case_reference, e.details.get("task")): event_time(e)
            for e in self.events_of(EventKind.task_withdrawn, "plan")
        }

    @cached_property
    def escalation_tiers(self) -> dict[tuple[str, str], list[EscalationTier]]:
        """(case, task id) -> the tiers of escalation its deadline reached, from the outbox and the log."""
        tiers: dict[tuple[str, str], dict[int, EscalationTier]] = defaultdict(dict)
        for n in self.escalations:
            if n.task_id and n.number:
                tiers[(n.case_reference, n.task_id)][n.number] = EscalationTier(
                    number=n.number, recipients=list(n.recipients), at=n.created_at
                )
        subjects = {(d.case_reference, d.stream, d.deadline_id): d.subject for d in self.deadlines}
        for e in self.events_of(EventKind.escalation_sent, "plan"):
            task = subjects.get((e.case_reference, e.stream, e.details.get("deadline")))
            number = e.details.get("number")
            if task and isinstance(number, int):
                tiers[(e.case_reference, task)].setdefault(
                    number,
                    EscalationTier(
                        number=number, recipients=list(e.details.get("recipients") or []), at=event_time(e)
                    ),
                )
        return {key: [by_number[n] for n in sorted(by_number)] for key, by_number in tiers.items()}
