"""The dashboard over HTTP (no browser): signing in, who sees what, the Design System's accessibility
patterns, and a fixed number of index-backed queries per page however big the partnership.

The read model is seeded directly (``tests/browser/read_model_seed.py``): these pages never ask Temporal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from api import dashboard as dashboard_routes
from api import sign_in as sign_in_routes
from api.app import create_app
from api.pages import SESSION_COOKIE
from safeguarding.domain.people import Role
from safeguarding.domain.policy import Policy
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.queries.case_timeline import case_timeline
from safeguarding.queries.cases import case_list
from safeguarding.queries.quarterly_timeliness import timeliness_by_quarter
from safeguarding.queries.timeliness import timeliness
from safeguarding.queries.work import agency_work, overdue_by_agency
from safeguarding.render.pictures import CHART_TOP, PLOT_HEIGHT
from safeguarding.store.engine import make_engine
from safeguarding.store.tables import AuditRow
from tests import rows
from tests.browser.read_model_seed import (
    DUE_SOON,
    JCRG_REASONS,
    ON_TRACK,
    OVERDUE,
    PLAN_CASE,
    POLICE,
    POLICE_ACTION,
    POLICE_NAME,
    POLICE_TASK,
    SCHOOL,
    SCHOOL_ACTION,
    SCHOOL_TASK,
    SCREENING_REASONS,
    copy_of,
    seed_many_cases,
    seed_partnership,
    seeded_read_model,
)

BASE = "http://testserver"
SAME_ORIGIN = {"Origin": BASE}


class StandInClient:
    """The app's Temporal client: the dashboard never calls it, so any call is a failure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the dashboard called Temporal ({name})")


@dataclass
class Site:
    http: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    policy: Policy

    def token(self, role: str, user: str = "someone", agency: str | None = None, hours: float = 1) -> str:
        return mint_local_token(self.settings, user=user, role=Role(role), agency=agency, hours=hours)

    async def sign_in(self, role: str, user: str = "someone", agency: str | None = None) -> httpx.Response:
        self.http.cookies.clear()
        token = self.token(role, user, agency)
        return await self.http.post("/sign-in", data={"access_token": token}, headers=SAME_ORIGIN)


@pytest.fixture(scope="session")
def seeded_at() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory, policy: Policy, seeded_at: datetime) -> Path:
    return seeded_read_model(tmp_path_factory.mktemp("seeded"), policy, seeded_at)


@pytest.fixture
async def site(seeded: Path, tmp_path: Path, policy: Policy) -> AsyncIterator[Site]:
    url = copy_of(seeded, tmp_path)
    settings = Settings(database_url=url, local_signing_key_file=tmp_path / "signing.key")
    app = create_app(settings, client=StandInClient())  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield Site(http, app, settings, policy)


def row_of(page: str, attribute: str, value: str) -> str:
    """The text of the table row marked ``data-<attribute>="<value>"`` (on the row, or on its first cell as
    govukTable marks it)."""
    mark = f'data-{attribute}="{value}"'
    match = next((row for row in re.findall(r"<tr\b.*?</tr>", page, re.S) if mark in row), None)
    assert match, f"no row {attribute}={value}"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match)))


async def page_text(site: Site, path: str) -> str:
    """The page as a reader gets it: entities decoded (the markup kept, to look for marks and links)."""
    return unescape((await site.http.get(path)).text)


# ---------------------------------------------------------------- signing in


async def test_without_a_session_every_page_sends_you_to_sign_in(site: Site):
    for path in ("/dashboard", f"/dashboard/cases/{OVERDUE}", "/dashboard/overdue"):
        response = await site.http.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/sign-in?next={path}"
    form = await site.http.get("/sign-in?next=/dashboard/overdue")
    assert form.status_code == 200
    assert 'name="next" value="/dashboard/overdue"' in form.text
    assert "python -m safeguarding mint" in form.text  # local sign-in: how to make a token


