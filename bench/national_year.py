"""A national year, simulated: ``--cases`` serious incident notifications (500 by default) across ten
partnerships, opened through a year on the time-skipping server, each taken through its rapid review on
dates that make some statutory deadlines late; three in ten go on to a CSPR (begun on the partners'
decision, a third of them stopping their clock for parallel proceedings, some published late), and
every case to an action plan of 10-40 actions due over two years (``bench/year_follow_up.py``). The
clock runs on past the last action's escalations: over three years in all.

Every simulated deadline (the Panel told within 5 working days of awareness; the rapid review sent
within 15 working days of that notification; the CSPR published within six calendar months of the
partners' decision, moved on by the days its clock stood; each action done by the date set) is then
checked against an independent computation (``bench/year_checks.py``): the same due time, the same
met-on-time answer, a breach recorded at its due time exactly when it was late (the timer fired: none
missed), and a first escalation queued for every late action and CSPR.

    python -m bench.national_year [--cases 500] [--partnerships 10] [--days 365] [--actions 10 40] [--plan-days 730]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import structlog
import yaml
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.delivery import Postroom
from bench.read_side import database, postgres_reachable
from bench.year_checks import LONDON, Expected, check, expected_due, london
from bench.year_follow_up import BU, CHAIR, PARTNERS, SENT_AT, ActionPlan, Cspr, Step, by
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
from safeguarding.domain.people import Role
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import workflow_id_for
from safeguarding.platform.codec import PayloadKeys, data_converter
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.store.directory import DIRECTORIES, load_seed, seed
from safeguarding.store.engine import make_engine, migrate
from worker import build_worker, ensure_search_attributes
from workflows.incident import CaseWorkflow

BIN = Path(sys.executable).parent
# A step that has not answered by then is a problem (a stuck workflow), not a hang of the whole run.
STEP_TIMEOUT = 300
# The clock runs on this long past the last action's due date: every tier of escalation has fired.
RUN_ON = timedelta(days=35)


@contextmanager
def warnings_only() -> Iterator[None]:
    """The activities log each write at info: years of them would be the run's output (and much of its
    time). Loggers made meanwhile are not cached, so those made later log as configured before."""
    before = structlog.get_config()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING), cache_logger_on_first_use=False
    )
    try:
        yield
    finally:
        structlog.configure(**before)


def seed_directories(engine: Engine, areas: list[str]) -> list[str]:
    """Each area's partner directory: Luton's entries, without mailboxes (the API would refuse work for
    an agency not in it; the workflows do not look). Returns the agencies an action may go to."""
    luton = load_seed(DIRECTORIES / "luton.yaml")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for area in areas:
            path = Path(folder) / f"{area}.yaml"
            path.write_text(
                yaml.safe_dump(luton.model_copy(update={"partnership": area}).model_dump(mode="json"))
            )
            paths.append(path)
        seed(engine, paths)
    return [a.code for a in luton.agencies if a.roles == [Role.partner_agency]]


class Case:
    """One case's dates: when it became known, when each of its rapid review's steps is taken, and what
    follows (a CSPR for three in ten; an action plan for every one)."""

    def __init__(
        self,
        n: int,
        day: date,
        partnership: str,
        agencies: list[str],
        actions: tuple[int, int],
        plan_days: int,
    ) -> None:
        self.n, self.partnership = n, partnership
        self.reference = f"NY-{n:04d}"
        self.aware = london(day, 9, 30)
        self.notified = self.at(self.aware, 1 + n % 9, 11)  # some after 5 working days: late
        self.recommended = self.at(self.notified, 6, 10)
        self.signed_off = self.recommended + timedelta(hours=2)
        self.sent = self.at(self.notified, 12 + (n * 7) % 15, 15)  # some after 15 working days: late
        self.answered = self.at(self.sent, 9, 12)
        self.cspr = Cspr(n, self.reference, self.signed_off) if n % 10 < 3 else None
        # The plan opens at the rapid review's answer, or at a CSPR's final report with its recommendations.
        opens, recommendations = (self.answered, 1)
        if self.cspr is not None:
            opens, recommendations = london(self.cspr.final, *SENT_AT), self.cspr.recommendations
        self.action_plan = ActionPlan(n, self.reference, opens, recommendations, agencies, actions, plan_days)

    @staticmethod
    def at(start: datetime, days: int, hour: int) -> datetime:
        return london(start.astimezone(LONDON).date() + timedelta(days=days), hour)

    def expected(self, end_of_day: tuple[int, int]) -> list[Expected]:
        rapid = [
            Expected(self.reference, "case", key, expected_due(start, days_allowed, end_of_day), met)
            for key, start, days_allowed, met in (
                ("notify_panel", self.aware, 5, self.notified),
                ("rapid_review_to_panel", self.notified, 15, self.sent),
            )
        ]
        cspr = [self.cspr.expected(end_of_day)] if self.cspr else []
        return rapid + cspr + self.action_plan.expected(end_of_day)

    def last_day(self) -> date:
        return max(
            self.action_plan.last_day(),
            self.cspr.recorded.date() if self.cspr else self.answered.date(),
        )

    def steps(self, client: Client, task_queue: str, policy: Policy) -> list[Step]:
        case_id = workflow_id_for(self.partnership, self.reference)
        handle = client.get_workflow_handle(case_id)

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
                    partner=partner, agrees=True, reasons="Agreed.", occurred_at=self.signed_off
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

        rapid: list[Step] = [
            (self.aware, "open", open_case),
            (self.notified, "record_notification", notify),
            (self.recommended, "recommend and sign off", decide),
            (self.sent, "send_rapid_review", send),
            (self.answered, "record_panel_response", answer),
        ]
        cspr = self.cspr.steps(client, case_id) if self.cspr else []
        return rapid + cspr + self.action_plan.steps(client, case_id)


async def simulate(
    cases: int,
    partnerships: int,
    days: int,
    actions: tuple[int, int] = (10, 40),
    plan_days: int = 730,
) -> dict:
    started = time.perf_counter()
    base = load_policies(get_settings().policy_dir)["luton"]
    areas = [f"area-{n + 1:02d}" for n in range(partnerships)]
    policies = {a: base.model_copy(update={"partnership": a, "name": f"Area {a[-2:]}"}) for a in areas}
    end_of_day = (base.working_days.end_of_working_day.hour, base.working_days.end_of_working_day.minute)
    failed: dict[str, str] = {}
    spent = {"clock": 0.0, "steps": 0.0}  # seconds advancing the clock (timers firing) and taking steps
    with warnings_only(), database("postgresql" if postgres_reachable() else "sqlite") as url:
        migrate(url)
        engine = make_engine(url)
        agencies = seed_directories(engine, areas)
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
                        Case(
                            n,
                            first_day + timedelta(days=n * days // cases),
                            areas[n % partnerships],
                            agencies,
                            actions,
                            plan_days,
                        )
                        for n in range(cases)
                    ]
                    # Each day's steps are sent at 16:30, dated when they happened that day: every
                    # timer of these deadlines is at the end of a working day (17:00), so none falls
                    # between a step and its sending, and the years take one clock advance a day with
                    # steps (and one jump over the days without).
                    agenda: dict[date, dict[str, list[Step]]] = {}
                    for case in the_cases:
                        for step in case.steps(env.client, queue, policies[case.partnership]):
                            day = step[0].astimezone(LONDON).date()
                            agenda.setdefault(day, {}).setdefault(case.reference, []).append(step)
                    gate = asyncio.Semaphore(16)

                    async def run(reference: str, steps: list[Step]) -> None:
                        async with gate:
                            for day_and_time, name, act in sorted(steps, key=lambda s: s[0]):
                                if reference in failed:
                                    return  # what follows a failed step would fail too
                                await _take(reference, day_and_time, name, act, failed)

                    for day in sorted(agenda):
                        advancing = time.perf_counter()
                        await _advance_to(env, london(day, *SENT_AT))
                        stepping = time.perf_counter()
                        await asyncio.gather(*(run(ref, steps) for ref, steps in agenda[day].items()))
                        spent["clock"] += stepping - advancing
                        spent["steps"] += time.perf_counter() - stepping
                    last = max(max(c.last_day() for c in the_cases), max(agenda))
                    await _advance_to(env, london(last + RUN_ON, 18))  # reminders, escalations
                    await asyncio.sleep(2)  # the last read-model writes
                    simulated_to = await env.get_current_time()
        expected = [e for case in the_cases for e in case.expected(end_of_day)]
        found = check(engine, expected, simulated_to)
        engine.dispose()
    plans = [c.action_plan for c in the_cases]
    found["problems"] = [f"{ref}: {why}" for ref, why in sorted(failed.items())] + found["problems"]
    return {
        "cases": cases,
        "partnerships": partnerships,
        "cspr": sum(c.cspr is not None for c in the_cases),
        "clock_stops": sum(c.cspr is not None and c.cspr.stops for c in the_cases),
        "actions": sum(len(p.actions) for p in plans),
        "steps_sent": sum(len(steps) for by_case in agenda.values() for steps in by_case.values()),
        "days_with_steps": len(agenda),
        **found,
        "simulated_to": simulated_to.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_advancing_clock": round(spent["clock"], 1),
        "seconds_taking_steps": round(spent["steps"], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


async def _advance_to(env: WorkflowEnvironment, moment: datetime) -> None:
    current = await env.get_current_time()
    if moment > current:
        await env.sleep(moment - current)


async def _take(
    reference: str, at: datetime, name: str, act: Callable[[], Awaitable[None]], failed: dict[str, str]
) -> None:
    try:
        await asyncio.wait_for(act(), timeout=STEP_TIMEOUT)
    except Exception as error:  # every failure is a problem of its case, not the end of the run
        failed[reference] = f"{name} on {at:%Y-%m-%d %H:%M}: {type(error).__name__}: {error}"


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.national_year", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--partnerships", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="the cases are opened across this many days")
    parser.add_argument("--actions", type=int, nargs=2, default=(10, 40), help="fewest and most per plan")
    parser.add_argument("--plan-days", type=int, default=730, help="actions fall due across this many days")
    options = parser.parse_args()
    figures = asyncio.run(
        simulate(options.cases, options.partnerships, options.days, tuple(options.actions), options.plan_days)
    )
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
