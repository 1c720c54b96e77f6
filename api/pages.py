"""How the dashboard's pages are made: GOV.UK Frontend templates and the words they use, the security
headers on every answer, who is looking (the session cookie, verified as the API verifies a bearer
token), and the forms' check that they come from this service.

Sign-in takes the same bearer token as the API (minted locally, or from the identity provider) and keeps
it in a cookie: HttpOnly (scripts cannot read it), SameSite=Strict (no other site's page or link sends
it) and Secure when the service is reached over https. Every page verifies it again, so an expired
token sends the person back to sign in, and each role sees what the API would show it.

Forms are protected from cross-site request forgery by SameSite=Strict and by checking that the request
comes from this service: its Origin (or, lacking one, its Referer) must be the service's public URL or
the address the browser used, and a browser's Sec-Fetch-Site must not say another site. A request that
fails the check is refused with 403 and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from api.access import STAFF, record
from safeguarding.domain.people import Actor
from safeguarding.domain.reporting import period_words
from safeguarding.platform.identity import NotAuthenticated
from safeguarding.platform.settings import PACKAGE_DIR, REPO_DIR, Settings
from safeguarding.queries.due import DueState
from safeguarding.render import pictures, words

# The GOV.UK Frontend package, installed by make (npm ci --prefix frontend); api/app.py serves it.
GOVUK_FRONTEND_DIR = REPO_DIR / "frontend" / "node_modules" / "govuk-frontend" / "dist" / "govuk"
GOVUK_ASSETS_DIR = GOVUK_FRONTEND_DIR / "assets"  # fonts and images, at /assets as its CSS expects
GOVUK_FRONTEND_PATH = "/govuk-frontend"  # govuk-frontend.min.css and .min.js

SESSION_COOKIE = "sll_session"
MAX_COOKIE_TOKEN = 3800  # browsers keep cookies up to about 4 KB
MAX_FORM_BYTES = 16_384

# The page template's two inline scripts, allowed by their hashes: the first as govuk-frontend-jinja's
# template.html writes it (a browser test sees it run), the second base.html's.
BODY_SCRIPT = (
    "document.body.className += ' js-enabled' + "
    "('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');"
)
INIT_SCRIPT = f"import {{ initAll }} from '{GOVUK_FRONTEND_PATH}/govuk-frontend.min.js'; initAll();"


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; "
        f"script-src 'self' {_script_hash(BODY_SCRIPT)} {_script_hash(INIT_SCRIPT)}; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # the pages hold case information: never kept by a shared cache
}

# Each state as a GOV.UK tag: its words carry the meaning, the colour only repeats it.
STATE_TAGS = {
    DueState.on_track: ("On track", "govuk-tag--green"),
    DueState.due_soon: ("Due soon", "govuk-tag--yellow"),
    DueState.overdue: ("Overdue", "govuk-tag--red"),
    DueState.met: ("Met on time", "govuk-tag--turquoise"),
    DueState.met_late: ("Met late", "govuk-tag--orange"),
    DueState.cancelled: ("Cancelled", "govuk-tag--grey"),
    DueState.done: ("Done", "govuk-tag--grey"),
}
# The dashboard's own templates, and GOV.UK Frontend's components as Jinja macros under their package's
# name (govuk-frontend-jinja, the release that matches the govuk-frontend the pages serve).
templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(PACKAGE_DIR / "render" / "templates" / "dashboard"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    )
)
templates.env.filters.update(
    when=words.moment,
    day=words.day,
    words=words.words,
    stage=words.stage_name,
    role=words.role_name,
    event=words.event_name,
    facts=words.case_event_facts,
    agency=words.case_agency_name,
    period=period_words,
    iso=lambda value: value.isoformat() if value else "",
)
templates.env.globals.update(
    state_tags=STATE_TAGS,
    init_script=INIT_SCRIPT,
    govuk_frontend=GOVUK_FRONTEND_PATH,
    measure_chart=pictures.measure_chart,
    govukRebrand=False,  # the pages keep GOV.UK Frontend 5's look (its 2025 brand is an opt-in)
    stages=words.STAGE_NAMES,
    # Each rendered form its own Idempotency-Key (api/idempotency.py): a double submit is one request.
    form_key=lambda: str(uuid.uuid4()),
)


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


# ---------------------------------------------------------------- who is looking


class SignInNeeded(Exception):
    """No session, or one whose token no longer verifies: sign in again (303 to /sign-in)."""

    def __init__(self, request: Request, reason: str | None = None) -> None:
        self.next = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.reason = reason


class PageProblem(Exception):
    """A page refused (403), not found (404) or a form not accepted: shown as a page of its own."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        self.status_code, self.title, self.message = status_code, title, message


class PageRoute(APIRoute):
    """Turns the dashboard's exceptions into pages and sets the security headers on every answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInNeeded as needed:
                target = f"/sign-in?next={quote(needed.next, safe='/')}"
                if needed.reason:
                    target += f"&reason={needed.reason}"
                response = RedirectResponse(target, status_code=303)
                if needed.reason:
                    response.delete_cookie(SESSION_COOKIE, path="/")
            except PageProblem as problem:
                actor = getattr(request.state, "actor", None)
                response = _page(
                    request,
                    "problem.html",
                    {"title": problem.title, "message": problem.message, "actor": actor},
                    problem.status_code,
                )
            for header, value in SECURITY_HEADERS.items():
                response.headers.setdefault(header, value)
            return response

        return page


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def viewer(request: Request) -> Actor:
    """The signed-in person, from the session cookie, verified as the API verifies a bearer token."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded(request)
    try:
        actor = request.app.state.verifier.verify(token)
    except NotAuthenticated as problem:
        raise SignInNeeded(request, "expired" if "expired" in str(problem) else "invalid") from None
    request.state.actor = actor
    return actor


Viewer = Annotated[Actor, Depends(viewer)]


async def _refuse(request: Request, actor: Actor, reference: str | None, reason: str) -> PageProblem:
    """Record the attempt (as the API does for a 403) and give the page to show."""
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    await record(request, actor, action, "denied", 403, reference, reason)
    return PageProblem(
        403,
        "You cannot see this page",
        f"Your role ({words.role_name(actor.role)}) does not allow you to see this page. "
        "Ask the Business Unit if you need to.",
    )


async def _staff_only(request: Request, actor: Actor, reference: str | None = None) -> None:
    if actor.role not in STAFF:
        raise await _refuse(request, actor, reference, f"role {actor.role.value} not allowed")


# ---------------------------------------------------------------- forms


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def _from_this_service(request: Request) -> bool:
    """CSRF check of a form post (see the module docstring)."""
    if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        return False
    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent:
        return False
    allowed = {_origin(_settings(request).public_url), _origin(str(request.base_url))}
    return _origin(sent) in allowed - {None}


async def _form(request: Request) -> dict[str, str]:
    if not _from_this_service(request):
        raise PageProblem(
            403,
            "This form could not be accepted",
            "The form was not sent from a page of this service. Go back to the page, and send it again.",
        )
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise PageProblem(413, "The form is too large", "Send the form again with less in it.")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageProblem(413, "The form is too large", "Send the form again with less in it.")
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    except ValueError:
        raise PageProblem(400, "The form could not be read", "Send the form again from its page.") from None
    return {name: values[0] for name, values in fields.items()}
