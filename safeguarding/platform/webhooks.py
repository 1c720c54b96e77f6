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
import ssl
import time
from collections.abc import Mapping, MutableSet
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
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


@dataclass(frozen=True)
class Pinned:
    """Where a webhook is sent: the addresses checked, in the resolver's order (each tried until one
    answers), so that a name resolved again between the check and the connection (DNS rebinding) cannot
    point the request inside. The name still travels as the ``Host`` header and in TLS (SNI; the
    certificate is checked against it); a user and password in the URL go as Basic authorization."""

    urls: tuple[str, ...]
    host_header: str
    tls_name: str
    authorization: str | None = None


def pinned(url: str) -> Pinned:
    """Outside the embedded default, a webhook goes only to https on a public address, checked when it
    is sent (the name resolved then, and those addresses used): never to this host, the cloud's metadata
    service or a private network the service can reach and a partner agency's user cannot. A name that
    cannot be resolved now raises ``OSError`` (tried again later)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise TargetRefused(f"webhook URLs must be https ({parts.scheme}:// given)")
    host = parts.hostname or ""
    resolved = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    found = list(dict.fromkeys(info[4][0] for info in resolved))  # the resolver's order, each once
    inside = sorted(a for a in found if not public(a))
    if inside:
        raise TargetRefused(
            f"the webhook's host {host!r} resolves to an address that is not public ({', '.join(inside)}): "
            "loopback, link-local and private networks are refused"
        )
    port = f":{parts.port}" if parts.port else ""
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode()
    return Pinned(
        urls=tuple(
            urlunsplit((parts.scheme, f"{_bracketed(address)}{port}", parts.path, parts.query, ""))
            for address in found
        ),
        host_header=f"{_bracketed(host)}{port}",
        tls_name=host,
        authorization=authorization,
    )


def _bracketed(host: str) -> str:
    """An IPv6 address in a URL or a Host header is written in brackets."""
    return f"[{host}]" if ":" in host else host


def public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%")[0]).is_global


def check_target(url: str) -> None:
    """The URL would be sent to (``pinned``): the check when the Business Unit sets it."""
    pinned(url)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    *,
    pin: bool,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Response:
    """Send a signed webhook: to the address checked (``pin``: outside the embedded default), never
    following a redirect (it could lead inside). ``verify``: the certificate authorities trusted (the
    system's; a test's own)."""
    if not pin:
        with httpx.Client(timeout=timeout, follow_redirects=False, verify=verify) as client:
            return client.post(url, content=body, headers=dict(headers), extensions={})
    target = pinned(url)
    sent = {**headers, "Host": target.host_header}
    if target.authorization is not None:
        sent["Authorization"] = target.authorization
    unreachable: httpx.ConnectError | None = None
    with httpx.Client(timeout=timeout, follow_redirects=False, verify=verify) as client:
        for address in target.urls:  # as a client tries a name's addresses: the next when one cannot connect
            try:
                return client.post(
                    address, content=body, headers=sent, extensions={"sni_hostname": target.tls_name}
                )
            except httpx.ConnectError as error:
                unreachable = error
    assert unreachable is not None  # a name resolves to one address at least
    raise unreachable
