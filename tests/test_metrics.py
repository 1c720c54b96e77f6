"""Metrics an operator can watch and alert on: the service's (deadlines, notices, deliveries, answers)
from the API's /metrics, and Temporal's own from the worker. No case or person in any label."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from safeguarding.domain.people import Role
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate
from tests.conftest import running_worker
from tests.support import new_reference, opening, start_case
from tests.test_api import free_port, incident
from worker import connect


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_show_a_missed_deadline_and_the_answers_with_no_case_in_any_label(dev_server, tmp_path):
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    seed(engine)
    settings = Settings(database_url=url, task_queue="metrics-tests", local_signing_key_file=tmp_path / "k")
    bu = {
        "Authorization": f"Bearer {mint_local_token(settings, user='bu.officer1', role=Role.business_unit)}"
    }
    reference = new_reference("MET")
    app = create_app(settings, client=dev_server.client)
    async with (
        running_worker(dev_server.client, engine, settings.task_queue),
        app.router.lifespan_context(app),
    ):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            before = samples((await http.get("/metrics")).text)
            # Known three weeks ago and never told to the Panel: its five working days are long gone.
            late = incident(reference, la_aware_at=(datetime.now(UTC) - timedelta(days=21)).isoformat())
            assert (await http.post("/incidents", json=late, headers=bu)).status_code == 201
            asked = await http.post(
                f"/cases/{reference}/information-requests",
                json={"agencies": ["bedfordshire-police"], "asked_for": "Contacts with the family this year"},
                headers=bu,
            )
            assert asked.status_code == 200, asked.text
            too_soon = {
                "response": "agrees",
                "received_at": datetime.now(UTC).isoformat(),
                "reasons": "Agreed.",
            }
            refused = await http.post(f"/cases/{reference}/panel-response", json=too_soon, headers=bu)
            assert refused.status_code == 409, refused.text  # nothing sent to the Panel yet
            for _ in range(100):
                text = (await http.get("/metrics")).text
                after = samples(text)
                if value(
                    after,
                    "sll_deadline_breaches_total",
                    partnership="luton",
                    key="notify_panel",
                    statutory="true",
                ):
                    break
                await asyncio.sleep(0.1)
    engine.dispose()
    statutory = {"partnership": "luton", "key": "notify_panel", "statutory": "true"}
    assert value(before, "sll_deadlines_overdue", **statutory) == 0
    assert value(after, "sll_deadlines_overdue", **statutory) == 1
    assert value(after, "sll_deadline_breaches_total", **statutory) == 1
    assert value(after, "sll_deadlines_live", **statutory) == 1
    assert value(after, "sll_notices_total", partnership="luton", kind="task_assigned") == 1
    assert value(after, "sll_requests_total", action="POST /incidents", outcome="accepted") == 1
    steps = "POST /cases/{reference}/"
    assert value(after, "sll_requests_total", action=steps + "information-requests", outcome="accepted") == 1
    assert value(after, "sll_requests_total", action=steps + "panel-response", outcome="refused") == 1
    assert reference not in text and "bu.officer1" not in text


async def test_production_serves_metrics_only_with_the_metrics_token(tmp_path):
    from temporalio.client import Client

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'read-model.sqlite'}",
        auth_mode="oidc",
        oidc_issuer="https://login.example.invalid",
        oidc_jwks_url="https://login.example.invalid/keys",
        create_local_secrets=False,
        payload_keys='{"current": "k1", "keys": {"k1": "' + "A" * 43 + '="}}',
        audit_key="a-key-kept-apart",
        metrics_token="scraper-token",
    )
    app = create_app(settings, client=await Client.connect("127.0.0.1:1", lazy=True))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            anonymous = await http.get("/metrics")
            scraper = await http.get("/metrics", headers={"Authorization": "Bearer scraper-token"})
    assert anonymous.status_code == 404
    assert scraper.status_code == 200 and "sll_deadlines_live" in scraper.text


async def test_the_worker_serves_temporals_own_metrics(dev_server, tmp_path):
    port = free_port()
    settings = Settings(
        temporal_address=dev_server.client.service_client.config.target_host,
        worker_metrics_address=f"127.0.0.1:{port}",
        payload_key_file=tmp_path / "keys.json",
    )
    database_url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(database_url)
    engine = make_engine(database_url)
    client = await connect(settings)
    case = opening(datetime.now(UTC) - timedelta(hours=1))
    async with running_worker(client, engine, "worker-metrics"):
        await start_case(client, "worker-metrics", case, load_policies(settings.policy_dir)["luton"])
        for _ in range(100):  # the case's first write
            if "sll_read_model_lag" in (text := await _scrape(port)):
                break
            await asyncio.sleep(0.1)
    engine.dispose()
    assert re.search(r"^temporal_request", text, re.MULTILINE), text[:500]
    # The service's own, beside Temporal's: the read model's lag, by partnership and stream only.
    lags = [line for line in text.splitlines() if line.startswith("sll_read_model_lag_bucket")]
    assert any('partnership="luton"' in line and 'stream="case"' in line for line in lags), text[-2000:]
    assert any('le="60000"' in line for line in lags)  # the alert's minute is a bucket's edge
    assert case.reference not in text


async def _scrape(port: int) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text
