"""The statutory clock on real calendar dates, on the time-skipping server.

Each scenario starts at a real date in the future (the test server's clock only moves forward) and lets
time pass: due dates must land where the calendar says, reminders must fire at their lead times, and a
missed deadline must be recorded and escalated while the case goes on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from safeguarding.domain.case import NotificationRecipient, NotificationRecord, ReferralConfirmation
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.facts import ChildStatus, Route
from safeguarding.store.tables import NotificationRow
from tests.conftest import advance_to, running_worker, sleep_until
from tests.support import (
    BUSINESS_UNIT,
    by,
    deadline,
    events,
    london,
    opening,
    start_case,
    to_the_minute,
    view,
)
from workflows.incident import CaseWorkflow

MINUTE = timedelta(minutes=1)


def next_christmas_eve_4pm(now: datetime) -> datetime:
    year = now.astimezone(UTC).year
    moment = london(year, 12, 24, 16)
    return moment if moment > now + timedelta(hours=1) else london(year + 1, 12, 24, 16)


async def test_a_notification_on_friday_18_december_2026_is_due_to_the_panel_on_tuesday_29_december(
    env, engine, policy, task_queue
):
    aware = london(2026, 12, 18, 10)
    await advance_to(env, aware)
    async with running_worker(env.client, engine, task_queue):
        case = opening(aware)
        handle = await start_case(env.client, task_queue, case, policy)
        notify_panel = deadline(await view(handle), "notify_panel")
        # Christmas Day (Fri 25) and the Boxing Day substitute (Mon 28) are not working days.
        assert notify_panel.due_at == london(2026, 12, 29, 17)
        assert [r.at for r in notify_panel.reminders] == [london(2026, 12, 23, 17), london(2026, 12, 24, 17)]

        # The partners are told in time; the Panel is not.
        await sleep_until(env, london(2026, 12, 21, 9))
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(
                    recipient=NotificationRecipient.safeguarding_partners, sent_at=london(2026, 12, 21, 9)
                ),
            ),
        )
        await sleep_until(env, london(2026, 12, 29, 17) + MINUTE)

        state = await view(handle)
        reminders = events(state, "reminder_sent", "notify_panel")
        assert to_the_minute([e.recorded_at for e in reminders]) == [
            london(2026, 12, 23, 17),
            london(2026, 12, 24, 17),
        ]
        missed = events(state, "deadline_missed", "notify_panel")
        assert to_the_minute([e.recorded_at for e in missed]) == [london(2026, 12, 29, 17)]
        escalation = events(state, "escalation_sent", "notify_panel")
        assert escalation[0].details["recipients"] == ["jcrg_chair", "independent_scrutineer"]
        assert deadline(state, "notify_panel").status is DeadlineStatus.overdue
        # A deadline met in time sends neither reminders nor an escalation.
        assert deadline(state, "report_to_partners").status is DeadlineStatus.met
        assert not events(state, "reminder_sent", "report_to_partners")
        assert not events(state, "escalation_sent", "report_to_partners")
        # The case goes on.
        assert state.stage.value == "rapid_review"

        # The Panel is notified late: the deadline is met, and the breach stays on the record.
        await sleep_until(env, london(2026, 12, 30, 9))
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(recipient=NotificationRecipient.panel, sent_at=london(2026, 12, 30, 9)),
            ),
        )
        late = deadline(await view(handle), "notify_panel")
        assert late.status is DeadlineStatus.met
        assert late.met_at == london(2026, 12, 30, 9)
        assert late.met_on_time is False
        assert to_the_minute([late.breached_at]) == [london(2026, 12, 29, 17)]

    with engine.connect() as connection:
        outbox = connection.execute(
            select(NotificationRow.kind, NotificationRow.recipients).where(
                NotificationRow.case_reference == case.reference,
                NotificationRow.deadline_key == "notify_panel",
            )
        ).all()
    assert sorted(kind for kind, _ in outbox) == ["escalation", "reminder", "reminder"]


async def test_a_referral_at_4pm_on_christmas_eve_must_be_confirmed_by_4pm_on_26_december(
    env, engine, policy, task_queue
):
    referred = next_christmas_eve_4pm(await env.get_current_time())
    await advance_to(env, referred)
    async with running_worker(env.client, engine, task_queue):
        case = opening(referred, route=Route.agency_referral, referred_at=referred)
        handle = await start_case(env.client, task_queue, case, policy)
        confirmation = deadline(await view(handle), "referral_written_confirmation")
        # Hours are hours: bank holidays do not stop them.
        assert confirmation.due_at == london(referred.year, 12, 26, 16)
        assert [r.at for r in confirmation.reminders] == [london(referred.year, 12, 25, 16)]

        # Confirmed on Christmas morning, before the reminder was due.
        await sleep_until(env, london(referred.year, 12, 25, 10))
        await handle.execute_update(
            CaseWorkflow.confirm_referral,
            by(BUSINESS_UNIT, ReferralConfirmation(confirmed_at=london(referred.year, 12, 25, 10))),
        )
        await sleep_until(env, london(referred.year, 12, 27, 12))

        state = await view(handle)
        met = deadline(state, "referral_written_confirmation")
        assert met.status is DeadlineStatus.met and met.met_on_time
        assert not events(state, "reminder_sent", "referral_written_confirmation")
        assert not events(state, "deadline_missed", "referral_written_confirmation")
        assert not events(state, "escalation_sent")
        # A referral waits for screening: nothing is owed to the Panel yet.
        assert state.stage.value == "screening"
        assert not [d for d in state.deadlines if d.key == "notify_panel"]


async def test_easter_and_the_change_to_british_summer_time_are_crossed_correctly(
    env, engine, policy, task_queue
):
    aware = london(
        2027, 3, 24, 10
    )  # Wednesday; Good Friday 26 March, clocks go forward 28 March, Easter Monday 29
    await advance_to(env, aware)
    async with running_worker(env.client, engine, task_queue):
        case = opening(aware, child_status=ChildStatus.looked_after, child_died=True)
        handle = await start_case(env.client, task_queue, case, policy)
        state = await view(handle)
        due = london(2027, 4, 2, 17)  # Friday, 17:00 British Summer Time
        assert deadline(state, "notify_panel").due_at == due
        assert due.astimezone(UTC).hour == 16
        assert deadline(state, "notify_secretary_of_state_looked_after_death").due_at == due
        assert deadline(state, "notify_ofsted_looked_after_death").due_at == due

        # Notified the Panel on Thursday 25 March: the rapid review's 15 working days skip Easter.
        await sleep_until(env, london(2027, 3, 25, 11))
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(recipient=NotificationRecipient.panel, sent_at=london(2027, 3, 25, 11)),
            ),
        )
        assert deadline(await view(handle), "rapid_review_to_panel").due_at == london(2027, 4, 19, 17)

        await sleep_until(env, london(2027, 3, 31, 17) + MINUTE)
        reminders = events(
            await view(handle), "reminder_sent", "notify_secretary_of_state_looked_after_death"
        )
        # "2 working days before" Friday 2 April is Wednesday 31 March at 17:00 BST, i.e. 16:00 UTC.
        assert to_the_minute([e.recorded_at for e in reminders]) == [london(2027, 3, 31, 17)]
        assert reminders[0].recorded_at.astimezone(UTC).hour == 16