async def test_a_token_that_does_not_verify_is_refused_with_an_error_summary(site: Site):
    response = await site.http.post("/sign-in", data={"access_token": "not-a-token"}, headers=SAME_ORIGIN)
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    html = response.text
    assert "<title>Error: Sign in" in html
    assert 'class="govuk-error-summary"' in html and "There is a problem" in html
    assert '<a href="#access-token">Enter a valid access token' in html
    assert 'id="access-token-error"' in html and "govuk-input--error" in html
    empty = await site.http.post("/sign-in", data={"access_token": " "}, headers=SAME_ORIGIN)
    assert empty.status_code == 401 and "Enter your access token" in empty.text
    other_key = Settings(local_signing_key_file=Path(site.settings.local_signing_key_file).with_name("other"))
    forged = mint_local_token(other_key, user="m1", role=Role.manager)
    refused = await site.http.post("/sign-in", data={"access_token": forged}, headers=SAME_ORIGIN)
    assert refused.status_code == 401


async def test_signing_in_keeps_the_token_in_a_strict_http_only_cookie_and_opens_the_dashboard(site: Site):
    response = await site.sign_in("manager", "m.one")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # the service is reached over http here
    page = await site.http.get("/dashboard")
    assert page.status_code == 200 and "m.one" in page.text
    # Back where the person was going, never to another site.
    token = site.token("manager")
    back = await site.http.post(
        "/sign-in", data={"access_token": token, "next": f"/dashboard/cases/{OVERDUE}"}, headers=SAME_ORIGIN
    )
    assert back.headers["location"] == f"/dashboard/cases/{OVERDUE}"
    away = await site.http.post(
        "/sign-in", data={"access_token": token, "next": "//evil.example/dashboard"}, headers=SAME_ORIGIN
    )
    assert away.headers["location"] == "/dashboard"


async def test_the_cookie_is_secure_when_the_service_is_reached_over_https(site: Site):
    site.app.state.settings = site.settings.model_copy(update={"public_url": "https://lscp.example"})
    response = await site.http.post(
        "/sign-in", data={"access_token": site.token("manager")}, headers={"Origin": "https://lscp.example"}
    )
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


async def test_a_form_sent_from_another_site_is_refused(site: Site):
    token = site.token("manager")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Origin": BASE, "Sec-Fetch-Site": "cross-site"},
        {},  # neither Origin nor Referer: cannot tell where it came from
    ):
        response = await site.http.post("/sign-in", data={"access_token": token}, headers=headers)
        assert response.status_code == 403, headers
        assert "set-cookie" not in response.headers
        assert "This form could not be accepted" in response.text
    await site.sign_in("manager")
    refused = await site.http.post("/sign-out", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert (await site.http.get("/dashboard")).status_code == 200, "still signed in"


async def test_signing_out_forgets_the_session(site: Site):
    await site.sign_in("manager")
    response = await site.http.post("/sign-out", headers=SAME_ORIGIN)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?reason=signed-out"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert (await site.http.get("/dashboard")).status_code == 303
    assert "You have signed out" in (await site.http.get("/sign-in?reason=signed-out")).text


FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


async def test_each_rendered_form_has_its_own_key_and_a_double_submit_is_one_request(site: Site):
    await site.sign_in("manager")
    session = site.http.cookies[SESSION_COOKIE]
    keys = [FORM_KEY.search((await site.http.get("/dashboard")).text).group(1) for _ in range(2)]
    assert keys[0] != keys[1]  # each rendering of the form its own key
    form = {"idempotency_key": keys[0]}
    first = await site.http.post("/sign-out", data=form, headers=SAME_ORIGIN)
    site.http.cookies.set(SESSION_COOKIE, session)  # the second click left with the same cookie
    second = await site.http.post("/sign-out", data=form, headers=SAME_ORIGIN)
    assert first.status_code == second.status_code == 303
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]


async def test_an_expired_session_sends_you_to_sign_in_again(site: Site):
    site.http.cookies.set(SESSION_COOKIE, site.token("manager", hours=-1))
    response = await site.http.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/dashboard&reason=expired"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]  # the stale cookie is cleared
    page = await site.http.get(response.headers["location"])
    assert "Your sign-in has expired" in page.text


# ---------------------------------------------------------------- what staff see


