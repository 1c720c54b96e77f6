"""The dashboard in a real browser: Debian's headless Chromium (/usr/bin/chromium, never a downloaded one)
driven by Playwright, against the app served by uvicorn on a free port over a seeded SQLite read model.

A manager signs in, reads the cases, this year's timeliness and one case's timeline; a partner agency
signs in and sees only its own work, and is refused a page it may not see. Full-page screenshots are kept
in ``test-artifacts/``. Without Chromium the test skips with the reason, except under CI=true, where it
fails.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from safeguarding.domain.people import Role
from safeguarding.domain.policy import Policy
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import REPO_DIR, Settings
from tests.browser.read_model_seed import (
    DUE_SOON,
    JCRG_REASONS,
    ON_TRACK,
    OVERDUE,
    PLAN_CASE,
    POLICE_ACTION,
    POLICE_NAME,
    POLICE_TASK,
    SCHOOL,
    SCHOOL_ACTION,
    SCHOOL_TASK,
    copy_of,
    seeded_read_model,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_DIR / "test-artifacts"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser test cannot run: {reason}")
    pytest.skip(reason)


async def assert_picture(picture: Any, title: str) -> None:
    """An SVG picture is on the page, seen (of a real size) and named: role img, its title the name."""
    assert await picture.is_visible()
    box = await picture.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50, box
    assert await picture.get_attribute("role") == "img"
    assert (await picture.locator("title").first.text_content() or "").startswith(title)


class StandInClient:
    """The app's Temporal client: these pages never call it."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the dashboard called Temporal ({name})")


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, and the folder its screenshots go to."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    return CHROMIUM


@pytest.fixture
def served(tmp_path: Path, policy: Policy) -> Iterator[tuple[str, Settings]]:
    """The app on a free port, in a thread of its own, until the test ends."""
    url = copy_of(seeded_read_model(tmp_path, policy, datetime.now(UTC)), tmp_path)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=url, local_signing_key_file=tmp_path / "signing.key", public_url=base)
    app = create_app(settings, client=StandInClient())  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.05)
    try:
        yield base, settings
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


