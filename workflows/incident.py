"""The case workflow: one durable workflow per serious incident, from intake to closure.

It holds the case file, takes every human step as an update (validated before it reaches history),
keeps the statutory deadlines with one clock, and keeps the SQL read model in step through an
activity. Intake and screening rules live here; the rapid review's rules in ``rapid_review``.
After the rapid review the case waits at the stage its signed-off outcome leads to: the CSPR and
action-plan child workflows start from ``_after_rapid_review`` (issue 3).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_due_dates
    from activities.notices import NoticeActivities
    from activities.read_model import ReadModelActivities
    from safeguarding.case import (
        NOTIFICATION_MILESTONE,
        Actor,
        Attributed,
        CaseClosure,
        CaseEvent,
        CaseOpening,
        CaseView,
        ChildStatus,
        Deadline,
        InformationRequest,
        InformationReturn,
        Milestone,
        NotificationRecipient,
        NotificationRecord,
        PanelResponse,
        PartnerSignOff,
        RapidReviewSent,
        Recommendation,
        ReferralConfirmation,
        Refusal,
        ScreeningDecision,
        ScrutineerInformed,
        Stage,
        Task,
        TaskStatus,
    )
    from safeguarding.case_file import CaseFile
    from safeguarding.contracts import CaseChanges, CaseSnapshot, DeadlineNotice, DueDateItem, DueDateRequest
    from safeguarding.policy import Policy
    from workflows import rapid_review
    from workflows.deadlines import DeadlineBook, Notice
    from workflows.rapid_review import Reached, check_happened, fmt

# Non-identifying fields only: search attributes are not encrypted.
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_PARTNERSHIP = SearchAttributeKey.for_keyword("CasePartnership")
SEARCH_ATTRIBUTES = [CASE_STAGE, CASE_PARTNERSHIP]

# How long a step waits for the read model before answering anyway (the write carries on).
READ_MODEL_WAIT = timedelta(seconds=5)
RETRY_FOREVER = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))

POST_RAPID_REVIEW = {Stage.local_review, Stage.other_review, Stage.learning_actions, Stage.national_review}


def workflow_id_for(reference: str) -> str:
    return f"case-{reference}"


class CaseStart(BaseModel):
    """The workflow's input: the opening facts and the policy the case keeps for its whole life."""

    opening: CaseOpening
    policy: Policy
    opened_by: Actor


class CaseOutcome(BaseModel):
    reference: str
    outcome: str | None
    closed_at: datetime | None


class StepOutcome(BaseModel):
    """What an accepted step changed: its events, and the tasks and deadlines it touched."""

    reference: str
    stage: Stage
    events: list[CaseEvent]
    tasks: list[Task]
    deadlines: list[Deadline]


# ---------------------------------------------------------------- intake rules (pure)


def check_referral_confirmation(file: CaseFile, confirmation: ReferralConfirmation, now: datetime) -> None:
    if not file.is_referral:
        raise Refusal(
            "only a referral is confirmed in writing; this case came as a serious incident notification"
        )
    if file.referral_confirmed_at is not None:
        raise Refusal(
            f"the referral was already recorded as confirmed in writing at {fmt(file.referral_confirmed_at)}"
        )
    check_happened(
        confirmation.confirmed_at, now, "the confirmation", file.opening.referred_at, "the referral"
    )


def check_screening(file: CaseFile) -> None:
    if file.stage is not Stage.screening:
        raise Refusal(f"case {file.reference} is not awaiting screening (stage {file.stage.value})")