async def test_staff_see_every_case_with_its_stage_and_next_deadline_coloured_by_status(site: Site):
    for role in ("manager", "business_unit", "jcrg_member", "independent_scrutineer"):
        await site.sign_in(role)
        html = (await site.http.get("/dashboard")).text
        assert "5 cases, 2 with a deadline overdue" in html, role
    overdue = row_of(html, "case", OVERDUE)
    assert "Rapid review" in overdue and "Rapid review completed and sent to the Panel" in overdue
    assert re.search(
        r'govuk-tag--red">\s*Overdue', re.search(rf'data-case="{OVERDUE}".*?</tr>', html, re.S).group(0)
    )
    assert "Due soon" in row_of(html, "case", DUE_SOON) and "Screening" in row_of(html, "case", DUE_SOON)
    assert "On track" in row_of(html, "case", ON_TRACK) and "Local review (CSPR)" in row_of(
        html, "case", ON_TRACK
    )
    assert "Overdue" in row_of(html, "case", PLAN_CASE)  # the action plan's deadline counts too
    # Soonest deadline first: the two overdue cases lead.
    order = re.findall(r'data-case="([^"]+)"', html)
    assert order[:2] == [PLAN_CASE, OVERDUE] and order[-1] == "LSCP-2024-050"
    # Only the filtered stage.
    screening = (await site.http.get("/dashboard?stage=screening")).text
    assert re.findall(r'data-case="([^"]+)"', screening) == [DUE_SOON]


async def test_this_years_timeliness_counts_deadlines_met_or_missed_in_the_reporting_year(site: Site):
    await site.sign_in("manager")
    html = (await site.http.get("/dashboard")).text
    rapid = row_of(html, "measure", "rapid_review_to_panel")
    assert "Rapid reviews sent to the Panel within 15 working days" in rapid
    assert "1 of 3" in rapid and "33%" in rapid  # one on time, one late, one not sent and overdue
    cspr = row_of(html, "measure", "cspr_completion")
    assert "within 6 calendar months" in cspr and "1 of 1" in cspr and "100%" in cspr
    assert "Reporting year 1 April" in html  # reports.reporting_year_starts: 04-01


async def test_a_case_page_shows_decisions_with_who_and_why_deadlines_tasks_and_notifications(site: Site):
    await site.sign_in("independent_scrutineer", "scrutineer.one")
    response = await site.http.get(f"/dashboard/cases/{OVERDUE}")
    assert response.status_code == 200
    html = response.text
    decision = row_of(html, "event", "recommendation_made")
    assert "jcrg.chair" in decision and "JCRG chair" in decision and JCRG_REASONS in decision
    notify = row_of(html, "deadline", "notify_panel")
    assert "Met on time" in notify and notify.count(" 2026 at ") + notify.count(" 2027 at ") >= 2  # due, met
    assert "Not met" in row_of(html, "deadline", "rapid_review_to_panel")
    assert SCHOOL_TASK in row_of(html, "task", f"{OVERDUE}.T1")
    assert POLICE_TASK in row_of(html, "task", f"{OVERDUE}.T2")
    sent = row_of(html, "notification", "task_assigned")
    assert "Luton schools" in sent and "Sent " in sent
    assert 'data-event="deadline_opened"' not in html  # bookkeeping the deadlines table shows better
    with Session(site.app.state.engine) as session:
        read = session.scalars(select(AuditRow).where(AuditRow.case_reference == OVERDUE)).all()
    assert [(r.user_id, r.outcome) for r in read] == [("scrutineer.one", "read")]
    missing = await site.http.get("/dashboard/cases/LSCP-2099-999")
    assert missing.status_code == 404 and "Case not found" in missing.text


# An internal key ("notify_secretary_of_state"), a deadline's id on its stream ("D2") or an ISO time.
INTERNAL_WORDS = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\bD\d+\b|\d{4}-\d{2}-\d{2}")


