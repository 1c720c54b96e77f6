"""The codec endpoint: lets the Temporal Web UI show decrypted payloads to authorised users.

Configure the UI's codec endpoint as ``<api>/codec`` with "pass access token" on; the UI then sends the
user's bearer token, checked here like any other request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.access import BU, MANAGER, SCRUTINEER, allow
from safeguarding.domain.people import Actor

router = APIRouter(prefix="/codec", tags=["service"])

PayloadsJson = Annotated[
    dict[str, Any], Body(description='{"payloads": [{"metadata": {...}, "data": "..."}]}')
]


async def _apply(request: Request, body: dict[str, Any], encode: bool) -> dict[str, Any]:
    codec = request.app.state.client.data_converter.payload_codec
    payloads = json_format.ParseDict(body, Payloads(), ignore_unknown_fields=True).payloads
    if codec is not None:
        payloads = await (codec.encode(payloads) if encode else codec.decode(payloads))
    return json_format.MessageToDict(Payloads(payloads=payloads))


@router.post("/decode", summary="Decrypt payloads for the Temporal UI (Business Unit, Scrutineer, managers)")
async def decode(
    request: Request, body: PayloadsJson, actor: Annotated[Actor, Depends(allow(BU, SCRUTINEER, MANAGER))]
) -> dict[str, Any]:
    return await _apply(request, body, encode=False)


@router.post("/encode", summary="Encrypt payloads for the Temporal UI (Business Unit)")
async def encode(
    request: Request, body: PayloadsJson, actor: Annotated[Actor, Depends(allow(BU))]
) -> dict[str, Any]:
    return await _apply(request, body, encode=True)
