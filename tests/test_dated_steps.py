"""A case entered after the fact, on its real past dates, on the time-skipping server: every step says
when it truly happened (``occurred_at``, or its own date), its deadlines start and are met from then,
and the time it was recorded is kept beside it, in the case, the read model and the audit log.

Thursday 21 May 2026: the local authority became aware. Monday 25 May was the spring bank holiday, so
the Panel's notification (5 working days) was due on Friday 29 May at the end of the working day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from safeguarding.domain.case import (
    InformationRequest,
    InformationReturn,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    PanelResponseKind,
    PartnerSignOff,
    RapidReviewSent,
    Recommendation,
    RecommendationKind,
    ScrutineerInformed,
)
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.people import StatutoryPartner
from safeguarding.store.tables import AuditRow, CaseEventRow
from tests.conftest import running_worker
from tests.support import (
    AGENCY,
    BUSINESS_UNIT,
    JCRG_CHAIR,
    PARTNERS,
    by,
    deadline,
    events,
    london,
    opening,
    start_case,
    view,
)
from tests.test_rapid_review import refused
from workflows.incident import CaseWorkflow
from workflows.review import ReviewWorkflow

AWARE = london(2026, 5, 21, 10)  # Thursday 21 May 2026
PANEL_DUE = london(2026, 5, 29, 17)  # Friday 29 May: Monday 25 May was a bank holiday


@pytest.mark.parametrize(
    ("clock_starts", "cspr_due"),
    [
        # Six calendar months from the partners' sign-off on Friday 12 June: Saturday 12 December.
        pytest.param("partners_decision", london(2026, 12, 12, 17), id="from the partners' decision"),
        # Or, where the policy says so, from the Panel's answer on Friday 26 June: Boxing Day.
        pytest.param("panel_response", london(2026, 12, 26, 17), id="from the Panel's answer"),
    ],
)
async def test_a_case_entered_late_keeps_its_true_dates_its_breaches_and_its_review_clock(
    env, engine, policy, task_queue, clock_starts, cspr_due
):
    policy = policy.model_copy(update={"review_clock_starts": clock_starts})
    async with running_worker(env.client, engine, task_queue):
        entered = await env.get_current_time()
        case = opening(AWARE)
        handle = await start_case(env.client, task_queue, case, policy)
        assert deadline(await view(handle), "notify_panel").due_at == PANEL_DUE
        assert deadline(await view(handle), "report_to_partners").due_at == PANEL_DUE

        # The Panel was told on time (Wednesday 27 May); the partners late (Monday 1 June).
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(recipient=NotificationRecipient.panel, sent_at=london(2026, 5, 27, 11)),
            ),
        )
        await handle.execute_update(
            CaseWorkflow.record_notification,
            by(
                BUSINESS_UNIT,
                NotificationRecord(
                    recipient=NotificationRecipient.safeguarding_partners, sent_at=london(2026, 6, 1, 9)
                ),
            ),
        )
        state = await view(handle)
        on_time = deadline(state, "notify_panel")
        assert on_time.status is DeadlineStatus.met and on_time.met_on_time
        assert on_time.breached_at is None  # met in time: no breach, whenever it was typed in
        late = deadline(state, "report_to_partners")
        assert late.status is DeadlineStatus.met and late.met_on_time is False
        assert late.breached_at == PANEL_DUE  # missed at its due time, and the breach stays
        # Nothing is sent for what fell due before the case was entered.
        assert not events(state, "reminder_sent") and not events(state, "escalation_sent")

        # Information asked for on Tuesday 2 June: due 5 working days later, from then.
        asked = london(2026, 6, 2, 10)
        requested = await handle.execute_update(
            CaseWorkflow.request_information,
            by(
                BUSINESS_UNIT,
                InformationRequest(agencies=["luton-schools"], asked_for="Chronology", occurred_at=asked),
            ),
        )
        task = requested.tasks[0]
        assert task.requested_at == asked
        assert deadline(await view(handle), "agency_information_return", task.id).due_at == london(
            2026, 6, 9, 17
        )
        # A return cannot come before it was asked for, nor from the future.
        await refused(
            handle,
            CaseWorkflow.submit_return,
            by(AGENCY, InformationReturn(task_id=task.id, summary="x", occurred_at=london(2026, 6, 1, 9))),
            "before",
        )
        await refused(
            handle,
            CaseWorkflow.submit_return,
            by(
                AGENCY,
                InformationReturn(task_id=task.id, summary="x", occurred_at=entered + timedelta(days=2)),
            ),
            "future",
        )
        await handle.execute_update(
            CaseWorkflow.submit_return,
            by(
                AGENCY,
                InformationReturn(
                    task_id=task.id, summary="Attended school.", occurred_at=london(2026, 6, 8, 15)
                ),
            ),
        )
        returned = deadline(await view(handle), "agency_information_return", task.id)
        assert (
            returned.met_at == london(2026, 6, 8, 15)
            and returned.met_on_time
            and returned.breached_at is None
        )

        # The rapid review: recommended on 10 June, signed off by the partners on 12 June.
        recommended = london(2026, 6, 10, 14)
        await handle.execute_update(
            CaseWorkflow.recommend,
            by(
                JCRG_CHAIR,
                Recommendation(
                    recommendation=RecommendationKind.local_cspr,
                    methodology="Systems methodology",
                    reasons="Multi-agency practice issues.",
                    occurred_at=recommended,
                ),
            ),
        )
        await refused(
            handle,
            CaseWorkflow.sign_off,
            by(
                PARTNERS[StatutoryPartner.police],
                PartnerSignOff(
                    partner=StatutoryPartner.police,
                    agrees=True,
                    reasons="x",
                    occurred_at=london(2026, 6, 9, 9),
                ),
            ),
            "before",
        )
        decided = london(2026, 6, 12, 12)
        for partner in StatutoryPartner:
            await handle.execute_update(
                CaseWorkflow.sign_off,
                by(
                    PARTNERS[partner],
                    PartnerSignOff(partner=partner, agrees=True, reasons="Agreed.", occurred_at=decided),
                ),
            )
        await handle.execute_update(
            CaseWorkflow.inform_scrutineer,
            by(BUSINESS_UNIT, ScrutineerInformed(informed_at=london(2026, 6, 15, 9))),
        )
        await handle.execute_update(
            CaseWorkflow.send_rapid_review,
            by(BUSINESS_UNIT, RapidReviewSent(sent_at=london(2026, 6, 15, 10))),
        )
        await handle.execute_update(
            CaseWorkflow.record_panel_response,
            by(
                BUSINESS_UNIT,
                PanelResponse(
                    response=PanelResponseKind.agrees, received_at=london(2026, 6, 26, 12), reasons="Agrees."
                ),
            ),
        )
        state = await view(handle)
        for key in ("rapid_review_to_panel", "panel_response"):
            assert deadline(state, key).met_on_time and deadline(state, key).breached_at is None, key

        # Each step shows when it happened and when it was recorded.
        recommendation = events(state, "recommendation_made")[0]
        assert recommendation.occurred_at == recommended
        assert recommendation.recorded_at >= entered

        # The CSPR runs six calendar months from the partners' dated decision, not from today.
        review = env.client.get_workflow_handle(state.review_workflow_id)
        for _ in range(100):
            try:
                review_view = await review.query(ReviewWorkflow.view)
                if review_view.deadlines:
                    break
            except Exception:  # the child has not started yet
                pass
            await env.sleep(1)
        cspr = next(d for d in review_view.deadlines if d.key == "cspr_completion")
        assert cspr.started_at == (
            decided if clock_starts == "partners_decision" else london(2026, 6, 26, 12)
        )
        # At the end of the day: calendar months do not move to a working day.
        assert cspr.due_at == cspr_due
        # Open with days left when this was written (30 November 2026); overdue once that day has gone.
        now = await env.get_current_time()
        assert cspr.status is (DeadlineStatus.open if now < cspr_due else DeadlineStatus.overdue)

    with engine.connect() as connection:
        recommendation_row = connection.execute(
            select(CaseEventRow.occurred_at, CaseEventRow.recorded_at).where(
                CaseEventRow.case_reference == case.reference, CaseEventRow.kind == "recommendation_made"
            )
        ).one()
        audit = connection.execute(
            select(AuditRow.action, AuditRow.occurred_at, AuditRow.at, AuditRow.entry_key)
            .where(AuditRow.case_reference == case.reference)
            .order_by(AuditRow.id)
        ).all()
    assert recommendation_row.occurred_at == recommended and recommendation_row.recorded_at >= entered
    # One audit entry per accepted step, written by the workflow, each with its true time.
    accepted = [a for a in audit if a.entry_key is not None]
    assert len(accepted) == 2 + 1 + 1 + 1 + 3 + 1 + 1 + 1
    assert len({a.entry_key for a in accepted}) == len(accepted)
    recommend_entry = next(a for a in accepted if a.action == "POST /cases/{reference}/recommendation")
    assert recommend_entry.occurred_at == recommended and recommend_entry.at >= entered
