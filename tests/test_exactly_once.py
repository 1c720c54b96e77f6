"""Every decision exactly once, whatever happens underneath: clients that retry with their
``Idempotency-Key`` while the worker is killed outright again and again, and while PostgreSQL is cut off
for half a minute behind a TCP proxy the test runs itself.

Each decision must then be in the workflow's history once, in the read model's event log once and in
the audit log once. The API, the Temporal dev server, PostgreSQL and the worker are all real.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from api.app import create_app
from safeguarding.domain.people import Role, StatutoryPartner
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import AuditRow, CaseEventRow
from tests.conftest import running_worker, start_dev_server
from tests.support import new_reference
from tests.test_api import free_port
from tests.test_durability import start_worker_process, stop_processes

pytestmark = pytest.mark.timeout(300)

CASES = 6
CLIENTS = 6
KILLS = 5


# ---------------------------------------------------------------- people and their steps


def token_headers(settings: Settings, user: str, role: Role, **claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_local_token(settings, user=user, role=role, **claims)}"}  # type: ignore[arg-type]


@dataclass
class Step:
    path: str  # under /cases/{reference}/
    body: dict
    who: str
    event: str  # the event it records, once
    key: str = field(default_factory=lambda: str(uuid.uuid4()))


def iso(moment: datetime) -> str:
    return moment.isoformat()


def rapid_review_steps(aware: datetime) -> list[Step]:
    """A case's rapid review, each step dated (so a retry is byte for byte the same request)."""
    at = aware + timedelta(hours=1)
    return [
        Step("notifications", {"recipient": "panel", "sent_at": iso(at)}, "bu", "notification_recorded"),
        Step(
            "notifications",
            {"recipient": "safeguarding_partners", "sent_at": iso(at)},
            "bu",
            "notification_recorded",
        ),
        Step(
            "recommendation",
            {
                "recommendation": "local_cspr",
                "methodology": "Systems methodology",
                "reasons": "Multi-agency practice issues.",
                "occurred_at": iso(at + timedelta(minutes=5)),
            },
            "jcrg",
            "recommendation_made",
        ),
        *[
            Step(
                "sign-offs",
                {
                    "partner": p.value,
                    "agrees": True,
                    "reasons": "Agreed.",
                    "occurred_at": iso(at + timedelta(minutes=10)),
                },
                p.value,
                "partner_signed_off",
            )
            for p in StatutoryPartner
        ],
        Step(
            "scrutineer-informed",
            {"informed_at": iso(at + timedelta(minutes=15))},
            "bu",
            "scrutineer_informed",
        ),
    ]


@dataclass
class Answers:
    """Every answer the clients got, and when."""

    seen: list[tuple[float, int, str]] = field(default_factory=list)

    def during(self, start: float, end: float) -> Counter:
        return Counter(code for at, code, _ in self.seen if start <= at <= end)


async def send_until_answered(
    http: httpx.AsyncClient, url: str, step: Step, headers: dict[str, str], answers: Answers, pause: float
) -> httpx.Response:
    """A person's client: the same request with the same key until it gets an answer that is not an
    outage (a timeout, a 503 or a 504 is tried again)."""
    while True:
        try:
            response = await http.post(url, json=step.body, headers={**headers, "Idempotency-Key": step.key})
        except httpx.HTTPError:
            answers.seen.append((time.monotonic(), 0, url))
            await asyncio.sleep(pause)
            continue
        answers.seen.append((time.monotonic(), response.status_code, url))
        if response.status_code in (503, 504):
            await asyncio.sleep(pause)
            continue
        return response


# ---------------------------------------------------------------- the service under test


@contextlib.asynccontextmanager
async def serving_api(settings: Settings, client: Client) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, client=client), host="127.0.0.1", port=port, log_level="error")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def open_cases(
    http: httpx.AsyncClient, headers: dict[str, str], count: int
) -> list[tuple[str, datetime]]:
    aware = datetime.now(UTC) - timedelta(hours=3)
    cases = []
    for _ in range(count):
        reference = new_reference("EX1")
        body = {
            "reference": reference,
            "partnership": "luton",
            "route": "serious_incident_notification",
            "la_aware_at": iso(aware),
            "referring_agency": "luton-childrens-social-care",
            "child_status": "neither",
            "child_died": False,
            "summary": "Infant with unexplained injuries.",
        }
        response = await http.post(
            "/incidents", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
        )
        assert response.status_code == 201, response.text
        cases.append((reference, aware))
    return cases


