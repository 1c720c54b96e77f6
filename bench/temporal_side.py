"""The project's write path against bare Temporal on the same dev server, in the same run.

The floor: a minimal workflow with one update handler and a query (``BareWorkflow``), started, updated
and queried straight from the client. The project: the API over HTTP (uvicorn on a local port), its
worker beside it, the embedded SQLite read model: opening a case (``POST /incidents``), a decision
(``POST /cases/{ref}/notifications``), reading a case (``GET /cases/{ref}``), and intake at
concurrency 16. Every figure is a median over sequential calls unless it says throughput.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

import httpx
import uvicorn
from temporalio.client import Client
from temporalio.worker import Worker

from api.app import create_app
from bench.bare import BareWorkflow
from safeguarding.domain.people import Role
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


async def measure_bare(
    client: Client, samples: int, concurrency: int, throughput_runs: int
) -> dict[str, float]:
    queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BareWorkflow]):
        starts, start_and_update, updates, queries, handles = [], [], [], [], []
        for _ in range(samples):
            began = time.perf_counter()
            handle = await client.start_workflow(
                BareWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
            )
            starts.append(_ms(began))
            await handle.execute_update(BareWorkflow.step, "first")
            start_and_update.append(_ms(began))
            handles.append(handle)
        for handle in handles:
            began = time.perf_counter()
            await handle.execute_update(BareWorkflow.step, "second")
            updates.append(_ms(began))
            began = time.perf_counter()
            await handle.query(BareWorkflow.view)
            queries.append(_ms(began))

        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                handle = await client.start_workflow(
                    BareWorkflow.run, id=f"bare-{uuid.uuid4().hex}", task_queue=queue
                )
                await handle.execute_update(BareWorkflow.step, "first")
                handles.append(handle)

        began = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(throughput_runs)))
        throughput = throughput_runs / (time.perf_counter() - began)
        await asyncio.gather(*(h.signal(BareWorkflow.finish) for h in handles))
    return {
        "start_p50": median(starts),
        "start_and_update_p50": median(start_and_update),
        "update_p50": median(updates),
        "query_p50": median(queries),
        "throughput": throughput,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _incident(reference: str) -> dict[str, object]:
    return {
        "reference": reference,
        "partnership": "luton",
        "route": "serious_incident_notification",
        "la_aware_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "referring_agency": "luton-childrens-social-care",
        "child_status": "neither",
        "child_died": False,
        "abuse_or_neglect": "suspected",
        "summary": "Benchmark case: no real child.",
    }


async def measure_project(
    client: Client, settings: Settings, samples: int, concurrency: int, throughput_runs: int
) -> dict[str, float]:
    """The API in front of the project's worker (already running on ``settings.task_queue``)."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, client=client), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    token = mint_local_token(settings, user="bench.officer", role=Role.business_unit)
    errors = 0
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            opens, decisions, reads, references = [], [], [], []
            for _ in range(samples):
                reference = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
                began = time.perf_counter()
                response = await http.post("/incidents", json=_incident(reference))
                opens.append(_ms(began))
                if response.status_code != 201:
                    raise SystemExit(f"POST /incidents: {response.status_code} {response.text[:300]}")
                references.append(reference)
            for reference in references:
                for recipient in ("panel", "safeguarding_partners"):
                    began = time.perf_counter()
                    response = await http.post(
                        f"/cases/{reference}/notifications",
                        json={"recipient": recipient, "sent_at": datetime.now(UTC).isoformat()},
                    )
                    decisions.append(_ms(began))
                    if response.status_code != 200:
                        raise SystemExit(f"notification: {response.status_code} {response.text[:300]}")
                began = time.perf_counter()
                response = await http.get(f"/cases/{reference}")
                reads.append(_ms(began))
            gate = asyncio.Semaphore(concurrency)

            async def one() -> None:
                nonlocal errors
                async with gate:
                    reference = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
                    response = await http.post("/incidents", json=_incident(reference))
                    errors += response.status_code != 201

            began = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(throughput_runs)))
            throughput = throughput_runs / (time.perf_counter() - began)
    finally:
        server.should_exit = True
        await serving
    return {
        "open_p50": median(opens),
        "decision_p50": median(decisions),
        "read_p50": median(reads),
        "throughput": throughput,
        "errors": errors,
    }


def key_file(folder: Path) -> Path:
    return folder / "signing-key.pem"
