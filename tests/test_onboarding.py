"""Bringing in cases already in progress, against the real Temporal dev server, a real worker and the
API on a real port: cases at every stage imported through the command's core and through
``POST /cases/import``, each at its stage with its true deadlines; the same file again changes nothing;
a file with bad rows imports none of them (and a dry run nothing at all); the worked example imports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import Engine, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.deadlines import compute_due_dates
from api.app import create_app
from safeguarding.domain.action_plan import PlanView
from safeguarding.domain.case import CaseView
from safeguarding.domain.contracts import DueDateItem, DueDateRequest
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.onboarding import (
    COLUMNS,
    NOTIFIED_COLUMNS,
    ImportReport,
    RowOutcome,
    parse_row,
    read_rows,
)
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import workflow_id_for
from safeguarding.domain.review import ReviewView
from safeguarding.domain.steps import Process
from safeguarding.onboard import main
from safeguarding.onboarding import Service, import_rows
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings, get_settings
from safeguarding.store.directory import seed
from safeguarding.store.engine import make_engine, migrate
from safeguarding.store.tables import CaseEventRow
from tests.conftest import TEST_KEYS, running_worker, start_dev_server
from tests.test_api import SIGNING_KEY, auth, free_port
from workflows.action_plan import ActionPlanWorkflow
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "onboarding"
BU = auth("bu.officer1", "business_unit")
IMPORTER = Actor(user_id="onboarding", role=Role.business_unit, partnerships=["luton"])


@dataclass
class World:
    """One dev server, worker, read model and API for the module; each test imports its own cases."""

    client: Client
    engine: Engine
    settings: Settings
    service: Service
    http: httpx.AsyncClient
    policy: Policy


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """The settings point at the dev server and the tests' payload keys, so the command can run too."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('onboarding') / 'read-model.sqlite'}"
    migrate(database_url)
    engine = make_engine(database_url)
    seed(engine)  # the partner directory (no mailboxes: nothing to deliver): work goes only to its agencies
    policies = load_policies(get_settings().policy_dir)
    async with await start_dev_server() as env:
        settings = Settings(
            database_url=database_url,
            task_queue=f"onboarding-{uuid.uuid4().hex[:6]}",
            local_signing_key_file=SIGNING_KEY,
            temporal_address=env.client.service_client.config.target_host,
            payload_keys=TEST_KEYS.model_dump_json(),
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
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=120, headers=BU
            ) as http:
                yield World(
                    env.client,
                    engine,
                    settings,
                    Service(env.client, engine, policies, settings.task_queue),
                    http,
                    policies["luton"],
                )
            server.should_exit = True
            await serving
    engine.dispose()


# ---------------------------------------------------------------- a generated file, at mixed stages
#
# Every date is whole days before now, so whatever the hour the test runs, each deadline, reminder and
# checkpoint falls either in the past (the clock settles it on import) or days ahead.


def ago(days: float, hour: int = 10) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).replace(hour=hour, minute=0, second=0).isoformat()


def on(days: float) -> str:
    """A date ``days`` from today (negative: ago)."""
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def sin(reference: str, aware: float, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "reference": reference,
        "partnership": "luton",
        "route": "serious_incident_notification",
        "la_aware_at": ago(aware),
        "referring_agency": "luton-childrens-social-care",
        "child_status": "neither",
        "child_died": False,
        "summary": "Infant with unexplained injuries.",
        "notified": {"panel": ago(aware - 1), "safeguarding_partners": ago(aware - 1)},
        "history": history,
    }


