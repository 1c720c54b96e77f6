"""The dashboard: server-rendered pages in the GOV.UK Design System, for managers, the Scrutineer and
everyone else who watches the cases. They read the SQL read model (``safeguarding/dashboard.py``), never
a workflow, and work without JavaScript.

Sign-in takes the same bearer token as the API (minted locally, or from the identity provider) and keeps
it in a cookie: HttpOnly (scripts cannot read it), SameSite=Strict (no other site's page or link sends
it) and Secure when the service is reached over https. Every page verifies it again, so an expired
token sends the person back to sign in, and each role sees what the API would show it.

Forms (sign in, sign out) are protected from cross-site request forgery by SameSite=Strict and by
checking that the request comes from this service: its Origin (or, lacking one, its Referer) must be
the service's public URL or the address the browser used, and a browser's Sec-Fetch-Site must not say
another site. A request that fails the check is refused with 403 and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import jwt
import structlog
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import AGENCY, REPORT_READERS, STAFF, record
from safeguarding.domain.case import Stage
from safeguarding.domain.fields import CASE_REFERENCE_PATTERN
from safeguarding.domain.people import Actor, Role
from safeguarding.platform.identity import NotAuthenticated
from safeguarding.platform.settings import PACKAGE_DIR, REPO_DIR, Settings
from safeguarding.queries.case_timeline import case_timeline
from safeguarding.queries.cases import case_list
from safeguarding.queries.due import DueState
from safeguarding.queries.timeliness import timeliness
from safeguarding.queries.work import agency_work, overdue_by_agency
from safeguarding.store.tables import ReportRow, YearlyReportRow

log = structlog.get_logger("dashboard")

# The GOV.UK Frontend package, installed by make (npm ci --prefix frontend); api/app.py serves it.
GOVUK_FRONTEND_DIR = REPO_DIR / "frontend" / "node_modules" / "govuk-frontend" / "dist" / "govuk"
GOVUK_ASSETS_DIR = GOVUK_FRONTEND_DIR / "assets"  # fonts and images, at /assets as its CSS expects
GOVUK_FRONTEND_PATH = "/govuk-frontend"  # govuk-frontend.min.css and .min.js

SESSION_COOKIE = "sll_session"
MAX_COOKIE_TOKEN = 3800  # browsers keep cookies up to about 4 KB
MAX_FORM_BYTES = 16_384
LONDON = ZoneInfo("Europe/London")

# The page template's two inline scripts (as the GOV.UK template has them), allowed by their hashes.
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

STAGE_NAMES = {
    Stage.screening: "Screening",
    Stage.rapid_review: "Rapid review",
    Stage.local_review: "Local review (CSPR)",
    Stage.other_review: "Other review",
    Stage.learning_actions: "Learning actions",
    Stage.national_review: "National review",
    Stage.closed: "Closed",
}
ROLE_NAMES = {
    Role.business_unit: "Business Unit",
    Role.jcrg_member: "JCRG member",
    Role.jcrg_chair: "JCRG chair",
    Role.safeguarding_partner: "Safeguarding partner",
    Role.independent_scrutineer: "Independent Scrutineer",
    Role.partner_agency: "Partner agency",
    Role.manager: "Manager",
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
EVENT_NAMES = {
    "case_opened": "Case opened",
    "screened": "Referral screened",
    "notification_recorded": "Notification sent",
    "information_requested": "Information requested from agencies",
    "information_returned": "Information returned",
    "recommendation_made": "Rapid review recommendation made",
    "recommendation_revised": "Recommendation revised",
    "partner_signed_off": "Safeguarding partner signed off",
    "partner_disagreed": "Safeguarding partner returned the recommendation",
    "recommendation_signed_off": "Recommendation signed off by the three partners",
    "scrutineer_informed": "Independent Scrutineer informed",
    "rapid_review_sent": "Rapid review sent to the Panel",
    "panel_responded": "Panel responded",
    "deadline_missed": "Deadline missed",
}
NEXT_PATH = re.compile(r"^/dashboard(/[A-Za-z0-9._-]+)*/?(\?[A-Za-z0-9=&_.-]*)?$")
REFERENCE = re.compile(CASE_REFERENCE_PATTERN)


# ---------------------------------------------------------------- rendering


def _when(value: datetime | None) -> str:
    """GOV.UK style, Europe/London: 18 December 2026 at 5pm."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    hour = local.hour % 12 or 12
    clock = f"{hour}{local:%p}".lower() if local.minute == 0 else f"{hour}:{local:%M}{local:%p}".lower()
    clock = {"12pm": "midday", "12am": "midnight"}.get(clock, clock)
    return f"{local.day} {local:%B %Y} at {clock}"


def _day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return f"{value.day} {value:%B %Y}"


def _words(value: str | None) -> str:
    text = (value or "").replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def _details(details: dict[str, Any]) -> str:
    """An event's facts in a line: the short values only (ids, choices, dates)."""
    shown = [
        f"{key.replace('_', ' ')}: {value}"
        for key, value in details.items()
        if isinstance(value, str | int | float | bool) and value not in ("", None) and len(str(value)) <= 120
    ]
    return "; ".join(shown)


templates = Jinja2Templates(directory=PACKAGE_DIR / "render" / "templates" / "dashboard")
templates.env.filters.update(
    when=_when,
    day=_day,
    words=_words,
    details=_details,
    stage=lambda value: STAGE_NAMES.get(value, _words(value)),  # type: ignore[call-overload]
    role=lambda value: ROLE_NAMES.get(value, _words(value)),  # type: ignore[call-overload]
    event=lambda value: EVENT_NAMES.get(value, _words(value)),
    iso=lambda value: value.isoformat() if value else "",
)
templates.env.globals.update(
    state_tags=STATE_TAGS,
    body_script=BODY_SCRIPT,
    init_script=INIT_SCRIPT,
    govuk_frontend=GOVUK_FRONTEND_PATH,
    stages=STAGE_NAMES,
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
        f"Your role ({ROLE_NAMES[actor.role]}) does not allow you to see this page. "
        "Ask the Business Unit if you need to.",
    )


