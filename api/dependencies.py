"""What every route may depend on: the one Temporal client, the read-model engine, the policies.
Who is acting, and whether they may, is in ``api/access.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from temporalio.client import Client

from safeguarding.domain.policy import Policy
from safeguarding.platform.settings import Settings

# The furthest a list pages: past a million rows there is nothing to page to (and the database's integers
# end somewhere).
MAX_OFFSET = 1_000_000


def get_client(request: Request) -> Client:
    return request.app.state.client


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_policies(request: Request) -> dict[str, Policy]:
    return request.app.state.policies


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ClientDep = Annotated[Client, Depends(get_client)]
EngineDep = Annotated[Engine, Depends(get_engine)]
PoliciesDep = Annotated[dict[str, Policy], Depends(get_policies)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
