"""structlog JSON logs for every process. Standard-library records (Temporal's workflow and activity
loggers, uvicorn) go through the same renderer, so each line is one JSON object carrying the workflow
id and the case reference. Nothing personal is logged: callers pass references and codes only."""

from __future__ import annotations

import logging
import re
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _flatten_temporal_context,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())

    # Temporal's loggers put the workflow/activity context in a dict; keep it out of the message.
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False


def _flatten_temporal_context(_logger: object, _name: str, event: dict) -> dict:
    for key in ("temporal_workflow", "temporal_activity"):
        context = event.pop(key, None)
        if isinstance(context, dict):
            for field in ("workflow_id", "workflow_type", "run_id", "activity_type", "attempt"):
                if field in context:
                    event.setdefault(field, context[field])
    return event


class RedactFeedTokens(logging.Filter):
    """Access logs never keep a calendar feed's secret: ``/calendar/<token>.ics`` is logged as
    ``/calendar/<redacted>.ics`` (the token is the feed's only credential)."""

    PATTERN = re.compile(r"/calendar/[^/?\s]+\.ics")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub("/calendar/<redacted>.ics", a) if isinstance(a, str) else a
                for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = self.PATTERN.sub("/calendar/<redacted>.ics", record.msg)
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactFeedTokens) for f in access.filters):
        access.addFilter(RedactFeedTokens())
