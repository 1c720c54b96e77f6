"""Partnerships as a boundary, over HTTP against the real Temporal dev server and a real worker: a case
across areas seen from both Business Units and both sets of agencies; what a partner agency learns from
probing a case that is not its own; a contribution to a review led elsewhere in the yearly figures;
and the pan-area assurance group reading several partnerships' figures side by side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support import new_reference
from tests.test_api import BU, JCRG, SUMMARY, auth, incident, open_case, service, step  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

LUTON, CENTRAL = "luton", "central-bedfordshire"
CENTRAL_BU = auth("bu.central", "business_unit", partnerships=[CENTRAL])
# Bedfordshire Police serves both: one organisation, an entry in each directory, a token for each.
LUTON_POLICE = auth("police.luton", "partner_agency", agency="bedfordshire-police")
CENTRAL_POLICE = auth(
    "police.central", "partner_agency", agency="bedfordshire-police", partnerships=[CENTRAL]
)
CENTRAL_COUNCIL = auth(
    "council.central", "partner_agency", agency="central-bedfordshire-council", partnerships=[CENTRAL]
)
LUTON_REASONS = "Luton JCRG: the agencies' chronologies conflict on the date of the first injury"


def now() -> str:
    return datetime.now(UTC).isoformat()


async def ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_a_case_across_areas_seen_from_both_partnerships(service: httpx.AsyncClient):  # noqa: F811
    """The incident happened in Luton; Central Bedfordshire looks after the child."""
    http = service
    reference = new_reference("XA")
    body = incident(reference, contributors=[{"partnership": CENTRAL, "basis": "looked_after"}])
    case = await ok(await http.post("/incidents", json=body, headers=BU))

    # Central Bedfordshire's Business Unit has a task to coordinate its agencies, due by the policy.
    (coordination,) = case["tasks"]
    assert (coordination["agency"], coordination["kind"], coordination["partnership"]) == (
        "business_unit", "coordination", CENTRAL,
    )  # fmt: skip
    (its_deadline,) = [d for d in case["deadlines"] if d["subject"] == coordination["id"]]
    assert its_deadline["key"] == "contribution_coordinated"
    assert coordination["due_at"] == its_deadline["due_at"]
    opened = datetime.fromisoformat(case["opened_at"])
    assert datetime.fromisoformat(coordination["due_at"]) - opened >= timedelta(days=14)  # 10 working days

    # It asks its own agencies, from its own directory; Luton asks its own. The police are asked by both.
    theirs = await ok(
        await http.post(
            f"/cases/{reference}/information-requests",
            json={
                "agencies": ["central-bedfordshire-council", "bedfordshire-police"],
                "asked_for": "Chronology",
            },
            headers=CENTRAL_BU,
        )
    )
    assert {t["partnership"] for t in theirs["tasks"]} == {CENTRAL}
    refused = await http.post(
        f"/cases/{reference}/information-requests",
        json={"agencies": ["luton-schools"], "asked_for": "Chronology"},
        headers=CENTRAL_BU,
    )
    assert refused.status_code == 409 and f"{CENTRAL}'s partner directory: luton-schools" in refused.text
    ours = await step(
        http, reference, "information-requests",
        {"agencies": ["bedfordshire-police", "luton-schools"], "asked_for": "Chronology"}, BU,
    )  # fmt: skip
    assert {t["partnership"] for t in ours["tasks"]} == {None}
    # A contributing partnership takes its own part only.
    closing = await http.post(f"/cases/{reference}/closure", json={"reasons": "x"}, headers=CENTRAL_BU)
    assert closing.status_code == 403 and f"{CENTRAL} contributes to case {reference}" in closing.text

    # Each police token sees the task its own partnership asked for, and only that.
    police_task = {}
    for name, token, partnership in (("luton", LUTON_POLICE, None), ("central", CENTRAL_POLICE, CENTRAL)):
        seen = await ok(await http.get(f"/cases/{reference}", headers=token))
        assert set(seen) == {"reference", "stage", "tasks"}
        (task,) = seen["tasks"]
        assert task["id"] in {t["id"] for t in (theirs if partnership else ours)["tasks"]}
        police_task[name] = task["id"]
    done = await http.post(
        f"/tasks/{police_task['central']}/complete",
        json={"summary": "CENTRAL POLICE RETURN: two call-outs"},
        headers=LUTON_POLICE,
    )  # Luton's token does not act for Central Bedfordshire's entry
    assert done.status_code == 404
    await ok(
        await http.post(
            f"/tasks/{police_task['central']}/complete",
            json={"summary": "CENTRAL POLICE RETURN: two call-outs"},
            headers=CENTRAL_POLICE,
        )
    )
    await step(
        http, reference, "recommendation",
        {"recommendation": "local_cspr", "methodology": "Systems review", "reasons": LUTON_REASONS}, JCRG,
    )  # fmt: skip

    # Central Bedfordshire's Business Unit: the minimum, its own tasks, never Luton's reasons or returns.
    full_before = await ok(await http.get(f"/cases/{reference}"))
    minimum = await ok(await http.get(f"/cases/{reference}", headers=CENTRAL_BU))
    assert set(minimum) == {"reference", "lead", "contributing", "stage", "outcome", "due_dates", "tasks"}
    assert (minimum["lead"], minimum["contributing"], minimum["stage"]) == (LUTON, CENTRAL, "rapid_review")
    assert {t["id"] for t in minimum["tasks"]} == {coordination["id"], *(t["id"] for t in theirs["tasks"])}
    lead_due = {d["title"]: d["due_at"] for d in minimum["due_dates"]}
    (panel,) = [d for d in full_before["deadlines"] if d["key"] == "notify_panel"]
    assert lead_due[panel["title"]] == panel["due_at"]  # the lead's own due dates, as the lead has them
    for hidden in (LUTON_REASONS, SUMMARY, "CENTRAL POLICE RETURN", "luton-schools", "summary"):
        assert hidden not in str(minimum), hidden
    # On the dashboard too: its own partnership's work on the case; a third partnership finds no case.
    page = await http.get(f"/dashboard/cases/{reference}", headers={"Cookie": _session(CENTRAL_BU)})
    assert page.status_code == 200 and coordination["id"] in page.text
    assert "which Luton Safeguarding Children Partnership leads" in page.text
    for hidden in (LUTON_REASONS, SUMMARY, "luton-schools", "CENTRAL POLICE RETURN"):
        assert hidden not in page.text, hidden
    bedford = auth("bu.bedford", "business_unit", partnerships=["bedford-borough"])
    elsewhere = await http.get(f"/dashboard/cases/{reference}", headers={"Cookie": _session(bedford)})
    assert elsewhere.status_code == 404 and "Case not found" in elsewhere.text
    # Luton's staff see the whole case, Central Bedfordshire's part in it too.
    full = await ok(await http.get(f"/cases/{reference}"))
    assert {t["partnership"] for t in full["tasks"]} == {None, CENTRAL}
    assert LUTON_REASONS in str(full["rapid_review"])

    # Each partnership's people heard from their own directory.
    told = await ok(await http.get(f"/cases/{reference}/notifications"))
    addresses = {d["address"] for n in told for d in n["deliveries"]}
    assert "safeguarding@bedfordshire-police.central-bedfordshire.example" in addresses
    assert "safeguarding@bedfordshire-police.luton.example" in addresses
    assert "safeguarding@cbscp-business-unit.central-bedfordshire.example" in addresses  # its coordination
    theirs_told = await ok(await http.get(f"/cases/{reference}/notifications", headers=CENTRAL_BU))
    assert {d["address"].rsplit(".", 2)[-2] for n in theirs_told for d in n["deliveries"]} == {CENTRAL}
    # Its task list holds its coordination; Luton's list of cases holds the case, Central's does not.
    own_tasks = await ok(
        await http.get("/tasks", params={"agency": "business_unit", "status": "all"}, headers=CENTRAL_BU)
    )
    assert {(t["task_id"], t["case_partnership"]) for t in own_tasks if t["case_reference"] == reference} == {
        (coordination["id"], LUTON)
    }
    assert reference in {c["reference"] for c in await ok(await http.get("/cases", params={"limit": 500}))}
    listed = await ok(
        await http.get("/cases", params={"limit": 500}, headers=auth("m", "manager", partnerships=[CENTRAL]))
    )
    assert reference not in {c["reference"] for c in listed}

    # Its part sent: the coordination task completed meets its deadline, and counts in its yearly figures.
    await ok(
        await http.post(
            f"/tasks/{coordination['id']}/complete",
            json={"summary": "Both agencies' returns sent to Luton"},
            headers=CENTRAL_BU,
        )
    )
    full = await ok(await http.get(f"/cases/{reference}"))
    (met,) = [d for d in full["deadlines"] if d["subject"] == coordination["id"]]
    assert met["status"] == "met"
    year = _reporting_year()
    figures = await ok(
        await http.get(
            "/reports/yearly-figures", params={"partnership": CENTRAL, "year": year}, headers=CENTRAL_BU
        )
    )
    assert {"lead": LUTON, "led_elsewhere": False, "sent": True} in figures["contributions_to_other_areas"]
    luton_figures = await ok(
        await http.get("/reports/yearly-figures", params={"partnership": LUTON, "year": year})
    )
    assert {"lead": LUTON, "led_elsewhere": False, "sent": True} not in luton_figures[
        "contributions_to_other_areas"
    ]


def _session(headers: dict[str, str]) -> str:
    """The dashboard's session cookie holding the token of ``headers``."""
    return f"sll_session={headers['Authorization'].removeprefix('Bearer ')}"


