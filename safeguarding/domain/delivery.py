"""What the delivery workflows and their activities pass to each other, and the keys that make one
delivery one workflow however often it is started.
"""

from __future__ import annotations

from datetime import date, timedelta
from hashlib import sha256

from pydantic import BaseModel

# The delivery workflow's type: activities start it by this name (they do not import the workflows).
DELIVERY_WORKFLOW = "DeliveryWorkflow"


class DeliveryOrder(BaseModel):
    delivery_id: int
    first_retry: timedelta
    give_up_after: timedelta


class DigestRun(BaseModel):
    day: date | None = None  # today in Europe/London when None (as the schedule starts it)
    first_retry: timedelta
    give_up_after: timedelta


class GiveUp(BaseModel):
    delivery_id: int
    reason: str


class DigestBatch(BaseModel):
    """The digests of one day, each a delivery to start."""

    day: date
    deliveries: list[tuple[int, str]]  # id, idempotency key


def address_key(address: str) -> str:
    """A mailbox or URL as a short fixed-length part of a key (they can run to 254 and 500 characters)."""
    return sha256(address.encode()).hexdigest()[:20]


def workflow_key(delivery_key: str) -> str:
    """The delivery workflow's id: derived from the delivery's key, so that one delivery is one workflow
    however often it is started, and nothing about the case or the recipient shows in it."""
    return f"delivery-{sha256(delivery_key.encode()).hexdigest()[:32]}"