def people(settings: Settings) -> dict[str, dict[str, str]]:
    who = {
        "bu": token_headers(settings, "bu.officer1", Role.business_unit),
        "jcrg": token_headers(settings, "jcrg.chair", Role.jcrg_chair),
    }
    for p in StatutoryPartner:
        who[p.value] = token_headers(settings, f"{p.value}.lead", Role.safeguarding_partner, partner=p)
    return who


async def drive(
    base_url: str,
    cases: list[tuple[str, datetime]],
    who: dict[str, dict[str, str]],
    answers: Answers,
    pause: float,
) -> dict[str, list[Step]]:
    """CLIENTS concurrent clients share the cases; each takes a case's steps in order."""
    queue: asyncio.Queue[tuple[str, datetime]] = asyncio.Queue()
    for case in cases:
        queue.put_nowait(case)
    taken: dict[str, list[Step]] = {}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=4) as http:
            while not queue.empty():
                reference, aware = queue.get_nowait()
                taken[reference] = rapid_review_steps(aware)
                for step in taken[reference]:
                    response = await send_until_answered(
                        http, f"/cases/{reference}/{step.path}", step, who[step.who], answers, pause
                    )
                    assert response.status_code == 200, (step.path, response.status_code, response.text)
                    # A double click: the same request again, at once, gets the same answer.
                    again = await send_until_answered(
                        http, f"/cases/{reference}/{step.path}", step, who[step.who], answers, pause
                    )
                    assert again.status_code == 200 and again.json() == response.json()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return taken


async def assert_each_decision_once(
    client: Client, engine, cases: list[tuple[str, datetime]], taken: dict[str, list[Step]]
) -> None:
    for reference, _ in cases:
        wanted = Counter(step.event for step in taken[reference])
        handle = client.get_workflow_handle(f"luton/case-{reference}")
        history = await handle.fetch_history()
        accepted = Counter(
            e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        )
        # One accepted update per step sent (the retries and double clicks are not among them).
        steps_by_update = Counter(
            {
                "notifications": "record_notification",
                "recommendation": "recommend",
                "sign-offs": "sign_off",
                "scrutineer-informed": "inform_scrutineer",
            }[s.path]
            for s in taken[reference]
        )
        assert {k: accepted[k] for k in steps_by_update} == dict(steps_by_update), reference
        # The read model and the audit catch up with the last step: a write picked up by a worker that
        # was then killed is tried again after its timeout (60 s), so this may take a minute.
        for _ in range(240):
            with engine.connect() as connection:
                logged = Counter(
                    dict(
                        connection.execute(
                            select(CaseEventRow.kind, func.count())
                            .where(CaseEventRow.case_reference == reference, CaseEventRow.stream == "case")
                            .group_by(CaseEventRow.kind)
                        ).all()
                    )
                )
                audited = Counter(
                    action
                    for (action,) in connection.execute(
                        select(AuditRow.action).where(
                            AuditRow.case_reference == reference, AuditRow.outcome == "accepted"
                        )
                    ).all()
                )
            if sum(audited.values()) >= len(taken[reference]) + 1 and all(
                logged[k] >= n for k, n in wanted.items()
            ):
                break
            await asyncio.sleep(0.5)
        assert {k: logged[k] for k in wanted} == dict(wanted), reference
        assert audited == Counter(
            {
                "POST /incidents": 1,
                "POST /cases/{reference}/notifications": 2,
                "POST /cases/{reference}/recommendation": 1,
                "POST /cases/{reference}/sign-offs": 3,
                "POST /cases/{reference}/scrutineer-informed": 1,
            }
        ), reference


# ---------------------------------------------------------------- the tests


