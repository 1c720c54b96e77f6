"""Every request body is limited before anything reads it: before sign-in, before the idempotency keys
(which read the whole body to fingerprint it), before the route. Past the limit, 413 and nothing read
further. The import of cases already in progress takes larger files than any other request.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, problem_bytes

# The largest body of a step, a final report's recommendations or a directory entry, with room to spare.
MAX_REQUEST_BYTES = 1024 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, default: int = MAX_REQUEST_BYTES, by_path: dict[str, int] | None = None):
        self.app, self.default, self.by_path = app, default, by_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope["path"], self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received, answering = 0, False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal answering
            answering = answering or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLarge:
            if answering:  # an answer already begun cannot become a 413
                raise
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = problem_bytes(413, f"the request body is over {limit // 1024:,} KB, the most this request takes")
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
