"""Nothing is lost: a worker killed mid-case, and a read-model database that goes away for a while,
both end with exactly one correct record of what happened."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select
from temporalio.service import RPCError

from safeguarding.domain.case import (
    InformationRequest,
    InformationReturn,
    NotificationRecipient,
    NotificationRecord,
    Recommendation,
    RecommendationKind,
    ReferralConfirmation,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.facts import Route
from safeguarding.store.engine import make_engine
from safeguarding.store.tables import CaseEventRow, NotificationRow
from tests.conftest import TEST_KEYS, running_worker
from tests.support import AGENCY, BUSINESS_UNIT, JCRG_CHAIR, by, deadline, events, opening, start_case, view
from workflows.incident import CaseWorkflow

REPO = Path(__file__).resolve().parent.parent


def start_worker_process(
    address: str, task_queue: str, database_url: str, cache: int = 1000
) -> subprocess.Popen:
    environment = {
        "SLL_WORKER_MAX_CACHED_WORKFLOWS": str(cache),
        "SLL_PAYLOAD_KEYS": TEST_KEYS.model_dump_json(),
        **os.environ,
        "SLL_TEMPORAL_ADDRESS": address,
        "SLL_TASK_QUEUE": task_queue,
        "SLL_DATABASE_URL": database_url,
        "SLL_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, str(REPO / "worker.py")], env=environment, cwd=REPO)


def stop_processes(*processes: subprocess.Popen | None) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def recorded_once(engine, reference: str, history_length: int) -> None:
    """The event log holds each of the case's events exactly once, in order."""
    with engine.connect() as connection:
        seqs = (
            connection.execute(
                select(CaseEventRow.seq)
                .where(CaseEventRow.case_reference == reference)
                .order_by(CaseEventRow.seq)
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(1, history_length + 1))


async def test_a_worker_stopped_mid_case_is_replaced_and_the_case_carries_on(
    env, sqlite_url, policy, task_queue
):
    # No sticky cache: the time-skipping server would wait forever on a stopped worker's sticky queue
    # (the real server falls back after seconds; the next test kills a cached worker on it).
    address = env.client.service_client.config.target_host
    engine = make_engine(sqlite_url)
    first = start_worker_process(address, task_queue, sqlite_url, cache=0)
    second = None
    try:
        case = opening(await env.get_current_time())
        handle = await start_case(env.client, task_queue, case, policy)
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(
                    recipient=NotificationRecipient.panel, sent_at=await env.get_current_time()
                ),
            ),
        )
        requested = await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(agencies=["luton-schools", "bedfordshire-police"], asked_for="Chronology"),
            ),
        )
        first.send_signal(signal.SIGTERM)  # its cached workflow state goes with it
        assert first.wait(timeout=30) == 0

        second = start_worker_process(address, task_queue, sqlite_url, cache=0)
        # A week passes: the new worker must rebuild the case from history and keep its clock.
        await env.sleep(timedelta(days=8))
        school = next(t for t in requested.tasks if t.agency == "luton-schools")
        await handle.execute_update(
            CaseWorkflow.submit_return,
            by(AGENCY, InformationReturn(task_id=school.id, summary="Late return.")),
        )
        state = await view(handle)

        assert deadline(state, "report_to_partners").status is DeadlineStatus.overdue
        assert deadline(state, "agency_information_return", school.id).status is DeadlineStatus.met
        police = next(t for t in requested.tasks if t.agency == "bedfordshire-police")
        assert deadline(state, "agency_information_return", police.id).status is DeadlineStatus.overdue
        # Each owed notice was sent once: one event each, one outbox row each.
        sent = events(state, "reminder_sent") + events(state, "escalation_sent")
        keys = {(e.details["deadline"], e.kind, e.details["number"]) for e in sent}
        assert len(keys) == len(sent) > 0
        recorded_once(engine, case.reference, len(state.history))
        with engine.connect() as connection:
            outbox = connection.execute(
                select(func.count())
                .select_from(NotificationRow)
                .where(
                    NotificationRow.case_reference == case.reference,
                    NotificationRow.kind.in_(["reminder", "escalation"]),
                )
            ).scalar_one()
        assert outbox == len(sent)
    finally:
        stop_processes(first, second)
        engine.dispose()