def rapid_review_steps(start: float, recommendation: dict[str, Any], upto: str) -> list[dict[str, Any]]:
    """From the information request (``start`` days ago) on, as far as ``upto``."""
    d = start
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "requested",
            {
                "step": "request_information",
                "occurred_at": ago(d),
                "asked_for": "Chronology",
                "agencies": ["luton-schools", "bedfordshire-hospitals"],
            },
        ),
        (
            "returned",
            {
                "step": "submit_return",
                "occurred_at": ago(d - 2),
                "agency": "luton-schools",
                "summary": "Attendance fell.",
            },
        ),
        (
            "returned",
            {
                "step": "submit_return",
                "occurred_at": ago(d - 3),
                "agency": "bedfordshire-hospitals",
                "summary": "Two attendances.",
                "as": {"agency": "bedfordshire-hospitals"},
            },
        ),
        (
            "recommended",
            {
                "step": "recommend",
                "occurred_at": ago(d - 5),
                **recommendation,
                "reasons": "The JCRG's reasons.",
            },
        ),
        *[
            (
                "signed_off",
                {
                    "step": "sign_off",
                    "occurred_at": ago(d - 7, 10 + i),
                    "partner": partner,
                    "agrees": True,
                    "reasons": "Agreed.",
                },
            )
            for i, partner in enumerate(("local_authority", "police", "integrated_care_board"))
        ],
        ("sent", {"step": "inform_scrutineer", "informed_at": ago(d - 7, 15)}),
        ("sent", {"step": "send_rapid_review", "sent_at": ago(d - 8)}),
        (
            "answered",
            {
                "step": "record_panel_response",
                "received_at": ago(d - 16),
                "response": "agrees",
                "reasons": "The Panel agrees.",
            },
        ),
    ]
    order = ["requested", "returned", "recommended", "signed_off", "sent", "answered"]
    return [body for stage, body in steps if order.index(stage) <= order.index(upto)]


CSPR = {"recommendation": "local_cspr", "methodology": "Systems review"}
LEARNING = {"recommendation": "no_further_review", "learning_actions": ["Brief schools.", "Audit referrals."]}


@dataclass(frozen=True)
class Stage:
    """A template: a row at some stage, and where its case must stand once imported."""

    name: str
    build: Callable[[str], dict[str, Any]]
    stage: str
    review: str | None = None
    plan: str | None = None


def _late_return(reference: str) -> dict[str, Any]:
    return sin(
        reference,
        30,
        [
            {
                "step": "request_information",
                "occurred_at": ago(28),
                "asked_for": "Chronology",
                "agencies": ["luton-schools", "bedfordshire-hospitals", "bedfordshire-police"],
            },
            {
                "step": "submit_return",
                "occurred_at": ago(26),
                "agency": "bedfordshire-hospitals",
                "summary": "In time.",
            },
            {"step": "submit_return", "occurred_at": ago(14), "agency": "luton-schools", "summary": "Late."},
        ],
    )


def _cspr_in_stages(reference: str) -> dict[str, Any]:
    return sin(
        reference,
        130,
        [
            *rapid_review_steps(128, CSPR, "answered"),
            {"step": "appoint_reviewer", "appointed_on": on(-90), "reviewer": "Independent reviewer"},
            {
                "step": "agree_terms",
                "occurred_at": ago(80),
                "methodology": "Systems review",
                "terms_of_reference": "Two years.",
            },
        ],
    )


def _action_plan(reference: str) -> dict[str, Any]:
    action = {
        "step": "add_action",
        "agency": "luton-schools",
        "lead_role": "Head of Safeguarding",
        "description": "Briefing",
        "measure": "All briefed",
        "themes": ["neglect"],
    }
    return sin(
        reference,
        62,
        [
            *rapid_review_steps(60, LEARNING, "answered"),
            {**action, "recommendation_id": "R1", "due_on": on(90)},
            {**action, "recommendation_id": "R2", "due_on": on(120), "agency": "bedfordshire-hospitals"},
            {
                "step": "record_progress",
                "action_id": "A1",
                "summary": "Half briefed.",
                "evidence": ["Register"],
                "as": {"agency": "luton-schools"},
            },
        ],
    )


def _screened_out(reference: str) -> dict[str, Any]:
    return {
        **sin(reference, 20, []),
        "route": "agency_referral",
        "referred_at": ago(20),
        "notified": {},
        "history": [
            {"step": "confirm_referral", "confirmed_at": ago(19)},
            {
                "step": "screen",
                "occurred_at": ago(15),
                "criteria_met": False,
                "learning_route": "single_agency_learning",
                "reasons": "Below the threshold.",
            },
        ],
    }


