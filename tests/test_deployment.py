"""The production deployment shape: docker-compose.yml, the Dockerfile and the database init script.

Docker does not run here, so these tests read the files and check the wiring between the services
and between the image and the code layout.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres-init.sql"

SERVICES = {"postgresql", "temporal", "temporal-ui", "api", "worker"}
APP_SERVICES = ("api", "worker")
CODE_LAYOUT = ("safeguarding", "workflows", "activities", "api", "worker.py")

VARIABLE = re.compile(r"\$\{[^}]*\}")


def load_compose() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(compose, dict), "docker-compose.yml is not a mapping"
    return compose


def services() -> dict[str, dict[str, Any]]:
    return load_compose()["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whether the file lists it as a mapping or as KEY=VALUE."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return {name: (spec or {"condition": "service_started"}) for name, spec in deps.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command")
    assert cmd, "no command"
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def interpolated(value: str) -> str:
    """Stand a plain sample value in for every ${...} reference, as Compose would substitute one."""
    return VARIABLE.sub("sample", value)


def host_and_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def dockerfile_copies() -> list[list[str]]:
    """The sources of each COPY instruction (flags and destination dropped)."""
    copies = []
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        words = line.split()
        if words and words[0].upper() == "COPY":
            if any(word.startswith("--from=") for word in words):
                continue  # from an earlier build stage, not from the repository
            args = [word for word in words[1:] if not word.startswith("--")]
            copies.append(args[:-1])
    return copies


def test_the_five_services_exist() -> None:
    assert set(services()) >= SERVICES


def test_temporal_persists_to_the_postgresql_service() -> None:
    temporal = services()["temporal"]
    env = environment(temporal)
    assert env["DB"].startswith("postgres")
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert depends_on(temporal)["postgresql"]["condition"] == "service_healthy"


def test_temporal_ui_talks_to_the_temporal_service() -> None:
    env = environment(services()["temporal-ui"])
    assert host_and_port(env["TEMPORAL_ADDRESS"]) == ("temporal", 7233)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_from_this_repos_dockerfile(name: str) -> None:
    build = services()[name]["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (ROOT / build["context"]).resolve()
    assert context == ROOT
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert dockerfile == DOCKERFILE
    assert DOCKERFILE.is_file()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_temporal_by_service_name(name: str) -> None:
    env = environment(services()[name])
    assert host_and_port(env["SLL_TEMPORAL_ADDRESS"]) == ("temporal", 7233)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_the_read_model_database_on_the_postgresql_service(name: str) -> None:
    raw_url = environment(services()[name])["SLL_DATABASE_URL"]
    url = urlsplit(interpolated(raw_url))
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgresql"
    assert url.port == 5432
    database = url.path.lstrip("/")
    assert database
    created = re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", INIT_SQL.read_text(), flags=re.IGNORECASE)
    assert database in created
    # The password in the URL is the same variable PostgreSQL is given, not a literal.
    userinfo = raw_url.split("://", 1)[1].rsplit("@", 1)[0]
    credentials = re.fullmatch(r"(\$\{[^}]*\}|[^:$]+):(\$\{[^}]*\})", userinfo)
    assert credentials, f"the database URL's password is not a ${{...}} reference: {userinfo}"
    assert credentials.group(2).startswith("${POSTGRES_PASSWORD")


def test_the_init_script_is_mounted_into_postgresql() -> None:
    volumes = services()["postgresql"].get("volumes") or []
    mounts = [volume.split(":") for volume in volumes if isinstance(volume, str) and ":" in volume]
    assert any(
        (ROOT / source).resolve() == INIT_SQL and target.startswith("/docker-entrypoint-initdb.d/")
        for source, target, *_ in mounts
    )


def test_api_runs_the_app_factory() -> None:
    cmd = command(services()["api"])
    assert "api.app:from_environment" in cmd
    assert "--factory" in cmd


def test_worker_runs_worker_py() -> None:
    assert "worker.py" in command(services()["worker"])


def test_at_least_two_workers_share_the_task_queue() -> None:
    worker = services()["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker  # a fixed name would allow one replica only


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_temporal_and_postgresql(name: str) -> None:
    deps = depends_on(services()[name])
    assert deps["temporal"]["condition"] == "service_healthy"
    assert deps["postgresql"]["condition"] == "service_healthy"


def test_every_dependency_is_a_defined_service() -> None:
    defined = services()
    for name, service in defined.items():
        for target, spec in depends_on(service).items():
            assert target in defined, f"{name} depends on undefined service {target}"
            if spec.get("condition") == "service_healthy":
                check = defined[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits on {target}, which has no healthcheck"
                )


def test_every_named_volume_is_declared() -> None:
    compose = load_compose()
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            if isinstance(volume, dict) and volume.get("type") != "volume":
                continue
            if source and not source.startswith((".", "/", "~", "$")):
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_no_password_is_written_into_the_file() -> None:
    checked = 0
    for name, service in services().items():
        for key, value in environment(service).items():
            if key in {"POSTGRES_PASSWORD", "POSTGRES_PWD"}:
                assert VARIABLE.fullmatch(value), f"{name}.{key} is a literal, not a ${{...}} reference"
                checked += 1
    assert checked >= 2  # postgresql's POSTGRES_PASSWORD and temporal's POSTGRES_PWD


def test_the_dockerfile_copies_the_code_layout() -> None:
    sources = [source.rstrip("/") for copy in dockerfile_copies() for source in copy]
    for part in CODE_LAYOUT:
        assert part in sources, f"the Dockerfile does not copy {part}"
        assert (ROOT / part).exists(), f"{part} is not in the repository"
    for source in sources:
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not in the repository"


def test_the_dockerignore_keeps_the_code_in_the_build_context() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for part in (*CODE_LAYOUT, "pyproject.toml"):
        assert part not in ignored


def test_production_signs_in_through_the_identity_provider_and_encrypts_with_keys_from_the_environment():
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    for name in ("api", "worker"):
        environment = compose["services"][name]["environment"]
        assert environment["SLL_AUTH_MODE"] == "oidc", name
        assert environment["SLL_CREATE_LOCAL_SECRETS"] == "false", name
        for secret in (
            "SLL_PAYLOAD_KEYS",
            "SLL_AUDIT_KEY",
            "SLL_OIDC_ISSUER",
            "SLL_OIDC_JWKS_URL",
            "SLL_TOKEN_AUDIENCE",
        ):
            assert environment[secret].startswith("${" + secret + ":?"), f"{name}: {secret} must be required"


def test_the_image_carries_the_dashboards_gov_uk_frontend_from_the_pinned_lock_file() -> None:
    text = DOCKERFILE.read_text()
    assert (
        "COPY frontend/package.json frontend/package-lock.json" in text and "npm ci --prefix frontend" in text
    )
    assert "COPY --from=assets /build/frontend/node_modules/govuk-frontend/dist" in text
    assert (ROOT / "frontend" / "package-lock.json").exists()
    assert "frontend/node_modules" in (ROOT / ".dockerignore").read_text().splitlines()
