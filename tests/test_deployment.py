"""The production deployment shape: docker-compose.yml, the Dockerfile, the database init scripts and the
Kubernetes example in deploy/kubernetes.

Docker does not run here, so these tests read the files and check the wiring between the services
and between the image and the code layout.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
INIT_SQL = ROOT / "deploy" / "postgres-init.sql"
INIT_SH = ROOT / "deploy" / "postgres-init.sh"
KUBERNETES = ROOT / "deploy" / "kubernetes"

SERVICES = {"postgresql", "temporal-admin-tools", "temporal", "temporal-namespace", "temporal-ui", "migrate"}
SERVICES |= {"api", "worker"}
APP_SERVICES = ("api", "worker")
# Everything that talks to Temporal's frontend, each over mutual TLS with its own certificate.
TEMPORAL_CLIENTS = ("api", "worker", "temporal-ui", "temporal-namespace")
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


def mounted_script(service: dict[str, Any], entrypoint: list[str]) -> str:
    """The text of the repository's script a service runs, found through its volume mounts."""
    for volume in service.get("volumes") or []:
        source, target, *_ = volume.split(":")
        if target in entrypoint:
            return (ROOT / source).read_text()
    raise AssertionError(f"{entrypoint} runs no script mounted from the repository")


def secret_sources(service: dict[str, Any]) -> dict[str, str]:
    """Where each of a service's secrets appears in it (/run/secrets/<target>) and which secret it is."""
    mounted = {}
    for secret in service.get("secrets") or []:
        source, target = (secret, secret) if isinstance(secret, str) else (secret["source"], secret["target"])
        mounted[f"/run/secrets/{target}"] = source
    return mounted


def secret_paths(service: dict[str, Any]) -> set[str]:
    return set(secret_sources(service))


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


def test_the_services_exist() -> None:
    assert set(services()) >= SERVICES


def test_temporal_persists_to_the_postgresql_service() -> None:
    temporal = services()["temporal"]
    env = environment(temporal)
    assert env["DB"].startswith("postgres")
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert depends_on(temporal)["postgresql"]["condition"] == "service_healthy"


def test_temporal_runs_the_plain_server_image_not_auto_setup() -> None:
    for name, service in services().items():
        assert "auto-setup" not in str(service.get("image", "")), name
    image, _, tag = services()["temporal"]["image"].partition(":")
    assert image == "temporalio/server"
    assert re.fullmatch(r"1\.\d+\.\d+", tag), "pin the server's version"


def test_temporals_schema_is_set_up_by_its_admin_tools_before_the_server_starts() -> None:
    defined = services()
    tools = defined["temporal-admin-tools"]
    assert tools["image"].startswith("temporalio/admin-tools:")
    # The same release as the server: its schema directory is the one the server expects.
    assert tools["image"].rpartition(":")[2] == defined["temporal"]["image"].rpartition(":")[2]
    assert depends_on(defined["temporal"])["temporal-admin-tools"]["condition"] == (
        "service_completed_successfully"
    )
    assert depends_on(tools)["postgresql"]["condition"] == "service_healthy"
    script = mounted_script(tools, tools["entrypoint"])
    steps = [line.split() for line in script.splitlines() if "temporal-sql-tool" in line]
    for step in ("create-database", "setup-schema", "update-schema"):
        assert any(step in words for words in steps), step
    assert "temporal_visibility" in script and "visibility/versioned" in script
    env = environment(tools)
    assert env["SQL_PLUGIN"] == "postgres12" and env["SQL_HOST"] == "postgresql"
    assert env["SQL_USER"] == environment(defined["temporal"])["POSTGRES_USER"] == "temporal"


def test_the_namespace_is_made_once_the_server_answers_and_before_the_service_starts() -> None:
    defined = services()
    job = defined["temporal-namespace"]
    assert depends_on(job)["temporal"]["condition"] == "service_healthy"
    script = mounted_script(job, job["entrypoint"])
    assert "temporal operator namespace create" in script
    for name in APP_SERVICES:
        assert (
            depends_on(defined[name])["temporal-namespace"]["condition"] == "service_completed_successfully"
        )


def test_temporal_ui_talks_to_the_temporal_service() -> None:
    env = environment(services()["temporal-ui"])
    assert host_and_port(env["TEMPORAL_ADDRESS"]) == ("temporal", 7233)


