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


def _depth(loc: tuple, lines: dict[tuple, int]) -> int:
    """How much of the path ``loc`` the document holds."""
    parts = tuple(p if isinstance(p, int) else str(p) for p in loc)
    return max((end for end in range(len(parts) + 1) if parts[:end] in lines), default=0)


def _line_for(loc: tuple, lines: dict[tuple, int]) -> int:
    parts = tuple(p if isinstance(p, int) else str(p) for p in loc)
    for end in range(len(parts), -1, -1):
        if parts[:end] in lines:
            return lines[parts[:end]]
    return 1


def _read_yaml(text: str, source: str) -> tuple[dict[str, Any], dict[tuple, int]]:
    """The document as a mapping, and the line of every key path in it."""
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
        return data, _line_index(node)
    except DuplicateKey as exc:
        raise PolicyError(f"{source} {exc}") from None


# Merged key by key, so that a partnership can change one deadline (or one of its fields) of the shared
# procedure; anything else the partnership's file gives replaces the procedure's.
MERGED = {"deadlines", "checkpoints", "working_days", "themes", "reports"}


def _merged(base: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in own.items():
        if key in MERGED and isinstance(value, dict) and isinstance(base.get(key), dict):
            inner = dict(base[key])
            for name, item in value.items():
                both = isinstance(item, dict) and isinstance(inner.get(name), dict)
                inner[name] = {**inner[name], **item} if both else item
            merged[key] = inner
        else:
            merged[key] = value
    return merged


class Procedure:
    """A shared procedure a partnership's policy inherits (``procedures/<name>.yaml``): its deadlines,
    working days, themes... everything but the partnership's own name, version and reporting."""

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        self.name = path.stem
        self.data, self.lines = _read_yaml(path.read_text(encoding="utf-8"), self.source)
        self.version = str(self.data.pop("version", "?"))
        self.data.pop("procedure", None)


def parse_policy(
    text: str, source: str = "<policy>", procedures: dict[str, Procedure] | None = None
) -> Policy:
    """A partnership's policy; with ``inherits: <procedure>``, on top of that shared procedure."""
    data, lines = _read_yaml(text, source)
    base: Procedure | None = None
    if "inherits" in data:
        name = data.pop("inherits")
        base = (procedures or {}).get(name)
        if base is None:
            known = ", ".join(sorted(procedures or {})) or "none"
            raise PolicyError(
                f"{source} line {lines.get(('inherits',), 1)}: no procedure {name!r} (known: {known})"
            )
        data = _merged(base.data, data) | {"procedure": f"{base.name} {base.version}"}
    _statutory_stated(data, source, lines, base)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            where = ".".join(str(p) for p in loc) or "(top)"
            # Named where the faulty setting was written: the partnership's file, or the procedure's.
            in_own = base is None or _depth(loc, lines) >= _depth(loc, base.lines)
            file, index = (source, lines) if in_own else (base.source, base.lines)  # type: ignore[union-attr]
            problems.append(f"{file} line {_line_for(loc, index)}: {where}: {error['msg']}")
        raise PolicyError("\n".join(problems)) from None


def _statutory_stated(data: dict, source: str, lines: dict, base: Procedure | None) -> None:
    """Every deadline says whether the law sets it (``statutory: true``) or the partnership does
    (``false``): reports tell the two apart, so neither is assumed."""
    for key, rule in (data.get("deadlines") or {}).items():
        if isinstance(rule, dict) and not isinstance(rule.get("statutory"), bool):
            in_own = base is None or ("deadlines", key) in lines
            file, index = (source, lines) if in_own else (base.source, base.lines)  # type: ignore[union-attr]
            raise PolicyError(
                f"{file} line {index.get(('deadlines', key), 1)}: deadlines.{key}: say statutory: true (set "
                "by law or statutory guidance) or statutory: false (the partnership's own setting)"
            )


def load_policy_file(path: Path) -> Policy:
    return parse_policy(
        path.read_text(encoding="utf-8"), source=str(path), procedures=_procedures(path.parent)
    )


def _procedures(directory: Path) -> dict[str, Procedure]:
    return {path.stem: Procedure(path) for path in sorted((directory / "procedures").glob("*.yaml"))}


def load_policies(directory: Path) -> dict[str, Policy]:
    """Read and validate every partnership's policy in a folder (and the shared procedures they inherit,
    in its ``procedures/``); refuse to start on any fault."""
    procedures = _procedures(directory)
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob("*.yaml")):
        policy = parse_policy(path.read_text(encoding="utf-8"), source=str(path), procedures=procedures)
        if path.stem != policy.partnership:
            raise PolicyError(f"{path} line 1: partnership {policy.partnership!r} must match the file name")
        policies[policy.partnership] = policy
    if not policies:
        raise PolicyError(f"{directory}: no policy files (*.yaml) found")
    return policies
