"""How the suite's schemathesis run behaves as a real client would, where the OpenAPI document cannot
say a rule in JSON Schema (``SCHEMATHESIS_HOOKS=tests.schemathesis_hooks``). Each hook names the rule
and where the document says it in words; nothing else is steered.

- A new request gets a new ``Idempotency-Key`` (a client sends one key per request; the same key with
  another request is refused, 422, by design, and tested in tests/test_api.py). A key that breaks the
  header's pattern is left as generated: it must be refused.
- A time people give for what happened is not after now (422 "in the future"): JSON Schema has no
  "now"; the fields' descriptions say it. Generated times later than now are moved into the past.
- What compares two values, which JSON Schema cannot: a report's period ends on or after it starts (and
  has ended, and is at most two years); a case's notifications are not before the local authority knew;
  its contributors are partnerships other than the lead, each once.
- A CSV file is sent as one small file (below)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import schemathesis

from safeguarding.domain.fields import AWARE_DATETIME_PATTERN, PLAUSIBLE_DATE_PATTERN

KEY = re.compile(r"^[A-Za-z0-9._:~-]{8,200}$")
TIME = re.compile(AWARE_DATETIME_PATTERN)
DAY = re.compile(PLAUSIBLE_DATE_PATTERN)
# A CSV file's columns and quoting are its format's (examples/onboarding/README.md), not JSON Schema's: the
# run sends one small file (the import's reading of CSV is tested in tests/test_onboarding.py).
CSV_FILE = "reference,route\nFUZZ-1,agency_referral\n"


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    """Every phase's requests pass here (the coverage phase's too, which the generation hooks skip)."""
    key = (case.headers or {}).get("Idempotency-Key")
    if key is not None and KEY.match(key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    meta = getattr(case, "meta", None)
    if meta is not None and meta.generation.mode != "positive":
        return  # a request built to break the document is sent as built
    if case.media_type == "text/csv":
        case.body = CSV_FILE
    elif isinstance(case.body, (dict, list)):
        case.body = _as_happened(_in_the_past(case.body))


def _in_the_past(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _in_the_past(each) for name, each in value.items()}
    if isinstance(value, list):
        return [_in_the_past(each) for each in value]
    if isinstance(value, str) and TIME.match(value):
        now = datetime.now(UTC)
        if datetime.fromisoformat(value) > now:
            return (now - timedelta(days=1)).isoformat()
    return value


def _as_happened(body: Any) -> Any:
    """What compares two values: a period ends after it starts, before today, within two years; a case's
    notifications are not before the local authority knew; its contributors are other partnerships, once."""
    if not isinstance(body, dict):
        return body
    if isinstance(body.get("contributors"), list) and all(isinstance(c, dict) for c in body["contributors"]):
        named = {body.get("partnership")}
        others = []
        for each in body["contributors"]:
            if each.get("partnership") not in named:
                named.add(each.get("partnership"))
                others.append(each)
        body = {**body, "contributors": others}
    start, end = body.get("period_start"), body.get("period_end")
    if isinstance(start, str) and isinstance(end, str) and DAY.match(start) and DAY.match(end):
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        start, end = sorted((min(start, yesterday), min(end, yesterday)))
        shortest_start = (date.fromisoformat(end) - timedelta(days=729)).isoformat()
        start = max(start, shortest_start)  # a report covers less than two years
        body = {**body, "period_start": start, "period_end": end}
    aware, notified = body.get("la_aware_at"), body.get("notified")
    if isinstance(aware, str) and TIME.match(aware) and isinstance(notified, dict):
        known = datetime.fromisoformat(aware)
        body = {
            **body,
            "notified": {
                who: aware
                if isinstance(at, str) and TIME.match(at) and datetime.fromisoformat(at) < known
                else at
                for who, at in notified.items()
            },
        }
    return body