async def _staff_only(request: Request, actor: Actor, reference: str | None = None) -> None:
    if actor.role not in STAFF:
        raise await _refuse(request, actor, reference, f"role {actor.role.value} not allowed")


# ---------------------------------------------------------------- sign in, sign out


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


router = APIRouter(include_in_schema=False, route_class=PageRoute, tags=["dashboard"])

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
        actor = request.app.state.verifier.verify(token)
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


# ---------------------------------------------------------------- the pages


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/dashboard")
async def cases_page(
    request: Request, actor: Viewer, stage: str | None = None, page: str | None = None
) -> Response:
    """Staff: every case with its stage and next deadline, and this year's timeliness. A partner
    agency: its own work."""
    now, engine = _now(), request.app.state.engine
    if actor.role is AGENCY:
        work = await run_in_threadpool(agency_work, engine, actor.agency, now=now)  # type: ignore[arg-type]
        return _page(request, "agency.html", {"title": "Your agency's work", "actor": actor, "work": work})
    chosen = stage if stage in Stage.__members__ else None
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    cases = await run_in_threadpool(case_list, engine, now=now, stage=chosen, page=number)
    years = await run_in_threadpool(timeliness, engine, request.app.state.policies, now=now)
    return _page(
        request,
        "cases.html",
        {"title": "Cases", "actor": actor, "cases": cases, "years": years, "nav": "cases"},
    )


@router.get("/dashboard/cases/{reference}")
async def case_page(request: Request, reference: str, actor: Viewer) -> Response:
    """Staff: the case's timeline. A partner agency: the case's reference and stage and its own work on
    it, and nothing of a case it has no work on."""
    now, engine = _now(), request.app.state.engine
    known = REFERENCE.match(reference) is not None
    if actor.role is AGENCY:
        work = (
            await run_in_threadpool(agency_work, engine, actor.agency, now=now, reference=reference)  # type: ignore[arg-type]
            if known
            else None
        )
        if work is None or not (work.tasks or work.actions):
            raise await _refuse(request, actor, reference if known else None, "no work on this case")
        return _page(
            request,
            "agency_case.html",
            {"title": f"Case {reference}", "actor": actor, "reference": reference, "work": work},
        )
    await _staff_only(request, actor, reference if known else None)
    timeline = await run_in_threadpool(case_timeline, engine, reference, now=now) if known else None
    if timeline is None:
        raise PageProblem(404, "Case not found", "There is no case with this reference.")
    await record(request, actor, "GET /dashboard/cases/{reference}", "read", 200, reference)
    return _page(
        request,
        "case.html",
        {
            "title": f"Case {reference}",
            "actor": actor,
            "case": timeline,
            "partnership": getattr(request.app.state.policies.get(timeline.partnership), "name", None),
            "nav": "cases",
        },
    )


@router.get("/dashboard/overdue")
async def overdue_page(request: Request, actor: Viewer) -> Response:
    """Staff: open actions and tasks past their due date, by the agency that owns them."""
    await _staff_only(request, actor)
    agencies = await run_in_threadpool(overdue_by_agency, request.app.state.engine, now=_now())
    return _page(
        request,
        "overdue.html",
        {"title": "Overdue work by agency", "actor": actor, "agencies": agencies, "nav": "overdue"},
    )


# ---------------------------------------------------------------- reports


def _report_readers(actor: Actor) -> bool:
    return actor.role in REPORT_READERS


@router.get("/dashboard/reports", include_in_schema=False)
async def reports_page(request: Request, actor: Viewer) -> Response:
    """The stored reports, to open in the browser (the emails about a new report link here)."""
    if not _report_readers(actor):
        raise await _refuse(request, actor, None, f"role {actor.role.value} does not read reports")
    from api.reports import _reports

    reports = await run_in_threadpool(_reports, request.app.state.engine, None, "closing_the_loop")

    def yearly() -> list[Any]:
        with request.app.state.engine.connect() as connection:
            return list(
                connection.execute(
                    select(YearlyReportRow.__table__).order_by(YearlyReportRow.year_start.desc())
                ).all()
            )

    processes = await run_in_threadpool(yearly)
    return _page(
        request,
        "reports.html",
        {"title": "Reports", "actor": actor, "reports": reports, "yearly": processes, "nav": "reports"},
    )


@router.get("/dashboard/reports/{report}.{form}", include_in_schema=False)
async def report_download(request: Request, report: str, form: str, actor: Viewer) -> Response:
    if not _report_readers(actor):
        raise await _refuse(request, actor, None, f"role {actor.role.value} does not read reports")
    if form not in ("pdf", "html"):
        raise PageProblem(404, "Page not found", "There is no such report.")

    def load() -> ReportRow | None:
        with Session(request.app.state.engine) as session:
            row = session.get(ReportRow, report)
            if row is not None:
                session.expunge(row)
            return row

    row = await run_in_threadpool(load)
    if row is None or (form == "pdf" and row.pdf is None):
        raise PageProblem(404, "Page not found", "There is no such report.")
    await record(request, actor, f"GET /dashboard/reports/{{report}}.{form}", "read", 200, None, report)
    if form == "pdf":
        return Response(
            row.pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{row.id}.pdf"', "Cache-Control": "no-store"},
        )
    return Response(
        row.html,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            "X-Frame-Options": "DENY",
        },
    )


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
        actor = request.app.state.verifier.verify(token)
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
