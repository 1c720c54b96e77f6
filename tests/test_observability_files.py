"""The alert rules and the Grafana dashboard in deploy/ ask only for metrics the service and the worker
really serve (a renamed metric would silence an alert without anyone noticing)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
# What api/metrics.py serves, and the Temporal SDK's names the rules use (tests/test_metrics.py scrapes both).
SERVICE = {
    "sll_deadlines_live",
    "sll_deadlines_overdue",
    "sll_deadline_breaches_total",
    "sll_notices_total",
    "sll_deliveries",
    "sll_requests_total",
    "sll_scheduled_report_last_made_timestamp_seconds",
    "sll_read_model_lag_bucket",  # the worker's, beside Temporal's own
}
TEMPORAL = re.compile(r"^temporal_[a-z_]+$")
PROMQL_WORDS = {
    "sum",
    "by",
    "rate",
    "increase",
    "delta",
    "absent",
    "time",
    "histogram_quantile",
    "up",
    "le",
    "or",
}


def metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*(?=[{\[(]|\s*[><=]|$)", expr))
    return {n for n in names if n.startswith(("sll_", "temporal_"))}


def test_every_alert_rule_watches_a_metric_that_is_served():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    names = {rule["alert"] for rule in rules}
    assert {"StatutoryDeadlineOverdue", "DeliveriesFailing", "WorkerAbsent", "ScheduledReportBehind"} <= names
    for rule in rules:
        for name in metric_names(rule["expr"]):
            assert name in SERVICE or TEMPORAL.match(name), (rule["alert"], name)
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in {"page", "ticket"}


def test_the_dashboard_panels_query_served_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "safeguarding-learning-loop.json").read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in metric_names(target["expr"]):
                assert name in SERVICE or TEMPORAL.match(name), (panel["title"], name)
