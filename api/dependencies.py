"""What every route may depend on: the one Temporal client, the read-model engine, the policies,
and the person acting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import Engine
from temporalio.client import Client

from safeguarding.case import AGENCY_PATTERN, USER_PATTERN, Actor, Role
from safeguarding.policy import Policy
from safeguarding.settings import Settings


def get_client(request: Request) -> Client:
    return request.app.state.client


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_policies(request: Request) -> dict[str, Policy]:
    return request.app.state.policies


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def current_actor(
    x_user_id: Annotated[
        str | None,
        Header(pattern=USER_PATTERN, description="Who is acting: a staff identifier, no names needed."),
    ] = None,
    x_user_role: Annotated[Role | None, Header(description="The role they act in.")] = None,
    x_user_agency: Annotated[str | None, Header(pattern=AGENCY_PATTERN, description="Their agency.")] = None,
) -> Actor:
    """The acting person, recorded against every step.

    Until authentication arrives (issue 4: bearer tokens from the partnership's identity provider),
    the caller states who they are in these headers; issue 4 replaces this dependency, not the routes.
    """
    if not x_user_id or x_user_role is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "say who is acting: send the X-User-Id and X-User-Role headers",
        )
    return Actor(user_id=x_user_id, role=x_user_role, agency=x_user_agency)


ClientDep = Annotated[Client, Depends(get_client)]
EngineDep = Annotated[Engine, Depends(get_engine)]
PoliciesDep = Annotated[dict[str, Policy], Depends(get_policies)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ActorDep = Annotated[Actor, Depends(current_actor)]
