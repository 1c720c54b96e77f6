"""Signed webhooks: how the service signs what it sends, and how a receiver checks it.

Each request carries three headers:

- ``X-SLL-Delivery``: the delivery's id, the same on every retry of the same delivery (for logs; to
  ignore a delivery already processed, use the body's ``delivery`` field, which the signature covers);
- ``X-SLL-Timestamp``: seconds since the epoch when this attempt was signed;
- ``X-SLL-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the agency's webhook secret, of the
  timestamp, a full stop, and the raw body bytes.

A receiver (in Python: ``verify`` below, which has no dependency beyond the standard library and can be
copied as it is) recomputes the signature over the raw body, compares it in constant time, and refuses a
timestamp more than five minutes from its own clock, so that a captured request cannot be replayed later;
passing a ``seen`` set also refuses the same signed request twice within those five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, MutableSet

DELIVERY_HEADER = "X-SLL-Delivery"
TIMESTAMP_HEADER = "X-SLL-Timestamp"
SIGNATURE_HEADER = "X-SLL-Signature"
TOLERANCE_SECONDS = 300


class WebhookRejected(Exception):
    """The request is not one the service signed, or not now."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def signed_headers(secret: str, body: bytes, delivery: str, now: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
    seen: MutableSet[str] | None = None,
) -> None:
    """Raise ``WebhookRejected`` unless ``body`` was signed with ``secret`` within ``tolerance`` seconds.

    ``headers`` may be any mapping; header names are matched without regard to case.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(SIGNATURE_HEADER.lower())
    stamp = lowered.get(TIMESTAMP_HEADER.lower())
    if not given or not stamp:
        raise WebhookRejected("the signature or timestamp header is missing")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookRejected("the timestamp is not a whole number of seconds") from None
    if not hmac.compare_digest(given, signature(secret, timestamp, body)):
        raise WebhookRejected("the signature does not match the body")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookRejected(f"the timestamp is more than {tolerance} seconds from now: a replay?")
    if seen is not None:
        if given in seen:
            raise WebhookRejected("this signed request was received before: a replay")
        seen.add(given)
