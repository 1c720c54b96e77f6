"""A national year, simulated: ``--cases`` serious incident notifications (500 by default) across ten
partnerships, opened through a year on the time-skipping server, each taken through its rapid review on
dates that make some statutory deadlines late; three in ten go on to a CSPR (begun on the partners'
decision), the rest to an action plan of the rapid review's learning. The clock then runs on a month.

Every case's two statutory rapid-review deadlines (the Panel told within 5 working days of awareness;
the rapid review sent within 15 working days of that notification) are then checked against an
independent computation: its own list of England's bank holidays (GOV.UK, 2026-2028, not the
``holidays`` package the service uses), weekends, the end of the working day in London across the clock
changes. Each must have the same due time, the same met-on-time answer, and a breach recorded at its
due time exactly when it was late (the timer fired: none missed).

    python -m bench.national_year [--cases 500] [--partnerships 10]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.delivery import Postroom
from bench.read_side import database, postgres_reachable
from safeguarding.domain.case import (
    CaseOpening,
    CaseStart,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScrutineerInformed,
)
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.domain.people import Actor, Attributed, Role, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import workflow_id_for
from safeguarding.platform.codec import PayloadKeys, data_converter
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import DeadlineRow
from worker import build_worker, ensure_search_attributes
from workflows.incident import CaseWorkflow

LONDON = ZoneInfo("Europe/London")
BIN = Path(sys.executable).parent
BU = Actor(user_id="bu.officer1", role=Role.business_unit)
CHAIR = Actor(user_id="jcrg.chair", role=Role.jcrg_chair)
PARTNERS = {
    p: Actor(user_id=f"{p.value}.lead", role=Role.safeguarding_partner, partner=p) for p in StatutoryPartner
}

# England and Wales bank holidays (GOV.UK), substitute days included: the independent calendar.
BANK_HOLIDAYS = {
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4), date(2026, 5, 25),
    date(2026, 8, 31), date(2026, 12, 25), date(2026, 12, 28),
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 3), date(2027, 5, 31),
    date(2027, 8, 30), date(2027, 12, 27), date(2027, 12, 28),
    date(2028, 1, 3), date(2028, 4, 14), date(2028, 4, 17), date(2028, 5, 1), date(2028, 5, 29),
    date(2028, 8, 28), date(2028, 12, 25), date(2028, 12, 26),
}  # fmt: skip


def expected_due(start: datetime, working_days: int, end_of_day: tuple[int, int]) -> datetime:
    """The end of the ``working_days``-th working day after ``start``'s day in London, in UTC."""
    day = start.astimezone(LONDON).date()
    while working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            working_days -= 1
    return datetime(day.year, day.month, day.day, *end_of_day, tzinfo=LONDON).astimezone(UTC)


def by(actor: Actor, decision) -> Attributed:  # type: ignore[no-untyped-def]
    return Attributed[type(decision)](actor=actor, decision=decision)  # type: ignore[misc]


class Case:
    """One case's dates: when it became known and when each of its rapid review's steps is taken."""

    def __init__(self, n: int, day: date, partnership: str) -> None:
        self.n, self.partnership = n, partnership
        self.reference = f"NY-{n:04d}"
        self.aware = datetime(day.year, day.month, day.day, 9, 30, tzinfo=LONDON)
        self.notified = self.at(self.aware, 1 + n % 9, 11)  # some after 5 working days: late
        self.recommended = self.at(self.notified, 6, 10)
        self.sent = self.at(self.notified, 12 + (n * 7) % 15, 15)  # some after 15 working days: late
        self.answered = self.at(self.sent, 9, 12)
        self.cspr = n % 10 < 3

    @staticmethod
    def at(start: datetime, days: int, hour: int) -> datetime:
        day = start.astimezone(LONDON).date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)

    def plan(self, client: Client, task_queue: str, policy: Policy) -> list[tuple[datetime, object]]:
        handle = client.get_workflow_handle(workflow_id_for(self.partnership, self.reference))

        async def open_case() -> None:
            opening = CaseOpening(
                reference=self.reference,
                partnership=self.partnership,
                route=Route.serious_incident_notification,
                la_aware_at=self.aware,
                referring_agency="luton-childrens-social-care",
                child_status=ChildStatus.neither,
                child_died=False,
                summary="A simulated case: no real child.",
            )
            await client.start_workflow(
                CaseWorkflow.run,
                CaseStart(opening=opening, policy=policy, opened_by=BU),
                id=handle.id,
                task_queue=task_queue,
            )
            await handle.execute_update(CaseWorkflow.await_opened)

        async def notify() -> None:
            for recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners):
                told = NotificationRecord(recipient=recipient, sent_at=self.notified)
                await handle.execute_update(CaseWorkflow.record_notification, by(BU, told))

        async def decide() -> None:
            recommendation = (
                Recommendation(
                    recommendation=RecommendationKind.local_cspr,
                    methodology="Systems methodology",
                    reasons="Multi-agency learning.",
                    occurred_at=self.recommended,
                )
                if self.cspr
                else Recommendation(
                    recommendation=RecommendationKind.no_further_review,
                    learning_actions=["Brief the front door on information sharing"],
                    reasons="Single-agency learning.",
                    occurred_at=self.recommended,
                )
            )
            await handle.execute_update(CaseWorkflow.recommend, by(CHAIR, recommendation))
            for partner, actor in PARTNERS.items():
                signed = PartnerSignOff(
                    partner=partner,
                    agrees=True,
                    reasons="Agreed.",
                    occurred_at=self.recommended + timedelta(hours=2),
                )
                await handle.execute_update(CaseWorkflow.sign_off, by(actor, signed))

        async def send() -> None:
            await handle.execute_update(
                CaseWorkflow.inform_scrutineer, by(BU, ScrutineerInformed(informed_at=self.sent))
            )
            await handle.execute_update(
                CaseWorkflow.send_rapid_review, by(BU, RapidReviewSent(sent_at=self.sent))
            )

        async def answer() -> None:
            agreed = PanelResponse(
                response=PanelResponseKind.agrees, received_at=self.answered, reasons="Agrees."
            )
            await handle.execute_update(CaseWorkflow.record_panel_response, by(BU, agreed))

        return [
            (self.aware, open_case),
            (self.notified, notify),
            (self.recommended, decide),
            (self.sent, send),
            (self.answered, answer),
        ]