async def test_a_worker_killed_outright_is_replaced_and_a_real_deadline_still_escalates_once(
    dev_server, sqlite_url, policy, task_queue
):
    """On the real dev server (the time-skipping server never releases a killed worker's sticky queue):
    a 48-hour confirmation falls due seconds after the worker is killed with SIGKILL."""
    address = dev_server.client.service_client.config.target_host
    engine = make_engine(sqlite_url)
    first = start_worker_process(address, task_queue, sqlite_url)
    second = None
    try:
        now = datetime.now(UTC)
        referred = now - timedelta(hours=48) + timedelta(seconds=8)
        case = opening(referred, route=Route.agency_referral, referred_at=referred)
        handle = await start_case(dev_server.client, task_queue, case, policy)
        due = deadline(await view(handle), "referral_written_confirmation").due_at
        assert due == referred + timedelta(hours=48)

        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        second = start_worker_process(address, task_queue, sqlite_url)

        for _ in range(120):
            try:
                state = await view(handle)
            except RPCError:  # a query that reached the killed worker's queue: the new one answers next
                await asyncio.sleep(0.5)
                continue
            if events(state, "escalation_sent"):
                break
            await asyncio.sleep(0.5)
        assert deadline(state, "referral_written_confirmation").status is DeadlineStatus.overdue
        assert len(events(state, "escalation_sent")) == 1
        # The new worker also takes decisions.
        await handle.execute_update(
            CaseWorkflow.confirm_referral,
            by(BUSINESS_UNIT, ReferralConfirmation(confirmed_at=datetime.now(UTC))),
        )
        state = await view(handle)
        assert deadline(state, "referral_written_confirmation").status is DeadlineStatus.met
        await asyncio.sleep(1)  # let the read model catch up with the last step
        recorded_once(engine, case.reference, len(state.history))
        with engine.connect() as connection:
            outbox = (
                connection.execute(
                    select(NotificationRow.kind).where(NotificationRow.case_reference == case.reference)
                )
                .scalars()
                .all()
            )
        assert outbox == ["escalation"]
    finally:
        stop_processes(first, second)
        engine.dispose()


@pytest.mark.postgres
async def test_the_read_model_database_going_away_for_a_while_loses_nothing(
    env, postgres_url, policy, task_queue
):
    database = postgres_url.rsplit("/", 1)[1]
    admin_url = postgres_url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    engine = make_engine(postgres_url)

    def outage(on: bool) -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {"false" if on else "true"}')
            if on:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,),
                )

    try:
        async with running_worker(env.client, engine, task_queue):
            case = opening(await env.get_current_time())
            handle = await start_case(env.client, task_queue, case, policy)
            outage(True)
            began = time.monotonic()
            # The decision is taken while the database is down: it is recorded in the case at once,
            # and the step answers after a short wait rather than hanging on the read model.
            await handle.execute_update(
                CaseWorkflow.recommend,
                by(
                    JCRG_CHAIR,
                    Recommendation(
                        recommendation=RecommendationKind.no_further_review,
                        learning_actions=["Share the learning on bruising in non-mobile infants"],
                        reasons="Single-agency issues only.",
                    ),
                ),
            )
            assert time.monotonic() - began < 30
            state = await view(handle)
            assert events(state, "recommendation_made")

            await asyncio.sleep(3)  # the projection is failing and retrying meanwhile
            outage(False)
            for _ in range(120):
                with engine.connect() as connection:
                    stored = connection.execute(
                        select(func.count())
                        .select_from(CaseEventRow)
                        .where(CaseEventRow.case_reference == case.reference)
                    ).scalar_one()
                if stored == len(state.history):
                    break
                await asyncio.sleep(0.5)
            recorded_once(engine, case.reference, len(state.history))
    finally:
        outage(False)
        engine.dispose()
