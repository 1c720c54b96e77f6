"""The cross-field rules of an input model, stated in its JSON Schema too (``if``/``then``), so the OpenAPI
document says what the model's validators refuse: a generated client, or a fuzzer, that keeps to the
document sends nothing they refuse. The validators stay the rules; these only state them. A rule that
compares two values (a time not before another) cannot be said in JSON Schema: the field's description
says it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any


def when(
    field: str,
    values: Iterable[Enum | str | bool],
    then: dict[str, Any],
    otherwise: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """If ``field`` is one of ``values``: ``then`` (else ``otherwise``)."""
    taken = [value.value if isinstance(value, Enum) else value for value in values]
    rule: dict[str, Any] = {
        "if": {"properties": {field: {"enum": taken}}, "required": [field]},
        "then": then,
    }
    if otherwise is not None:
        rule["else"] = otherwise
    return rule


def given(*fields: str) -> dict[str, Any]:
    """Each of ``fields`` is there, and not null."""
    return {"required": list(fields), "properties": {field: {"not": {"type": "null"}} for field in fields}}


def left_out(*fields: str) -> dict[str, Any]:
    """Each of ``fields`` is left out (or null)."""
    return {"properties": {field: {"type": "null"} for field in fields}}


def values(**fixed: Any) -> dict[str, Any]:
    """Each field, where given, has this value (or, for a list or a map, is empty: ``[]``/``{}``)."""
    said: dict[str, Any] = {}
    for field, value in fixed.items():
        if value == []:
            said[field] = {"maxItems": 0}
        elif value == {}:
            said[field] = {"maxProperties": 0}
        else:
            said[field] = {"const": value.value if isinstance(value, Enum) else value}
    return {"properties": said}


def both(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"allOf": list(parts)}
