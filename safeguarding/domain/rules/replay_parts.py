"""The parts of the importer's replay of a case's history (``rules/onboarding.py``): each step as it
will be sent, where the replay ends, who took a step, and one stream (case, review or plan) with its
clock's arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from safeguarding.domain import steps as table
from safeguarding.domain.action_plan import PlanFile
from safeguarding.domain.contracts import DueDateItem, DueDateRequest, DueDates
from safeguarding.domain.deadline_book import DeadlineBook, escalation_delays
from safeguarding.domain.milestones import Reached
from safeguarding.domain.onboarding import ImportStep
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.policy import DATE_SET, DeadlineRule
from safeguarding.domain.record import (
    ScheduledCheckpoint,
    WorkRecord,
)
from safeguarding.domain.rules.common import step_time

DueDateCalculator = Callable[[DueDateRequest], list[DueDates]]


def due_when_started(request: DueDateRequest) -> list[DueDates]:
    """Without the working-day calendar: each deadline falls due when it starts (no check reads it)."""
    return [
        DueDates(
            due_at=item.started_at,
            reminder_times=[],
            escalation_times=[item.started_at for after in item.escalations_after if after],
        )
        for item in request.items
    ]


@dataclass
class PlannedStep:
    """A step of the history as it will be sent: its update, the body (its task named), who takes it."""

    item: ImportStep
    body: BaseModel
    actor: Actor


@dataclass
class Replayed:
    """Where the case stands after its history, and each step ready to send."""

    steps: list[PlannedStep]
    stage: str
    review_stage: str | None = None
    plan_status: str | None = None
    late: list[str] = field(default_factory=list)


def actor_for(item: ImportStep, importer: Actor, partnership: str) -> Actor:
    """Who takes the step: as the file says, else the importing Business Unit, else the step's natural
    role (a partner signs for the partner its body names; the JCRG's chair decides for the JCRG)."""
    acting = item.acting_as
    roles = item.step.roles
    role = acting.role if acting else None
    if role is None and acting is not None:
        role = Role.partner_agency if acting.agency else Role.safeguarding_partner if acting.partner else None
    if role is None:
        role = next(
            (r for r in (Role.business_unit, Role.safeguarding_partner, Role.jcrg_chair) if r in roles),
            roles[0],
        )
    partner = acting.partner if acting else None
    if partner is None and role is Role.safeguarding_partner:
        partner = getattr(item.body, "partner", None)
    acting_in = (acting.partnership if acting else None) or partnership
    return Actor(
        user_id=(acting.user_id if acting else None) or importer.user_id,
        role=role,
        agency=acting.agency if acting else None,
        partner=partner,
        partnerships=[acting_in],
        partnership=acting_in,
    )


class StreamReplay:
    """One workflow's record and clock, as far as the rules need them."""

    def __init__(
        self,
        record: WorkRecord,
        began: Callable[[], tuple[datetime | None, str]],
        replay: Any,  # the HistoryReplay this stream is part of
    ):
        self.record = record
        self.book = DeadlineBook(record.deadlines)
        self.began = began
        self.replay = replay

    def reach(self, reached: list[Reached]) -> None:
        """As the clock's ``_reach``: meet, stop checkpoints, open deadlines, schedule checkpoints."""
        record, policy, now = self.record, self.record.policy, self.replay.now
        for milestone, at, subject in reached:
            self.book.meet(milestone, subject, at)
            for checkpoint in list(record.checkpoints):
                rule = policy.checkpoints[checkpoint.key]
                if milestone in rule.until and (checkpoint.subject == subject or subject is None):
                    record.checkpoints.remove(checkpoint)
        starting = [
            (key, rule, at, subject)
            for milestone, at, subject in reached
            for key, rule in policy.rules_started_by(milestone, record.facts)
        ]
        if starting:
            dates = self.replay.due_dates(
                self._request([self._item(rule, at, subject) for _, rule, at, subject in starting])
            )
            for (key, rule, at, subject), due in zip(starting, dates, strict=True):
                self.book.open(key, rule, policy.escalation_for(rule), at, due, subject, now)
        for milestone, at, subject in reached:
            for key, _ in policy.checkpoints_started_by(milestone, record.facts):
                record.checkpoints.append(ScheduledCheckpoint(key=key, at=at, subject=subject))

    def redate(self, subject: str, due_on: date) -> None:
        deadline = next(d for d in self.book.live() if d.subject == subject)
        rule = self.record.policy.deadlines[deadline.key]
        (dates,) = self.replay.due_dates(
            self._request([self._item(rule, deadline.started_at, subject, due_on)])
        )
        self.book.redate(deadline, dates, self.record.policy.escalation_for(rule), self.replay.now)

    def _request(self, items: list[DueDateItem]) -> DueDateRequest:
        policy = self.record.policy
        return DueDateRequest(timezone=policy.timezone, working_days=policy.working_days, items=items)

    def _item(
        self, rule: DeadlineRule, at: datetime, subject: str | None, due_on: date | None = None
    ) -> DueDateItem:
        date_set = rule.due == DATE_SET
        if date_set and due_on is None and isinstance(self.record, PlanFile):
            action = self.record.action_for_task(subject)
            due_on = action.due_on if action else None
        return DueDateItem(
            started_at=at,
            due=None if date_set else rule.due,
            due_on=due_on if date_set else None,
            reminders=rule.reminders,
            escalations_after=escalation_delays(self.record.policy.escalation_for(rule)),
        )

    def check(self, step: table.Step, actor: Actor, decision: BaseModel, rule: Any) -> datetime:
        """As ``Casework._check``: who may, then the rules at the time the step happened."""
        record = self.record
        contributors = self.replay.case.contributors if record is self.replay.case else []
        step.check_partnership(actor, record.reference, record.partnership, contributors)
        step.check_actor(actor)
        at = step_time(decision, self.replay.now, *self.began())
        rule(record, actor, decision, at)
        return at
