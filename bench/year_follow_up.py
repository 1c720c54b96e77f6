"""What follows each simulated case's rapid review in the national year (``bench/national_year.py``):
its CSPR's steps, and its action plan's.

A CSPR runs from the partners' dated sign-off: reviewer, terms, a learning event, the draft, the three
partners' approvals, the final report (its recommendations open the plan), the copy to the Panel and the
Secretary of State, publication. One in three stops its clock for parallel proceedings (weeks or months,
told to the Panel); some are published after their six months. A plan opens at the rapid review's answer
(or at a CSPR's final report) and takes 10-40 actions, each for an agency of the area's directory, due on
working days spread over two years: most completed on time, some late, some never.

Every step is dated when it happened that day; the simulation sends each day's steps at 16:30 London.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from bench.year_checks import LONDON, SAME_DAY_SLACK, Expected, action_due, cspr_due, london, months_later
from safeguarding.domain.action_plan import ActionProgress, ActionSignedOff, AddAction
from safeguarding.domain.people import Actor, Attributed, Role, StatutoryPartner
from safeguarding.domain.record import Stream, stream_workflow_id
from safeguarding.domain.review import (
    ClockRestarted,
    ClockStopped,
    CopySent,
    DraftReceived,
    FinalReport,
    LearningEventHeld,
    ProceedingsKind,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    TermsAgreed,
)
from workflows.action_plan import ActionPlanWorkflow
from workflows.review import ReviewWorkflow

BU = Actor(user_id="bu.officer1", role=Role.business_unit)
CHAIR = Actor(user_id="jcrg.chair", role=Role.jcrg_chair)
PARTNERS = {
    p: Actor(user_id=f"{p.value}.lead", role=Role.safeguarding_partner, partner=p) for p in StatutoryPartner
}
SENT_AT = (16, 30)  # every day's steps are sent then, dated when they happened
THEMES = ["information_sharing", "neglect", "voice_of_the_child", "thresholds_and_early_help"]
# Each action's fate, by its place in the plan: any four in a row hold one late and one on time.
FATES = "OLOONOOLOO"  # O: signed off on time, L: signed off late, N: never signed off
# Actions added at once (Temporal takes a few updates in flight per workflow).
ADDED_TOGETHER = 8

Step = tuple[datetime, str, Callable[[], Awaitable[None]]]


def by(actor: Actor, decision) -> Attributed:  # type: ignore[no-untyped-def]
    return Attributed[type(decision)](actor=actor, decision=decision)  # type: ignore[misc]


def weekday_on_or_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday() if day.weekday() >= 5 else 0)


def weekday_on_or_before(day: date) -> date:
    return day - timedelta(days=day.weekday() - 4 if day.weekday() >= 5 else 0)


async def opened(handle: WorkflowHandle, await_opened) -> None:  # type: ignore[no-untyped-def]
    """A child workflow the case starts itself: wait until it exists and has opened."""
    for _ in range(100):
        try:
            await handle.execute_update(await_opened)
            return
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{handle.id} never opened")


class Cspr:
    """One CSPR's dates, counted from the local date of the partners' sign-off (``decided``)."""

    def __init__(self, n: int, reference: str, decided: datetime) -> None:
        self.reference, self.decided = reference, decided
        self.stops = n % 3 == 0
        self.days_stopped = 21 + (n * 29) % 100 if self.stops else 0
        span = 140 + (n * 23) % 60  # the days it takes, its clock running: past 6 months is late
        start = decided.astimezone(LONDON).date()

        def day(worked: int) -> date:  # after the stop, every step moves on by the days stopped
            return start + timedelta(days=worked + (self.days_stopped if worked > 40 else 0))

        self.appointed, self.terms, self.learning = day(14), day(30), day(60)
        self.stopped = london(start + timedelta(days=40), 10)
        self.restarted = london(start + timedelta(days=40 + self.days_stopped), 11)
        self.draft, self.approved = day(span - 60), london(day(span - 45), 11)
        self.final, self.copy, self.scheduled = day(span - 35), day(span - 30), day(span - 28)
        self.published_on = day(span)
        # Half are recorded the day after (met at midday); never the due day's, which the timer would see.
        due_on = months_later(start, 6) + timedelta(days=self.days_stopped)
        later = n % 2 == 1 and self.published_on < due_on
        self.recorded = london(self.published_on + timedelta(days=1 if later else 0), *SENT_AT)
        self.recommendations = 2 + n % 4

    @property
    def met(self) -> datetime:
        """When publication meets the deadline: midday London on the day, or the recording that day."""
        if self.recorded.date() == self.published_on:
            return self.recorded
        return london(self.published_on, 12)

    def expected(self, end_of_day: tuple[int, int]) -> Expected:
        due = cspr_due(self.decided, self.days_stopped, end_of_day)
        same_day = self.recorded.date() == self.published_on
        slack = SAME_DAY_SLACK if same_day else timedelta(seconds=1)
        return Expected(self.reference, "review", "cspr_completion", due, self.met, slack=slack)

    def steps(self, client: Client, case_workflow_id: str) -> list[Step]:
        handle = client.get_workflow_handle(stream_workflow_id(case_workflow_id, Stream.review))
        review = ReviewWorkflow

        async def appoint() -> None:
            await opened(handle, review.await_opened)
            step = ReviewerAppointed(reviewer="An independent reviewer", appointed_on=self.appointed)
            await handle.execute_update(review.appoint_reviewer, by(CHAIR, step))

        async def terms() -> None:
            step = TermsAgreed(methodology="Systems", terms_of_reference="Agreed terms", agreed_on=self.terms)
            await handle.execute_update(review.agree_terms, by(CHAIR, step))

        async def stop() -> None:
            step = ClockStopped(
                proceedings=ProceedingsKind.criminal_trial,
                reasons="A criminal trial: family contact waits.",
                expected_end=self.restarted.date() + timedelta(days=14),
                panel_told_on=self.stopped.date(),
                occurred_at=self.stopped,
            )
            await handle.execute_update(review.stop_clock, by(BU, step))

        async def restart() -> None:
            step = ClockRestarted(reasons="The trial has ended.", occurred_at=self.restarted)
            await handle.execute_update(review.restart_clock, by(BU, step))

        async def learning() -> None:
            step = LearningEventHeld(held_on=self.learning)
            await handle.execute_update(review.record_learning_event, by(BU, step))

        async def draft() -> None:
            await handle.execute_update(review.receive_draft, by(BU, DraftReceived(received_on=self.draft)))

        async def approve() -> None:
            for partner, actor in PARTNERS.items():
                step = ReportApproved(partner=partner, reasons="Approved.", occurred_at=self.approved)
                await handle.execute_update(review.approve_report, by(actor, step))

        async def final() -> None:
            found = [f"Recommendation {r + 1}" for r in range(self.recommendations)]
            step = FinalReport(received_on=self.final, recommendations=found)
            await handle.execute_update(review.receive_final_report, by(CHAIR, step))

        async def copy() -> None:
            await handle.execute_update(review.send_copy, by(BU, CopySent(sent_on=self.copy)))

        async def schedule() -> None:
            step = PublicationScheduled(publication_date=self.published_on)
            await handle.execute_update(review.schedule_publication, by(BU, step))

        async def publish() -> None:
            step = Published(published_on=self.published_on)
            await handle.execute_update(review.record_publication, by(BU, step))

        def on(day: date) -> datetime:
            return london(day, *SENT_AT)

        stop_steps: list[Step] = [
            (self.stopped, "stop_clock", stop),
            (self.restarted, "restart_clock", restart),
        ]
        return [
            (on(self.appointed), "appoint_reviewer", appoint),
            (on(self.terms), "agree_terms", terms),
            *(stop_steps if self.stops else []),
            (on(self.learning), "record_learning_event", learning),
            (on(self.draft), "receive_draft", draft),
            (self.approved, "approve_report", approve),
            (on(self.final), "receive_final_report", final),
            (on(self.copy), "send_copy", copy),
            (on(self.scheduled), "schedule_publication", schedule),
            (self.recorded, "record_publication", publish),
        ]


class PlannedAction:
    """One action: its agency, its date, and when its progress and sign-off come (if they do). Its id
    is the plan's (``A<n>``), known once it is added."""

    def __init__(self, n: int, number: int, due_on: date, agency: str, recommendations: int) -> None:
        self.number, self.agency, self.due_on = number, agency, due_on
        self.id: str | None = None
        self.recommendation = f"R{1 + number % recommendations}"
        self.fate = FATES[(n + number) % len(FATES)]
        if self.fate == "O":  # some on the due date itself, before its end
            self.progress = london(weekday_on_or_before(due_on - timedelta(days=14)), 11)
            self.signed_off: datetime | None = london(
                weekday_on_or_before(due_on - timedelta(days=(n + number) % 10)), 14
            )
        else:
            self.progress = london(weekday_on_or_before(due_on - timedelta(days=5)), 11)
            late = weekday_on_or_after(due_on + timedelta(days=1 + (n * 7 + number * 3) % 40))
            self.signed_off = london(late, 14) if self.fate == "L" else None