# The CSPR decided (the partners' last sign-off) 110 days ago: about two months of its six are left.
CSPR_DECIDED_DAYS_AGO = 110
STAGES = [
    Stage("just notified", lambda r: sin(r, 2, []), "rapid_review"),
    Stage("information requested, one return late", _late_return, "rapid_review"),
    Stage(
        "recommendation made",
        lambda r: sin(r, 40, rapid_review_steps(38, CSPR, "recommended")),
        "rapid_review",
    ),
    # The CSPR begins on the partners' decision, before the Panel answers.
    Stage(
        "signed off",
        lambda r: sin(r, 40, rapid_review_steps(38, CSPR, "signed_off")),
        "rapid_review",
        review="commissioned",
    ),
    Stage(
        "sent to the Panel",
        lambda r: sin(r, 40, rapid_review_steps(38, CSPR, "sent")),
        "rapid_review",
        review="commissioned",
    ),
    Stage(
        "CSPR decided about four months ago",
        lambda r: sin(
            r, CSPR_DECIDED_DAYS_AGO + 9, rapid_review_steps(CSPR_DECIDED_DAYS_AGO + 7, CSPR, "answered")
        ),
        "local_review",
        review="commissioned",
    ),
    Stage("CSPR in its stages", _cspr_in_stages, "local_review", review="terms_agreed"),
    Stage("action plan with actions", _action_plan, "learning_actions", plan="open"),
    Stage("referral screened out", _screened_out, "closed"),
]


def generated(count: int, prefix: str) -> tuple[list[dict[str, Any]], dict[str, Stage]]:
    """``count`` cases cycling through the stages, and the stage each reference was made at."""
    run = uuid.uuid4().hex[:5].upper()
    rows, stage_of = [], {}
    for n in range(count):
        stage = STAGES[n % len(STAGES)]
        reference = f"{prefix}-{run}-{n:03d}"
        rows.append(stage.build(reference))
        stage_of[reference] = stage
    return rows, stage_of


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The same rows as the CSV form: a cell per opening field, ``notified_*`` columns, JSON cells."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in rows:
        cells = {name: row.get(name, "") for name in COLUMNS if name in row}
        cells["child_died"] = "true" if row["child_died"] else "false"
        for column, recipient in NOTIFIED_COLUMNS.items():
            cells[column] = row.get("notified", {}).get(recipient.value, "")
        cells["history"] = json.dumps(row["history"])
        writer.writerow(cells)
    return out.getvalue()


# ---------------------------------------------------------------- reading the cases back


async def views(world: World, reference: str) -> tuple[CaseView, ReviewView | None, PlanView | None]:
    client = world.client
    case = await client.get_workflow_handle(workflow_id_for("luton", reference)).query(CaseWorkflow.view)
    review = plan = None
    if case.review_workflow_id:
        review = await client.get_workflow_handle(case.review_workflow_id).query(ReviewWorkflow.view)
    if case.plan_workflow_id:
        plan = await client.get_workflow_handle(case.plan_workflow_id).query(ActionPlanWorkflow.view)
    return case, review, plan


def event_rows(world: World, references: list[str]) -> list[tuple]:  # type: ignore[type-arg]
    with world.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(
                    CaseEventRow.id,
                    CaseEventRow.case_reference,
                    CaseEventRow.stream,
                    CaseEventRow.seq,
                    CaseEventRow.kind,
                    CaseEventRow.actor_user,
                )
                .where(CaseEventRow.case_reference.in_(references))
                .order_by(CaseEventRow.id)
            )
        ]


