"""Process settings, read from the environment (prefix ``SLL_``) so that production and the
embedded default differ only in configuration."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeguarding.platform.local_secrets import local_key

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # safeguarding/
REPO_DIR = PACKAGE_DIR.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLL_", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # Mutual TLS to Temporal (production): this service's client certificate and key, the CA that signed
    # the server's certificate, and the name the server's certificate carries. Unset: plain connection.
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls_server_name: str | None = None
    task_queue: str = "safeguarding-cases"

    # SQLite file by default; production sets a PostgreSQL URL (postgresql+psycopg://...).
    database_url: str = Field(default=f"sqlite:///{REPO_DIR / 'data' / 'read-model.sqlite'}")
    # Production: the schema owner's URL, used only by the migration step (python -m
    # safeguarding.store.migration), which then grants the role in database_url what the service needs;
    # the service itself connects as that role, which owns nothing. Unset: migrations use database_url.
    migration_database_url: str | None = None
    # The API and the worker bring the schema up to date as they start (the embedded default). A
    # deployment whose migration step runs as the owner sets this false: they then only check that the
    # schema is current and refuse to start if not, and never create a table as the service's role.
    migrate_at_start: bool = True

    # One YAML deadline policy per partnership lives here.
    policy_dir: Path = PACKAGE_DIR / "policies"

    log_level: str = "INFO"

    # How long the API waits for a step's answer before saying 504 (the step may still be taken: the
    # client retries with the same Idempotency-Key and gets its one outcome).
    step_answer_timeout: float = Field(default=30.0, gt=0)

    # Cases kept in the worker's memory between tasks; 0 makes every task rebuild the case from history.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)

    # Encryption of Temporal payloads: SLL_PAYLOAD_KEYS='{"current": "k2", "keys": {"k1": "...", "k2": "..."}}'
    # in production; on the embedded default a key file made on first use.
    payload_keys: str | None = None
    payload_key_file: Path = REPO_DIR / "data" / "payload-keys.json"
    # The audit log's seal: every entry's hash is also signed (HMAC) with this key, kept outside the
    # database, so that a chain recomputed by someone with database access is detected. Production sets
    # SLL_AUDIT_KEY (a long random string); the embedded default keeps one in a file made on first use.
    audit_key: str | None = None
    audit_key_file: Path = REPO_DIR / "data" / "audit.key"
    # The embedded default creates its own secrets (payload keys, the local token signing key) when
    # missing; production sets this false so that a missing secret stops the service instead.
    create_local_secrets: bool = True

    # Who is acting: "local" tokens signed with a key in the data folder (minted by
    # `python -m safeguarding mint ...`), or "oidc": the partnership's identity provider.
    auth_mode: Literal["local", "oidc"] = "local"
    local_signing_key_file: Path = REPO_DIR / "data" / "local-signing.key"
    token_audience: str = "safeguarding-learning-loop"
    oidc_issuer: str | None = None
    oidc_jwks_url: str | None = None
    oidc_user_claim: str = "sub"
    oidc_role_claim: str = "roles"  # a role name, or a list holding one (Entra ID app roles)
    oidc_agency_claim: str = "agency"
    oidc_partner_claim: str = "partner"
    # The partnerships a person acts in (a code, or a list of codes: luton, bedford-borough, ...). A token
    # without it is refused: every read and step is limited to the partnerships it names.
    partnership_claim: str = "partnerships"
    # The dashboard's sign-in through the identity provider (authorization code with PKCE). Without
    # these, the dashboard asks for a token to be pasted.
    oidc_authorize_url: str | None = None
    oidc_token_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None  # a confidential client; none for a public one (PKCE only)
    oidc_scope: str = "openid"  # Entra ID: "openid api://<this app>/.default"

    # Prometheus: the API's /metrics asks for this bearer token (production serves no metrics without
    # one); the worker serves Temporal's own metrics (task latencies, slots, polls) at this address.
    metrics_token: str | None = None
    # OpenTelemetry traces over OTLP/HTTP (e.g. http://otel-collector:4318/v1/traces); none: no traces.
    otlp_endpoint: str | None = None
    worker_metrics_address: str | None = None  # e.g. 0.0.0.0:9464

    # Origins of the Temporal Web UI allowed to call the codec endpoint.
    codec_cors_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]

    # Where people reach the service: links in emails and the calendar feed URLs start here.
    public_url: str = "http://127.0.0.1:8000"

    # Email to partner agencies: an SMTP relay (the embedded default runs a local one, keeping what it
    # receives in data/mail). No host: emails wait, recorded as failed attempts, until one is set.
    smtp_host: str | None = None
    # Or GOV.UK Notify, as councils and the NHS send service email: with an API key, email goes through
    # Notify instead of SMTP, with one template whose subject is ((subject)) and body ((body)).
    notify_api_key: str | None = None
    notify_template_id: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    mail_from: str = "Safeguarding Learning Loop <no-reply@safeguarding-learning-loop.invalid>"
    # Deliveries are retried with back-off (first retry after this many seconds, doubling up to an hour)
    # for this many hours, then recorded as failed on the case.
    delivery_first_retry_seconds: float = Field(default=30.0, gt=0)
    delivery_give_up_hours: float = Field(default=72.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Agencies on the daily digest get one email a day at this local time (Europe/London).
    digest_time: str = Field(default="07:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # The embedded default's local SMTP server (make run), and the folder it keeps messages in.
    local_smtp_port: int = 8025
    local_mail_dir: Path = REPO_DIR / "data" / "mail"

    @model_validator(mode="after")
    def _local_sign_in_only_where_local_secrets_are(self) -> Settings:
        """Production (no local secrets) never accepts the locally signed tokens of the embedded default."""
        if self.auth_mode == "local" and not self.create_local_secrets:
            raise ValueError(
                "SLL_AUTH_MODE is local (tokens signed by this service's own key, for the embedded default) "
                "while SLL_CREATE_LOCAL_SECRETS is false (production): set SLL_AUTH_MODE=oidc with "
                "SLL_OIDC_ISSUER, SLL_OIDC_JWKS_URL and SLL_TOKEN_AUDIENCE"
            )
        return self

    def audit_seal_key(self) -> bytes:
        if self.audit_key:
            return self.audit_key.encode()
        return local_key(
            self.audit_key_file, create=self.create_local_secrets, missing="no audit key: set SLL_AUDIT_KEY"
        )

    def temporal_tls(self):  # type: ignore[no-untyped-def]
        """The ``tls`` argument of ``Client.connect``: a TLSConfig from the files named, or False."""
        from temporalio.service import TLSConfig

        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("SLL_TEMPORAL_TLS_CERT and SLL_TEMPORAL_TLS_KEY are set together or not at all")
        if not (self.temporal_tls_cert or self.temporal_tls_ca or self.temporal_tls_server_name):
            return False
        return TLSConfig(
            server_root_ca_cert=self.temporal_tls_ca.read_bytes() if self.temporal_tls_ca else None,
            domain=self.temporal_tls_server_name,
            client_cert=self.temporal_tls_cert.read_bytes() if self.temporal_tls_cert else None,
            client_private_key=self.temporal_tls_key.read_bytes() if self.temporal_tls_key else None,
        )

    def data_converter(self):  # type: ignore[no-untyped-def]
        from safeguarding.platform.codec import data_converter, load_keys

        return data_converter(
            load_keys(self.payload_keys, self.payload_key_file, create=self.create_local_secrets)
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
