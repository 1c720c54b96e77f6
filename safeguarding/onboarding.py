"""Importing cases already in progress: shared by ``python -m safeguarding.onboard`` and
``POST /cases/import``. The file's format is ``safeguarding/domain/onboarding.py``'s.

Every row is checked before anything is touched: read into its models, its partnership known and
served, its history replayed on the process rules (``safeguarding/domain/rules/onboarding.py``, with the
working-day calendar the workflows' activity uses), the agencies it gives work to in the partnership's
directory, and its reference free, or used by this very case. A row that fails is refused with the
reason (and the step) and nothing of it is imported; a dry run stops there.

Then each valid row: its case workflow is started as ``POST /incidents`` starts it (the same
``CaseStart``, the same workflow id), and each step of its history is sent as its workflow's update,
attributed to whoever took it with ``action="import"``, under an update id made from the row (its
partnership, reference, the step's place and content). The server takes an update id once, so importing
the same file again changes nothing: a case opened with the same facts is "already imported", its steps
are sent again and taken as already taken, which also completes a row that was interrupted half way.
Review and action plan steps wait until the case has begun its review or plan.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from safeguarding.domain.action_plan import PlanView
from safeguarding.domain.case import CaseOpening, CaseStart, CaseView
from safeguarding.domain.onboarding import (
    CaseToImport,
    ImportReport,
    RowOutcome,
    RowRefused,
    RowReport,
    agencies_named,
    parse_row,
    reference_of,
    update_id,
)
from safeguarding.domain.outcome import StepOutcome
from safeguarding.domain.people import Actor, Attributed
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import Stream, stream_workflow_id, workflow_id_for
from safeguarding.domain.review import ReviewView
from safeguarding.domain.rules.common import CLOCK_TOLERANCE, fmt
from safeguarding.domain.rules.onboarding import Replayed, replay
from safeguarding.domain.steps import Process
from safeguarding.platform.working_days import due_dates
from safeguarding.store.directory import unknown_agencies
from safeguarding.store.tables import CaseRow

log = logging.getLogger("safeguarding.onboarding")

# The case workflow's names as the worker registers them (this layer does not import the workflows).
CASE_WORKFLOW = "CaseWorkflow"
OPENING_QUERY, VIEW_QUERY, AWAIT_OPENED = "opening", "view", "await_opened"

CONCURRENCY = 8  # rows imported at once
CHILD_PATIENCE = timedelta(seconds=60)  # how long a review or plan step waits for its workflow to begin
QUERY_TIMEOUT = timedelta(seconds=30)
STREAM_OF = {Process.case: Stream.case, Process.review: Stream.review, Process.plan: Stream.plan}

Progress = Callable[[int, int], None]
Audit = Callable[[RowReport], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    """What an import talks to: the workflows, the read model (directory, known cases), the policies."""

    client: Client
    engine: Engine
    policies: dict[str, Policy]
    task_queue: str


@dataclass
class _Row:
    """One row on its way: read, replayed, looked up, then imported."""

    report: RowReport
    case: CaseToImport | None = None
    replayed: Replayed | None = None
    workflow_id: str | None = None
    exists: bool = False

    @property
    def valid(self) -> bool:
        return self.report.outcome is not RowOutcome.refused

    def refuse(self, reason: str, index: int | None = None, step: str | None = None) -> None:
        self.report.outcome = RowOutcome.refused
        self.report.reason, self.report.step_index, self.report.step = reason, index, step


async def import_rows(
    raw_rows: list[Any],
    service: Service,
    importer: Actor,
    *,
    dry_run: bool = False,
    partnership: str | None = None,
    now: datetime | None = None,
    concurrency: int = CONCURRENCY,
    progress: Progress | None = None,
    audit: Audit | None = None,
) -> ImportReport:
    """Check every row of ``raw_rows`` (from ``read_rows``), then, unless ``dry_run``, import the valid
    ones, ``concurrency`` at a time. ``importer`` is the Business Unit the import acts as;
    ``partnership`` the one the file is for (its rows may leave it out). ``progress(done, total)`` is
    called as each row is finished; ``audit(report)`` for each row opened or refused."""
    now = now or datetime.now(UTC)
    rows = [_read(number, raw, service, importer, partnership, now) for number, raw in enumerate(raw_rows, 1)]
    _refuse_repeated(rows)
    limit = asyncio.Semaphore(concurrency)
    done = 0

    async def each(row: _Row, work: Callable[[_Row], Awaitable[None]], last: bool) -> None:
        nonlocal done
        async with limit:
            if row.valid:
                try:
                    await work(row)
                except Exception as problem:  # one row's failure must not lose the others' report
                    log.exception("row %s could not be imported", row.report.row)
                    began = row.report.outcome in (RowOutcome.opened, RowOutcome.already_imported)
                    row.refuse(f"could not be imported: {type(problem).__name__}: {problem}")
                    row.report.partly_imported = began and not dry_run
        if last:
            if audit is not None and not dry_run and row.report.outcome is not RowOutcome.already_imported:
                await audit(row.report)
            done += 1
            if progress is not None:
                progress(done, len(rows))

    # Every row is checked against what exists before any is imported.
    await asyncio.gather(*(each(row, lambda r: _look_up(r, service), dry_run) for row in rows))
    if not dry_run:
        await asyncio.gather(*(each(row, lambda r: _import(r, service, importer), True) for row in rows))
    return ImportReport(dry_run=dry_run, rows=[row.report for row in rows])


# ---------------------------------------------------------------- checking a row (nothing touched)


def _read(
    number: int, raw: Any, service: Service, importer: Actor, partnership: str | None, now: datetime
) -> _Row:
    """The row read and its history replayed on the rules."""
    row = _Row(RowReport(row=number, reference=reference_of(raw), outcome=RowOutcome.would_open))
    try:
        case = parse_row(number, raw, partnership)
        row.case = case
        row.report.reference, row.report.partnership = case.reference, case.partnership
        row.report.steps = len(case.history)
        policy = service.policies.get(case.partnership)
        if policy is None:
            raise RowRefused(
                f"unknown partnership {case.partnership!r}; known: {', '.join(sorted(service.policies))}"
            )
        for code in {case.partnership, *(s.acting_as.partnership for s in case.history if s.acting_as)}:
            if code is not None and not importer.serves(code):
                raise RowRefused(
                    f"{code} is not a partnership you act for ({', '.join(importer.partnerships)})"
                )
        latest = now + CLOCK_TOLERANCE
        for name in ("la_aware_at", "referred_at"):
            value = getattr(case.opening, name)
            if value is not None and value > latest:
                raise RowRefused(f"{name} ({fmt(value)}) is in the future")
        for recipient, sent_at in case.opening.notified.items():
            if sent_at > latest:
                raise RowRefused(f"notified.{recipient.value} ({fmt(sent_at)}) is in the future")
        row.replayed = replay(case, policy, importer.acting_in(case.partnership), now, due_dates)
    except RowRefused as refused:
        row.refuse(refused.reason, refused.index, refused.step)
        return row
    except Exception as problem:  # a row the rules cannot make sense of must not lose the others' report
        log.exception("row %s could not be checked", number)
        row.refuse(f"could not be checked: {type(problem).__name__}: {problem}")
        return row
    row.report.stage = row.replayed.stage
    row.report.review_stage = row.replayed.review_stage
    row.report.plan_status = row.replayed.plan_status
    row.report.late = row.replayed.late
    return row


def _refuse_repeated(rows: list[_Row]) -> None:
    """A reference that appears twice for one partnership: neither row can be told right."""
    seen: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        if row.case is not None:
            seen.setdefault((row.case.partnership, row.case.reference), []).append(row)
    for (_, reference), same in seen.items():
        if len(same) > 1:
            numbers = ", ".join(str(r.report.row) for r in same)
            for row in same:
                row.refuse(f"reference {reference} appears in more than one row of the file (rows {numbers})")


async def _look_up(row: _Row, service: Service) -> None:
    """The agencies named are in the directory; the reference is free, or this very case's."""
    case, replayed = row.case, row.replayed
    assert case is not None and replayed is not None
    actors = {planned.item.index: planned.actor for planned in replayed.steps}
    named = [
        (item, actors[item.index].partnership or case.partnership, codes)
        for item, codes in agencies_named(case.history)
    ]
    unknown, known_id = await asyncio.to_thread(_directory_and_case, service.engine, case, named)
    if unknown is not None:
        item, in_partnership, codes = unknown
        row.refuse(
            f"history[{item.index}] ({item.name}): not an active agency of {in_partnership}'s partner "
            f"directory: {', '.join(codes)}; its Business Unit adds or reactivates one with PUT /agencies/{{code}}",
            item.index,
            item.name,
        )
        return
    row.workflow_id = known_id or workflow_id_for(case.partnership, case.reference)
    handle = service.client.get_workflow_handle(row.workflow_id)
    try:
        await handle.describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return
        raise
    existing = await handle.query(OPENING_QUERY, result_type=CaseOpening, rpc_timeout=QUERY_TIMEOUT)
    if existing != case.opening:
        row.refuse(
            f"reference {case.reference} is already used by a case opened with different facts; check the "
            "reference, or read the case with GET /cases/{reference}"
        )
        return
    row.exists = True
    row.report.outcome = RowOutcome.already_imported