async def test_a_manager_and_a_partner_agency_each_see_what_they_may(
    chromium: Path, served: tuple[str, Settings]
):
    try:
        from playwright.async_api import async_playwright
    except ImportError as error:  # pragma: no cover - the test extras install it
        unavailable(f"Playwright for Python is not installed ({error})")
    base, settings = served
    manager = mint_local_token(settings, user="manager.one", role=Role.manager)
    school = mint_local_token(settings, user="school.dsl", role=Role.partner_agency, agency=SCHOOL)

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(executable_path=str(chromium), headless=True)
        except Exception as error:  # Playwright raises its own Error for a browser that will not start
            unavailable(f"Chromium at {chromium} would not start: {str(error).splitlines()[0]}")
        try:
            page = await browser.new_page()
            page.set_default_timeout(10_000)
            # Script errors, refusals by the Content-Security-Policy, and GOV.UK files not served. (The
            # 401, 403 and 404 pages this test asks for are logged too; they are expected. A file not
            # served is caught below, by its response.)
            expected = ("status of 401", "status of 403", "status of 404")
            problems: list[str] = []
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and not any(e in m.text for e in expected)
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and "/dashboard" not in r.url and "/sign-in" not in r.url
                    else None
                ),
            )

            # No session: the dashboard sends the manager to sign in, then back.
            await page.goto(f"{base}/dashboard")
            assert page.url == f"{base}/sign-in?next=/dashboard"
            await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.textContent") == "Skip to main content"
            await page.get_by_label("Access token").fill("not a token")
            await page.get_by_role("button", name="Sign in").click()
            summary = page.locator(".govuk-error-summary")
            assert "Enter a valid access token" in await summary.inner_text()
            await page.get_by_label("Access token").fill(manager)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/dashboard")

            # The cases, their stages and the next deadline's state, and this year's timeliness.
            assert await page.get_by_role("heading", name="Cases", exact=True).is_visible()
            for reference, stage, state in (
                (OVERDUE, "Rapid review", "Overdue"),
                (DUE_SOON, "Screening", "Due soon"),
                (ON_TRACK, "Local review (CSPR)", "On track"),
                (PLAN_CASE, "Learning actions", "Overdue"),
            ):
                row = page.locator(f'tr:has([data-case="{reference}"])')
                assert stage in await row.inner_text()
                assert await row.locator(".govuk-tag").inner_text() == state
            overdue_tag = page.locator(f'tr:has([data-case="{OVERDUE}"]) .govuk-tag')
            assert "govuk-tag--red" in (await overdue_tag.get_attribute("class") or "")
            # The GOV.UK styles and fonts are served locally and applied: the red tag is not unstyled.
            colour = await overdue_tag.evaluate("tag => getComputedStyle(tag).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
            assert await page.evaluate("document.fonts.check('19px \"GDS Transport\"')")
            assert await page.evaluate("document.body.classList.contains('govuk-frontend-supported')")
            rapid = await page.locator('tr:has([data-measure="rapid_review_to_panel"])').inner_text()
            assert "1 of 3" in rapid and "33%" in rapid
            cspr = await page.locator('tr:has([data-measure="cspr_completion"])').inner_text()
            assert "1 of 1" in cspr and "100%" in cspr
            # Timeliness by quarter, drawn: an image with its title, of a real size, bars for the quarters.
            chart = page.locator("svg#timeliness-luton-rapid_review_to_panel-picture")
            await assert_picture(chart, "Rapid reviews sent to the Panel within 15 working days")
            assert await chart.locator("rect.sll-bar").count() >= 1
            await page.screenshot(path=ARTIFACTS / "dashboard-manager.png", full_page=True)

            # One case's timeline: a decision with who and why, a deadline due against met, a notice sent.
            await page.get_by_role("link", name=OVERDUE).click()
            await page.wait_for_url(f"{base}/dashboard/cases/{OVERDUE}")
            decision = await page.locator('tr:has([data-event="recommendation_made"])').inner_text()
            assert "jcrg.chair" in decision and "JCRG chair" in decision and JCRG_REASONS in decision
            notify = await page.locator('tr:has([data-deadline="notify_panel"])').inner_text()
            assert "Met on time" in notify and notify.count(" at ") == 2  # due, and met
            sent = await page.locator('tr:has([data-notification="task_assigned"])').inner_text()
            assert "Luton schools" in sent and "Sent" in sent
            # Its deadlines on a line of time: a mark for each not cancelled, today's line, and words only.
            picture = page.locator("svg#case-deadlines-picture")
            await assert_picture(picture, f"Case {OVERDUE}: its deadlines against today")
            assert await picture.locator("g.sll-mark").count() == 4
            today = await picture.locator("line.sll-today").bounding_box()  # a vertical line: no width
            assert today is not None and today["height"] > 50, today
            shown = await page.locator("main").inner_text()
            assert not re.findall(r"\b[a-z]+(?:_[a-z]+)+\b|\bD\d+\b|\d{4}-\d{2}-\d{2}", shown)
            await page.screenshot(path=ARTIFACTS / "dashboard-case.png", full_page=True)

            await page.get_by_role("button", name="Sign out").click()
            await page.wait_for_url(f"{base}/sign-in?reason=signed-out")

            # The school: its own task and action, nothing of the police's work or anyone's reasons.
            await page.get_by_label("Access token").fill(school)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/dashboard")
            work = await page.locator("main").inner_text()
            assert SCHOOL_TASK in work and SCHOOL_ACTION in work and OVERDUE in work
            for hidden in (POLICE_TASK, POLICE_ACTION, POLICE_NAME, JCRG_REASONS, DUE_SOON):
                assert hidden not in work, hidden
            await page.screenshot(path=ARTIFACTS / "dashboard-partner-agency.png", full_page=True)
            response = await page.goto(f"{base}/dashboard/overdue")
            assert response is not None and response.status == 403
            assert await page.get_by_role("heading", name="You cannot see this page").is_visible()
            response = await page.goto(f"{base}/dashboard/cases/{DUE_SOON}")  # no work of the school's
            assert response is not None and response.status == 404  # as a case that does not exist
            assert await page.get_by_role("heading", name="Case not found").is_visible()

            assert not problems, problems  # no script error, no resource refused by the CSP
        finally:
            await browser.close()
