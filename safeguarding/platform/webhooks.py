"""Signed webhooks, as the Standard Webhooks specification (https://www.standardwebhooks.com) says, so
that a receiver verifies them with that project's maintained libraries (Python, JavaScript, C#, Go, Java,
PHP, Ruby, Rust, ...) rather than a copy of ours.

Each request carries three headers:

- ``webhook-id``: the delivery's id, the same on every retry of the same delivery: a receiver that has
  processed it ignores it (the body's ``delivery`` field says the same);
- ``webhook-timestamp``: seconds since the epoch when this attempt was signed;
- ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256, keyed with the agency's secret, of the id,
  a full stop, the timestamp, a full stop, and the raw body.

A secret is ``whsec_`` and the base64 of 32 random bytes, as the specification gives them. A secret made
before this service signed this way (plain text, no prefix) still signs, its text's bytes as the key
(a receiver passes ``secret.encode()`` to the library), until the Business Unit makes a new one
(``POST /agencies/{code}/webhook-secret``).

The libraries refuse a changed body and a timestamp more than five minutes from the receiver's clock (a
replay); ``verify`` below, the Python library's check, also refuses a delivery id already seen.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
import time
from collections.abc import Mapping, MutableSet
from datetime import UTC, datetime
from urllib.parse import urlsplit

from standardwebhooks import Webhook, WebhookVerificationError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"


class WebhookRejected(Exception):
    """The request is not one the service signed, or not now."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _signer(secret: str) -> Webhook:
    return Webhook(secret if secret.startswith(SECRET_PREFIX) else secret.encode())


def signed_headers(secret: str, body: bytes, delivery: str, now: float | None = None) -> dict[str, str]:
    signed_at = datetime.fromtimestamp(int(time.time() if now is None else now), UTC)
    return {
        "Content-Type": "application/json",
        ID_HEADER: delivery,
        TIMESTAMP_HEADER: str(int(signed_at.timestamp())),
        SIGNATURE_HEADER: _signer(secret).sign(delivery, signed_at, body.decode()),
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, seen: MutableSet[str] | None = None
) -> None:
    """Raise ``WebhookRejected`` unless ``body`` was signed with ``secret`` within the last five minutes
    (the Standard Webhooks library's check) and, given ``seen``, its delivery id is new."""
    given = {k.lower(): v for k, v in headers.items()}
    try:
        _signer(secret).verify(body, given, json_parse=False)
    except WebhookVerificationError as refused:
        raise WebhookRejected(str(refused)) from None
    if seen is not None:
        delivery = given[ID_HEADER]
        if delivery in seen:
            raise WebhookRejected("this delivery was received before: processed once already")
        seen.add(delivery)


class TargetRefused(Exception):
    """A webhook URL the service will not call: not https, or an address inside a private network."""


def check_target(url: str) -> None:
    """Outside the embedded default, a webhook goes only to https on a public address, checked when it
    is sent (the name resolved then): never to this host, the cloud's metadata service or a private
    network the service can reach and a partner agency's user cannot. A name that cannot be resolved now
    raises ``OSError`` (tried again later)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise TargetRefused(f"webhook URLs must be https ({parts.scheme}:// given)")
    host = parts.hostname or ""
    found = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)}
    inside = sorted(a for a in found if not ipaddress.ip_address(a.split("%")[0]).is_global)
    if inside:
        raise TargetRefused(
            f"the webhook's host {host!r} resolves to an address that is not public ({', '.join(inside)}): "
            "loopback, link-local and private networks are refused"
        )
