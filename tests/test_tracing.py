"""One trace from a person's request through Temporal to the activities (OpenTelemetry, recorded here
in memory; production exports over OTLP when SLL_OTLP_ENDPOINT is set)."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from api.app import create_app
from safeguarding.domain.people import Role
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.platform.tracing import temporal_interceptors
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate
from tests.conftest import TEST_CONVERTER, running_worker
from tests.support import new_reference
from tests.test_api import SUMMARY, incident


async def test_a_trace_spans_the_request_the_workflow_and_its_activities(dev_server, tmp_path):
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    seed(engine)
    recorded = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(recorded))
    client = await Client.connect(
        dev_server.client.service_client.config.target_host,
        data_converter=TEST_CONVERTER,
        interceptors=temporal_interceptors(provider),
    )
    settings = Settings(database_url=url, task_queue="tracing-tests", local_signing_key_file=tmp_path / "k")
    token = mint_local_token(settings, user="bu.officer1", role=Role.business_unit)
    reference = new_reference("TRC")
    app = create_app(settings, client=client, tracing=provider)
    async with running_worker(client, engine, settings.task_queue), app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            opened = await http.post(
                "/incidents", json=incident(reference), headers={"Authorization": f"Bearer {token}"}
            )
            assert opened.status_code == 201, opened.text
    engine.dispose()
    spans = recorded.get_finished_spans()
    (request,) = [s for s in spans if s.name == "POST /incidents" and s.parent is None]
    same_trace = {s.name for s in spans if s.context.trace_id == request.context.trace_id}
    assert "StartWorkflow:CaseWorkflow" in same_trace
    assert "RunWorkflow:CaseWorkflow" in same_trace
    assert any(name.startswith("RunActivity:") for name in same_trace), same_trace
    assert all(SUMMARY not in str(s.attributes) for s in spans)  # what happened stays in the case
