"""OpenTelemetry traces, off unless ``SLL_OTLP_ENDPOINT`` is set: one trace from a person's request
through Temporal (the workflow's task, its update) to the activities it runs, exported over OTLP/HTTP.
Spans carry route templates, workflow and activity types, and Temporal's ids: a workflow id holds a
case reference, never a name.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.contrib.opentelemetry import TracingInterceptor

from safeguarding.platform.settings import Settings


def tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    return provider


def temporal_interceptors(provider: TracerProvider | None) -> list[Any]:
    """For a client (its workers take them too): spans for starting, updating and running workflows and
    activities, carried from the caller's context."""
    return [TracingInterceptor(provider.get_tracer("safeguarding"))] if provider is not None else []


def trace_app(app: Any, provider: TracerProvider | None) -> None:
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="health,metrics,assets")