def _reporting_year() -> int:
    """The year the current reporting year (from 1 April, London) starts in."""
    today = datetime.now(UTC).date()
    return today.year if (today.month, today.day) >= (4, 1) else today.year - 1


async def test_a_contribution_to_a_review_led_elsewhere_is_counted_in_the_yearly_figures(
    service: httpx.AsyncClient,  # noqa: F811
):
    http = service
    reference = new_reference("EXT")
    asked_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = incident(
        reference,
        route="contribution_to_external_review",
        referred_at=asked_at,
        external_lead={"name": "Hertfordshire Safeguarding Children Partnership", "review": "rapid_review"},
    )
    case = await ok(await http.post("/incidents", json=body, headers=BU))
    assert case["stage"] == "contributing" and {d["key"] for d in case["deadlines"]} == {
        "external_review_contribution"
    }
    year = _reporting_year()
    before = (
        await ok(await http.get("/reports/yearly-figures", params={"partnership": LUTON, "year": year}))
    )["contributions_to_other_areas"]
    herts = {"lead": "Hertfordshire Safeguarding Children Partnership", "led_elsewhere": True}
    assert before.count({**herts, "sent": False}) >= 1
    asked = await step(
        http,
        reference,
        "information-requests",
        {"agencies": ["luton-schools"], "asked_for": "Chronology"},
        BU,
    )
    (task,) = asked["tasks"]
    sending = {"sent_at": now(), "documents": ["Combined chronology"]}
    early = await http.post(f"/cases/{reference}/contribution", json=sending, headers=BU)
    assert early.status_code == 409 and task["id"] in early.text
    school = auth("school.dsl", "partner_agency", agency="luton-schools")
    await ok(await http.post(f"/tasks/{task['id']}/complete", json={"summary": "Attendance"}, headers=school))
    sent = await step(http, reference, "contribution", sending, BU)
    assert sent["stage"] == "closed"
    closed = await ok(await http.get(f"/cases/{reference}"))
    (deadline,) = [d for d in closed["deadlines"] if d["key"] == "external_review_contribution"]
    assert deadline["status"] == "met" and closed["outcome"] == "contribution_sent"
    after = (
        await ok(await http.get("/reports/yearly-figures", params={"partnership": LUTON, "year": year}))
    )["contributions_to_other_areas"]
    assert after.count({**herts, "sent": True}) == before.count({**herts, "sent": True}) + 1
    page = await http.get(
        "/reports/yearly-figures", params={"partnership": LUTON, "year": year, "format": "html"}
    )
    assert (
        "Contributions to other areas" in page.text
        and "Hertfordshire Safeguarding Children Partnership" in page.text
    )