def test_temporal_ui_signs_in_through_the_identity_provider_shows_only_and_decrypts_through_the_api() -> None:
    env = environment(services()["temporal-ui"])
    assert env["TEMPORAL_AUTH_ENABLED"] == "true"
    for key in ("TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_CLIENT_ID", "TEMPORAL_AUTH_CLIENT_SECRET"):
        assert env[key].startswith("${") and ":?" in env[key], f"{key} must be required from the environment"
    assert env["TEMPORAL_AUTH_CALLBACK_URL"].endswith("/auth/sso/callback")
    assert env["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    # The API's /codec, reached from the signed-in person's browser with their token.
    assert env["TEMPORAL_CODEC_ENDPOINT"].startswith("${SLL_PUBLIC_URL")
    assert env["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    from api.codec import router

    assert {"/codec/decode", "/codec/encode"} <= {route.path for route in router.routes}
    # And the API lets the UI's origin call it from the browser.
    api_env = environment(services()["api"])
    assert env["TEMPORAL_CORS_ORIGINS"].split(":?")[0] in api_env["SLL_CODEC_CORS_ORIGINS"]


def test_temporal_lets_in_only_clients_with_a_certificate_from_the_deployments_ca() -> None:
    defined = services()
    env = environment(defined["temporal"])
    assert env["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    for key in (
        "TEMPORAL_TLS_FRONTEND_CERT",
        "TEMPORAL_TLS_FRONTEND_KEY",
        "TEMPORAL_TLS_CLIENT1_CA_CERT",
        "TEMPORAL_TLS_SERVER_CERT",
        "TEMPORAL_TLS_SERVER_KEY",
        "TEMPORAL_TLS_SERVER_CA_CERT",
    ):
        assert env[key] in secret_paths(defined["temporal"]), key
    assert secret_sources(defined["temporal"])[env["TEMPORAL_TLS_FRONTEND_KEY"]] == "temporal-server.key"
    assert load_compose()["secrets"]["temporal-server.key"]["file"].endswith("/temporal.key")


@pytest.mark.parametrize("name", TEMPORAL_CLIENTS)
def test_every_client_of_temporal_presents_its_own_certificate(name: str) -> None:
    defined = services()
    service = defined[name]
    env = environment(service)
    names = {
        "api": ("SLL_TEMPORAL_TLS_CERT", "SLL_TEMPORAL_TLS_KEY", "SLL_TEMPORAL_TLS_CA"),
        "worker": ("SLL_TEMPORAL_TLS_CERT", "SLL_TEMPORAL_TLS_KEY", "SLL_TEMPORAL_TLS_CA"),
        "temporal-ui": ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA"),
        "temporal-namespace": (
            "TEMPORAL_TLS_CLIENT_CERT_PATH",
            "TEMPORAL_TLS_CLIENT_KEY_PATH",
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
        ),
    }[name]
    mounted = secret_paths(service)
    for key in names:
        assert env[key] in mounted, f"{name}: {key} is not a secret mounted into it"
    # Its own key, from make-certs.sh, and no other service's.
    key_secret = secret_sources(service)[env[names[1]]]
    own = {
        "api": "api",
        "worker": "worker",
        "temporal-ui": "temporal-ui",
        "temporal-namespace": "admin-tools",
    }
    assert key_secret == f"{own[name]}.key"
    compose_secrets = load_compose()["secrets"]
    assert compose_secrets[key_secret]["file"].endswith(f"/{own[name]}.key")
    made = (ROOT / "deploy" / "temporal" / "make-certs.sh").read_text()
    assert own[name] in made.split("CLIENTS=", 1)[1].splitlines()[0]
    server_name = env.get("SLL_TEMPORAL_TLS_SERVER_NAME") or env.get("TEMPORAL_TLS_SERVER_NAME")
    assert server_name == "temporal"  # a name on the server's certificate (make-certs.sh)


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


@pytest.mark.parametrize("name", (*APP_SERVICES, "migrate"))
def test_app_services_use_the_read_model_database_on_the_postgresql_service(name: str) -> None:
    raw_url = environment(services()[name])["SLL_DATABASE_URL"]
    url = urlsplit(interpolated(raw_url))
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "postgresql"
    assert url.port == 5432
    database = url.path.lstrip("/")
    assert database
    assert database in created_databases()
    # The password in the URL is a variable the PostgreSQL service is also given, not a literal.
    assert password_variable(raw_url) in environment(services()["postgresql"])


def created_databases() -> dict[str, str]:
    """The databases the init script makes, and the role that owns each."""
    made = re.findall(
        r"CREATE\s+DATABASE\s+\"?(\w+)\"?\s+OWNER\s+\"?(\w+)", INIT_SQL.read_text(), re.IGNORECASE
    )
    return dict(made)


def created_roles() -> dict[str, str]:
    """The roles the init script makes, and their attributes."""
    made = re.findall(r"CREATE\s+ROLE\s+(\w+)\s+([^;]*);", INIT_SH.read_text(), re.IGNORECASE)
    return dict(made)


def password_variable(url: str) -> str:
    userinfo = url.split("://", 1)[1].rsplit("@", 1)[0]
    credentials = re.fullmatch(r"([^:$]+):\$\{(\w+)[^}]*\}", userinfo)
    assert credentials, f"the database URL's password is not a ${{...}} reference: {userinfo}"
    return credentials.group(2)


def url_user(url: str) -> str:
    return urlsplit(interpolated(url)).username or ""


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_service_connects_as_its_own_role_not_the_superuser_nor_the_schemas_owner(name: str) -> None:
    defined = services()
    user = url_user(environment(defined[name])["SLL_DATABASE_URL"])
    superuser = re.fullmatch(
        r"\$\{POSTGRES_USER:-(\w+)\}", environment(defined["postgresql"])["POSTGRES_USER"]
    )
    assert superuser, "the superuser's name is POSTGRES_USER, with a default"
    assert user not in {"postgres", superuser.group(1)}
    roles = created_roles()
    assert user in roles
    assert "NOSUPERUSER" in roles[user] and "NOCREATEDB" in roles[user] and "NOCREATEROLE" in roles[user]
    database = urlsplit(interpolated(environment(defined[name])["SLL_DATABASE_URL"])).path.lstrip("/")
    assert created_databases()[database] != user
    assert "SLL_MIGRATION_DATABASE_URL" not in environment(defined[name])


def test_migrations_run_once_as_the_schemas_owner_before_the_service_starts() -> None:
    defined = services()
    migrate = defined["migrate"]
    assert command(migrate) == ["python", "-m", "safeguarding.store.migration"]
    owner_url = environment(migrate)["SLL_MIGRATION_DATABASE_URL"]
    database = urlsplit(interpolated(owner_url)).path.lstrip("/")
    assert created_databases()[database] == url_user(owner_url)
    assert password_variable(owner_url) in environment(defined["postgresql"])
    assert (ROOT / "safeguarding" / "store" / "migration.py").is_file()
    for name in APP_SERVICES:
        assert depends_on(defined[name])["migrate"]["condition"] == "service_completed_successfully"


def test_temporal_connects_as_the_role_that_owns_its_databases() -> None:
    env = environment(services()["temporal"])
    owners = created_databases()
    assert owners["temporal"] == owners["temporal_visibility"] == env["POSTGRES_USER"]
    assert "NOSUPERUSER" in created_roles()[env["POSTGRES_USER"]]


def test_every_role_password_comes_from_the_environment_through_psql_variables() -> None:
    script = INIT_SH.read_text()
    for attributes in created_roles().values():
        assert re.search(r"PASSWORD\s+:'\w+'", attributes), attributes
    for variable in re.findall(r"-v \w+=\"\$(\w+)\"", script):
        assert variable in environment(services()["postgresql"])


def test_the_init_scripts_are_mounted_into_postgresql_roles_first() -> None:
    volumes = services()["postgresql"].get("volumes") or []
    mounts = [volume.split(":") for volume in volumes if isinstance(volume, str) and ":" in volume]
    targets = {
        (ROOT / source).resolve(): target
        for source, target, *_ in mounts
        if target.startswith("/docker-entrypoint-initdb.d/")
    }
    assert set(targets) == {INIT_SH, INIT_SQL}
    # The entrypoint runs them in the order of their names: the roles before the databases they own.
    assert Path(targets[INIT_SH]).name < Path(targets[INIT_SQL]).name


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
            if key.endswith(("PASSWORD", "PWD", "SECRET")):
                assert VARIABLE.fullmatch(value), f"{name}.{key} is a literal, not a ${{...}} reference"
                checked += 1
            if key.endswith("DATABASE_URL"):
                password_variable(value)
                checked += 1
    assert checked >= 8


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
    assert "deploy/temporal/certs" in ignored  # private keys: mounted as secrets, never sent to a build


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


# ---------------------------------------------------------------- Kubernetes


def kubernetes_objects() -> list[dict[str, Any]]:
    objects = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents = [document for document in yaml.safe_load_all(path.read_text()) if document]
        assert documents, f"{path.name} is empty"
        objects.extend(document for document in documents if "kind" in document)
    return objects


def kubernetes_object(kind: str, name: str) -> dict[str, Any]:
    found = [o for o in kubernetes_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def container_env(workload: dict[str, Any]) -> set[str]:
    """Every variable a workload's container is given, directly or from a ConfigMap or Secret here."""
    container = workload["spec"]["template"]["spec"]["containers"][0]
    names = {variable["name"] for variable in container.get("env") or []}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            names |= set(kubernetes_object("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            names |= set(kubernetes_object("Secret", source["secretRef"]["name"])["stringData"])
    return names


def test_the_kubernetes_example_parses() -> None:
    kinds = {o["kind"] for o in kubernetes_objects()}
    assert {"Deployment", "Service", "Job", "ConfigMap", "Secret"} <= kinds
    assert (KUBERNETES / "README.md").is_file()


def test_on_kubernetes_several_workers_and_two_apis_run() -> None:
    assert kubernetes_object("Deployment", "sll-worker")["spec"]["replicas"] >= 2
    assert kubernetes_object("Deployment", "sll-api")["spec"]["replicas"] >= 2


@pytest.mark.parametrize("compose_name, kubernetes_name", [("api", "sll-api"), ("worker", "sll-worker")])
def test_kubernetes_gives_the_service_every_setting_compose_does(compose_name: str, kubernetes_name: str):
    compose_env = set(environment(services()[compose_name]))
    missing = compose_env - container_env(kubernetes_object("Deployment", kubernetes_name))
    assert not missing, f"{kubernetes_name} lacks {sorted(missing)}"


def test_the_kubernetes_migration_job_runs_as_the_owner_and_only_it_holds_the_owners_url() -> None:
    job = kubernetes_object("Job", "sll-migrate")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == command(services()["migrate"])
    assert set(environment(services()["migrate"])) <= container_env(job)
    for name in ("sll-api", "sll-worker"):
        assert "SLL_MIGRATION_DATABASE_URL" not in container_env(kubernetes_object("Deployment", name))


def test_on_kubernetes_the_api_is_ready_only_while_its_health_check_passes() -> None:
    api = kubernetes_object("Deployment", "sll-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert "livenessProbe" in container
    service = kubernetes_object("Service", "sll-api")
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("name", ["sll-api", "sll-worker"])
def test_on_kubernetes_each_service_has_its_own_temporal_certificate(name: str) -> None:
    spec = kubernetes_object("Deployment", name)["spec"]["template"]["spec"]
    secrets = {volume["secret"]["secretName"] for volume in spec["volumes"] if "secret" in volume}
    assert secrets == {f"sll-temporal-{name.removeprefix('sll-')}-tls"}
    config = kubernetes_object("ConfigMap", "sll-config")["data"]
    mount = next(m["mountPath"] for m in spec["containers"][0]["volumeMounts"] if m["name"] == "temporal-tls")
    for key in ("SLL_TEMPORAL_TLS_CERT", "SLL_TEMPORAL_TLS_KEY", "SLL_TEMPORAL_TLS_CA"):
        assert config[key].startswith(mount + "/"), key


def test_temporals_helm_values_require_client_certificates_and_keep_the_ui_signed_in_and_read_only() -> None:
    values = yaml.safe_load((KUBERNETES / "temporal-values.yaml").read_text())
    assert values["server"]["tls"]["frontend"]["requireClientAuth"] is True
    assert values["server"]["tls"]["internode"]["enabled"] is True
    ui = {variable["name"]: variable["value"] for variable in values["web"]["additionalEnv"]}
    assert ui["TEMPORAL_AUTH_ENABLED"] == "true"
    assert ui["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert values["web"]["tls"]["enabled"] is True
    for store in values["server"]["config"]["persistence"]["datastores"].values():
        assert store["sql"]["pluginName"] == "postgres12" and "password" not in store["sql"]


@pytest.mark.parametrize(
    "script", sorted((ROOT / "deploy").rglob("*.sh")), ids=lambda path: str(path.relative_to(ROOT))
)
def test_the_deployment_scripts_are_valid_posix_shell(script: Path) -> None:
    checked = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert script.read_text().startswith("#!/bin/sh\n")


def test_the_pods_run_as_the_images_own_numbered_user_never_root() -> None:
    """runAsNonRoot can check a number only: an image whose USER is a name is refused by the kubelet."""
    user = re.search(r"^USER (\d+):(\d+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert user is not None, "the image's USER is a uid:gid"
    uid, gid = int(user[1]), int(user[2])
    assert uid != 0 and f"--uid {uid}" in DOCKERFILE.read_text()
    pods = [o for o in kubernetes_objects() if o["kind"] in ("Deployment", "Job")]
    assert pods
    for pod in pods:
        context = pod["spec"]["template"]["spec"]["securityContext"]
        assert context["runAsNonRoot"] is True, pod["metadata"]["name"]
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid), pod["metadata"]["name"]


def test_the_api_and_the_workers_never_migrate_as_the_services_role() -> None:
    """The migration step migrates as the owner; the API and the workers only check the schema."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    for name in ("api", "worker"):
        assert compose["services"][name]["environment"]["SLL_MIGRATE_AT_START"] == "false", name
    assert kubernetes_object("ConfigMap", "sll-config")["data"]["SLL_MIGRATE_AT_START"] == "false"