async def simulate(cases: int, partnerships: int, days: int) -> dict:
    started = time.perf_counter()
    base = load_policies(get_settings().policy_dir)["luton"]
    areas = [f"area-{n + 1:02d}" for n in range(partnerships)]
    policies = {a: base.model_copy(update={"partnership": a, "name": f"Area {a[-2:]}"}) for a in areas}
    end_of_day = (base.working_days.end_of_working_day.hour, base.working_days.end_of_working_day.minute)
    with database("postgresql" if postgres_reachable() else "sqlite") as url:
        migrate(url)
        engine = make_engine(url)
        async with await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(BIN / "temporal-test-server"),
            data_converter=data_converter(PayloadKeys.new()),
        ) as env:
            await ensure_search_attributes(env.client, "default")
            queue = "national-year"
            with ThreadPoolExecutor(max_workers=16) as executor:
                async with build_worker(
                    env.client,
                    queue,
                    engine,
                    executor,
                    postroom=Postroom.from_settings(Settings(smtp_host=None)),
                ):
                    now = (await env.get_current_time()).astimezone(LONDON)
                    first_day = now.date() + timedelta(days=1)
                    the_cases = [
                        Case(n, first_day + timedelta(days=n * days // cases), areas[n % partnerships])
                        for n in range(cases)
                    ]
                    # Each day's steps are sent at 16:30, dated when they happened that day: every
                    # timer of these deadlines is at the end of a working day (17:00), so none falls
                    # between a step and its sending, and the year takes one clock advance a day.
                    agenda: dict[date, dict[str, list]] = {}
                    for case in the_cases:
                        for moment, act in case.plan(env.client, queue, policies[case.partnership]):
                            agenda.setdefault(moment.date(), {}).setdefault(case.reference, []).append(act)
                    gate = asyncio.Semaphore(16)

                    async def run(acts) -> None:  # type: ignore[no-untyped-def]
                        async with gate:
                            for act in acts:
                                await act()

                    for day in sorted(agenda):
                        moment = datetime(day.year, day.month, day.day, 16, 30, tzinfo=LONDON)
                        current = await env.get_current_time()
                        if moment > current:
                            await env.sleep(moment - current)
                        await asyncio.gather(*(run(acts) for acts in agenda[day].values()))
                    await env.sleep(timedelta(days=31))  # the clock runs on: reminders, escalations
                    await asyncio.sleep(2)  # the last read-model writes
                    simulated_to = await env.get_current_time()
        with engine.connect() as connection:
            rows = connection.execute(
                select(DeadlineRow).where(
                    DeadlineRow.stream == "case",
                    DeadlineRow.key.in_(("notify_panel", "rapid_review_to_panel")),
                )
            ).all()
        engine.dispose()
    found = {(r.case_reference, r.key): r for r in rows}
    problems, late, on_time = [], 0, 0
    for case in the_cases:
        for key, start, days_allowed, met in (
            ("notify_panel", case.aware, 5, case.notified),
            ("rapid_review_to_panel", case.notified, 15, case.sent),
        ):
            due = expected_due(start, days_allowed, end_of_day)
            row = found.get((case.reference, key))
            if row is None:
                problems.append(f"{case.reference} {key}: no deadline")
                continue
            was_late = met > due
            late += was_late
            on_time += not was_late
            if row.due_at != due:
                problems.append(f"{case.reference} {key}: due {row.due_at} expected {due}")
            if row.met_at is None or abs((row.met_at - met).total_seconds()) > 1:
                problems.append(f"{case.reference} {key}: met {row.met_at} expected {met}")
            if was_late != (row.breached_at is not None):
                problems.append(f"{case.reference} {key}: late {was_late} but breach {row.breached_at}")
            elif was_late and row.breached_at != due:
                problems.append(f"{case.reference} {key}: breach at {row.breached_at}, due {due}")
    return {
        "cases": cases,
        "partnerships": partnerships,
        "cspr": sum(c.cspr for c in the_cases),
        "deadlines_checked": late + on_time,
        "late": late,
        "on_time": on_time,
        "problems": problems,
        "simulated_to": simulated_to.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.national_year", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--partnerships", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="the cases are opened across this many days")
    options = parser.parse_args()
    figures = asyncio.run(simulate(options.cases, options.partnerships, options.days))
    problems = figures.pop("problems")
    print(figures)
    for problem in problems[:20]:
        print("PROBLEM", problem)
    print(
        f"{len(problems)} problems; {figures['seconds']} s (target <= 600 s); peak RSS {figures['peak_rss_mb']} MB"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
