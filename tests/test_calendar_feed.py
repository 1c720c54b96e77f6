"""Calendar feeds of open deadlines: a partner agency subscribes to its own, the Business Unit to the whole
partnership's, by a secret URL that can be revoked. Against a real migrated SQLite read model and the
app itself; the calendar routes never reach Temporal."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.app import create_app
from safeguarding.domain.events import EventKind
from safeguarding.domain.people import Role, StatutoryPartner
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.render.calendar_feed import build_feed
from safeguarding.store.audit import entries
from safeguarding.store.tables import AgencyRow, CalendarFeedRow, DeadlineRow, TaskRow
from tests import rows
from tests.support import LONDON, london

PUBLIC_URL = "https://safeguarding.example.org"
# A stand-in for the Temporal client the app would otherwise connect to: these routes never use it.
TEMPORAL_NOT_NEEDED = object()

CASE = "LSCP-2027-001"
REVIEW_CASE = "LSCP-2027-002"
SUMMARY = "Infant with unexplained fractures; parents' account inconsistent."
REASONS = "Mother disclosed domestic abuse to the health visitor in January."
RETURN = "SCHOOL RETURN: attended nursery until March, then withdrawn."
OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def uid(reference: str, deadline_id: str, stream: str = "case") -> str:
    return f"{reference}/{stream}/{deadline_id}@safeguarding-learning-loop"


# The school's open work: one due in winter, one the day after the clocks go forward, one on a review.
SCHOOL_WINTER = uid(CASE, "D1")
SCHOOL_AFTER_CLOCK_CHANGE = uid(CASE, "D2")
SCHOOL_REVIEW = uid(REVIEW_CASE, "D1", "review")
POLICE_RETURN = uid(CASE, "D3")
RAPID_REVIEW = uid(CASE, "D6")  # the case's own deadline, overdue: no agency's task
RETURN_NOT_YET_MARKED_MET = uid(CASE, "D7")  # the school sent it; the case has not recorded it yet


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=sqlite_url,
        local_signing_key_file=tmp_path / "local-signing.key",
        public_url=PUBLIC_URL,
    )


def signed_in(settings: Settings, role: Role, agency: str | None = None) -> dict[str, str]:
    user = f"{agency or role.value.replace('_', '.')}.user"
    partner = StatutoryPartner.police if role is Role.safeguarding_partner else None
    token = mint_local_token(settings, user=user, role=role, agency=agency, partner=partner)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def http(settings: Settings, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    seed_partnership(engine)
    app = create_app(settings, client=TEMPORAL_NOT_NEEDED)  # type: ignore[arg-type]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://calendar.test") as client,
    ):
        yield client


def seed_partnership(engine: Engine) -> None:
    """Two agencies and one merged away; a case with the school's and the police's information returns
    (open, met, cancelled, returned but not yet marked met) and its own overdue rapid review; a review
    with the school's return due in the summer."""
    agency = partial(rows.agency, roles=["information_return"], updated_at=OPENED)

    def deadline(
        reference: str, number: int, due_at: datetime, statutory: bool = False, **more: Any
    ) -> DeadlineRow:
        """Keyed as an information return, statutory only when said."""
        return rows.deadline(
            reference, number, "information_return", due_at, statutory=statutory, started_at=OPENED, **more
        )

    def task(task_id: str, agency: str, **more: Any) -> TaskRow:
        return rows.task(task_id, agency, f"Chronology of contact ({task_id})", requested_at=OPENED, **more)

    rows.write(
        engine,
        [
            agency("luton-schools", "Luton Schools"),
            agency("bedfordshire-police", "Bedfordshire Police"),
            agency("closed-trust", "A Trust Since Merged", active=False),
            rows.case(CASE, "rapid_review", OPENED),
            rows.case(REVIEW_CASE, "rapid_review", OPENED),
            task(f"{CASE}.T1", "luton-schools"),
            task(f"{CASE}.T2", "luton-schools"),
            task(f"{CASE}.T3", "bedfordshire-police"),
            task(f"{CASE}.T4", "luton-schools", status="completed"),
            task(f"{CASE}.T5", "luton-schools", status="withdrawn"),
            task(f"{CASE}.T6", "luton-schools", status="completed"),
            task(f"{REVIEW_CASE}.R1", "luton-schools", stream="review"),
            # What must never reach a calendar: the case's summary, the reasons, an agency's return.
            rows.event(
                CASE, 1, EventKind.case_opened, OPENED, reasons=REASONS, summary=SUMMARY, **{"return": RETURN}
            ),
            deadline(
                CASE,
                1,
                london(2027, 1, 15, 17),
                subject=f"{CASE}.T1",
                statutory=True,
                reminders=[london(2027, 1, 13, 9), london(2027, 1, 15, 9)],
            ),
            deadline(
                CASE, 2, london(2027, 3, 29, 17), subject=f"{CASE}.T2", reminders=[london(2027, 3, 26, 9)]
            ),
            deadline(CASE, 3, london(2027, 2, 10, 17), subject=f"{CASE}.T3"),
            deadline(CASE, 4, london(2027, 2, 1, 17), subject=f"{CASE}.T4", status="met"),
            deadline(CASE, 5, london(2027, 2, 2, 17), subject=f"{CASE}.T5", status="cancelled"),
            deadline(
                CASE,
                6,
                london(2026, 11, 3, 17),
                status="overdue",
                statutory=True,
                title="Rapid review to the National Panel",
            ),
            deadline(CASE, 7, london(2027, 2, 3, 17), subject=f"{CASE}.T6"),
            deadline(REVIEW_CASE, 1, london(2027, 6, 30, 17), subject=f"{REVIEW_CASE}.R1", stream="review"),
        ],
    )


