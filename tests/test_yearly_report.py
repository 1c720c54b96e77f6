"""The yearly report's deadlines as a process, on the time-skipping server and real dates: the reporting
year 2026-27 ends on 31 March 2027; the report is due published by Thursday 30 September 2027 and, once
published, sent to the Panel and the DfE within 7 working days."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from safeguarding.domain.people import Actor, Role
from safeguarding.domain.yearly_report import (
    ReportPublished,
    ReportSent,
    YearlyStart,
    YearlyStep,
    workflow_id,
)
from safeguarding.store.tables import NotificationRow, YearlyReportRow
from tests.conftest import advance_to, running_worker, sleep_until
from tests.support import BUSINESS_UNIT, london
from workflows.yearly_report import YearlyReportWorkflow

YEAR = date(2026, 4, 1)


def start_for(policy) -> YearlyStart:
    return YearlyStart(
        partnership=policy.partnership,
        year_start=YEAR,
        timezone=policy.timezone,
        working_days=policy.working_days,
        rules=policy.reports,
    )


def notices(engine) -> list[tuple[str, str, int, list[str]]]:
    with engine.connect() as connection:
        return [
            (r.kind, r.deadline_key, r.number, r.recipients)
            for r in connection.execute(select(NotificationRow).order_by(NotificationRow.id))
        ]


async def test_the_yearly_report_is_chased_until_published_and_sent(env, engine, policy, task_queue):
    await advance_to(env, london(2027, 4, 1, 6))
    async with running_worker(env.client, engine, task_queue):
        handle = await env.client.start_workflow(
            YearlyReportWorkflow.run,
            start_for(policy),
            id=workflow_id(policy.partnership, YEAR),
            task_queue=task_queue,
        )
        for _ in range(100):  # its first deadline is computed by an activity
            view = await handle.query(YearlyReportWorkflow.view)
            if view.deadlines:
                break
            await asyncio.sleep(0.05)
        (published,) = view.deadlines
        assert published.due_at == london(2027, 9, 30, 17)  # 17:00 BST
        # 20 and 5 working days before: 2 September and 23 September 2027, at 17:00.
        assert published.reminders == [london(2027, 9, 2, 17), london(2027, 9, 23, 17)]

        # Not published by the due date: two reminders, then one escalation to the JCRG chair and the
        # Independent Scrutineer; nothing more however long it stays late.
        await sleep_until(env, london(2027, 10, 20, 12))
        assert notices(engine) == [
            ("reminder", "yearly_report_published", 0, ["business_unit"]),
            ("reminder", "yearly_report_published", 1, ["business_unit"]),
            ("escalation", "yearly_report_published", 1, ["jcrg_chair", "independent_scrutineer"]),
        ]

        def step(**kwargs: object) -> YearlyStep:
            return YearlyStep(actor=BUSINESS_UNIT, **kwargs)

        for refused, reason in [
            (step(sent=ReportSent(sent_on=date(2027, 10, 20), to=["panel"])), "once it is published"),
            (step(published=ReportPublished(published_on=date(2027, 10, 30))), "between the end of the year"),
            (
                YearlyStep(
                    actor=Actor(user_id="mgr", role=Role.manager),
                    published=ReportPublished(published_on=date(2027, 10, 19)),
                ),
                "a manager cannot take this step; it is for: business_unit",
            ),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as refusal:
                await handle.execute_update(YearlyReportWorkflow.take_step, refused)
            assert reason in str(refusal.value.cause)

        # Published on Tuesday 19 October 2027: sent due 7 working days later, Thursday 28 October.
        view = await handle.execute_update(
            YearlyReportWorkflow.take_step, step(published=ReportPublished(published_on=date(2027, 10, 19)))
        )
        sent_deadline = next(d for d in view.deadlines if d.key == "yearly_report_sent")
        assert sent_deadline.due_at == london(2027, 10, 28, 17)
        await handle.execute_update(
            YearlyReportWorkflow.take_step, step(sent=ReportSent(sent_on=date(2027, 10, 20), to=["panel"]))
        )
        finished = await handle.execute_update(
            YearlyReportWorkflow.take_step, step(sent=ReportSent(sent_on=date(2027, 10, 20), to=["dfe"]))
        )
        assert finished.sent_on == date(2027, 10, 20) and finished.sent_to == ["dfe", "panel"]
        outcome = await handle.result()
        assert all(d.met_at is not None for d in outcome.deadlines)

    with engine.connect() as connection:
        row = connection.execute(select(YearlyReportRow.__table__)).one()
    assert (row.published_on, row.sent_on, row.escalations) == (date(2027, 10, 19), date(2027, 10, 20), 1)
    assert row.sent_due_at == london(2027, 10, 28, 17)
    assert len(notices(engine)) == 3  # sent on time: no reminder or escalation for the second deadline
    assert (await env.get_current_time()) - london(2027, 4, 1) > timedelta(days=180)