async def settled(world: World, rows: list[dict[str, Any]]) -> list[tuple]:  # type: ignore[type-arg]
    """The event log of the rows' cases once every event their case and review workflows hold, and
    every plan step the rows took, is in the read model, and it stays so (the clock settles on import
    what fell due before it, then sleeps for days). A plan shows no history of its own: each of its
    steps is one event by the person who took it (a step answers after 5 s even if its write is late)."""
    references = [row["reference"] for row in rows]
    plan_steps = sum(
        item.step.process is Process.plan
        for number, row in enumerate(rows)
        for item in parse_row(number, row).history
    )
    steady, last = 0, None
    for _ in range(300):
        histories = await asyncio.gather(*(views(world, r) for r in references))
        held = sum(len(w.history) for case, review, _ in histories for w in (case, review) if w is not None)
        events = event_rows(world, references)
        observed = (
            held,
            sum(row[2] in ("case", "review") for row in events),
            sum(row[2] == "plan" and row[5] is not None for row in events),
            len(events),
        )
        steady = steady + 1 if observed == last and observed[:3] == (held, held, plan_steps) else 0
        if steady == 2:
            return events
        last = observed
        await asyncio.sleep(0.2)
    raise AssertionError(f"the read model did not settle: {last}, {plan_steps} plan steps")


async def exists(client: Client, reference: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id_for("luton", reference)).describe()
    except RPCError as error:
        assert error.status is RPCStatusCode.NOT_FOUND
        return False
    return True


async def check_stages(world: World, stage_of: dict[str, Stage]) -> None:
    """Every case at its template's stage, its deadlines true to its history."""
    policy = world.policy
    for reference, stage in stage_of.items():
        case, review, plan = await views(world, reference)
        where = (case.stage.value, review.stage.value if review else None, plan.status if plan else None)
        assert where == (stage.stage, stage.review, stage.plan), f"{reference} ({stage.name})"
        if stage.name == "information requested, one return late":
            by_agency = {t.agency: t.id for t in case.tasks}
            returns = {d.subject: d for d in case.deadlines if d.key == "agency_information_return"}
            late, in_time = returns[by_agency["luton-schools"]], returns[by_agency["bedfordshire-hospitals"]]
            assert (late.status, late.met_on_time, late.breached_at) == (
                DeadlineStatus.met,
                False,
                late.due_at,
            )
            assert (in_time.status, in_time.met_on_time, in_time.breached_at) == (
                DeadlineStatus.met,
                True,
                None,
            )
            still_open = returns[by_agency["bedfordshire-police"]]
            assert still_open.status is DeadlineStatus.overdue and still_open.breached_at == still_open.due_at
        if stage.name == "CSPR decided about four months ago":
            assert review is not None
            decided = case.rapid_review.signed_off_at
            assert decided is not None and 105 <= (datetime.now(UTC) - decided).days <= CSPR_DECIDED_DAYS_AGO
            (completion,) = [d for d in review.deadlines if d.key == "cspr_completion"]
            rule = policy.deadlines["cspr_completion"]
            (expected,) = compute_due_dates(
                DueDateRequest(
                    timezone=policy.timezone,
                    working_days=policy.working_days,
                    items=[DueDateItem(started_at=decided, due=rule.due)],
                )
            )
            assert completion.due_at == expected.due_at and completion.status is DeadlineStatus.open
            left = completion.due_at - datetime.now(UTC)
            assert timedelta(days=50) < left < timedelta(days=80), left  # about two months left
        if stage.name == "action plan with actions":
            assert plan is not None
            assert [(a.id, a.agency, a.status.value) for a in plan.actions] == [
                ("A1", "luton-schools", "open"),
                ("A2", "bedfordshire-hospitals", "open"),
            ]
            assert [c.kind for c in plan.actions[0].changes] == ["added", "progress"]


# ---------------------------------------------------------------- the tests


# Every stage, twice through the command's core; once each through the API (the scale figures are in
# ``make bench``, not here).
CORE_ROWS = 2 * len(STAGES)


async def test_cases_at_every_stage_import_once_however_often_the_file_is_imported(world: World):
    rows, stage_of = generated(CORE_ROWS, "ON")
    seen: list[tuple[int, int]] = []

    report = await import_rows(
        rows, world.service, IMPORTER, progress=lambda done, total: seen.append((done, total))
    )
    assert [r.outcome for r in report.rows] == [RowOutcome.opened] * CORE_ROWS, [
        (r.reference, r.reason) for r in report.refused
    ]
    assert seen[-1] == (CORE_ROWS, CORE_ROWS) and len(seen) == CORE_ROWS
    await check_stages(world, stage_of)
    before = await settled(world, rows)
    assert {kind for (_, _, _, _, kind, _) in before} >= {
        "case_opened",
        "information_returned",
        "action_added",
    }

    again = await import_rows(rows, world.service, IMPORTER)
    assert [r.outcome for r in again.rows] == [RowOutcome.already_imported] * CORE_ROWS, [
        (r.reference, r.reason) for r in again.refused
    ]
    assert await settled(world, rows) == before  # not one event more
    await check_stages(world, stage_of)