async def test_clients_retrying_with_keys_while_the_worker_is_killed_five_times_take_each_step_once(
    postgres_url, tmp_path
):
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    seed(engine, demo_mailboxes=True)
    settings = Settings(
        database_url=postgres_url,
        task_queue=f"chaos-{uuid.uuid4().hex[:6]}",
        local_signing_key_file=tmp_path / "signing.key",
        step_answer_timeout=2.0,
    )
    who = people(settings)
    kills = 0
    async with await start_dev_server() as env:
        address = env.client.service_client.config.target_host
        worker = start_worker_process(address, settings.task_queue, postgres_url)
        try:
            async with serving_api(settings, env.client) as base_url:
                async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                    cases = await open_cases(http, who["bu"], CASES)
                answers = Answers()
                driving = asyncio.create_task(drive(base_url, cases, who, answers, pause=0.3))
                # Each kill lands while the clients are at work: the first once they have begun, each
                # next one as soon as the new worker has answered a step (it takes steps quickly, so a
                # fixed pause could outlast the whole run).
                began = time.monotonic()
                while kills < KILLS and not driving.done():
                    await asyncio.sleep(0.05)
                    if not any(at > began and code == 200 for at, code, _ in answers.seen):
                        continue
                    worker.send_signal(signal.SIGKILL)  # no goodbye: in the middle of whatever it does
                    worker.wait()
                    kills += 1
                    worker = start_worker_process(address, settings.task_queue, postgres_url)
                    began = time.monotonic()
                taken = await driving
                # The kills were felt: some requests timed out or were answered 504, and were retried.
                outages = sum(1 for _, code, _ in answers.seen if code in (0, 503, 504))
                assert outages > 0, Counter(code for _, code, _ in answers.seen)
                await assert_each_decision_once(env.client, engine, cases, taken)
        finally:
            stop_processes(worker)
            engine.dispose()
    assert kills == KILLS, "the clients finished before every kill"


async def test_two_workers_sharing_the_queue_take_each_step_once(postgres_url, tmp_path):
    """Workers keep nothing of their own: the compose file runs two replicas on one task queue. Every
    task goes to whichever polls first (no cached cases, so nothing sticks to one worker); each decision,
    event and audit entry is still there once."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    seed(engine, demo_mailboxes=True)
    settings = Settings(
        database_url=postgres_url,
        task_queue=f"replicas-{uuid.uuid4().hex[:6]}",
        local_signing_key_file=tmp_path / "signing.key",
    )
    who = people(settings)
    async with await start_dev_server() as env:
        address = env.client.service_client.config.target_host
        workers = [
            start_worker_process(address, settings.task_queue, postgres_url, cache=0) for _ in range(2)
        ]
        try:
            async with serving_api(settings, env.client) as base_url:
                async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                    cases = await open_cases(http, who["bu"], CASES)
                taken = await drive(base_url, cases, who, Answers(), pause=0.3)
            await assert_each_decision_once(env.client, engine, cases, taken)
            identities = set()
            for reference, _ in cases:
                history = await env.client.get_workflow_handle(f"luton/case-{reference}").fetch_history()
                identities |= {
                    e.workflow_task_completed_event_attributes.identity
                    for e in history.events
                    if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                }
        finally:
            stop_processes(*workers)
            engine.dispose()
    assert len(identities) == 2, identities  # both replicas took the cases' tasks


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, new ones
    refused) and restore. It runs on an event loop of its own, in its own thread: the service's
    synchronous database calls must not be able to stall it (nor it them)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coroutine) -> None:  # type: ignore[no-untyped-def]
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update({writer, up_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sink.transport.abort()
                self._open.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_postgres_cut_off_for_fifteen_seconds_answers_only_503_or_504_and_loses_nothing(
    postgres_url, tmp_path
):
    from sqlalchemy.engine import make_url

    migrate(postgres_url)
    real = make_url(postgres_url)
    proxy = CuttableProxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    proxied_url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    seed(make_engine(postgres_url), demo_mailboxes=True)
    engine = make_engine(proxied_url)
    settings = Settings(
        database_url=proxied_url,
        task_queue=f"outage-{uuid.uuid4().hex[:6]}",
        local_signing_key_file=tmp_path / "signing.key",
        step_answer_timeout=3.0,
    )
    who = people(settings)
    answers = Answers()
    async with await start_dev_server() as env:
        async with running_worker(env.client, engine, settings.task_queue):
            async with serving_api(settings, env.client) as base_url:
                async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                    cases = await open_cases(http, who["bu"], CASES)
                driving = asyncio.create_task(drive(base_url, cases, who, answers, pause=0.5))
                await asyncio.sleep(1.5)  # steps under way
                proxy.cut()
                cut_at = time.monotonic()
                await asyncio.sleep(15)
                restored_at = time.monotonic()
                proxy.start()
                taken = await driving
                # Let any request that was in flight at the cut finish (within the client's timeout).
                during = answers.during(cut_at + 5, restored_at)
                assert during, "no request was answered during the cut"
                assert set(during) <= {503, 504}, during
                await assert_each_decision_once(env.client, make_engine(postgres_url), cases, taken)
    engine.dispose()
    proxy.close()
