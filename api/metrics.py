"""Prometheus metrics, ``GET /metrics``: what the read model says (counted at each scrape, so that every
API replica reports the same whatever process did the work) and what this API process answered.

No label names a case, a reference, a person or an agency: partnership codes, deadline keys, route
templates, channels and outcomes only. On the embedded default the endpoint is open; in production it
asks for ``SLL_METRICS_TOKEN`` as a bearer token (and is off without one). The worker's own metrics
(Temporal's: task latencies, slots, polls) are served by the worker at ``SLL_WORKER_METRICS_ADDRESS``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from safeguarding.store.tables import DeadlineRow, DeliveryRow, NotificationRow, ReportRow

router = APIRouter(tags=["service"])

LIVE = ("open", "overdue")


class ReadModelCollector(Collector):
    """The deadlines, notices and deliveries as the read model holds them, at the moment of the scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        late = (DeadlineRow.status == "overdue") | (DeadlineRow.due_at < now)
        with self.engine.connect() as connection:
            deadlines = connection.execute(
                select(
                    DeadlineRow.partnership,
                    DeadlineRow.key,
                    DeadlineRow.statutory,
                    func.count().filter(DeadlineRow.status.in_(LIVE)),
                    func.count().filter(DeadlineRow.status.in_(LIVE) & late),
                    func.count(DeadlineRow.breached_at),
                ).group_by(DeadlineRow.partnership, DeadlineRow.key, DeadlineRow.statutory)
            ).all()
            notices = connection.execute(
                select(NotificationRow.partnership, NotificationRow.kind, func.count()).group_by(
                    NotificationRow.partnership, NotificationRow.kind
                )
            ).all()
            scheduled = connection.execute(
                select(ReportRow.partnership, ReportRow.kind, func.max(ReportRow.created_at))
                .where(ReportRow.created_by == "schedule")
                .group_by(ReportRow.partnership, ReportRow.kind)
            ).all()
            deliveries = connection.execute(
                select(
                    DeliveryRow.partnership,
                    DeliveryRow.channel,
                    case((DeliveryRow.status.is_(None), "pending"), else_=DeliveryRow.status),
                    func.count(),
                ).group_by(DeliveryRow.partnership, DeliveryRow.channel, DeliveryRow.status)
            ).all()
        labels = ["partnership", "key", "statutory"]
        live = GaugeMetricFamily("sll_deadlines_live", "Deadlines not yet met or cancelled.", labels=labels)
        overdue = GaugeMetricFamily(
            "sll_deadlines_overdue", "Live deadlines past their due time: someone is late.", labels=labels
        )
        breached = CounterMetricFamily(
            "sll_deadline_breaches", "Deadlines that were missed, ever.", labels=labels
        )
        for partnership, key, statutory, live_count, overdue_count, breach_count in deadlines:
            values = [partnership, key, "true" if statutory else "false"]
            live.add_metric(values, live_count)
            overdue.add_metric(values, overdue_count)
            breached.add_metric(values, breach_count)
        sent = CounterMetricFamily(
            "sll_notices",
            "Notices written to the outbox: tasks, reminders, escalations, decisions.",
            labels=["partnership", "kind"],
        )
        for partnership, kind, count in notices:
            sent.add_metric([partnership, kind], count)
        made = GaugeMetricFamily(
            "sll_deliveries",
            "Deliveries by channel and outcome.",
            labels=["partnership", "channel", "status"],
        )
        for partnership, channel, outcome, count in deliveries:
            made.add_metric([partnership, channel, outcome], count)
        last = GaugeMetricFamily(
            "sll_scheduled_report_last_made_timestamp_seconds",
            "When the schedule last made each report (an alert fires when one falls behind its period).",
            labels=["partnership", "report"],
        )
        for partnership, kind, at in scheduled:
            last.add_metric([partnership, kind], at.timestamp())
        yield from (live, overdue, breached, sent, made, last)


class Metrics:
    """One app's registry (tests make many apps in one process)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(ReadModelCollector(engine))
        self.answers = Counter(
            "sll_requests",
            "Steps and reads this API answered, by route and outcome (accepted, refused, denied, not_found).",
            ["action", "outcome"],
            registry=self.registry,
        )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if settings.metrics_token or not settings.create_local_secrets:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        expected = settings.metrics_token or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    body = await run_in_threadpool(generate_latest, request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
