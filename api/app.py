"""The FastAPI application: one Temporal client and one engine per process, made in the lifespan.

uvicorn api.app:app        (settings from SLL_* environment variables)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client

from api import (
    action_plans,
    audit_log,
    calendar_feeds,
    cases,
    codec,
    dashboard,
    directory,
    incidents,
    metrics,
    notifications,
    onboarding,
    pages,
    reports,
    reviews,
    service,
    sign_in,
    tasks,
    yearly_reports,
)
from api.body_limit import BodyLimit
from api.contract import tell_the_truth
from api.errors import answer_outages
from api.idempotency import IdempotencyMiddleware, forget_old_keys
from api.metrics import Metrics
from api.problems import answer_with_problems
from safeguarding.platform.identity import TokenVerifier
from safeguarding.platform.logs import configure_logging, redact_access_log
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.platform.tracing import temporal_interceptors, trace_app, tracer_provider
from safeguarding.store.engine import make_engine, prepare_schema

log = structlog.get_logger("api")


def create_app(
    settings: Settings | None = None, client: Client | None = None, tracing: TracerProvider | None = None
) -> FastAPI:
    """Build the app. Tests pass their own settings and, optionally, an already connected client (with
    its tracing interceptor, if traced) and the tracer provider to record into."""
    settings = settings or get_settings()
    tracing = tracing or tracer_provider(settings, "safeguarding-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        redact_access_log()  # after uvicorn has set up its loggers
        app.state.policies = load_policies(settings.policy_dir)  # refuse to start on a faulty policy
        app.state.verifier = TokenVerifier(settings)
        prepare_schema(settings.database_url, migrate_at_start=settings.migrate_at_start)
        app.state.engine = make_engine(settings.database_url)
        app.state.metrics = Metrics(app.state.engine)
        app.state.client = client or await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            tls=settings.temporal_tls(),
            data_converter=settings.data_converter(),
            interceptors=temporal_interceptors(tracing),
        )
        log.info("api.started", temporal=settings.temporal_address, policies=sorted(app.state.policies))
        forgetting = asyncio.create_task(forget_old_keys(app.state.engine))
        yield
        forgetting.cancel()
        app.state.engine.dispose()

    app = FastAPI(
        title="Safeguarding Learning Loop",
        version="0.1.0",
        summary="The statutory learning process after a serious child safeguarding incident, case by case.",
        lifespan=lifespan,
    )
    app.include_router(incidents.router)
    app.include_router(onboarding.router)
    app.include_router(cases.router)
    app.include_router(reviews.router)
    app.include_router(action_plans.router)
    app.include_router(tasks.router)
    app.include_router(audit_log.router)
    app.include_router(notifications.router)
    app.include_router(directory.router)
    app.include_router(calendar_feeds.router)
    app.include_router(reports.router)
    app.include_router(yearly_reports.router)
    app.include_router(service.router)
    app.include_router(metrics.router)
    app.include_router(codec.router)
    # The dashboard's pages, and the GOV.UK Frontend files they use (installed by make: npm ci --prefix frontend).
    app.include_router(sign_in.router)
    app.include_router(dashboard.router)
    app.mount("/assets", StaticFiles(directory=pages.GOVUK_ASSETS_DIR, check_dir=False), name="assets")
    app.mount(
        pages.GOVUK_FRONTEND_PATH,
        StaticFiles(directory=pages.GOVUK_FRONTEND_DIR, check_dir=False),
        name="govuk-frontend",
    )
    answer_outages(app)
    app.add_middleware(IdempotencyMiddleware)
    answer_with_problems(app)
    tell_the_truth(app)
    # Only the Temporal UI calls from a browser (the codec endpoint); credentials travel as bearer tokens.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.codec_cors_origins,
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace", "Idempotency-Key"],
    )
    app.add_middleware(BodyLimit, by_path={"/cases/import": onboarding.MAX_BYTES})  # outermost
    trace_app(app, tracing)
    return app


def from_environment() -> FastAPI:
    """The app as ``uvicorn --factory api.app:from_environment`` runs it."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
