"""Process settings, read from the environment (prefix ``SLL_``) so that production and the
embedded default differ only in configuration."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLL_", extra="ignore")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "safeguarding-cases"

    # SQLite file by default; production sets a PostgreSQL URL (postgresql+psycopg://...).
    database_url: str = Field(default=f"sqlite:///{REPO_DIR / 'data' / 'read-model.sqlite'}")

    # One YAML deadline policy per partnership lives here.
    policy_dir: Path = PACKAGE_DIR / "policies"

    log_level: str = "INFO"

    # Cases kept in the worker's memory between tasks; 0 makes every task rebuild the case from history.
    worker_max_cached_workflows: int = Field(default=1000, ge=0)


@lru_cache
def get_settings() -> Settings:
    return Settings()
