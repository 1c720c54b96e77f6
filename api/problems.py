"""One error body everywhere: RFC 9457 problem details (``application/problem+json``), whose ``detail``
is the reason a person can act on. Routes raise ``HTTPException`` as before; the handlers here give it
this shape, and so do the middlewares that answer before a route (the body limit, the idempotency keys).
A request the schema refuses lists what was wrong in ``errors`` (where and why, never the value sent:
it may be a child's details)."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body', 'query', 'path' or 'header', then the field.")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="The kind of check that failed (pydantic's error type).")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field("about:blank", description="'about:blank': the status says what kind of problem.")
    title: str = Field(description="The status's standard phrase, e.g. 'Conflict'.")
    status: int = Field(ge=400, le=599, description="The HTTP status, repeated.")
    detail: str = Field(description="The reason, in words a person can act on.")
    errors: list[FieldProblem] | None = Field(
        None, description="A request the schema refuses: each field's problem."
    )


def problem(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_bytes(status: int, detail: str) -> bytes:
    """The body, for the middlewares that answer with raw ASGI messages."""
    return json.dumps(problem(status, detail)).encode()


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _field_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(each["loc"]), "msg": each["msg"], "type": each["type"]} for each in error.errors()]


def _where(loc: list[str | int]) -> str:
    """'body.agencies.0' says where; the body itself is named only when the problem is the whole of it."""
    return ".".join(str(part) for part in loc[1:]) or (str(loc[0]) if loc else "request")


def _summary(problems: list[dict[str, Any]]) -> str:
    said = "; ".join(f"{_where(each['loc'])}: {each['msg']}" for each in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"the request is not as this operation takes it: {said}{more}"


async def _http_problem(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).description
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = _allowed(request) or headers.get("Allow", "")
        detail = f"{request.method} is not an operation of {request.url.path}; it takes {headers['Allow']}"
    return ProblemResponse(problem(error.status_code, detail), error.status_code, headers=headers)


def _allowed(request: Request) -> str | None:
    """The methods the OpenAPI document gives the path, from its most specific template (the router names
    only the first matching route's, where two routes share a path: a list and a step on it). A named
    path is its own: /cases/import is the import, though /cases/{reference} would read it as a case."""
    matching = [
        (sum(len(part) for part in re.split(r"\{[^}]+\}", template)), operations)
        for template, operations in request.app.openapi().get("paths", {}).items()
        if re.fullmatch(
            "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", template)
            ),
            request.url.path,
        )
    ]
    if not matching:
        return None  # a page outside the document: the router's own answer
    _, operations = max(matching, key=lambda each: each[0])
    return ", ".join(sorted(method.upper() for method in operations))


async def _invalid_request(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, RequestValidationError)
    problems = _field_problems(error)
    return ProblemResponse(problem(422, _summary(problems), problems), 422)


def answer_with_problems(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