def _directory_and_case(engine: Engine, case: CaseToImport, named: list) -> tuple[Any, str | None]:  # type: ignore[type-arg]
    """The first step naming an agency not in its partnership's directory, and the case's workflow id if
    the read model knows it (a case opened before partnerships were kept apart keeps its first id)."""
    with engine.connect() as connection:
        unknown = None
        for item, in_partnership, codes in named:
            missing = unknown_agencies(connection, in_partnership, codes)
            if missing:
                unknown = (item, in_partnership, missing)
                break
        known = connection.execute(
            select(CaseRow.workflow_id).where(
                CaseRow.partnership == case.partnership, CaseRow.reference == case.reference
            )
        ).scalar_one_or_none()
    return unknown, known


# ---------------------------------------------------------------- importing a row


async def _import(row: _Row, service: Service, importer: Actor) -> None:
    case, replayed, workflow_id = row.case, row.replayed, row.workflow_id
    assert case is not None and replayed is not None and workflow_id is not None
    client = service.client
    handle = client.get_workflow_handle(workflow_id)
    if not row.exists:
        start = CaseStart(
            opening=case.opening,
            policy=service.policies[case.partnership],
            opened_by=importer.acting_in(case.partnership),
        )
        try:
            await client.start_workflow(
                CASE_WORKFLOW,
                start,
                id=workflow_id,
                task_queue=service.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            row.report.outcome = RowOutcome.opened
        except WorkflowAlreadyStartedError:  # opened meanwhile (the same file imported twice at once)
            existing = await handle.query(OPENING_QUERY, result_type=CaseOpening, rpc_timeout=QUERY_TIMEOUT)
            if existing != case.opening:
                row.refuse(f"reference {case.reference} was opened meanwhile with different facts")
                return
            row.report.outcome = RowOutcome.already_imported
        else:
            await handle.execute_update(AWAIT_OPENED, result_type=CaseView)
    running: dict[str, bool] = {}
    for planned in replayed.steps:
        item = planned.item
        target = stream_workflow_id(workflow_id, STREAM_OF[item.step.process])
        if target not in running:
            running[target] = await _running(client, target, wait=target != workflow_id)
        if not running[target]:
            continue  # a finished review or plan took every step it had before it finished
        attributed = Attributed[type(planned.body)](  # type: ignore[misc]
            actor=planned.actor, decision=planned.body, action="import"
        )
        try:
            await client.get_workflow_handle(target).execute_update(
                item.step.update,
                attributed,
                id=update_id(case.partnership, case.reference, item.index, item),
                result_type=StepOutcome,
            )
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(failed)
            _refused_part_way(row, f"the case refused it: {reason}", item.index, item.name)
            return
        except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as problem:
            _refused_part_way(
                row, f"it could not be sent ({problem}); import the file again", item.index, item.name
            )
            return
    await _where_it_stands(row, service)


def _refused_part_way(row: _Row, reason: str, index: int, name: str) -> None:
    row.refuse(f"history[{index}] ({name}): {reason}", index, name)
    row.report.partly_imported = True


async def _running(client: Client, workflow_id: str, wait: bool) -> bool:
    """Whether the workflow is running; a review or plan not begun yet is waited for (the case begins
    it once the step before has concluded the rapid review, or finished the review), and until it has
    opened."""
    handle = client.get_workflow_handle(workflow_id)
    deadline = asyncio.get_running_loop().time() + CHILD_PATIENCE.total_seconds()
    pause = 0.05
    while True:
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND or not wait:
                raise
        else:
            if description.status is not WorkflowExecutionStatus.RUNNING:
                return False
            if wait:  # its validators read what its run opens with (the plan's recommendations)
                await handle.execute_update(AWAIT_OPENED)
            return True
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{workflow_id} did not begin within {CHILD_PATIENCE}")
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.5)


async def _where_it_stands(row: _Row, service: Service) -> None:
    """The stage the case (and its review, its plan) reached, read from the workflows."""
    client, workflow_id = service.client, row.workflow_id
    assert workflow_id is not None
    try:
        view = await client.get_workflow_handle(workflow_id).query(
            VIEW_QUERY, result_type=CaseView, rpc_timeout=QUERY_TIMEOUT
        )
        row.report.stage = view.stage.value
        if view.review_workflow_id:
            review = await client.get_workflow_handle(view.review_workflow_id).query(
                VIEW_QUERY, result_type=ReviewView, rpc_timeout=QUERY_TIMEOUT
            )
            row.report.review_stage = review.stage.value
        if view.plan_workflow_id:
            plan = await client.get_workflow_handle(view.plan_workflow_id).query(
                VIEW_QUERY, result_type=PlanView, rpc_timeout=QUERY_TIMEOUT
            )
            row.report.plan_status = plan.status
    except (RPCError, WorkflowQueryFailedError) as problem:
        log.warning("could not read where case %s stands: %s", row.report.reference, problem)