def check_notification(file: CaseFile, record: NotificationRecord, now: datetime) -> None:
    recipient = record.recipient
    if recipient.value in file.notifications:
        raise Refusal(
            f"{recipient.value} was already recorded as notified at {fmt(file.notifications[recipient.value])}"
        )
    if (
        recipient in (NotificationRecipient.panel, NotificationRecipient.safeguarding_partners)
        and not file.notifiable
    ):
        if file.stage is Stage.screening:
            raise Refusal(
                f"record the screening decision first: {recipient.value} is notified of a referral only once it meets the criteria"
            )
        raise Refusal(
            f"the referral was screened out; {recipient.value} is notified only of serious incidents"
        )
    check_happened(
        record.sent_at,
        now,
        "the time of the notification",
        file.opening.la_aware_at,
        "the local authority became aware",
    )


def check_closure(file: CaseFile) -> None:
    if file.stage is Stage.closed:
        raise Refusal(f"case {file.reference} is already closed")
    care_leaver_death = file.opening.child_status is ChildStatus.care_leaver and file.opening.child_died
    if file.stage not in POST_RAPID_REVIEW and not care_leaver_death:
        raise Refusal(
            f"case {file.reference} is at stage {file.stage.value}: a case closes after its rapid review is concluded"
        )


# ---------------------------------------------------------------- the workflow


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, start: CaseStart) -> None:
        self.file = CaseFile.open(start.opening, start.policy, workflow.info().workflow_id, workflow.now())
        self.book = DeadlineBook(self.file.deadlines)
        self._opened_by = start.opened_by
        self._lock = asyncio.Lock()
        self._ready = False
        self._wake = False
        self._projected_version = 0
        self._projected_events = 0

    @workflow.run
    async def run(self, start: CaseStart) -> CaseOutcome:
        opening = self.file.opening
        now = workflow.now()
        self._log("case opened", route=opening.route.value, policy_version=self.file.policy.version)
        async with self._lock:
            self.file.record(
                "case_opened",
                now,
                actor=self._opened_by,
                occurred_at=opening.la_aware_at,
                route=opening.route.value,
                policy_version=self.file.policy.version,
                stage=self.file.stage.value,
            )
            reached: list[Reached] = [(Milestone.case_opened, opening.la_aware_at, None)]
            if self.file.notifiable:
                reached.append((Milestone.incident_notifiable, opening.la_aware_at, None))
            if opening.referred_at is not None:
                reached.append((Milestone.referral_made, opening.referred_at, None))
            await self._reach(reached)
            self._publish_stage()
        self._ready = True
        projector = asyncio.create_task(self._project_continuously())

        await self._keep_deadlines()

        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: self._projected_version >= self.file.version)
        projector.cancel()
        self._log("case workflow complete", outcome=self.file.outcome)
        return CaseOutcome(
            reference=self.file.reference, outcome=self.file.outcome, closed_at=self.file.closed_at
        )

    # ------------------------------------------------------------ queries

    @workflow.query
    def view(self) -> CaseView:
        """GET /cases/{ref}: the live case, for the Business Unit, the JCRG and managers."""
        return self.file.view()

    @workflow.update
    async def await_opened(self) -> CaseView:
        """POST /incidents: answers once the case is open, its first deadlines computed and recorded.

        Changes nothing; it lets the API return the case as it stands rather than half-opened.
        """
        await workflow.wait_condition(lambda: self._ready)
        target = self.file.version
        await self._await_read_model(target)
        return self.file.view()

    @workflow.query
    def opening(self) -> CaseOpening:
        """POST /incidents: what the case was opened with, to tell a repeated request from a clash."""
        return self.file.opening

    # ------------------------------------------------------------ intake and screening

    @workflow.update
    async def confirm_referral(self, step: Attributed[ReferralConfirmation]) -> StepOutcome:
        """Business Unit: the referring agency's written confirmation of its referral arrived."""
        async with self._step() as changes:
            check_referral_confirmation(self.file, step.decision, workflow.now())
            self.file.referral_confirmed_at = step.decision.confirmed_at
            changes.record(
                "referral_confirmed",
                actor=step.actor,
                occurred_at=step.decision.confirmed_at,
                note=step.decision.note,
            )
            await changes.reach([(Milestone.referral_confirmed, step.decision.confirmed_at, None)])
        return changes.outcome

    @confirm_referral.validator
    def _validate_confirm_referral(self, step: Attributed[ReferralConfirmation]) -> None:
        self._validate(check_referral_confirmation, self.file, step.decision, workflow.now())

    @workflow.update
    async def screen(self, step: Attributed[ScreeningDecision]) -> StepOutcome:
        """JCRG / Business Unit: does the referral meet the serious incident notification criteria?"""
        async with self._step() as changes:
            check_screening(self.file)
            decision = step.decision
            self.file.screening = decision
            changes.record(
                "screened",
                actor=step.actor,
                reasons=decision.reasons,
                criteria_met=decision.criteria_met,
                learning_route=decision.learning_route.value if decision.learning_route else None,
            )
            if decision.criteria_met:
                self.file.stage = Stage.rapid_review
                await changes.reach([(Milestone.incident_notifiable, self.file.opening.la_aware_at, None)])
            else:
                self._close(changes, outcome=f"screened_out:{decision.learning_route.value}")  # type: ignore[union-attr]
        return changes.outcome

    @screen.validator
    def _validate_screen(self, step: Attributed[ScreeningDecision]) -> None:
        self._validate(check_screening, self.file)

    @workflow.update
    async def record_notification(self, step: Attributed[NotificationRecord]) -> StepOutcome:
        """Business Unit: the Panel, the partners, the Secretary of State or Ofsted was notified."""
        async with self._step() as changes:
            check_notification(self.file, step.decision, workflow.now())
            record = step.decision
            self.file.notifications[record.recipient.value] = record.sent_at
            changes.record(
                "notification_recorded",
                actor=step.actor,
                occurred_at=record.sent_at,
                recipient=record.recipient.value,
                reference=record.reference,
            )
            await changes.reach([(NOTIFICATION_MILESTONE[record.recipient], record.sent_at, None)])
        return changes.outcome

    @record_notification.validator
    def _validate_record_notification(self, step: Attributed[NotificationRecord]) -> None:
        self._validate(check_notification, self.file, step.decision, workflow.now())

    # ------------------------------------------------------------ rapid review

    @workflow.update
    async def request_information(self, step: Attributed[InformationRequest]) -> StepOutcome:
        """Business Unit: ask named agencies for their information; each gets a task with a due date."""
        async with self._step() as changes:
            rapid_review.check_information_request(self.file, step.decision)
            created = rapid_review.apply_information_request(
                self.file, step.actor, step.decision, workflow.now()
            )
            await changes.reach([reached for _, reached in created])
            for task, _ in created:
                deadline = next((d for d in self.file.deadlines if d.subject == task.id), None)
                task.due_at = deadline.due_at if deadline else None
                changes.tasks.append(task)
        return changes.outcome

    @request_information.validator
    def _validate_request_information(self, step: Attributed[InformationRequest]) -> None:
        self._validate(rapid_review.check_information_request, self.file, step.decision)

    @workflow.update
    async def submit_return(self, step: Attributed[InformationReturn]) -> StepOutcome:
        """Partner agency: submit the information return of one of its tasks."""
        async with self._step() as changes:
            reached = rapid_review.apply_information_return(
                self.file, step.actor, step.decision, workflow.now()
            )
            changes.tasks.append(self.file.task(step.decision.task_id))  # type: ignore[arg-type]
            await changes.reach([reached])
        return changes.outcome

    @submit_return.validator
    def _validate_submit_return(self, step: Attributed[InformationReturn]) -> None:
        self._validate(rapid_review.check_information_return, self.file, step.decision)

    @workflow.update
    async def recommend(self, step: Attributed[Recommendation]) -> StepOutcome:
        """JCRG: the rapid review's recommendation, with the reasons for it."""
        async with self._step() as changes:
            rapid_review.check_recommendation(self.file, step.decision)
            rapid_review.apply_recommendation(self.file, step.actor, step.decision, workflow.now())
        return changes.outcome

    @recommend.validator
    def _validate_recommend(self, step: Attributed[Recommendation]) -> None:
        self._validate(rapid_review.check_recommendation, self.file, step.decision)

    @workflow.update
    async def sign_off(self, step: Attributed[PartnerSignOff]) -> StepOutcome:
        """Safeguarding partner (local authority, police or ICB): agree to the recommendation or return it."""
        async with self._step() as changes:
            rapid_review.check_sign_off(self.file, step.decision)
            rapid_review.apply_sign_off(self.file, step.actor, step.decision, workflow.now())
        return changes.outcome

    @sign_off.validator
    def _validate_sign_off(self, step: Attributed[PartnerSignOff]) -> None:
        self._validate(rapid_review.check_sign_off, self.file, step.decision)

    @workflow.update
    async def inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> StepOutcome:
        """Business Unit: the Independent Scrutineer was informed of the signed-off decision."""
        async with self._step() as changes:
            rapid_review.check_scrutineer_informed(self.file, step.decision, workflow.now())
            rapid_review.apply_scrutineer_informed(self.file, step.actor, step.decision, workflow.now())
        return changes.outcome

    @inform_scrutineer.validator
    def _validate_inform_scrutineer(self, step: Attributed[ScrutineerInformed]) -> None:
        self._validate(rapid_review.check_scrutineer_informed, self.file, step.decision, workflow.now())

    @workflow.update
    async def send_rapid_review(self, step: Attributed[RapidReviewSent]) -> StepOutcome:
        """Business Unit: the signed-off rapid review was sent to the Panel."""
        async with self._step() as changes:
            rapid_review.check_sent(self.file, step.decision, workflow.now())
            reached = rapid_review.apply_sent(self.file, step.actor, step.decision, workflow.now())
            await changes.reach([reached])
        return changes.outcome

    @send_rapid_review.validator
    def _validate_send_rapid_review(self, step: Attributed[RapidReviewSent]) -> None:
        self._validate(rapid_review.check_sent, self.file, step.decision, workflow.now())

    @workflow.update
    async def record_panel_response(self, step: Attributed[PanelResponse]) -> StepOutcome:
        """Business Unit: the Panel agreed, challenged, or decided to take a national review."""
        async with self._step() as changes:
            rapid_review.check_panel_response(self.file, step.decision, workflow.now())
            reached = rapid_review.apply_panel_response(self.file, step.actor, step.decision, workflow.now())
            await changes.reach([reached])
            if self.file.stage is not Stage.rapid_review:
                self._after_rapid_review()
        return changes.outcome

    @record_panel_response.validator
    def _validate_record_panel_response(self, step: Attributed[PanelResponse]) -> None:
        self._validate(rapid_review.check_panel_response, self.file, step.decision, workflow.now())

    def _after_rapid_review(self) -> None:
        """The rapid review is concluded and the case waits at its outcome's stage.

        Issue 3 starts the CSPR (local_review), the other review, or the action plan from here as
        child workflows; until then the case stays open at that stage until it is closed.
        """
        self._log("rapid review concluded", outcome=self.file.outcome, stage=self.file.stage.value)

    # ------------------------------------------------------------ closure

    @workflow.update
    async def close_case(self, step: Attributed[CaseClosure]) -> StepOutcome:
        """Business Unit: close the case, with reasons. Open tasks are withdrawn."""
        async with self._step() as changes:
            check_closure(self.file)
            changes.record("closure_decided", actor=step.actor, reasons=step.decision.reasons)
            self._close(changes, outcome=self.file.outcome or "closed")
        return changes.outcome

    @close_case.validator
    def _validate_close_case(self, step: Attributed[CaseClosure]) -> None:
        self._validate(check_closure, self.file)

    def _close(self, changes: _Changes, outcome: str) -> None:
        now = workflow.now()
        for task in self.file.tasks:
            if task.status is TaskStatus.open:
                task.status = TaskStatus.withdrawn
                for deadline in self.book.cancel(task.id, "the case was closed"):
                    changes.record(
                        "deadline_cancelled",
                        deadline=deadline.id,
                        key=deadline.key,
                        reason="the case was closed",
                    )
                changes.tasks.append(task)
        self.file.stage = Stage.closed
        self.file.outcome = outcome
        self.file.closed_at = now
        changes.record("case_closed", outcome=outcome)
        # Statutory notifications still owed (a looked after child's death, say) keep the case's
        # clock running until they are recorded; the workflow ends when nothing is owed.

    # ------------------------------------------------------------ machinery

    def _validate(self, check, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            check(*args)
        except Refusal as refusal:
            raise _refusal_error(refusal) from None

    @asynccontextmanager
    async def _step(self) -> AsyncIterator[_Changes]:
        """One human step: serialised with the others, refused cleanly, projected before answering."""
        await workflow.wait_condition(lambda: self._ready)
        stage_before = self.file.stage
        async with self._lock:
            changes = _Changes(self)
            try:
                yield changes
            except Refusal as refusal:
                # The state moved between validation and execution (another step got in first).
                raise _refusal_error(refusal) from None
            if self.file.stage is not stage_before:
                self._publish_stage()
        self._wake = True
        await self._await_read_model(self.file.version)

    async def _await_read_model(self, version: int) -> None:
        """Answer once the read model has this version, or after READ_MODEL_WAIT if it lags."""
        try:
            await workflow.wait_condition(
                lambda: self._projected_version >= version,
                timeout=READ_MODEL_WAIT,
                timeout_summary="read model catch-up",
            )
        except TimeoutError:
            self._log("read model behind; answering anyway", version=version)

    async def _reach(self, reached: list[Reached]) -> list[Deadline]:
        """Milestones reached: meet the deadlines they satisfy, then open the ones they start."""
        now = workflow.now()
        touched: list[Deadline] = []
        for milestone, at, subject in reached:
            for deadline in self.book.meet(milestone, subject, at):
                self.file.record(
                    "deadline_met",
                    now,
                    occurred_at=at,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                    on_time=deadline.met_on_time,
                )
                touched.append(deadline)
        policy = self.file.policy
        facts = self.file.opening.facts()
        starting = [
            (key, rule, at, subject)
            for milestone, at, subject in reached
            for key, rule in policy.rules_started_by(milestone, facts)
        ]
        if not starting:
            return touched
        due_dates = await workflow.execute_activity(
            compute_due_dates,
            DueDateRequest(
                timezone=policy.timezone,
                working_days=policy.working_days,
                items=[
                    DueDateItem(started_at=at, due=rule.due, reminders=rule.reminders)
                    for _, rule, at, _ in starting
                ],
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY_FOREVER,
        )
        for (key, rule, at, subject), due in zip(starting, due_dates, strict=True):
            deadline = self.book.open(
                key, rule, policy.escalation_for(rule), at, due.due_at, due.reminder_times, subject, now
            )
            self.file.record(
                "deadline_opened",
                now,
                deadline=deadline.id,
                key=key,
                subject=subject,
                started_at=at.isoformat(),
                due_at=deadline.due_at.isoformat(),
            )
            touched.append(deadline)
        return touched

    async def _keep_deadlines(self) -> None:
        """The case's one clock: sleep until something is owed, send it, until nothing is left."""
        while not self._finished():
            moment = self.book.next_moment()
            now = workflow.now()
            if moment is not None and moment <= now:
                await self._send_owed(now)
                continue
            self._wake = False
            try:
                await workflow.wait_condition(
                    lambda: self._wake or self._finished(),
                    timeout=None if moment is None else moment - now,
                    timeout_summary="next deadline reminder or due time",
                )
            except TimeoutError:
                pass

    def _finished(self) -> bool:
        return self.file.stage is Stage.closed and not self.book.live()

    async def _send_owed(self, now: datetime) -> None:
        for notice in self.book.owed(now):
            deadline = notice.deadline
            if notice.kind == "escalation":
                self.file.record(
                    "deadline_missed",
                    now,
                    deadline=deadline.id,
                    key=deadline.key,
                    due_at=deadline.due_at.isoformat(),
                )
                self._log("deadline missed", deadline=deadline.key, due_at=deadline.due_at.isoformat())
            self.file.record(
                f"{notice.kind}_sent",
                now,
                deadline=deadline.id,
                key=deadline.key,
                recipients=notice.recipients,
                number=notice.number,
            )
            await workflow.execute_activity_method(
                NoticeActivities.dispatch_notice,
                self._notice(notice),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RETRY_FOREVER,
            )

    def _notice(self, notice: Notice) -> DeadlineNotice:
        deadline = notice.deadline
        task = self.file.task(deadline.subject) if deadline.subject else None
        return DeadlineNotice(
            idempotency_key=f"{self.file.workflow_id}:{deadline.id}:{notice.kind}:{notice.number}",
            case_reference=self.file.reference,
            kind=notice.kind,
            deadline_id=deadline.id,
            deadline_key=deadline.key,
            deadline_title=deadline.title,
            subject=deadline.subject,
            due_at=deadline.due_at,
            recipients=notice.recipients,
            owning_agency=task.agency if task else None,
        )

    async def _project_continuously(self) -> None:
        """Keeps the read model in step: each write carries every event not yet written."""
        while True:
            await workflow.wait_condition(lambda: self.file.version > self._projected_version)
            version = self.file.version
            events = self.file.history[self._projected_events :]
            await workflow.execute_activity_method(
                ReadModelActivities.record_case_changes,
                CaseChanges(version=version, snapshot=self._snapshot(), events=events),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RETRY_FOREVER,
            )
            self._projected_version = version
            self._projected_events += len(events)

    def _snapshot(self) -> CaseSnapshot:
        file = self.file
        return CaseSnapshot(
            reference=file.reference,
            workflow_id=file.workflow_id,
            partnership=file.opening.partnership,
            policy_version=file.policy.version,
            route=file.opening.route.value,
            stage=file.stage.value,
            outcome=file.outcome,
            opened_at=file.opened_at,
            closed_at=file.closed_at,
            deadlines=file.deadlines,
            tasks=[t.model_copy(update={"summary": None, "documents": []}) for t in file.tasks],
        )

    def _publish_stage(self) -> None:
        workflow.upsert_search_attributes(
            [
                CASE_STAGE.value_set(self.file.stage.value),
                CASE_PARTNERSHIP.value_set(self.file.opening.partnership),
            ]
        )
        self._log("case stage", stage=self.file.stage.value)

    def _log(self, message: str, **fields: object) -> None:
        # The case reference and non-identifying fields only: never the summary or reasons.
        workflow.logger.info(message, extra={"case_reference": self.file.reference, **fields})


class _Changes:
    """What one step changed, collected for its answer."""

    def __init__(self, case: CaseWorkflow) -> None:
        self._case = case
        self._first_event = len(case.file.history)
        self.tasks: list[Task] = []
        self.deadlines: list[Deadline] = []

    def record(self, kind: str, **kwargs: object) -> None:
        self._case.file.record(kind, workflow.now(), **kwargs)  # type: ignore[arg-type]

    async def reach(self, reached: list[Reached]) -> None:
        self.deadlines.extend(await self._case._reach(reached))

    @property
    def outcome(self) -> StepOutcome:
        file = self._case.file
        return StepOutcome(
            reference=file.reference,
            stage=file.stage,
            events=file.history[self._first_event :],
            tasks=self.tasks,
            deadlines=self.deadlines,
        )


def _refusal_error(refusal: Refusal) -> ApplicationError:
    return ApplicationError(refusal.reason, type=refusal.kind.value, non_retryable=True)
