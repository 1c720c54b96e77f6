"""The worker: runs the case workflows and their activities against the Temporal server.

python worker.py        (settings from SLL_* environment variables; see safeguarding/settings.py)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import date, timedelta
from typing import Any

import structlog
from sqlalchemy import Engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.deadlines import compute_due_dates, next_checkpoint, shift_times
from activities.delivery import DeliveryActivities, DeliveryStarter, Postroom
from activities.notices import NoticeActivities
from activities.read_model import ReadModelActivities
from activities.reports import ReportActivities
from activities.yearly_report import YearlyReportActivities
from safeguarding.domain.delivery import DigestRun
from safeguarding.domain.policy import Policy
from safeguarding.domain.reporting import ReportRequest
from safeguarding.domain.yearly_report import YearlyStart
from safeguarding.platform.logs import configure_logging
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.platform.tracing import temporal_interceptors, tracer_provider
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, prepare_schema
from workflows.action_plan import ActionPlanWorkflow
from workflows.delivery import DeliverySweepWorkflow, DeliveryWorkflow, DigestWorkflow
from workflows.incident import SEARCH_ATTRIBUTES, CaseWorkflow
from workflows.reporting import ClosingTheLoopWorkflow
from workflows.review import ReviewWorkflow
from workflows.yearly_report import YearlyReportKickoffWorkflow, YearlyReportWorkflow

log = structlog.get_logger("worker")

WORKFLOWS = [
    CaseWorkflow,
    ReviewWorkflow,
    ActionPlanWorkflow,
    YearlyReportWorkflow,
    YearlyReportKickoffWorkflow,
    ClosingTheLoopWorkflow,
]
DELIVERY_WORKFLOWS = [DeliveryWorkflow, DigestWorkflow, DeliverySweepWorkflow]


# The domain is pure (pydantic models and rules, no I/O, nothing that differs on replay): workflows use
# the worker's one import of it instead of the sandbox importing it again for every run.
PURE_MODULES = ("safeguarding.domain",)

# Workflows read the partnership's local date (a time zone from the tzdata package, pinned): the
# sandbox otherwise hands them a proxy of ZoneInfo that datetime refuses as a tzinfo.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=dataclasses.replace(
        SandboxRestrictions.default,
        invalid_module_members=SandboxRestrictions.default.invalid_module_members.with_child_unrestricted(
            "zoneinfo", "ZoneInfo"
        ),
    ).with_passthrough_modules(*PURE_MODULES)
)


def delivery_queue(task_queue: str) -> str:
    """Deliveries have a task queue (and activity slots) of their own: a mail server that hangs slows
    its messages, never a case's clock or steps."""
    return f"{task_queue}.deliveries"


DIGEST_SCHEDULE = "agency-digest"
SWEEP_SCHEDULE = "delivery-sweep"
SWEEP_EVERY = timedelta(minutes=10)


SHUTDOWN_GRACE = timedelta(seconds=5)  # longer than an activity's attempt takes, short enough for a deploy


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    executor: ThreadPoolExecutor,
    *,
    fail_on_bugs: bool = False,
    max_cached_workflows: int = 1000,
    postroom: Postroom | None = None,
) -> Workers:
    """The one place that lists what a worker runs; tests build their workers here too. Call it from
    the event loop the worker will run on (deliveries are started on it).

    In production a bug in a workflow task is retried until a fixed worker is deployed (the case waits,
    nothing is lost); tests set ``fail_on_bugs`` so that the same bug fails the test at once.
    """
    postroom = postroom or Postroom.from_settings(get_settings())
    deliveries = delivery_queue(task_queue)
    starter = DeliveryStarter(client, deliveries, engine, postroom, asyncio.get_running_loop())
    options = {
        "workflow_runner": SANDBOX,
        "max_cached_workflows": max_cached_workflows,
        "workflow_failure_exception_types": [Exception] if fail_on_bugs else [],
        # On shutdown (a deploy, a scale-in) the activities running finish first: a sync activity
        # cancelled mid-way gets the cancellation raised in its thread, wherever it happens to be (once,
        # inside SQLAlchemy's garbage-collection hook, where it could not be raised at all).
        "graceful_shutdown_timeout": SHUTDOWN_GRACE,
    }
    delivery_executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="delivery")
    cases = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=case_activities(engine, postroom, starter),
        activity_executor=executor,
        max_concurrent_activities=16,
        **options,
    )
    delivery = DeliveryActivities(engine, postroom, client.data_converter.payload_codec, starter)
    sending = Worker(
        client,
        task_queue=deliveries,
        workflows=DELIVERY_WORKFLOWS,
        activities=[
            delivery.deliver,
            delivery.give_up,
            delivery.prepare_digests,
            delivery.start_waiting_deliveries,
        ],
        activity_executor=delivery_executor,
        max_concurrent_activities=8,
        **options,
    )
    return Workers(cases, sending, delivery_executor)