def shown_text(page: str) -> str:
    """What a reader sees of the page: its text, without the markup's attributes and scripts."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text)))


async def test_the_case_page_says_each_event_in_words_with_no_key_deadline_id_or_iso_time(
    site: Site, seeded_at: datetime
):
    await site.sign_in("manager")
    page = (await site.http.get(f"/dashboard/cases/{OVERDUE}")).text
    assert INTERNAL_WORDS.findall(shown_text(page)) == []
    # The clock's bookkeeping read back: the deadline by its title, its due time as a day and a time.
    missed = row_of(page, "event", "deadline_missed")
    assert "Rapid review completed and sent to the Panel" in missed
    assert re.search(
        r"due: (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} \w+ 20\d\d", missed
    )
    escalated = row_of(page, "event", "escalation_sent")
    assert "to: the JCRG chair, the Independent Scrutineer" in escalated
    assert "Deadline missed" in missed and "Escalation sent" in escalated
    # The same seeded bookkeeping as the words were made from: so the check above checked something.
    assert 'data-event="deadline_missed"' in page and "rapid_review_to_panel" in page
    # Nor on any other page a reader sees.
    for path in ("/dashboard", "/dashboard/overdue", "/dashboard/reports"):
        assert INTERNAL_WORDS.findall(shown_text((await site.http.get(path)).text)) == [], path
    await site.sign_in("partner_agency", "school.dsl", agency=SCHOOL)
    for path in ("/dashboard", f"/dashboard/cases/{OVERDUE}"):
        assert INTERNAL_WORDS.findall(shown_text((await site.http.get(path)).text)) == [], path


def picture(page: str, name: str) -> str:
    match = re.search(rf'<svg[^>]*id="{name}".*?</svg>', page, re.S)
    assert match, f"no picture {name}"
    return match.group(0)


async def test_managers_see_timeliness_by_quarter_drawn_and_in_a_table(site: Site):
    await site.sign_in("manager")
    page = (await site.http.get("/dashboard")).text
    chart = picture(page, "timeliness-luton-rapid_review_to_panel-picture")
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert "Rapid reviews sent to the Panel within 15 working days: share on time by quarter" in chart
    # Three reporting years of quarters, up to this one; the same figures as the chart in a table.
    figures = re.search(
        r"<caption[^>]*>\s*Rapid reviews sent[^<]*quarter by quarter.*?</table>", page, re.S
    ).group(0)
    quarters = re.findall(r"<tr\b.*?</tr>", figures, re.S)[1:]  # after the heading row
    assert 9 <= len(quarters) <= 12 and "April to June" in quarters[0]
    counts = [re.search(r"(\d+) of (\d+)", q).groups() for q in quarters]
    # This year's three (one on time) and the closed case's, two years ago, on time.
    assert sum(int(c) for _, c in counts) == 4 and sum(int(o) for o, _ in counts) == 2
    # The one from years ago was on time: a full-height bar, standing on the baseline.
    assert len(re.findall(r'class="sll-bar"', chart)) == sum(1 for _, c in counts if c != "0")
    assert re.search(
        rf'class="sll-bar" x="[\d.]+" y="{CHART_TOP:.1f}" width="[\d.]+" height="{PLOT_HEIGHT:.1f}"', chart
    )


async def test_the_case_page_draws_its_deadlines_against_today(site: Site):
    await site.sign_in("manager")
    page = (await site.http.get(f"/dashboard/cases/{OVERDUE}")).text
    drawn = picture(page, "case-deadlines-picture")
    assert 'role="img"' in drawn and f"Case {OVERDUE}: its deadlines against today" in drawn
    outcomes = re.findall(r'class="sll-deadline" data-outcome="(\w+)"', drawn)
    assert sorted(outcomes) == ["met", "met", "missed", "open"]  # soonest due first, by due date
    assert 'class="sll-today"' in drawn and "Luton schools: Agency information return" in drawn
    assert "4 deadlines by due date" in drawn and "2 met, 1 missed, 1 open" in drawn


async def test_the_overdue_page_lists_open_work_past_due_by_the_agency_that_owns_it(site: Site):
    await site.sign_in("manager")
    page = await page_text(site, "/dashboard/overdue")
    assert "1" in row_of(page, "agency", POLICE) and POLICE_NAME in page
    assert POLICE_ACTION in row_of(page, "action", f"{PLAN_CASE}/A1")
    assert SCHOOL_ACTION not in page  # the school's action is not yet due
    assert f'data-agency="{SCHOOL}"' not in page


# ---------------------------------------------------------------- what a partner agency sees


async def test_a_partner_agency_sees_only_its_own_work_and_the_minimum_of_a_case(site: Site):
    await site.sign_in("partner_agency", "school.dsl", agency=SCHOOL)
    home = await page_text(site, "/dashboard")
    assert SCHOOL_TASK in home and SCHOOL_ACTION in home
    for hidden in (
        POLICE_TASK,
        POLICE_ACTION,
        POLICE,
        POLICE_NAME,
        JCRG_REASONS,
        SCREENING_REASONS,
        DUE_SOON,
    ):
        assert hidden not in home, hidden
    assert (await site.http.get(f"/dashboard/cases/{OVERDUE}")).status_code == 200
    case = await page_text(site, f"/dashboard/cases/{OVERDUE}")
    assert "Rapid review" in case and SCHOOL_TASK in case
    for hidden in (
        POLICE_TASK,
        POLICE,
        JCRG_REASONS,
        "jcrg.chair",
        "Notifications sent",
        "Decisions and events",
    ):
        assert hidden not in case, hidden


async def test_a_partner_agency_is_refused_pages_it_may_not_see_and_the_attempt_is_recorded(site: Site):
    await site.sign_in("partner_agency", "school.dsl", agency=SCHOOL)
    refused = await site.http.get("/dashboard/overdue")
    assert refused.status_code == 403 and "You cannot see this page" in refused.text
    # A case it has no work on is the page of a case that does not exist, word for word.
    pages = []
    for reference in (DUE_SOON, "LSCP-2099-999"):
        response = await site.http.get(f"/dashboard/cases/{reference}")
        assert response.status_code == 404 and "Case not found" in response.text, reference
        pages.append(FORM_KEY.sub("KEY", response.text.replace(reference, "REFERENCE")))
    assert pages[0] == pages[1]
    with Session(site.app.state.engine) as session:
        attempts = session.scalars(
            select(AuditRow).where(AuditRow.outcome.in_(["denied", "not_found"])).order_by(AuditRow.id)
        ).all()
    assert [(r.user_id, r.action, r.case_reference, r.outcome) for r in attempts] == [
        ("school.dsl", "GET /dashboard/overdue", None, "denied"),
        ("school.dsl", "GET /dashboard/cases/{reference}", DUE_SOON, "not_found"),
        ("school.dsl", "GET /dashboard/cases/{reference}", "LSCP-2099-999", "not_found"),
    ]


# ---------------------------------------------------------------- the Design System's patterns


class Landmarks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tables = self.captions = self.mains = self.header_cells_without_scope = 0
        self.html_lang: str | None = None
        self.skip_link: str | None = None
        self.main_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.html_lang = found.get("lang")
        if tag == "a" and "govuk-skip-link" in (found.get("class") or "") and self.skip_link is None:
            self.skip_link = found.get("href")
        if tag == "main":
            self.mains += 1
            self.main_id = found.get("id")
        if tag == "table":
            self.tables += 1
        if tag == "caption" and self.open and self.open[-1] == "table":
            self.captions += 1
        if tag == "th" and "scope" not in found:
            self.header_cells_without_scope += 1
        if tag not in ("br", "meta", "link", "input", "img", "hr"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass


async def test_every_page_has_the_skip_link_language_main_landmark_and_captioned_tables(site: Site):
    pages = {"/sign-in": None}
    await site.sign_in("manager")
    pages |= {p: "manager" for p in ("/dashboard", f"/dashboard/cases/{OVERDUE}", "/dashboard/overdue")}
    checked = []
    for path in pages:
        response = await site.http.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"
        page = Landmarks()
        page.feed(response.text)
        assert page.html_lang == "en", path
        assert page.skip_link == "#main-content", path
        assert page.mains == 1 and page.main_id == "main-content", path
        assert page.tables == page.captions, f"{path}: every table needs a caption"
        assert page.header_cells_without_scope == 0, f"{path}: every th needs a scope"
        checked.append(page.tables)
    assert sum(checked) >= 6
    css = await site.http.get("/govuk-frontend/govuk-frontend.min.css")
    assert css.status_code == 200 and ".govuk-tag" in css.text, "make installs govuk-frontend (npm ci)"
    font = re.search(r"/assets/fonts/[a-z0-9-]+\.woff2", css.text)
    assert font and (await site.http.get(font.group(0))).status_code == 200
    assert (await site.http.get("/govuk-frontend/govuk-frontend.min.js")).status_code == 200


def test_the_pages_are_not_in_the_api_document():
    routes = [*dashboard_routes.router.routes, *sign_in_routes.router.routes]
    assert routes and not [r for r in routes if getattr(r, "include_in_schema", True)]


# ---------------------------------------------------------------- a big partnership


def _count_queries(engine: Any) -> tuple[list[tuple[str, Any]], Any]:
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "audit_log" not in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    return seen, listen


async def _queries_per_page(site: Site) -> dict[str, list[tuple[str, Any]]]:
    engine = site.app.state.engine
    seen, listen = _count_queries(engine)
    counts: dict[str, list[tuple[str, Any]]] = {}
    try:
        for role, agency in (("manager", None), ("partner_agency", SCHOOL)):
            await site.sign_in(role, agency=agency)
            for path in ("/dashboard", f"/dashboard/cases/{OVERDUE}", "/dashboard/overdue"):
                seen.clear()
                await site.http.get(path)
                counts[f"{role} {path}"] = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return counts


async def test_each_page_runs_the_same_few_queries_however_many_cases_there_are(site: Site):
    small = await _queries_per_page(site)
    seed_many_cases(site.app.state.engine, 400, datetime.now(UTC), site.policy)
    big = await _queries_per_page(site)
    assert {page: len(q) for page, q in big.items()} == {page: len(q) for page, q in small.items()}
    # The count, the page of cases by their next due time, the page's next deadlines; the year's figures
    # and the last years' by quarter.
    assert len(big["manager /dashboard"]) == 5
    assert all(len(q) <= 10 for q in big.values()), {page: len(q) for page, q in big.items()}
    # 405 cases: fifty a page.
    await site.sign_in("manager")
    first = (await site.http.get("/dashboard")).text
    assert "405 cases" in first and first.count("data-case=") == 50 and 'rel="next"' in first
    last = (await site.http.get("/dashboard?page=9")).text
    assert last.count("data-case=") == 5 and 'rel="next"' not in last


@pytest.mark.postgres
def test_the_read_model_queries_give_the_same_answers_on_postgresql(
    postgres_url: str, seeded: Path, seeded_at: datetime, policy: Policy, tmp_path: Path
):
    sqlite, postgres = make_engine(copy_of(seeded, tmp_path)), make_engine(postgres_url)
    seed_partnership(postgres, policy, seeded_at)
    now = datetime.now(UTC)
    try:
        for read in (
            lambda e: case_list(e, partnerships=["luton"], now=now),
            lambda e: case_list(e, partnerships=["luton"], now=now, stage="rapid_review"),
            lambda e: timeliness(e, {policy.partnership: policy}, now=now),
            lambda e: timeliness_by_quarter(e, {policy.partnership: policy}, now=now),
            lambda e: case_timeline(e, "luton", OVERDUE, now=now),
            lambda e: case_timeline(e, "luton", PLAN_CASE, now=now),
            lambda e: agency_work(e, SCHOOL, ["luton"], now=now),
            lambda e: overdue_by_agency(e, ["luton"], now=now),
        ):
            assert read(postgres) == read(sqlite)
    finally:
        sqlite.dispose()
        postgres.dispose()


async def test_the_page_queries_search_by_index_rather_than_scan_the_work_tables(site: Site):
    seed_many_cases(site.app.state.engine, 200, datetime.now(UTC), site.policy)
    queries = await _queries_per_page(site)
    scans = []
    with site.app.state.engine.connect() as connection:
        for page, statements in queries.items():
            for statement, parameters in statements:
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                for step in (row[-1] for row in plan):
                    scanned = re.match(r"SCAN (?:TABLE )?(\w+)", step)
                    if scanned and scanned.group(1) in {"tasks", "actions", "case_events", "deadlines"}:
                        scans.append((page, scanned.group(1), "met_at" in statement))
    # Only the year's figures read the deadlines table through (no index on met_at; see the report).
    assert all(yearly for _, _, yearly in scans), scans


async def test_the_reports_open_from_the_dashboard_for_those_who_read_them(tmp_path):
    """The email about a new report links to the dashboard: a signed-in reader opens it there; a
    partner agency is refused; an unknown report is not found."""
    from datetime import date

    import httpx
    from sqlalchemy.orm import Session

    from api.app import create_app
    from safeguarding.domain.people import Role, StatutoryPartner
    from safeguarding.platform.identity import mint_local_token
    from safeguarding.platform.settings import Settings
    from safeguarding.store.engine import make_engine, migrate
    from safeguarding.store.tables import ReportRow, YearlyReportRow

    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.add(
            ReportRow(
                id="ctl-20260401-20260930-abc",
                kind="closing_the_loop",
                partnership="luton",
                period_start=date(2026, 4, 1),
                period_end=date(2026, 9, 30),
                created_at=datetime(2026, 10, 1, 5, tzinfo=UTC),
                created_by="schedule",
                figures={},
                html="<html><body><h1>Closing the loop</h1></body></html>",
                pdf=b"%PDF-1.7 test",
            )
        )
        session.add(
            YearlyReportRow(
                partnership="luton",
                year_start=date(2025, 4, 1),
                published_due_at=datetime(2026, 9, 30, 16, tzinfo=UTC),
                published_on=date(2026, 9, 25),
                sent_due_at=datetime(2026, 10, 6, 16, tzinfo=UTC),
                sent_on=None,
                sent_to=["panel"],
                escalations=0,
                version=3,
                updated_at=datetime(2026, 9, 28, tzinfo=UTC),
            )
        )
    engine.dispose()
    settings = Settings(database_url=url, local_signing_key_file=tmp_path / "signing.key")
    app = create_app(settings, client=object())

    def cookie(role: Role, **extra: object) -> dict[str, str]:
        return {"Cookie": f"sll_session={mint_local_token(settings, user='someone', role=role, **extra)}"}

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000") as http,
    ):
        listed = await http.get("/dashboard/reports", headers=cookie(Role.manager))
        assert listed.status_code == 200 and "/dashboard/reports/ctl-20260401-20260930-abc.pdf" in listed.text
        # The yearly report's process for 2025-26: published on time, sent to the Panel, not yet the DfE.
        assert (
            "2025 to 2026" in listed.text and "25 September 2026" in listed.text and "To panel" in listed.text
        )
        pdf = await http.get("/dashboard/reports/ctl-20260401-20260930-abc.pdf", headers=cookie(Role.manager))
        assert (pdf.status_code, pdf.headers["content-type"], pdf.content) == (
            200,
            "application/pdf",
            b"%PDF-1.7 test",
        )
        page = await http.get(
            "/dashboard/reports/ctl-20260401-20260930-abc.html",
            headers=cookie(Role.safeguarding_partner, partner=StatutoryPartner.police),
        )
        assert page.status_code == 200 and "Closing the loop" in page.text
        refused = await http.get(
            "/dashboard/reports", headers=cookie(Role.partner_agency, agency="luton-schools")
        )
        assert refused.status_code == 403
        assert (
            await http.get("/dashboard/reports/ctl-nope.pdf", headers=cookie(Role.manager))
        ).status_code == 404
        assert (await http.get("/dashboard/reports")).status_code == 303  # sign in first


class FakeSignInProvider:
    """Stands in for the partnership's identity provider (it cannot run here): publishes its JWKS, takes
    the browser at /authorize and gives back a code, and exchanges the code at /token for an access
    token, checking the PKCE verifier against the challenge it was given."""

    ISSUER = "https://login.example.invalid/tenant/v2.0"
    AUDIENCE = "api://safeguarding-learning-loop"

    def __init__(self, role: str) -> None:
        import base64
        import hashlib
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer
        from urllib.parse import parse_qs, urlencode, urlsplit

        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        jwks = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
        codes: dict[str, dict[str, str]] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/keys":
                    return self._send(200, jwks, Content_Type="application/json")
                asked = {k: v[0] for k, v in parse_qs(url.query).items()}
                assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
                code = f"code-{len(codes) + 1}"
                codes[code] = asked
                back = f"{asked['redirect_uri']}?{urlencode({'code': code, 'state': asked['state']})}"
                return self._send(302, Location=back)

            def do_POST(self) -> None:
                form = {
                    k: v[0]
                    for k, v in parse_qs(
                        self.rfile.read(int(self.headers["Content-Length"])).decode()
                    ).items()
                }
                asked = codes.pop(form.get("code", ""), None)
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if (
                    asked is None
                    or challenge != asked["code_challenge"]
                    or form["redirect_uri"] != asked["redirect_uri"]
                ):
                    return self._send(400, b'{"error": "invalid_grant"}', Content_Type="application/json")
                now = datetime.now(UTC)
                token = jwt.encode(
                    {"iss": provider.ISSUER, "aud": provider.AUDIENCE, "sub": "m.jones", "roles": [role], "partnerships": ["luton"],
                     "iat": now, "exp": now + timedelta(hours=1)},
                    key, algorithm="RS256", headers={"kid": "k1"},
                )  # fmt: skip
                self._send(200, json.dumps({"access_token": token, "token_type": "Bearer"}).encode(),
                           Content_Type="application/json")  # fmt: skip

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


async def test_staff_sign_in_through_the_identity_provider_with_pkce(tmp_path):
    from api.app import create_app
    from safeguarding.platform.settings import Settings
    from safeguarding.store.engine import migrate

    provider = FakeSignInProvider("manager")
    url = f"sqlite:///{tmp_path / 'read-model.sqlite'}"
    migrate(url)
    settings = Settings(
        database_url=url,
        auth_mode="oidc",
        oidc_issuer=provider.ISSUER,
        oidc_jwks_url=f"{provider.base}/keys",
        token_audience=provider.AUDIENCE,
        oidc_authorize_url=f"{provider.base}/authorize",
        oidc_token_url=f"{provider.base}/token",
        oidc_client_id="dashboard",
        public_url="http://127.0.0.1:8000",
    )
    app = create_app(settings, client=object())
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000") as http,
            httpx.AsyncClient() as browser,
        ):
            assert 'id="sign-in-with-provider"' in (await http.get("/sign-in")).text

            async def round_trip(
                tamper: Callable[[str, str], tuple[str, str]] = lambda c, s: (c, s),
            ) -> httpx.Response:
                http.cookies.clear()
                start = await http.get("/sign-in/start", params={"next": "/dashboard/overdue"})
                assert start.status_code == 303 and start.headers["location"].startswith(
                    f"{provider.base}/authorize?"
                )
                at_provider = await browser.get(start.headers["location"])
                assert at_provider.status_code == 302
                back = urlsplit(at_provider.headers["location"])
                assert f"{back.scheme}://{back.netloc}{back.path}" == "http://127.0.0.1:8000/sign-in/callback"
                answer = parse_qs(back.query)
                code, state = tamper(answer["code"][0], answer["state"][0])
                return await http.get("/sign-in/callback", params={"code": code, "state": state})

            signed_in = await round_trip()
            assert signed_in.status_code == 200 and "m.jones" in signed_in.text
            assert 'content="0; url=/dashboard/overdue"' in signed_in.text
            session = http.cookies.get("sll_session")
            assert session is not None
            assert "httponly" in signed_in.headers["set-cookie"].lower()
            http.cookies.clear()
            page = await http.get("/dashboard/overdue", headers={"Cookie": f"sll_session={session}"})
            assert page.status_code == 200 and "m.jones" in page.text

            # A state that does not match the one sent, or a code used twice: no session.
            forged = await round_trip(lambda c, s: (c, "forged-state"))
            assert forged.status_code == 401 and "did not come back as sent" in forged.text
            assert "sll_session" not in http.cookies
            reused = await round_trip(lambda c, s: ("code-1", s))
            assert reused.status_code == 401 and "gave no token" in reused.text
    finally:
        provider.server.shutdown()


def police_total(page: str) -> int:
    row = re.search(rf'data-agency="{POLICE}".*?numeric">(\d+)<', page, re.S)
    assert row is not None
    return int(row.group(1))


async def test_the_overdue_page_shows_every_agencys_totals_and_one_agencys_work_a_page_at_a_time(site: Site):
    """250 overdue actions of the police's (on 50 cases) and a few of the school's: the summary counts
    them all; the police's work comes 100 lines a page, and a page stays small."""
    now = datetime.now(UTC)
    seeded = []
    for n in range(50):
        reference = f"LSCP-2026-8{n:03d}"
        seeded += [
            rows.case(reference, "learning_actions", now - timedelta(days=300)),
            rows.action_plan(reference, updated_at=now),
        ]
        seeded += [
            rows.action(
                reference, k, POLICE, f"Police action {k} of {reference}", due_at=now - timedelta(days=n + k)
            )
            for k in range(1, 6)
        ]
    seeded.append(rows.action("LSCP-2026-8000", 9, SCHOOL, "School action", due_at=now - timedelta(days=3)))
    rows.write(site.app.state.engine, seeded)
    await site.sign_in("manager")
    first = (await site.http.get("/dashboard/overdue")).text
    assert police_total(first) == 250 + 1  # these, and the seeded case's one
    police = overdue_by_agency(site.app.state.engine, ["luton"], now=now)
    assert police.chosen is not None and police.chosen.agency == POLICE
    assert (police.page, police.pages, len(police.chosen.actions)) == (1, 3, 100)
    assert first.count("data-action=") == 100 and 'rel="next"' in first
    assert len(first.encode()) < 200 * 1024
    last = overdue_by_agency(site.app.state.engine, ["luton"], now=now, agency=POLICE, page=3)
    assert len(last.chosen.actions) == police.agencies[0].actions - 200  # type: ignore[union-attr]
    school = (await site.http.get(f"/dashboard/overdue?agency={SCHOOL}")).text
    assert "School action" in school and "Police action" not in school