async def test_the_same_cases_through_the_api_as_csv(world: World):
    rows, stage_of = generated(len(STAGES), "API")
    body = as_csv(rows)
    headers = {**BU, "Content-Type": "text/csv"}

    dry = await world.http.post("/cases/import", params={"dry_run": "true"}, content=body, headers=headers)
    assert dry.status_code == 200, dry.text
    assert {r["outcome"] for r in dry.json()["rows"]} == {"would open"}
    assert not any([await exists(world.client, r) for r in stage_of])

    response = await world.http.post("/cases/import", content=body, headers=headers)
    assert response.status_code == 200, response.text
    report = ImportReport.model_validate(response.json())
    assert [r.outcome for r in report.rows] == [RowOutcome.opened] * len(STAGES), [
        (r.reference, r.reason) for r in report.refused
    ]
    await check_stages(world, stage_of)
    before = await settled(world, rows)

    repeated = await world.http.post("/cases/import", content=body, headers=headers)
    assert {r["outcome"] for r in repeated.json()["rows"]} == {"already imported"}
    assert await settled(world, rows) == before


async def test_a_file_with_bad_rows_imports_none_of_them_and_a_dry_run_nothing_at_all(world: World):
    rows, stage_of = generated(2, "BAD")
    good = list(stage_of)
    run = good[0].rsplit("-", 1)[0]
    malformed = {**rows[0], "reference": f"{run}-M1", "la_aware_at": "2026-10-01T10:00:00"}
    early_sign_off = sin(f"{run}-M2", 40, rapid_review_steps(38, CSPR, "returned"))
    early_sign_off["history"].append(
        {
            "step": "sign_off",
            "occurred_at": ago(30),
            "partner": "police",
            "agrees": True,
            "reasons": "Agreed.",
        }
    )
    future = sin(
        f"{run}-M3",
        10,
        [
            {
                "step": "request_information",
                "occurred_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                "agencies": ["luton-schools"],
                "asked_for": "Chronology",
            },
        ],
    )
    unknown_agency = sin(
        f"{run}-M4",
        10,
        [
            {
                "step": "request_information",
                "occurred_at": ago(9),
                "agencies": ["luton-astrologers"],
                "asked_for": "x",
            },
        ],
    )
    twice = sin(f"{run}-M5", 5, [])
    file = [
        rows[0],
        malformed,
        early_sign_off,
        rows[1],
        future,
        unknown_agency,
        twice,
        {**twice, "summary": "Other."},
    ]
    bad = [f"{run}-M{n}" for n in range(1, 6)]

    expected_reasons = {
        2: "la_aware_at: must include a time zone offset",
        3: "history[3] (sign_off): there is no JCRG recommendation to sign off yet",
        5: "history[0] (request_information): the step (",
        6: "history[0] (request_information): not an active agency of luton's partner directory: luton-astrologers",
        7: f"reference {run}-M5 appears in more than one row of the file (rows 7, 8)",
        8: f"reference {run}-M5 appears in more than one row of the file (rows 7, 8)",
    }

    def check(report: ImportReport, good_outcome: RowOutcome) -> None:
        for row in report.rows:
            if row.row in expected_reasons:
                assert row.outcome is RowOutcome.refused and expected_reasons[row.row] in (
                    row.reason or ""
                ), row
            else:
                assert row.outcome is good_outcome, row
        assert report.rows[4].reason and "is in the future" in report.rows[4].reason
        assert (report.rows[2].step_index, report.rows[2].step) == (3, "sign_off")

    dry = await import_rows(file, world.service, IMPORTER, dry_run=True)
    check(dry, RowOutcome.would_open)
    assert not any([await exists(world.client, r) for r in [*good, *bad]])
    assert event_rows(world, [*good, *bad]) == []

    done = await import_rows(file, world.service, IMPORTER)
    check(done, RowOutcome.opened)
    assert [await exists(world.client, r) for r in [*good, *bad]] == [True, True] + [False] * 5
    assert {row[1] for row in await settled(world, rows)} == set(good)
    assert event_rows(world, bad) == []

    # The same reference with different facts: refused, the case left as it was.
    changed = {**rows[0], "summary": "Another incident altogether."}
    (clash,) = (await import_rows([changed], world.service, IMPORTER)).rows
    assert (
        clash.outcome is RowOutcome.refused
        and "already used by a case opened with different facts" in clash.reason
    )


