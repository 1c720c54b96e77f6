"""Reading the policy files: every file in the folder validated at start-up, and a fault named by its
file and line, so that the service refuses to start on a policy it cannot enforce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from safeguarding.domain.policy import Policy


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the line at fault."""


class DuplicateKey(ValueError):
    pass


def _line_index(node: Any, path: tuple = (), index: dict | None = None) -> dict[tuple, int]:
    """Map every key path in a composed YAML document to its 1-based line number."""
    import yaml

    index = {} if index is None else index
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                where = ".".join(str(p) for p in (*path, key_node.value))
                raise DuplicateKey(
                    f"line {line}: {where} is defined twice (first on line {seen[key_node.value]})"
                )
            seen[key_node.value] = line
            child = (*path, key_node.value)
            index[child] = key_node.start_mark.line + 1
            _line_index(value_node, child, index)
            index[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)
    return index


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int:
    parts = tuple(p if isinstance(p, int) else str(p) for p in loc)
    for end in range(len(parts), -1, -1):
        if parts[:end] in lines:
            return lines[parts[:end]]
    return 1


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    import yaml

    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise PolicyError(f"{source} line {line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"{source} line 1: a policy is a mapping with partnership, version and deadlines")
    try:
        lines = _line_index(node)
    except DuplicateKey as exc:
        raise PolicyError(f"{source} {exc}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            where = ".".join(str(p) for p in loc) or "(top)"
            problems.append(f"{source} line {_line_for(loc, lines)}: {where}: {error['msg']}")
        raise PolicyError("\n".join(problems)) from None


def load_policy_file(path: Path) -> Policy:
    return parse_policy(path.read_text(encoding="utf-8"), source=str(path))


def load_policies(directory: Path) -> dict[str, Policy]:
    """Read and validate every policy in a folder; refuse to start on any fault."""
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob("*.yaml")):
        policy = load_policy_file(path)
        if path.stem != policy.partnership:
            raise PolicyError(f"{path} line 1: partnership {policy.partnership!r} must match the file name")
        policies[policy.partnership] = policy
    if not policies:
        raise PolicyError(f"{directory}: no policy files (*.yaml) found")
    return policies
