"""The OpenAPI document says what the service really answers: every status an operation can give, each
error as the one problem-details body, and the partnerships the service knows as the only values a
``partnership`` may take. Agencies generate clients from this document; the suite checks it against the
running service with schemathesis (every check).

Which statuses an operation can give follows from how its route is built, so a new route is declared
as soon as it is written: signed in (401), held to roles (403), naming something by its path (404), a
route of one case (409: a step not allowed now, or a reference several partnerships' cases share), a
body (400 unreadable, 413 too large), parameters or a body (422), asking Temporal (429 too busy, 504 no
answer in time), and everything reads the database or Temporal (503). A route declares with ``responses=`` what it answers beyond these (an inline 403, a 409
of its own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.access import authenticated
from api.dependencies import get_client
from api.idempotency import OPENAPI_PARAMETER as IDEMPOTENCY_KEY
from api.idempotency import STATE_CHANGING
from api.problems import MEDIA_TYPE, FieldProblem, Problem
from safeguarding.domain.people import Role

PROBLEM = {"$ref": "#/components/schemas/Problem"}
WHY: dict[int, str] = {
    400: "The body is not readable as JSON.",
    401: "Not signed in: no bearer token, or one that is not valid.",
    403: "Signed in, but this person's role (or agency) does not take this step.",
    404: "Nothing of that name among the reader's partnerships (another partnership's answers the same).",
    409: "The request is well formed but what is recorded says no: the case's state or record (a step "
    "out of turn, a time before the step it follows), the partner directory (an agency not active in it), "
    "or a reference that is several partnerships' cases.",
    413: "The body is larger than this operation takes.",
    422: "The request is not as this operation takes it (``errors`` says where), or an Idempotency-Key "
    "first used for another request.",
    429: "Too many steps in flight on this case: try again after Retry-After seconds.",
    504: "The case did not answer in time; the step may yet be taken: send it again with the same "
    "Idempotency-Key.",
    503: "The database or the workflow service is unavailable; nothing was done. Retry-After says when to "
    "try again (with the same Idempotency-Key).",
}
CASE_PATHS = ("{reference}", "{task_id}")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for each in dependant.dependencies:
        if each.call is not None:
            yield each.call
        yield from _calls(each)


def statuses(route: APIRoute) -> set[int]:
    """What the route's shape says it can answer, beyond success."""
    calls = list(_calls(route.dependant))
    found = {503}
    if authenticated in calls:
        found.add(401)
    roles = [set(call.roles) for call in calls if hasattr(call, "roles")]
    if any(allowed != set(Role) for allowed in roles):
        found.add(403)
    if route.dependant.path_params or _names_a_partnership(route):
        found.add(404)  # a case, a task, an agency; or another partnership's (answered as none)
    if any(part in route.path for part in CASE_PATHS):
        found.add(409)  # a step not allowed now; on any route of one case, a reference several cases share
    if get_client in calls or any(part in route.path for part in CASE_PATHS):
        found |= {429, 504}  # Temporal asked (a case found, read or stepped): too busy, or no answer in time
    if route.dependant.body_params:
        found |= {400, 413}
    if route.dependant.body_params or route.dependant.query_params or route.dependant.path_params:
        found.add(422)
    if route.methods & STATE_CHANGING:
        found.add(422)  # the Idempotency-Key header
    return found


def _names_a_partnership(route: APIRoute) -> bool:
    if any(each.name == "partnership" for each in route.dependant.query_params):
        return True
    for each in route.dependant.body_params:
        model = getattr(each.field_info, "annotation", None)
        if isinstance(model, type) and "partnership" in getattr(model, "model_fields", {}):
            return True
    return False


def _problem_answer(status: int, said: dict[str, Any] | None) -> dict[str, Any]:
    description = (said or {}).get("description") or WHY.get(status) or HTTPStatus(status).phrase
    if description == "Validation Error":
        description = WHY[422]
    return {"description": description, "content": {MEDIA_TYPE: {"schema": PROBLEM}}}


def _known_partnerships(schema: dict[str, Any], partnerships: list[str]) -> None:
    """Every ``partnership`` parameter and property takes only a partnership the service runs."""

    def narrow(node: dict[str, Any]) -> None:
        if "anyOf" in node:  # an optional one: str | None
            for each in node["anyOf"]:
                narrow(each)
            return
        if node.get("type") == "array":  # several: ?partnership=a&partnership=b
            narrow(node.get("items", {}))
            return
        if node.get("type") == "string":
            node.pop("pattern", None)
            node["enum"] = partnerships

    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "partnership":
                    narrow(parameter["schema"])
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, node in component.get("properties", {}).items():
            if name == "partnership":
                narrow(node)


def tell_the_truth(app: FastAPI) -> None:
    """Wrap the app's OpenAPI document: declared statuses, problem bodies, the Idempotency-Key header."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = plain()
        shapes = {
            (method.lower(), each.path_format): statuses(each.original_route)
            for each in iter_route_contexts(app.routes)
            if isinstance(each.original_route, APIRoute) and each.original_route.include_in_schema
            for method in each.original_route.methods
        }
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if method.upper() in STATE_CHANGING:  # every change takes the header
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                answers = operation.setdefault("responses", {})
                for status in shapes.get((method, path), set()):
                    answers.setdefault(str(status), None)
                for code in list(answers):
                    if code.isdigit() and int(code) >= 400 and not _own_body(answers[code]):
                        answers[code] = _problem_answer(int(code), answers[code])
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components["FieldProblem"] = FieldProblem.model_json_schema()
        components["Problem"].pop("$defs", None)
        policies = getattr(app.state, "policies", None)
        if policies:
            _known_partnerships(schema, sorted(policies))
            app.openapi_schema = schema  # kept once it names the partnerships (the app has started)
        else:
            app.openapi_schema = None  # built before the start (an export): made again, whole, once started
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _own_body(answer: dict[str, Any] | None) -> bool:
    """A status answered with its own declared model (the health check's 503 names what is down)."""
    for body in (answer or {}).get("content", {}).values():
        ref = body.get("schema", {}).get("$ref", "")
        if ref and not ref.endswith("/HTTPValidationError"):
            return True
    return False
