"""``Idempotency-Key``: a state-changing request sent again (after a timeout, an outage, a double
click) gets the first answer and never takes its step twice.

The key, chosen by the client (a UUID), comes in the ``Idempotency-Key`` header, or as the hidden
``idempotency_key`` field of a dashboard form. The first request with a key is recorded with a
fingerprint of what it asked (method, path, query and body) and then its answer (``store/idempotency``);
the same request again answers that (``Idempotent-Replayed: true``); the key with another request is
422. A first attempt without an answer yet (still running, or cut off) is let through again with the
same update id, and Temporal, which deduplicates updates by id, gives it the step's one outcome.

Keys belong to the person who sent them (the verified token's user), never shared between people.
Answers of 5xx are not kept: the retry is tried again (and deduplicated by Temporal).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages import SESSION_COOKIE
from api.problems import MEDIA_TYPE, problem_bytes
from safeguarding.platform.identity import NotAuthenticated
from safeguarding.store import idempotency

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:~-]{8,200}\Z")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DATABASE_RETRY_AFTER = "5"
# The headers of an answer given again: never a cookie (a session token must not be kept here).
KEPT_HEADERS = ("content-type", "location")

OPENAPI_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "A key of your choosing (a UUID) for this request. Sent again with the same request "
    "(after a timeout, a 503 or 504, a lost answer), it gets the first answer and the step is never "
    "taken twice; answers are kept for 7 days. The same key with another request is 422.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:~-]{8,200}$"},
}


FORGET_EVERY = 3600.0  # seconds between clearing keys past their keeping time


async def forget_old_keys(engine: Any) -> None:
    """While the API runs: keys older than their keeping time (7 days) are removed, hourly."""
    while True:
        try:
            forgotten = await run_in_threadpool(idempotency.forget_old, engine)
            if forgotten:
                log.info("idempotency.keys_forgotten", count=forgotten)
        except SQLAlchemyError:
            log.warning("idempotency.forget_failed")  # the database is away: next time
        await asyncio.sleep(FORGET_EVERY)


def update_id(owner: str, key: str) -> str:
    """The Temporal update id of a keyed request: the same for every attempt, and no one's name."""
    return "key-" + hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()[:40]


def update_id_of(request: Request) -> str | None:
    """The update id the request's step is sent with (None: a request without a key)."""
    return request.scope.get("state", {}).get("update_id")


def key_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("idempotency_key")


def _answer(status_code: int, detail: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    return status_code, problem_bytes(status_code, detail), {"content-type": MEDIA_TYPE, **headers}


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING or not _routed(scope):
            await self.app(scope, receive, send)  # no key kept for a 404 or a 405
            return
        body = await _whole_body(receive)
        replay = _replayer(body, receive)
        headers = Headers(scope=scope)
        key = headers[HEADER] if HEADER in headers else _form_key(headers, body)  # "" is a bad key, not none
        if key is None:
            await self.app(scope, replay, send)
            return
        if not KEY_PATTERN.match(key):
            await _send(
                send, *_answer(422, f"{HEADER} must be 8 to 200 letters, digits or ._:~- (a UUID will do)")
            )
            return
        owner = await _owner(scope, headers)
        if owner is None:  # not signed in: the route answers 401 (or it is the sign-in itself)
            await self.app(scope, replay, send)
            return
        request = f"{scope['method']} {scope['path']}"
        fingerprint = hashlib.sha256(
            b"\0".join([request.encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        engine = scope["app"].state.engine
        try:
            seen = await run_in_threadpool(idempotency.claim, engine, owner, key, fingerprint, request)
        except SQLAlchemyError:
            log.warning("idempotency.database_unavailable")
            await _send(
                send,
                *_answer(
                    503,
                    "the database is unavailable; nothing was done: try again shortly with the same key",
                    **{"Retry-After": DATABASE_RETRY_AFTER, HEADER: key},
                ),
            )
            return
        if seen is not None and seen.fingerprint != fingerprint:
            await _send(
                send,
                *_answer(
                    422,
                    f"{HEADER} {key} was first used for another request ({seen.request} at "
                    f"{seen.created_at:%Y-%m-%d %H:%M} UTC, with another body): send this one with a new key",
                ),
            )
            return
        if seen is not None and seen.answer is not None:
            extra = {**seen.answer.headers, HEADER: key, "Idempotent-Replayed": "true"}
            await _send(send, seen.answer.status_code, seen.answer.body, extra)
            return
        state = scope.setdefault("state", {})
        state["update_id"] = update_id(owner, key)
        state["idempotency_key"] = key
        await self._answer_and_keep(scope, replay, send, engine, owner, key)

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, engine: Any, owner: str, key: str
    ) -> None:
        """Run the request; keep its answer before it goes out, so that a retry arriving the moment the
        client has it finds it kept."""
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"idempotency-key", key.encode())]
                started.update({**message, "headers": headers})
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status_code = started["status"]
            if status_code < 500:  # a 5xx is not kept: the retry is tried again (Temporal deduplicates)
                headers = Headers(raw=started["headers"])
                kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
                given = idempotency.Answer(status_code, kept, b"".join(chunks))
                try:
                    await run_in_threadpool(idempotency.answer, engine, owner, key, given)
                except SQLAlchemyError:
                    # The answer goes out all the same; a retry goes to the workflow again, which
                    # deduplicates it.
                    log.warning("idempotency.answer_not_kept", status_code=status_code)
            await send(started)
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})

        await self.app(scope, receive, keeping)


def _routed(scope: Scope) -> bool:
    """Some route takes this method at this path."""
    return any(route.matches(scope)[0] is Match.FULL for route in scope["app"].router.routes)


async def _owner(scope: Scope, headers: Headers) -> str | None:
    """The verified user who sent the request (bearer token, or the dashboard's session cookie)."""
    authorization = headers.get("authorization", "")
    token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
    if token is None:
        token = Request(scope).cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        actor = await scope["app"].state.verifier.verify_async(token)
    except NotAuthenticated:
        return None
    # Verified once per request: the route's sign-in check reads it from here.
    scope.setdefault("state", {})["verified"] = (token, actor)
    return actor.user_id


def _form_key(headers: Headers, body: bytes) -> str | None:
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    values = parse_qs(body.decode("latin-1")).get(FORM_FIELD)
    return values[0] if values else None


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the client does next (a disconnect, when it goes)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(send: Send, status_code: int, body: bytes, headers: dict[str, str]) -> None:
    given = {"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}}
    given["content-length"] = str(len(body))
    raw = [(k.encode(), v.encode()) for k, v in given.items()]
    await send({"type": "http.response.start", "status": status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})
