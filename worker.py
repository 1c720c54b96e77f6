"""The worker: runs the case workflows and their activities against the Temporal server.

python worker.py        (settings from SLL_* environment variables; see safeguarding/settings.py)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy import Engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.deadlines import compute_due_dates, next_checkpoint, shift_times
from activities.notices import NoticeActivities
from activities.read_model import ReadModelActivities
from safeguarding.logs import configure_logging
from safeguarding.settings import Settings, get_settings
from safeguarding.store import make_engine, migrate
from workflows.action_plan import ActionPlanWorkflow
from workflows.cspr import ReviewWorkflow
from workflows.incident import SEARCH_ATTRIBUTES, CaseWorkflow

log = structlog.get_logger("worker")

WORKFLOWS = [CaseWorkflow, ReviewWorkflow, ActionPlanWorkflow]


def build_worker(
    client: Client,
    task_queue: str,
    engine: Engine,
    executor: ThreadPoolExecutor,
    *,
    fail_on_bugs: bool = False,
    max_cached_workflows: int = 1000,
) -> Worker:
    """The one place that lists what a worker runs; tests build their workers here too.

    In production a bug in a workflow task is retried until a fixed worker is deployed (the case waits,
    nothing is lost); tests set ``fail_on_bugs`` so that the same bug fails the test at once.
    """
    read_model = ReadModelActivities(engine)
    notices = NoticeActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            compute_due_dates,
            shift_times,
            next_checkpoint,
            read_model.record_case_changes,
            notices.dispatch_notice,
        ],
        activity_executor=executor,
        max_concurrent_activities=16,
        max_cached_workflows=max_cached_workflows,
        workflow_failure_exception_types=[Exception] if fail_on_bugs else [],
    )


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


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=settings.data_converter(),
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
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