def case_activities(engine: Engine, postroom: Postroom, starter: DeliveryStarter | None) -> list[Any]:
    """The implementations of the cases' activities (``safeguarding/domain/activities.py`` names them)."""
    read_model = ReadModelActivities(engine, starter)
    notices = NoticeActivities(engine, starter)
    yearly = YearlyReportActivities(engine, starter)
    reports = ReportActivities(engine, postroom.public_url, starter)
    return [
        compute_due_dates,
        shift_times,
        next_checkpoint,
        read_model.record_case_changes,
        notices.dispatch_notice,
        yearly.notify,
        yearly.record_state,
        reports.build_closing_the_loop,
    ]


class Workers:
    """The cases' worker and the deliveries' worker, started and stopped together."""

    def __init__(self, cases: Worker, deliveries: Worker, executor: ThreadPoolExecutor) -> None:
        self.cases, self.deliveries, self._executor = cases, deliveries, executor
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Workers:
        await self._stack.enter_async_context(self.cases)
        await self._stack.enter_async_context(self.deliveries)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._stack.aclose()
        finally:
            self._executor.shutdown(wait=True)


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the case search attributes the workflows upsert; one that exists already is fine.

    One request per attribute: the server refuses a whole request if any attribute in it exists,
    and the time-skipping test server cannot list them first.
    """
    for key in SEARCH_ATTRIBUTES:
        value_type = IndexedValueType.ValueType(SearchAttributeIndexedValueType(key.indexed_value_type).value)
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes={key.name: value_type})
            )
            log.info("search_attribute.registered", name=key.name)
        except RPCError as error:
            if error.status is not RPCStatusCode.ALREADY_EXISTS:
                raise


async def ensure_schedules(client: Client, settings: Settings) -> None:
    """The periodic work, made once and brought up to date at every start: the agencies' daily digest
    (at ``SLL_DIGEST_TIME``, Europe/London) and the sweep that starts any delivery left waiting."""
    postroom = Postroom.from_settings(settings)
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    schedules = {
        DIGEST_SCHEDULE: Schedule(
            action=ScheduleActionStartWorkflow(
                DigestWorkflow.run,
                DigestRun(first_retry=postroom.first_retry, give_up_after=postroom.give_up_after),
                id=DIGEST_SCHEDULE,
                task_queue=delivery_queue(settings.task_queue),
            ),
            spec=ScheduleSpec(
                calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])],
                time_zone_name="Europe/London",
            ),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(hours=12)),
        ),
        SWEEP_SCHEDULE: Schedule(
            action=ScheduleActionStartWorkflow(
                DeliverySweepWorkflow.run, id=SWEEP_SCHEDULE, task_queue=delivery_queue(settings.task_queue)
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=SWEEP_EVERY)]),
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        ),
    }
    for policy in load_policies(settings.policy_dir).values():
        schedules |= _report_schedules(policy, settings.task_queue)
    for schedule_id, schedule in schedules.items():
        try:
            await client.create_schedule(schedule_id, schedule)
            log.info("schedule.created", schedule=schedule_id)
        except RPCError as error:
            if error.status is not RPCStatusCode.UNIMPLEMENTED:
                raise
            # The time-skipping test server has no schedules; every real server has.
            log.warning("schedule.unsupported", schedule=schedule_id, server=str(error))
            return
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id).update(
                lambda current, wanted=schedule: _keep_state(current, wanted)
            )
            log.info("schedule.updated", schedule=schedule_id)
    await _remove_stale_report_schedules(client, set(schedules))


async def _remove_stale_report_schedules(client: Client, wanted: set[str]) -> None:
    """A partnership's reporting schedules go with its policy file (those of "pan-bedfordshire", the
    name the service once gave Luton, among them): no report is made for a partnership not configured."""
    async for listed in await client.list_schedules():
        stale = listed.id.startswith(REPORT_SCHEDULE_PREFIXES) and listed.id not in wanted
        if stale:
            await client.get_schedule_handle(listed.id).delete()
            log.info("schedule.removed", schedule=listed.id)


REPORT_SCHEDULE_PREFIXES = ("closing-the-loop-", "yearly-report-")


def _report_schedules(policy: Policy, task_queue: str) -> dict[str, Schedule]:
    """A partnership's reporting, from its policy: the closing-the-loop report on each of its days, and
    the yearly report's process when the reporting year ends; both at the policy's local time."""
    rules = policy.reports
    if rules is None:
        return {}
    hour, minute = (int(part) for part in rules.closing_the_loop_at.split(":"))

    def on(month_day: str) -> ScheduleCalendarSpec:
        month, day = (int(part) for part in month_day.split("-"))
        return ScheduleCalendarSpec(
            month=[ScheduleRange(month)],
            day_of_month=[ScheduleRange(day)],
            hour=[ScheduleRange(hour)],
            minute=[ScheduleRange(minute)],
        )

    timing = {"time_zone_name": policy.timezone}
    policy_ = SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=3))
    closing = f"closing-the-loop-{policy.partnership}"
    yearly = f"yearly-report-{policy.partnership}"
    return {
        closing: Schedule(
            action=ScheduleActionStartWorkflow(
                ClosingTheLoopWorkflow.run,
                ReportRequest(
                    partnership=policy.partnership,
                    partnership_name=policy.name,
                    requested_by="schedule",
                    rules=rules,
                    timezone=policy.timezone,
                    themes=policy.themes,
                ),
                id=closing,
                task_queue=task_queue,
            ),
            spec=ScheduleSpec(calendars=[on(day) for day in rules.closing_the_loop_on], **timing),
            policy=policy_,
        ),
        yearly: Schedule(
            action=ScheduleActionStartWorkflow(
                YearlyReportKickoffWorkflow.run,
                YearlyStart(
                    partnership=policy.partnership,
                    year_start=date(2000, 1, 1),  # replaced by the year that has just ended
                    timezone=policy.timezone,
                    working_days=policy.working_days,
                    rules=rules,
                ),
                id=yearly,
                task_queue=task_queue,
            ),
            spec=ScheduleSpec(calendars=[on(rules.reporting_year_starts)], **timing),
            policy=policy_,
        ),
    }


def _keep_state(current: ScheduleUpdateInput, wanted: Schedule) -> ScheduleUpdate:
    """The schedule as the settings and policy now say, keeping what an operator set by hand (a pause
    and its note in the Temporal UI)."""
    return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=current.description.schedule.state))


# The read model's lag in milliseconds, up to a quarter of an hour (a database away for a while): the
# SDK's default buckets end at 10 s, where an alert on a minute could never fire.
READ_MODEL_LAG_BUCKETS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000, 900000)


async def connect(settings: Settings) -> Client:
    """The worker's client; with ``SLL_WORKER_METRICS_ADDRESS``, Temporal's own metrics for Prometheus."""
    runtime = None
    if settings.worker_metrics_address:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=settings.worker_metrics_address,
                    histogram_bucket_overrides={"sll_read_model_lag": READ_MODEL_LAG_BUCKETS},
                )
            )
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=settings.temporal_tls(),
        data_converter=settings.data_converter(),
        runtime=runtime,
        # With SLL_OTLP_ENDPOINT, the workers built on this client trace workflows and activities too.
        interceptors=temporal_interceptors(tracer_provider(settings, "safeguarding-worker")),
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    prepare_schema(settings.database_url, migrate_at_start=settings.migrate_at_start)
    engine = make_engine(settings.database_url)
    added = seed(engine)  # the partner directory's default entries, if missing; edits are kept
    if added:
        log.info("directory.seeded", added=len(added))
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
    await ensure_schedules(client, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(
            client,
            settings.task_queue,
            engine,
            executor,
            max_cached_workflows=settings.worker_max_cached_workflows,
            postroom=Postroom.from_settings(settings),
        ):
            log.info("worker.started", task_queue=settings.task_queue, temporal=settings.temporal_address)
            await stop.wait()
    log.info("worker.stopped")


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's runtime threads can abort interpreter finalisation (temporalio/sdk-python#300), turning
    # a clean stop into exit code 134: everything is flushed and stopped by now, so leave directly.
    logging.shutdown()
    os._exit(0)
