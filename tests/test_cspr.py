"""The review on real dates, on the time-skipping server: the six-month target, the notice before
publication, parallel proceedings that stop the clock, monitoring, and the national review's duties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.domain.review import (
    CheckpointDone,
    ClockRestarted,
    ClockStopped,
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    PanelReportReceived,
    ProceedingsKind,
    PublicationScheduled,
    Published,
    ReportApproved,
    ReviewerAppointed,
    TermsAgreed,
)
from safeguarding.store.tables import ReviewRow
from tests.conftest import advance_to, running_worker, sleep_until
from tests.support import (
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    events,
    london,
    review_step,
    seed_case_row,
    start_review,
    to_the_minute,
)
from workflows.review import ReviewWorkflow


async def view(handle):
    return await handle.query(ReviewWorkflow.view)


def the(deadlines, key):
    (found,) = [d for d in deadlines if d.key == key]
    return found


async def refused(handle, actor, step, reason: str) -> None:
    before = await view(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refusal:
        await review_step(handle, actor, step)
    assert reason in str(refusal.value.cause)
    assert (await view(handle)).history == before.history


async def begin(env, engine, policy, task_queue, decided, kind="local_cspr"):
    handle = await start_review(env.client, task_queue, policy, decided, kind)
    seed_case_row(engine, handle.id.removeprefix("luton/case-").removesuffix("/review"), decided)
    return handle


async def test_a_cspr_decided_on_2_february_2027_is_due_on_2_august_2027_and_monitored_each_month(
    env, engine, policy, task_queue
):
    decided = london(2027, 2, 2, 10)
    await advance_to(env, decided)
    async with running_worker(env.client, engine, task_queue):
        handle = await begin(env, engine, policy, task_queue, decided)
        target = the((await view(handle)).deadlines, "cspr_completion")
        assert target.due_at == london(2027, 8, 2, 17)
        # A calendar month, and ten working days, before.
        assert [r.at for r in target.reminders] == [london(2027, 7, 2, 17), london(2027, 7, 19, 17)]

        await sleep_until(env, london(2027, 4, 3, 12))
        state = await view(handle)
        checkpoints = [t for t in state.tasks if t.kind == "checkpoint"]
        assert [(t.agency, to_the_minute([t.requested_at])[0]) for t in checkpoints] == [
            ("business_unit", london(2027, 3, 2, 17)),
            ("business_unit", london(2027, 4, 2, 17)),
        ]
        assert [t.due_at for t in checkpoints] == [london(2027, 3, 9, 17), london(2027, 4, 9, 17)]
        done = await review_step(
            handle,
            BUSINESS_UNIT,
            CheckpointDone(task_id=checkpoints[1].id, summary="On time; quality assured."),
        )
        assert done.tasks[0].status.value == "completed"
    with engine.connect() as connection:
        row = connection.execute(select(ReviewRow).where(ReviewRow.workflow_id == handle.id)).one()
    assert row.stage == "commissioned" and row.due_at == london(2027, 8, 2, 17) and not row.paused


async def test_a_publication_date_too_soon_after_the_copy_to_the_panel_is_refused_with_the_earliest_date(
    env, engine, policy, task_queue
):
    decided = london(2027, 2, 2, 10)
    await advance_to(env, decided)
    async with running_worker(env.client, engine, task_queue):
        handle = await begin(env, engine, policy, task_queue, decided)
        await refused(
            handle, BUSINESS_UNIT, LearningEventHeld(held_on=date(2027, 2, 2)), "comes after 'terms_agreed'"
        )
        await sleep_until(env, london(2027, 3, 25, 12))
        for actor, step in [
            (
                JCRG_CHAIR,
                ReviewerAppointed(reviewer="Independent reviewer (agency)", appointed_on=date(2027, 2, 3)),
            ),
            (
                JCRG_CHAIR,
                TermsAgreed(
                    methodology="Systems", terms_of_reference="Scope agreed", agreed_on=date(2027, 2, 10)
                ),
            ),
            (BUSINESS_UNIT, FamilyEngagement(status="offered", on=date(2027, 2, 11), reasons="Letter sent")),
            (BUSINESS_UNIT, LearningEventHeld(held_on=date(2027, 3, 1))),
            (BUSINESS_UNIT, DraftReceived(received_on=date(2027, 3, 10))),
        ]:
            await review_step(handle, actor, step)
        await refused(
            handle,
            BUSINESS_UNIT,
            ReportApproved(partner=StatutoryPartner.police, reasons="Approved"),
            "cannot take this step",
        )
        for partner in StatutoryPartner:
            await review_step(handle, PARTNERS[partner], ReportApproved(partner=partner, reasons="Approved"))
        await review_step(
            handle, JCRG_CHAIR, FinalReport(received_on=date(2027, 3, 24), recommendations=["Train staff"])
        )
        await refused(
            handle,
            BUSINESS_UNIT,
            PublicationScheduled(publication_date=date(2027, 4, 30)),
            "send the final report",
        )
        # Sent on Thursday 25 March 2027: Good Friday and Easter Monday do not count.
        await review_step(handle, BUSINESS_UNIT, CopySent(sent_on=date(2027, 3, 25), to_ofsted=True))
        await refused(
            handle,
            BUSINESS_UNIT,
            PublicationScheduled(publication_date=date(2027, 4, 6)),
            "at least 7 working days before publication: the earliest publication date is Wednesday 7 April 2027",
        )
        await review_step(handle, BUSINESS_UNIT, PublicationScheduled(publication_date=date(2027, 4, 7)))
        assert (await view(handle)).earliest_publication_date == date(2027, 4, 7)

        await sleep_until(env, london(2027, 4, 7, 10))
        await review_step(handle, BUSINESS_UNIT, Published(published_on=date(2027, 4, 7)))
        result = await handle.result()
        assert result.outcome == "published" and result.recommendations == ["Train staff"]
        state = await view(handle)
        assert the(state.deadlines, "cspr_completion").status is DeadlineStatus.met
        assert the(state.deadlines, "cspr_completion").met_on_time
        assert all(t.status.value != "open" for t in state.tasks)  # monitoring ends with the review


async def test_a_ten_week_trial_stops_the_clock_moves_the_due_date_by_ten_weeks_and_no_reminder_fires_in_it(
    env, engine, policy, task_queue
):
    decided = london(2027, 2, 2, 10)
    await advance_to(env, decided)
    async with running_worker(env.client, engine, task_queue):
        handle = await begin(env, engine, policy, task_queue, decided)
        await sleep_until(env, london(2027, 6, 1, 10))
        await review_step(
            handle,
            BUSINESS_UNIT,
            ClockStopped(
                proceedings=ProceedingsKind.criminal_trial,
                reasons="Trial listed; family contact on hold",
                expected_end=date(2027, 8, 10),
                panel_told_on=date(2027, 6, 1),
            ),
        )
        await sleep_until(env, london(2027, 8, 10, 10))  # ten weeks; the original due date has passed
        state = await view(handle)
        paused = the(state.deadlines, "cspr_completion")
        assert paused.status is DeadlineStatus.open and paused.paused_since is not None
        assert not events(state, "reminder_sent", "cspr_completion")
        assert not events(state, "deadline_missed", "cspr_completion")

        await review_step(handle, BUSINESS_UNIT, ClockRestarted(reasons="Verdict given"))
        moved = the((await view(handle)).deadlines, "cspr_completion")
        assert moved.due_at == london(2027, 10, 11, 17)  # 2 August + 70 days, still 17:00 London time
        assert moved.due_at - london(2027, 8, 2, 17) == timedelta(weeks=10)
        assert [r.at for r in moved.reminders] == [london(2027, 9, 10, 17), london(2027, 9, 27, 17)]

        await sleep_until(env, london(2027, 9, 28, 12))
        reminders = events(await view(handle), "reminder_sent", "cspr_completion")
        assert to_the_minute([e.recorded_at for e in reminders]) == [
            london(2027, 9, 10, 17),
            london(2027, 9, 27, 17),
        ]

        # A second stop (an inquest), a week long: the date moves again.
        await sleep_until(env, london(2027, 10, 1, 10))
        await review_step(
            handle,
            BUSINESS_UNIT,
            ClockStopped(
                proceedings=ProceedingsKind.inquest,
                reasons="Inquest opened",
                expected_end=date(2027, 10, 8),
                panel_told_on=date(2027, 10, 1),
            ),
        )
        await refused(
            handle,
            BUSINESS_UNIT,
            ClockStopped(
                proceedings=ProceedingsKind.other,
                reasons="x",
                expected_end=date(2027, 12, 1),
                panel_told_on=date(2027, 10, 1),
            ),
            "already stopped",
        )
        await sleep_until(env, london(2027, 10, 8, 10))
        await review_step(handle, BUSINESS_UNIT, ClockRestarted(reasons="Inquest adjourned"))
        state = await view(handle)
        assert the(state.deadlines, "cspr_completion").due_at == london(2027, 10, 18, 17)
        assert [p.days for p in state.pauses] == [70, 7]
        assert the(state.deadlines, "cspr_completion").paused_days == 77


async def test_when_the_panel_takes_a_national_review_the_local_duties_are_tasks(
    env, engine, policy, task_queue
):
    async with running_worker(env.client, engine, task_queue):
        now = await env.get_current_time()
        handle = await begin(env, engine, policy, task_queue, now, kind="national_review")
        state = await view(handle)
        assert [(t.agency, t.kind) for t in state.tasks] == [("business_unit", "review_duty")] * 2
        assert the(state.deadlines, "national_review_information").status is DeadlineStatus.open
        await refused(
            handle, BUSINESS_UNIT, ReviewerAppointed(reviewer="x", appointed_on=now.date()), "not part of"
        )
        await review_step(handle, BUSINESS_UNIT, InformationToPanel(sent_on=now.date()))
        await review_step(
            handle,
            JCRG_CHAIR,
            PanelReportReceived(received_on=now.date(), recommendations=["National learning"]),
        )
        result = await handle.result()
        assert result.outcome == "national_review_reported"
        state = await view(handle)
        assert [t.status.value for t in state.tasks] == ["completed", "completed"]
        assert the(state.deadlines, "national_review_information").status is DeadlineStatus.met


async def test_a_partner_agency_cannot_take_a_review_decision(env, engine, policy, task_queue):
    async with running_worker(env.client, engine, task_queue):
        handle = await begin(env, engine, policy, task_queue, await env.get_current_time())
        school = Actor(user_id="school.dsl", role=Role.partner_agency, agency="luton-schools")
        today = (await env.get_current_time()).date()
        await refused(
            handle, school, ReviewerAppointed(reviewer="x", appointed_on=today), "cannot take this step"
        )