async def test_a_partner_agency_probing_learns_nothing_of_cases_that_are_not_its_own(
    service: httpx.AsyncClient,  # noqa: F811
):
    """The same answer, word for word, for a case that does not exist, a case of its own partnership it
    has no work on, and another partnership's case: on every route an agency may call."""
    http = service
    luton_case = await open_case(http)
    await step(
        http, luton_case, "information-requests", {"agencies": ["bedfordshire-police"], "asked_for": "x"}, BU
    )
    central_case = new_reference("CB")
    await ok(
        await http.post(
            "/incidents",
            json=incident(central_case, partnership=CENTRAL, referring_agency="central-bedfordshire-council"),
            headers=CENTRAL_BU,
        )
    )
    await ok(
        await http.post(
            f"/cases/{central_case}/information-requests",
            json={"agencies": ["bedfordshire-police"], "asked_for": "x"},
            headers=CENTRAL_BU,
        )
    )
    school = auth("school.dsl", "partner_agency", agency="luton-schools")
    probes = [
        ("GET", "/cases/{ref}", None),
        ("GET", "/cases/{ref}/notifications", None),
        ("POST", "/tasks/{ref}.T1/complete", {"summary": "x"}),
        ("POST", "/tasks/{ref}.T1/withdraw", {"reasons": "x"}),
        ("POST", "/cases/{ref}/action-plan/progress", {"action_id": "A1", "summary": "x", "evidence": ["e"]}),
    ]
    for method, template, body in probes:
        answers = set()
        for reference, token in (
            ("NO-SUCH-CASE-1", school),
            (luton_case, school),  # Luton's case, no work of the school's on it
            (central_case, school),  # another partnership's case
            (central_case, LUTON_POLICE),  # another partnership's case where the organisation has work
        ):
            response = await http.request(method, template.format(ref=reference), json=body, headers=token)
            answers.add((response.status_code, response.text.replace(reference, "{ref}")))
        assert len(answers) == 1, (template, answers)
        ((status, _),) = answers
        assert status == 404, template


