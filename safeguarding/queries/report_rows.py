"""The rows of one partnership's cases that the reports read, each kind fetched once, and the small readings
the closing-the-loop report and the yearly figures share.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Text, TypeDecorator, cast, func, select, type_coerce
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


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


class EscalationTier(BaseModel):
    number: int
    recipients: list[str]
    at: datetime | None


def event_time(event: Any) -> datetime:
    return event.occurred_at or event.recorded_at


@lru_cache(maxsize=4096)  # a report sorts every action by it; the ids repeat from plan to plan
def ordinal(identifier: str) -> tuple[int, str]:
    """A1, A2, ..., A10 in that order (not A1, A10, A2)."""
    digits = "".join(c for c in identifier if c.isdigit())
    return (int(digits) if digits else 0, identifier)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a report is made: at 10,000 cases the closing-the-loop
    report makes some hundred thousand objects, every one kept until it returns, and the collector would
    go over the whole heap two or three times meanwhile (a third of the report's time) to free nothing.
    Objects are still freed as they are dropped, and the collector runs again once the report is made."""
    enabled = gc.isenabled()  # another report's, in another thread, may have paused it already
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decoded_once(column: Any) -> Any:
    """A JSON column read as its text, each distinct text decoded once: a report reads the same few theme
    lists and empty progress logs tens of thousands of times (and PostgreSQL's driver would decode every
    one). Equal values are one object, shared between rows and reports: read them, never change them."""
    return type_coerce(cast(column, Text), _DecodedOnce()).label(column.key)


class _DecodedOnce(TypeDecorator[Any]):
    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else _decoded(value)


@lru_cache(maxsize=4096)
def _decoded(text: str) -> Any:
    return json.loads(text)


@lru_cache(maxsize=64)  # one shape for each query's columns
def _shape(columns: tuple[str, ...]) -> Any:
    return namedtuple("Row", columns, rename=True)