async def test_a_row_interrupted_half_way_is_completed_by_importing_it_again(world: World):
    (in_stages,) = [stage for stage in STAGES if stage.name == "CSPR in its stages"]
    reference = f"HALF-{uuid.uuid4().hex[:6].upper()}"
    full = in_stages.build(reference)
    half = {**full, "history": full["history"][:5]}  # stopped after the recommendation and a sign-off

    (first,) = (await import_rows([half], world.service, IMPORTER)).rows
    assert (first.outcome, first.stage) == (RowOutcome.opened, "rapid_review")
    (second,) = (await import_rows([full], world.service, IMPORTER)).rows
    assert second.outcome is RowOutcome.already_imported
    assert (second.stage, second.review_stage) == ("local_review", "terms_agreed")
    case, review, _ = await views(world, reference)
    assert [e.kind for e in case.history].count("recommendation_made") == 1
    assert [e.kind for e in case.history].count("partner_signed_off") == 3
    assert review is not None and review.reviewer == "Independent reviewer"


async def test_the_worked_example_imports_cleanly(world: World):
    text = (EXAMPLES / "worked-example.json").read_text(encoding="utf-8")
    dry = await world.http.post(
        "/cases/import",
        params={"dry_run": "true"},
        content=text,
        headers={**BU, "Content-Type": "application/json"},
    )
    assert dry.status_code == 200, dry.text
    assert [r["outcome"] for r in dry.json()["rows"]] == ["would open"] * 12, dry.text

    imported = await world.http.post(
        "/cases/import", content=text, headers={**BU, "Content-Type": "application/json"}
    )
    rows = imported.json()["rows"]
    assert [r["outcome"] for r in rows] == ["opened"] * 12, imported.text
    stood = {r["reference"]: (r["stage"], r["review_stage"], r["plan_status"]) for r in rows}
    assert stood["LSCP-26-107"] == ("local_review", "commissioned", None)
    assert stood["LSCP-26-109"] == ("local_review", "terms_agreed", None)
    assert stood["LSCP-26-110"] == ("learning_actions", None, "open")
    assert stood["LSCP-26-111"] == ("closed", None, None)
    _, stopped, _ = await views(world, "LSCP-26-109")
    assert stopped is not None and stopped.paused

    # The command, on the same file: every case already imported (exit 0), as the CSV form too.
    for name in ("worked-example.json", "worked-example.csv"):
        code = await asyncio.to_thread(main, [str(EXAMPLES / name), "--partnership", "luton"], world.settings)
        assert code == 0, name


async def test_the_command_exits_1_when_a_row_is_refused_and_the_api_422_on_an_unreadable_file(
    world: World, tmp_path: Path
):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([sin("CLI-BAD-1", 5, [{"step": "recommend", "occurred_at": ago(4)}])]))
    assert await asyncio.to_thread(main, [str(cases), "--dry-run"], world.settings) == 1

    unreadable = await world.http.post(
        "/cases/import", content="[{", headers={**BU, "Content-Type": "application/json"}
    )
    assert unreadable.status_code == 422 and "not valid JSON" in unreadable.text
    school = auth("school.dsl", "partner_agency", agency="luton-schools")
    refused = await world.http.post("/cases/import", json=[], headers=school)
    assert refused.status_code == 403
    assert read_rows(as_csv([sin("X-1", 1, [])]), "csv")[0]["reference"] == "X-1"