async def test_the_pan_area_assurance_group_reads_several_partnerships_figures_side_by_side(
    service: httpx.AsyncClient,  # noqa: F811
):
    http = service
    year = _reporting_year()
    arrangement = auth(
        "panbeds.lead", "manager", partnerships=["luton", "bedford-borough", "central-bedfordshire"]
    )
    figures = await ok(
        await http.get("/reports/yearly-figures/side-by-side", params={"year": year}, headers=arrangement)
    )
    assert [f["partnership"] for f in figures] == ["luton", "bedford-borough", "central-bedfordshire"]
    assert [f["partnership_name"] for f in figures][1] == "Bedford Borough Safeguarding Children Partnership"
    two = await ok(
        await http.get(
            "/reports/yearly-figures/side-by-side",
            params={"year": year, "partnership": ["central-bedfordshire", "luton"]},
            headers=arrangement,
        )
    )
    assert [f["partnership"] for f in two] == ["central-bedfordshire", "luton"]
    luton_manager = auth("m.luton", "manager")
    assert [f["partnership"] for f in await ok(await http.get(
        "/reports/yearly-figures/side-by-side", params={"year": year}, headers=luton_manager
    ))] == ["luton"]  # fmt: skip
    other = await http.get(
        "/reports/yearly-figures/side-by-side", params={"year": year, "partnership": "bedford-borough"},
        headers=luton_manager,
    )  # fmt: skip
    assert other.status_code == 404
    unknown = await http.get(
        "/reports/yearly-figures/side-by-side",
        params={"year": year, "partnership": "atlantis"},
        headers=arrangement,
    )
    assert (
        unknown.status_code == 422 and "known: bedford-borough, central-bedfordshire, luton" in unknown.text
    )
    # Reading only: a manager takes no step, in any of its partnerships.
    reference = await open_case(http)
    closing = await http.post(f"/cases/{reference}/closure", json={"reasons": "x"}, headers=arrangement)
    assert closing.status_code == 403