async def make_feed(
    http: httpx.AsyncClient, headers: dict[str, str], agency: str | None, **more: object
) -> httpx.Response:
    return await http.post("/calendar-feeds", json={"agency": agency, **more}, headers=headers)


async def feeds_seen(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict]:
    response = await http.get("/calendar-feeds", headers=headers)
    assert response.status_code == 200, response.text
    return {feed["id"]: feed for feed in response.json()}


async def subscribe(http: httpx.AsyncClient, url: str) -> Calendar:
    """What a calendar application does: fetch the URL, with no bearer token."""
    response = await http.get(urlsplit(url).path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "private, max-age=300"
    for secret in (SUMMARY, REASONS, RETURN):
        assert secret.encode() not in response.content
    return Calendar.from_ical(response.content)


def uids(calendar: Calendar) -> set[str]:
    return {str(event["uid"]) for event in calendar.walk("VEVENT")}


def event(calendar: Calendar, wanted: str):  # type: ignore[no-untyped-def]
    return next(e for e in calendar.walk("VEVENT") if str(e["uid"]) == wanted)


# ---------------------------------------------------------------- what a feed holds


async def test_a_school_subscribes_to_its_open_deadlines_shown_at_five_in_the_afternoon_local_time(
    http: httpx.AsyncClient, settings: Settings, engine: Engine
):
    made = await make_feed(http, signed_in(settings, Role.partner_agency, "luton-schools"), "luton-schools")
    assert made.status_code == 201, made.text
    feed = made.json()
    assert set(feed) == {"id", "partnership", "agency", "label", "url", "created_at"}
    assert feed["partnership"] == "luton"
    assert feed["agency"] == "luton-schools" and feed["label"] == "Luton Schools: open deadlines"
    assert feed["url"].startswith(f"{PUBLIC_URL}/calendar/") and feed["url"].endswith(".ics")

    calendar = await subscribe(http, feed["url"])

    # Its own open work only: not the police's, not met or cancelled, not a task it already returned.
    assert uids(calendar) == {SCHOOL_WINTER, SCHOOL_AFTER_CLOCK_CHANGE, SCHOOL_REVIEW}
    assert str(calendar["x-wr-calname"]) == "Luton Schools: open deadlines"
    assert str(calendar["version"]) == "2.0"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    # 17:00 in London is 17:00 UTC in January and 16:00 UTC after the clocks go forward on 28 March 2027.
    expected = {
        SCHOOL_WINTER: (datetime(2027, 1, 15, 17, tzinfo=UTC), "20270115T170000"),
        SCHOOL_AFTER_CLOCK_CHANGE: (datetime(2027, 3, 29, 16, tzinfo=UTC), "20270329T170000"),
        SCHOOL_REVIEW: (datetime(2027, 6, 30, 16, tzinfo=UTC), "20270630T170000"),
    }
    for wanted, (instant, local_text) in expected.items():
        shown = event(calendar, wanted)
        start = shown.decoded("dtstart")
        assert start == instant
        assert start.astimezone(LONDON).date() == instant.date()
        assert start.astimezone(LONDON).strftime("%H:%M") == "17:00"
        assert shown["dtstart"].params["TZID"] == "Europe/London"
        assert shown["dtstart"].to_ical().decode() == local_text
        assert shown.decoded("dtend") == start
    winter = event(calendar, SCHOOL_WINTER)
    assert str(winter["summary"]) == f"{CASE}: Information return"
    assert f"Chronology of contact ({CASE}.T1)" in str(winter["description"])
    assert f"{PUBLIC_URL}/cases/{CASE}" in str(winter["description"])
    assert [str(c) for c in winter["categories"].cats] == ["statutory"]
    assert "categories" not in event(calendar, SCHOOL_AFTER_CLOCK_CHANGE)

    # Only the token's hash is kept; the creation is in the audit log.
    token = urlsplit(feed["url"]).path.removeprefix("/calendar/").removesuffix(".ics")
    with Session(engine) as session:
        row = session.get(CalendarFeedRow, feed["id"])
        assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(vars(row))
    assert any(
        e.action == "POST /calendar-feeds" and e.outcome == "accepted" and feed["id"] in (e.reason or "")
        for e in entries(engine, partnerships=["luton"])
    )


async def test_the_partnership_feed_holds_every_live_deadline_of_every_agency(
    http: httpx.AsyncClient, settings: Settings
):
    bu = signed_in(settings, Role.business_unit)
    made = await make_feed(http, bu, None, label="Pan-Bedfordshire deadlines")
    assert made.status_code == 201, made.text
    assert made.json()["agency"] is None

    calendar = await subscribe(http, made.json()["url"])

    assert uids(calendar) == {
        SCHOOL_WINTER,
        SCHOOL_AFTER_CLOCK_CHANGE,
        SCHOOL_REVIEW,
        POLICE_RETURN,
        RAPID_REVIEW,
        RETURN_NOT_YET_MARKED_MET,
    }
    assert str(calendar["x-wr-calname"]) == "Pan-Bedfordshire deadlines"
    rapid_review = event(calendar, RAPID_REVIEW)
    assert str(rapid_review["summary"]) == f"{CASE}: Rapid review to the National Panel"
    assert "Overdue" in str(rapid_review["description"])
    assert "Asked of bedfordshire-police" in str(event(calendar, POLICE_RETURN)["description"])


def test_each_reminder_still_to_come_is_an_alarm_at_its_own_time(engine: Engine):
    seed_partnership(engine)

    def alarms(now: datetime) -> dict[str, list]:
        feed = build_feed(engine, "luton", "luton-schools", "School", now, public_url=PUBLIC_URL)
        return {str(e["uid"]): list(e.walk("VALARM")) for e in Calendar.from_ical(feed).walk("VEVENT")}

    before_any = alarms(london(2027, 1, 1))
    assert [a.decoded("trigger") for a in before_any[SCHOOL_WINTER]] == [
        london(2027, 1, 13, 9),
        london(2027, 1, 15, 9),
    ]
    assert [a.decoded("trigger") for a in before_any[SCHOOL_AFTER_CLOCK_CHANGE]] == [london(2027, 3, 26, 9)]
    assert before_any[SCHOOL_REVIEW] == []  # an old row with no reminder times recorded
    first = before_any[SCHOOL_WINTER][0]
    assert str(first["action"]) == "DISPLAY"
    assert first["trigger"].params["VALUE"] == "DATE-TIME"
    assert first["trigger"].to_ical().decode() == "20270113T090000Z"

    # Once a reminder's time has passed (its email went), the calendar stops offering it.
    between = alarms(london(2027, 1, 14, 12))
    assert [a.decoded("trigger") for a in between[SCHOOL_WINTER]] == [london(2027, 1, 15, 9)]


def test_the_business_unit_feed_holds_the_duties_owned_by_its_role(engine: Engine):
    seed_partnership(engine)
    rows.write(
        engine,
        [
            rows.agency(
                "lscp-business-unit",
                "Business Unit",
                roles=["business_unit"],
                mailboxes=[],
                updated_at=OPENED,
                updated_by="seed",
            ),
            rows.task(
                f"{CASE}.T9",
                "business_unit",
                "Monthly monitoring of the review",
                kind="checkpoint",
                requested_at=OPENED,
            ),
            rows.deadline(
                CASE,
                9,
                "cspr_monitoring",
                london(2027, 2, 26, 17),
                title="Monitoring checkpoint",
                subject=f"{CASE}.T9",
                statutory=False,
                started_at=OPENED,
            ),
        ],
    )

    def uids_of(agency: str) -> set[str]:
        feed = build_feed(engine, "luton", agency, agency, london(2027, 1, 1), public_url=PUBLIC_URL)
        return {str(e["uid"]) for e in Calendar.from_ical(feed).walk("VEVENT")}

    assert uid(CASE, "D9") in uids_of("lscp-business-unit")
    assert uid(CASE, "D9") not in uids_of("luton-schools")


# ---------------------------------------------------------------- the secret URL


async def test_a_revoked_feed_url_answers_as_if_it_had_never_been_issued(
    http: httpx.AsyncClient, settings: Settings, engine: Engine
):
    bu = signed_in(settings, Role.business_unit)
    feed = (await make_feed(http, bu, "luton-schools")).json()
    path = urlsplit(feed["url"]).path
    assert (await http.get(path)).status_code == 200

    assert (await http.delete(f"/calendar-feeds/{feed['id']}", headers=bu)).status_code == 204
    revoked = await http.get(path)
    never_issued = await http.get("/calendar/not-a-token-anyone-was-given.ics")
    assert revoked.status_code == never_issued.status_code == 404
    assert revoked.content == never_issued.content

    listed = (await feeds_seen(http, bu))[feed["id"]]
    assert listed["revoked_at"] is not None and listed["revoked_by"] == "business.unit.user"
    assert "url" not in listed and "token_hash" not in listed
    assert any(
        e.action == "DELETE /calendar-feeds/{feed_id}" and feed["id"] in (e.reason or "")
        for e in entries(engine, partnerships=["luton"])
    )

    # Revoking again is accepted and keeps the first revocation.
    assert (await http.delete(f"/calendar-feeds/{feed['id']}", headers=bu)).status_code == 204
    assert (await feeds_seen(http, bu))[feed["id"]]["revoked_at"] == listed["revoked_at"]
    assert (await http.delete("/calendar-feeds/0123456789abcdef", headers=bu)).status_code == 404


async def test_an_agency_taken_out_of_the_directory_loses_its_feed(
    http: httpx.AsyncClient, settings: Settings, engine: Engine
):
    feed = (await make_feed(http, signed_in(settings, Role.business_unit), "luton-schools")).json()
    path = urlsplit(feed["url"]).path
    assert (await http.get(path)).status_code == 200
    with Session(engine) as session, session.begin():
        session.get(AgencyRow, ("luton", "luton-schools")).active = False
    assert (await http.get(path)).status_code == 404


def test_the_feed_url_is_not_marked_as_needing_sign_in(settings: Settings):
    operation = create_app(settings).openapi()["paths"]["/calendar/{token}.ics"]["get"]
    assert "security" not in operation


# ---------------------------------------------------------------- who may make, list and revoke feeds


async def test_a_partner_agency_manages_only_its_own_agency_feeds(
    http: httpx.AsyncClient, settings: Settings
):
    school = signed_in(settings, Role.partner_agency, "luton-schools")
    bu = signed_in(settings, Role.business_unit)
    police_feed = (await make_feed(http, bu, "bedfordshire-police")).json()
    partnership_feed = (await make_feed(http, bu, None)).json()
    school_feed = (await make_feed(http, school, "luton-schools")).json()

    assert (await make_feed(http, school, "bedfordshire-police")).status_code == 403
    assert (await make_feed(http, school, None)).status_code == 403
    assert set(await feeds_seen(http, school)) == {school_feed["id"]}
    assert (await http.delete(f"/calendar-feeds/{police_feed['id']}", headers=school)).status_code == 403
    assert (await http.get(urlsplit(police_feed["url"]).path)).status_code == 200  # still working
    assert (await http.delete(f"/calendar-feeds/{school_feed['id']}", headers=school)).status_code == 204

    everything = {police_feed["id"], partnership_feed["id"], school_feed["id"]}
    for reader in (Role.business_unit, Role.manager, Role.independent_scrutineer):
        assert set(await feeds_seen(http, signed_in(settings, reader))) == everything
    for outsider in (Role.jcrg_chair, Role.jcrg_member, Role.safeguarding_partner):
        assert (await http.get("/calendar-feeds", headers=signed_in(settings, outsider))).status_code == 403
    for not_issuer in (Role.jcrg_chair, Role.safeguarding_partner, Role.manager, Role.independent_scrutineer):
        assert (await make_feed(http, signed_in(settings, not_issuer), None)).status_code == 403


async def test_a_feed_is_made_only_for_an_active_agency_of_the_directory(
    http: httpx.AsyncClient, settings: Settings
):
    bu = signed_in(settings, Role.business_unit)

    unknown = await make_feed(http, bu, "luton-school")
    assert unknown.status_code == 409  # well formed; the directory says no
    assert "'luton-school' is not in luton's partner directory" in unknown.json()["detail"]
    merged = await make_feed(http, bu, "closed-trust")
    assert merged.status_code == 409 and "no longer active" in merged.json()["detail"]
    assert (await make_feed(http, bu, "luton-schools", colour="red")).status_code == 422
    for unusable_label in ("   ", "School\x00", "Two\nlines"):
        assert (await make_feed(http, bu, "luton-schools", label=unusable_label)).status_code == 422
    no_agency_said = await http.post("/calendar-feeds", json={"label": "Deadlines"}, headers=bu)
    assert no_agency_said.status_code == 422
    assert await feeds_seen(http, bu) == {}


async def test_making_listing_or_revoking_feeds_needs_sign_in(http: httpx.AsyncClient, engine: Engine):
    assert (await http.post("/calendar-feeds", json={"agency": None})).status_code == 401
    assert (await http.get("/calendar-feeds")).status_code == 401
    assert (await http.delete("/calendar-feeds/0123456789abcdef")).status_code == 401
    with Session(engine) as session:
        assert session.scalars(select(CalendarFeedRow)).all() == []