class ReportRows:
    """One partnership's rows as a report reads them: each kind fetched once, when first asked for, with
    only the columns the reports use. Of the event log, only what ``events`` (a condition on
    ``CaseEventRow``) admits: each report says which events it reads, and of which time."""

    def __init__(self, session: Session, partnership: str, events: ColumnElement[bool]) -> None:
        self.session = session
        self.partnership = partnership
        self._events_read = events

    def rows(self, table: Any, *columns: Any, where: Iterable[Any] = ()) -> Iterator[Any]:
        """Named tuples (attribute access as on the mapped class), not ORM objects nor SQLAlchemy's rows:
        a report reads every field of tens of thousands, changes none, and a row's attribute costs ten
        times a named tuple's. One at a time: what a report only counts, it need not keep."""
        statement = select(*columns).where(table.partnership == self.partnership, *where)
        result = self.session.connection().execute(statement)
        return map(_shape(tuple(result.keys()))._make, result)

    def count(self, table: Any, *where: Any) -> int:
        statement = (
            select(func.count()).select_from(table).where(table.partnership == self.partnership, *where)
        )
        return self.session.connection().execute(statement).scalar_one()

    def actions(self, *columns: Any, where: Iterable[Any] = ()) -> list[Any]:
        """Actions (their case, their id and ``columns``), each case's in order: A1, A2, ..., A10."""
        found = self.rows(ActionRow, ActionRow.case_reference, ActionRow.action_id, *columns, where=where)
        return sorted(found, key=lambda a: (a.case_reference, ordinal(a.action_id)))

    @cached_property
    def planned(self) -> Any:
        """The cases with an action plan, as a subquery."""
        return select(ActionPlanRow.case_reference).where(ActionPlanRow.partnership == self.partnership)

    @cached_property
    def plan_cases(self) -> dict[str, Any]:
        """case -> its route, stage and outcome, for each case with an action plan."""
        found = self.rows(
            CaseRow,
            CaseRow.reference,
            CaseRow.route,
            CaseRow.stage,
            CaseRow.outcome,
            where=[CaseRow.reference.in_(self.planned)],
        )
        return {c.reference: c for c in found}

    @cached_property
    def reviews(self) -> dict[str, Any]:
        found = self.rows(
            ReviewRow,
            ReviewRow.case_reference,
            ReviewRow.kind,
            ReviewRow.stage,
            ReviewRow.outcome,
            ReviewRow.started_at,
            ReviewRow.finished_at,
            ReviewRow.paused,
            ReviewRow.publication_date,
        )
        return {r.case_reference: r for r in found}

    @cached_property
    def recommendations(self) -> list[Any]:
        found = self.rows(
            RecommendationRow,
            RecommendationRow.case_reference,
            RecommendationRow.recommendation_id,
            RecommendationRow.text,
            RecommendationRow.source,
        )
        return sorted(found, key=lambda r: (r.case_reference, ordinal(r.recommendation_id)))

    @cached_property
    def _events(self) -> tuple[dict[tuple[str, str], list[Any]], dict[tuple[str, str, str], list[Any]]]:
        """The events read, in each case's order: by (stream, kind), and by (case, stream, kind)."""
        found = self.rows(
            CaseEventRow,
            CaseEventRow.case_reference,
            CaseEventRow.stream,
            CaseEventRow.seq,
            CaseEventRow.kind,
            CaseEventRow.recorded_at,
            CaseEventRow.occurred_at,
            CaseEventRow.details,
            where=[self._events_read],
        )
        by_kind: dict[tuple[str, str], list[Any]] = defaultdict(list)
        by_case: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        for e in sorted(found, key=lambda e: (e.case_reference, e.stream, e.seq)):
            by_kind[(e.stream, e.kind)].append(e)
            by_case[(e.case_reference, e.stream, e.kind)].append(e)
        return by_kind, by_case

    def events_of(self, kind: str, stream: str) -> list[Any]:
        return self._events[0].get((stream, kind), [])

    def case_events(self, reference: str, stream: str, *kinds: str) -> list[Any]:
        by_case = self._events[1]
        found = [e for kind in kinds for e in by_case.get((reference, stream, kind), [])]
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
    def _actions_added(self) -> list[Any]:
        """The events that added the actions, in the log's order: each action's id and task (read in SQL,
        not by decoding every event's details) and when it was added."""
        details = CaseEventRow.details
        found = self.rows(
            CaseEventRow,
            CaseEventRow.case_reference,
            CaseEventRow.seq,
            details["action"].as_string().label("action"),
            details["task"].as_string().label("task"),
            func.coalesce(CaseEventRow.occurred_at, CaseEventRow.recorded_at).label("at"),
            where=[CaseEventRow.kind == EventKind.action_added, CaseEventRow.stream == "plan"],
        )
        return sorted(found, key=lambda e: e.seq)

    @cached_property
    def action_tasks(self) -> dict[tuple[str, str], str]:
        """(case, action id) -> the action's task id, from the events that added them."""
        return {(e.case_reference, e.action): e.task for e in self._actions_added}

    @cached_property
    def action_added_at(self) -> dict[tuple[str, str], datetime]:
        return {(e.case_reference, e.action): e.at for e in self._actions_added}

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
        escalations = self.rows(
            NotificationRow,
            NotificationRow.case_reference,
            NotificationRow.task_id,
            NotificationRow.number,
            NotificationRow.recipients,
            NotificationRow.created_at,
            where=[NotificationRow.kind == "escalation"],
        )
        for n in escalations:
            if n.task_id and n.number:
                tiers[(n.case_reference, n.task_id)][n.number] = EscalationTier(
                    number=n.number, recipients=list(n.recipients), at=n.created_at
                )
        sent = self.events_of(EventKind.escalation_sent, "plan")
        subjects = self._task_deadlines() if sent else {}
        for e in sent:
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

    def _task_deadlines(self) -> dict[tuple[str, str, str], str]:
        """(case, stream, deadline id) -> the task a plan's deadline is for (the only ones escalated as a
        task's)."""
        found = self.rows(
            DeadlineRow,
            DeadlineRow.case_reference,
            DeadlineRow.stream,
            DeadlineRow.deadline_id,
            DeadlineRow.subject,
            where=[DeadlineRow.stream == "plan", DeadlineRow.subject.is_not(None)],
        )
        return {(d.case_reference, d.stream, d.deadline_id): d.subject for d in found}
