"""Signing in to the dashboard: with a token pasted in (the embedded default), or through the
partnership's identity provider (authorization code with PKCE and a state); signing out. The token is
verified exactly as the API verifies a bearer token, and kept in the session cookie (``api/pages.py``)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from urllib.parse import urlencode

import httpx
import jwt
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from api.pages import MAX_COOKIE_TOKEN, SESSION_COOKIE, PageProblem, PageRoute, _form, _page, _settings
from safeguarding.platform.identity import NotAuthenticated
from safeguarding.platform.settings import Settings

log = structlog.get_logger("dashboard")

NEXT_PATH = re.compile(r"^/dashboard(/[A-Za-z0-9._-]+)*/?(\?[A-Za-z0-9=&_.-]*)?$")

router = APIRouter(include_in_schema=False, route_class=PageRoute, tags=["dashboard"])


def _next_path(value: str | None) -> str:
    """Where to go after signing in: a dashboard page of this service, nowhere else."""
    return value if value and NEXT_PATH.match(value) else "/dashboard"


def _sign_in_page(
    request: Request, *, next_path: str, error: str | None = None, notice: str | None = None
) -> Response:
    settings = _settings(request)
    return _page(
        request,
        "sign_in.html",
        {
            "title": "Sign in",
            "error": error,
            "notice": notice,
            "next": next_path,
            "local": settings.auth_mode == "local",
            "provider": _provider_configured(settings),
        },
        status_code=401 if error else 200,
    )


SIGN_IN_NOTICES = {
    "expired": "Your sign-in has expired. Sign in again.",
    "invalid": "Your sign-in is no longer valid. Sign in again.",
    "signed-out": "You have signed out.",
}


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str | None = None, reason: str | None = None) -> Response:
    """The sign-in page: one field, the access token."""
    return _sign_in_page(request, next_path=_next_path(next), notice=SIGN_IN_NOTICES.get(reason or ""))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Verify the token as the API would; keep it in the session cookie and go to the dashboard."""
    form = await _form(request)
    next_path = _next_path(form.get("next"))
    token = form.get("access_token", "").strip()
    if not token:
        return _sign_in_page(request, next_path=next_path, error="Enter your access token")
    try:
        actor = await request.app.state.verifier.verify_async(token)
    except NotAuthenticated as problem:
        return _sign_in_page(request, next_path=next_path, error=f"Enter a valid access token: {problem}")
    if len(token) > MAX_COOKIE_TOKEN:
        return _sign_in_page(
            request, next_path=next_path, error="This access token is too long to keep you signed in with"
        )
    response = RedirectResponse(next_path, status_code=303)
    _set_session(response, token, _settings(request))
    log.info("dashboard.signed_in", user=actor.user_id, role=actor.role.value, agency=actor.agency)
    return response


def _set_session(response: Response, token: str, settings: Settings) -> None:
    """The session cookie holds the verified token itself, for as long as the token is valid."""
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(int(expires - time.time()), 0) if isinstance(expires, int | float) else None,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """Forget the session cookie. (The token itself lives until it expires: keep it to yourself.)"""
    await _form(request)
    response = RedirectResponse("/sign-in?reason=signed-out", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_settings(request).public_url.startswith("https://"),
    )
    return response


# ---------------------------------------------------------------- sign in through the identity provider

FLOW_COOKIE = "sll_sign_in"  # the state and PKCE verifier of a sign-in on its way, for ten minutes


def _provider_configured(settings: Settings) -> bool:
    return bool(settings.oidc_authorize_url and settings.oidc_token_url and settings.oidc_client_id)


def _callback_url(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}/sign-in/callback"


@router.get("/sign-in/start")
async def sign_in_start(request: Request, next: str | None = None) -> Response:
    """Off to the partnership's identity provider (authorization code with PKCE and a state)."""
    settings = _settings(request)
    if not _provider_configured(settings):
        raise PageProblem(404, "Page not found", "Sign-in through the identity provider is not set up here.")
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": _callback_url(settings),
            "scope": settings.oidc_scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    response = RedirectResponse(f"{settings.oidc_authorize_url}?{query}", status_code=303)
    # Lax, not Strict: the provider sends the browser back here from its own site.
    response.set_cookie(
        FLOW_COOKIE,
        json.dumps({"state": state, "verifier": verifier, "next": _next_path(next)}),
        max_age=600,
        path="/sign-in",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )
    return response


@router.get("/sign-in/callback")
async def sign_in_callback(
    request: Request, code: str | None = None, state: str | None = None, error: str | None = None
) -> Response:
    """Back from the identity provider: the code is exchanged for the access token the API takes, which
    is verified exactly as a bearer token is, and kept in the session cookie."""
    settings = _settings(request)
    try:
        flow = json.loads(request.cookies.get(FLOW_COOKIE, ""))
    except ValueError:
        flow = {}
    next_path = _next_path(flow.get("next"))
    if (
        error
        or not code
        or not state
        or not flow
        or not secrets.compare_digest(state, str(flow.get("state")))
    ):
        reason = f"the identity provider said: {error}" if error else "the sign-in did not come back as sent"
        return _sign_in_page(request, next_path=next_path, error=f"Sign in again: {reason}")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _callback_url(settings),
        "client_id": settings.oidc_client_id,
        "code_verifier": flow["verifier"],
    }
    if settings.oidc_client_secret:
        form["client_secret"] = settings.oidc_client_secret
    try:
        async with httpx.AsyncClient(timeout=15) as http:
            answer = await http.post(settings.oidc_token_url, data=form)  # type: ignore[arg-type]
        token = answer.json().get("access_token", "") if answer.is_success else ""
    except (httpx.HTTPError, ValueError):
        token = ""
    if not token:
        return _sign_in_page(
            request, next_path=next_path, error="Sign in again: the identity provider gave no token"
        )
    try:
        actor = await request.app.state.verifier.verify_async(token)
    except NotAuthenticated as problem:
        return _sign_in_page(request, next_path=next_path, error=f"Sign in again: {problem}")
    # A page of our own rather than a redirect: the next request is then a same-site one, and the
    # SameSite=Strict session cookie goes with it.
    response = _page(
        request, "signed_in.html", {"title": "Signed in", "actor": actor, "next": next_path, "nav": None}
    )
    _set_session(response, token, settings)
    response.delete_cookie(FLOW_COOKIE, path="/sign-in")
    log.info(
        "dashboard.signed_in", user=actor.user_id, role=actor.role.value, agency=actor.agency, via="oidc"
    )
    return response
