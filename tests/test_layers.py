"""The shape of the code: each folder is a layer, and a layer imports only the layers below it.

- ``safeguarding/domain``: pure models and rules (pydantic and the standard library only); the workflows
  run it, so it must never do I/O or change on replay;
- ``safeguarding/platform`` (settings, logs, sign-in, encryption), ``store`` (tables, migrations, audit,
  outbox), ``queries`` (the read side), ``render`` (HTML, PDF, email, iCalendar), ``dev`` (the embedded
  runner and local mail);
- ``workflows`` decide (the domain and Temporal's workflow API only), ``activities`` do I/O, ``api``
  turns HTTP into Temporal calls and reads the queries.

A workflow module that loaded an I/O library, even through another module, would run it inside the
workflow sandbox: each is imported here in a fresh interpreter and its loaded modules checked.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("safeguarding", "workflows", "activities", "api")
IO_LIBRARIES = (
    "sqlalchemy",
    "httpx",
    "jinja2",
    "weasyprint",
    "smtplib",
    "psycopg",
    "holidays",
    "fastapi",
    "structlog",
    "yaml",
    "icalendar",
    "aiosmtpd",
    "alembic",
)

# What each layer may import from the project (itself included). Third-party libraries are checked
# for the domain and the workflows only: the layers above them exist to use them.
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "safeguarding.domain": ("safeguarding.domain",),
    "safeguarding.platform": ("safeguarding.domain", "safeguarding.platform"),
    "safeguarding.store": ("safeguarding.domain", "safeguarding.platform", "safeguarding.store"),
    "safeguarding.queries": (
        "safeguarding.domain",
        "safeguarding.platform",
        "safeguarding.store",
        "safeguarding.queries",
    ),
    "safeguarding.render": (
        "safeguarding.domain",
        "safeguarding.platform",
        "safeguarding.store",
        "safeguarding.queries",
        "safeguarding.render",
    ),
    "safeguarding.dev": ("safeguarding",),
    "safeguarding.__main__": ("safeguarding",),
    # Bringing in cases already in progress: a tool over the whole package, as the CLI and the API use it.
    "safeguarding.onboarding": ("safeguarding",),
    "safeguarding.onboard": ("safeguarding",),
    "workflows": ("safeguarding.domain", "workflows"),
    "activities": ("safeguarding", "activities"),
    "api": ("safeguarding", "workflows", "api"),
}
DOMAIN_LIBRARIES = ("pydantic", "typing_extensions")
WORKFLOW_LIBRARIES = ("temporalio", "pydantic")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic's scripts, loaded by Alembic itself
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            # ``from package import module`` imports the module
            names += [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
    return names


def _layer(module: str) -> str:
    return max((layer for layer in MAY_IMPORT if module == layer or module.startswith(layer + ".")), key=len)


def _project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES or name == "worker"


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_every_module_is_in_a_layer():
    assert MODULES, "no modules found"
    for module in MODULES:
        if module in PACKAGES or module == "safeguarding":
            continue
        assert _layer(module), f"{module} is in no layer: add it to MAY_IMPORT"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in ("safeguarding", *PACKAGES)))
def test_a_module_imports_only_the_layers_below_it(module: str):
    layer = _layer(module)
    allowed = MAY_IMPORT[layer]
    wrong = [name for name in _imports(MODULES[module]) if _project(name) and not _under(name, allowed)]
    assert not wrong, f"{module} ({layer}) may import only {', '.join(allowed)}; it imports {wrong}"
    if layer in ("safeguarding.domain", "workflows"):
        libraries = DOMAIN_LIBRARIES if layer == "safeguarding.domain" else WORKFLOW_LIBRARIES
        third_party = [
            name
            for name in _imports(MODULES[module])
            if not _project(name)
            and name.split(".")[0] not in sys.stdlib_module_names
            and not _under(name, libraries)
        ]
        assert not third_party, (
            f"{module} may use only {libraries} beyond the standard library: {third_party}"
        )


WORKFLOW_MODULES = sorted(m for m in MODULES if m.startswith("workflows."))


@pytest.mark.parametrize("module", WORKFLOW_MODULES)
def test_a_workflow_module_loads_no_io_library_even_indirectly(module: str):
    probe = f"import sys, {module}\nprint(','.join(n for n in {IO_LIBRARIES!r} if n in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"importing {module} loads {loaded}: the workflow sandbox would run it"


def test_no_module_imports_itself_through_others():
    graph = {
        module: {name for name in _imports(path) if name in MODULES and name != module}
        for module, path in MODULES.items()
    }
    # Tarjan's strongly connected components: any with more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in graph:
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"