class ActionPlan:
    """One case's plan: opened at ``opened``; its actions added three days on, due over ``plan_days``."""

    def __init__(
        self,
        n: int,
        reference: str,
        opened: datetime,
        recommendations: int,
        agencies: list[str],
        actions: tuple[int, int],
        plan_days: int,
    ) -> None:
        self.reference = reference
        self.added = london(weekday_on_or_after(opened.astimezone(LONDON).date() + timedelta(days=3)), 10)
        fewest, most = actions
        count = fewest + (n * 7) % (most - fewest + 1)
        first, last = self.added.date() + timedelta(days=30), opened.date() + timedelta(days=plan_days)
        spread = max(1, (last - first).days)
        self.actions = [
            PlannedAction(
                n,
                number,
                weekday_on_or_before(first + timedelta(days=((number - 1) * spread) // count + n % 5)),
                agencies[(n + number) % len(agencies)],
                recommendations,
            )
            for number in range(1, count + 1)
        ]

    def expected(self, end_of_day: tuple[int, int]) -> list[Expected]:
        return [
            Expected(
                self.reference,
                "plan",
                "action_due",
                action_due(a.due_on, end_of_day),
                a.signed_off,
                subject=a.id or f"action {a.number}, never added",
            )
            for a in self.actions
        ]

    def last_day(self) -> date:
        return max(max(a.due_on, a.signed_off.date() if a.signed_off else a.due_on) for a in self.actions)

    def steps(self, client: Client, case_workflow_id: str) -> list[Step]:
        handle = client.get_workflow_handle(stream_workflow_id(case_workflow_id, Stream.plan))
        plan = ActionPlanWorkflow

        def adding(a: PlannedAction) -> Attributed:
            step = AddAction(
                recommendation_id=a.recommendation,
                agency=a.agency,
                lead_role="Head of Safeguarding",
                description=f"Action {a.number} of the plan",
                measure="An audit of practice.",
                themes=[THEMES[a.number % len(THEMES)]],
                due_on=a.due_on,
                occurred_at=self.added,
            )
            return by(CHAIR, step)

        async def add() -> None:
            """The JCRG adds the plan's actions at one meeting: a few at a time, as several people would."""
            await opened(handle, plan.await_opened)
            for first in range(0, len(self.actions), ADDED_TOGETHER):
                batch = self.actions[first : first + ADDED_TOGETHER]
                outcomes = await asyncio.gather(
                    *(handle.execute_update(plan.add_action, adding(a)) for a in batch)
                )
                for a, outcome in zip(batch, outcomes, strict=True):
                    a.id = next(e.details["action"] for e in outcome.events if e.kind == "action_added")

        def progress(a: PlannedAction) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                agency = Actor(user_id=f"{a.agency}.lead", role=Role.partner_agency, agency=a.agency)
                step = ActionProgress(
                    action_id=a.id, summary="Done.", evidence=["audit.pdf"], occurred_at=a.progress
                )
                await handle.execute_update(plan.record_progress, by(agency, step))

            return act

        def sign_off(a: PlannedAction) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                step = ActionSignedOff(
                    action_id=a.id,
                    outcome="completed",
                    evidence_of_impact="Practice changed.",
                    reasons="Evidence seen.",
                    occurred_at=a.signed_off,
                )
                await handle.execute_update(plan.sign_off_action, by(CHAIR, step))

            return act

        steps: list[Step] = [(self.added, "add_action", add)]
        for a in self.actions:
            steps.append((a.progress, f"record_progress (action {a.number})", progress(a)))
            if a.signed_off is not None:
                steps.append((a.signed_off, f"sign_off_action (action {a.number})", sign_off(a)))
        return steps
