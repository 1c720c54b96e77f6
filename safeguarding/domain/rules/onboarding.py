"""A case's past history replayed on the process rules before anything is imported: every step checked
and applied in order, as the workflows will take it, so that a row is imported wholly or not at all.

Each step goes through what its workflow update does (``workflows/incident.py``, ``review.py``,
``action_plan.py``): the table of steps says who may take it, ``step_time`` when it happened, its
``check_*`` whether the case allows it then, and its ``apply_*`` changes the record. The review and the
action plan begin as the case workflow begins them when the rapid review concludes, with their own
records. Deadlines open and are met as the workflows' clock does, with due dates from the function the
importer passes (the ``compute_due_dates`` activity's own); no check reads a due date, so without it
(pure tests) every deadline is taken to fall due when it starts.

What the clock does as time passes (reminders, breaches, checkpoint tasks) is not replayed: steps on a
checkpoint's task are for after the import.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from safeguarding.domain import steps as table
from safeguarding.domain.action_plan import PlanFile, PlannedRecommendation, ReviewRecommendations
from safeguarding.domain.case import CaseFile, NotificationRecord, Stage
from safeguarding.domain.contracts import DueDateItem, DueDateRequest, DueDates
from safeguarding.domain.dates import local_date, noon_utc
from safeguarding.domain.deadlines import DeadlineStatus
from safeguarding.domain.events import EventKind
from safeguarding.domain.milestones import Milestone, Reached
from safeguarding.domain.onboarding import CaseToImport, ImportStep, RowRefused
from safeguarding.domain.people import Actor
from safeguarding.domain.policy import Policy
from safeguarding.domain.record import (
    Stream,
    stream_workflow_id,
    workflow_id_for,
)
from safeguarding.domain.refusal import Refusal
from safeguarding.domain.review import ReviewFile, ReviewKind, ReviewStage
from safeguarding.domain.rules import action_plan as plan_rules
from safeguarding.domain.rules import contributions, intake, rapid_review, review, review_scope, tasks
from safeguarding.domain.rules.common import CLOCK_TOLERANCE, check_happened, day_words, fmt
from safeguarding.domain.rules.replay_parts import (
    PlannedStep,
    Replayed,
    StreamReplay,
    actor_for,
    due_when_started,
)
from safeguarding.domain.rules.step_rules import CASE_RULES, PLAN_RULES, REVIEW_RULES
from safeguarding.domain.tasks import TaskStatus

DueDateCalculator = Callable[[DueDateRequest], list[DueDates]]


class HistoryReplay:
    """A case opened as its workflow opens it, then its history step by step."""

    def __init__(
        self,
        case: CaseToImport,
        policy: Policy,
        importer: Actor,
        now: datetime,
        due_dates: DueDateCalculator | None = None,
    ) -> None:
        opening = case.opening
        self.source = case
        self.importer = importer
        self.now = now
        self.due_dates = due_dates or due_when_started
        self.dated = due_dates is not None  # due dates from the calendar: lateness can be told
        self.case = CaseFile.open(
            opening, policy, now, workflow_id_for(opening.partnership, opening.reference)
        )
        self.case_stream = StreamReplay(
            self.case, lambda: (opening.la_aware_at, "the local authority became aware"), self
        )
        self.review: ReviewFile | None = None
        self.review_stream: StreamReplay | None = None
        self.plan: PlanFile | None = None
        self.plan_stream: StreamReplay | None = None
        self._followed_up = False
        self._review_told = False
        self._decided: ReviewKind | None = None  # the review begun on the partners' decision is for
        self._open()
        self._follow_up()  # learning from elsewhere opens straight at its plan

    # ------------------------------------------------------------ opening, as CaseWorkflow.run

    def _open(self) -> None:
        file, opening, now = self.case, self.case.opening, self.now
        opener = self.importer.acting_in(opening.partnership)
        file.record(EventKind.case_opened, now, actor=opener, occurred_at=opening.la_aware_at)
        reached: list[Reached] = [(Milestone.case_opened, opening.la_aware_at, None)]
        if file.notifiable:
            reached.append((Milestone.incident_notifiable, opening.la_aware_at, None))
        if opening.referred_at is not None:
            reached.append((Milestone.referral_made, opening.referred_at, None))
        self.case_stream.reach(reached)
        for recipient, sent_at in sorted(opening.notified.items(), key=lambda item: item[1]):
            made = NotificationRecord(recipient=recipient, sent_at=sent_at)
            self.case_stream.reach(intake.apply_notification(file, opener, made, now))
        if opening.contributors:
            asked, reached = contributions.open_contributions(file, now)
            self.case_stream.reach(reached)
            for task in asked:
                tasks.announce(file, task)

    # ------------------------------------------------------------ the history

    def run(self) -> Replayed:
        planned: list[PlannedStep] = []
        before: ImportStep | None = None
        for item in self.source.history:
            try:
                self._in_order(item, before)
                actor = actor_for(item, self.importer, self.source.partnership)
                body = self._named_task(item, actor)
                self._take(item.step, actor, body)
            except Refusal as refusal:
                raise RowRefused(refusal.reason, item.index, item.name) from None
            planned.append(PlannedStep(item, body, actor))
            before = item
        return Replayed(
            steps=planned,
            stage=self.case.stage.value,
            review_stage=self.review.stage.value if self.review else None,
            plan_status=self.plan.status if self.plan else None,
            late=self._late() if self.dated else [],
        )

    def _when(self, item: ImportStep) -> datetime | date:
        when = item.when
        return self.now if when is None else when

    def _in_order(self, item: ImportStep, before: ImportStep | None) -> None:
        """The history is listed in the order it happened, and nothing in it is in the future."""
        when = self._when(item)
        if isinstance(when, datetime):
            check_happened(when, self.now, "the step")
        if before is None:
            return
        earlier = self._when(before)
        if isinstance(when, datetime) and isinstance(earlier, datetime):
            wrong = when < earlier - CLOCK_TOLERANCE
        else:
            wrong = self._day(when) < self._day(earlier)
        if wrong:
            raise Refusal(
                f"it happened ({self._words(when)}) before the step listed ahead of it, "
                f"history[{before.index}] ({before.name}, {self._words(earlier)}): list the history in the "
                "order it happened"
            )

    def _day(self, when: datetime | date) -> date:
        return local_date(when, self.case.policy.timezone) if isinstance(when, datetime) else when

    def _words(self, when: datetime | date) -> str:
        if when is self.now:
            return "at the import, having no date"
        return fmt(when) if isinstance(when, datetime) else day_words(when)

    def _named_task(self, item: ImportStep, actor: Actor) -> BaseModel:
        """A return or withdrawal named by agency: that agency's open information request."""
        if item.task_agency is None:
            return item.body
        asking = actor.partnership or self.case.partnership
        task = next(
            (
                t
                for t in self.case.tasks
                if t.agency == item.task_agency
                and t.kind == "information_return"
                and t.status is TaskStatus.open
                and self.case.task_partnership(t) == asking
            ),
            None,
        )
        if task is None:
            raise Refusal(f"no information request to {item.task_agency} is open at this point")
        return item.body.model_copy(update={"task_id": task.id})

    def _take(self, step: table.Step, actor: Actor, body: BaseModel) -> None:
        if step.process is table.Process.case:
            self._case_step(step, actor, body)
            self._follow_decision()
            self._follow_up()
        elif step.process is table.Process.review:
            if self.review_stream is None:
                raise Refusal(self._not_begun("review"))
            self._review_step(step, actor, body)
            self._after_review()
            self._after_plan()
        else:
            if self.plan_stream is None:
                raise Refusal(self._not_begun("action plan"))
            self._plan_step(step, actor, body)
            self._after_plan()

    def _not_begun(self, what: str) -> str:
        if self.review is not None and what == "action plan":
            return (
                "the action plan begins when the review is finished (it takes the review's recommendations); "
                f"the review is at stage {self.review.stage.value}"
            )
        return (
            f"the case has no {what} at this point: it begins when the partners sign off a review, or when "
            f"the rapid review concludes with the Panel's response (the case is at stage {self.case.stage.value})"
        )

    # ------------------------------------------------------------ the case's steps, as CaseWorkflow's updates

    def _case_step(self, step: table.Step, actor: Actor, d: Any) -> None:
        s, f, now = self.case_stream, self.case, self.now
        check, apply = CASE_RULES[step.update]
        at = s.check(step, actor, d, check)
        f.recording(now)
        try:
            if step is table.REQUEST_INFORMATION:
                asked, reached = rapid_review.apply_information_request(f, actor, d, at)
                s.reach(reached)
                for task in asked:
                    tasks.announce(f, task)
            elif step in (table.INFORM_SCRUTINEER, table.RECORD_PANEL_RESPONSE, table.SEND_CONTRIBUTION):
                s.reach(apply(f, actor, d, now))  # these record their own date, at the time they are sent
                if step is table.RECORD_PANEL_RESPONSE:
                    rapid_review.conclude(f, now)
                if step is table.SEND_CONTRIBUTION:
                    contributions.close_contribution(f, now)
            else:
                s.reach(apply(f, actor, d, at) or [])
        finally:
            f.recording(None)

    def _follow_decision(self) -> None:
        """As the case workflow's ``_review_on_partners_decision``: while the Panel has not answered, the
        review begins on the partners' signed-off decision and follows it when it changes."""
        f = self.case
        if f.stage is not Stage.rapid_review or f.rapid_review.signed_off_at is None:
            return
        wanted = intake.review_on_partners_decision(f)
        if self.review is None and wanted is not None:
            self._begin_review(wanted)
        elif self.review is not None and wanted != self._decided:
            self._rescope(wanted, "the partners signed off a reconsidered decision", final=False)
        self._decided = wanted

    def _rescope(self, kind: ReviewKind | None, reason: str, final: bool) -> None:
        assert self.review is not None and self.review_stream is not None
        change = review_scope.change_for(
            self.case, kind, reason, final, intake.review_decided_at(self.case) or self.now
        )
        reached, duties = review_scope.apply_rescope(self.review, change, self.now)
        self.review_stream.reach(reached)
        for duty in duties:
            tasks.announce(self.review, duty)

    def _follow_up(self) -> None:
        """As the case workflow's ``_review_and_plan_side_by_side``: the plan of the immediate learning
        actions (whatever was recommended) and the review decided on, side by side."""
        f = self.case
        if (
            f.stage is Stage.closed
            and self.review is not None
            and self.review.stage is not ReviewStage.finished
        ):
            self._rescope(None, "the case was closed before the rapid review concluded", final=True)
        if self._followed_up or f.stage not in intake.FOLLOWED_UP:
            return
        self._followed_up = True
        kind = intake.review_kind(f)
        recommendation = f.rapid_review.recommendation
        immediate = [
            PlannedRecommendation(text=t, source="rapid_review")
            for t in (recommendation.learning_actions if recommendation else [])
        ]
        concluded = f.rapid_review.panel_responded_at or f.rapid_review.signed_off_at
        source = f.opening.learning_source
        if source is not None:
            immediate = [
                PlannedRecommendation(text=t, source=source.kind.value) for t in source.recommendations
            ]
            concluded = f.opening.la_aware_at
        if immediate:
            self._begin_plan(immediate, concluded, kind.value if kind is not None else None)
        if self.review is not None:  # begun on the partners' decision: it follows the rapid review's outcome
            if kind is None:
                self._rescope(None, "the rapid review concluded with no review", final=True)
                self._after_review()
            elif kind is not self._decided:
                self._rescope(kind, "the Panel's answer to the rapid review", final=False)
        elif kind is not None:
            self._begin_review(kind)
        elif not immediate:
            intake.close(f, f.outcome or "closed", self.now)

    def _begin_review(self, kind: ReviewKind) -> None:
        f, now = self.case, self.now
        recommendation = f.rapid_review.recommendation
        f.review_workflow_id = stream_workflow_id(f.workflow_id, Stream.review)
        self.review = ReviewFile(
            reference=f.reference,
            stream=Stream.review,
            workflow_id=f.review_workflow_id,
            policy=f.policy,
            facts={**f.facts, "review_kind": kind.value},
            kind=kind,
            # The partners' dated decision, as the case workflow's ``_review_decided_at``.
            decided_at=intake.review_decided_at(f) or now,
            started_at=now,
            methodology=recommendation.methodology if recommendation else None,
            review_type=recommendation.review_type.value
            if recommendation and recommendation.review_type
            else None,
            joint_with_adults_board=bool(recommendation and recommendation.joint_with_adults_board),
        )
        file = self.review
        self.review_stream = StreamReplay(
            file, lambda: (file.decided_at, "the decision to hold the review"), self
        )
        reached, duties = review_scope.commission(file, now)
        self.review_stream.reach(reached)
        for duty in duties:
            tasks.announce(file, duty)

    def _begin_plan(
        self, planned: list[PlannedRecommendation], began_at: datetime | None, awaiting_review: str | None
    ) -> None:
        """As the case workflow's ``_action_plan``: the plan begins at the dated end of what led to it."""
        f, now = self.case, self.now
        f.plan_workflow_id = stream_workflow_id(f.workflow_id, Stream.plan)
        self.plan = PlanFile(
            reference=f.reference,
            stream=Stream.plan,
            workflow_id=f.plan_workflow_id,
            policy=f.policy,
            facts=f.facts,
        )
        plan = self.plan
        self.plan_stream = StreamReplay(plan, lambda: (plan.began_at, "the start of the action plan"), self)
        began = began_at if began_at is not None and began_at < now else None
        plan.record(EventKind.action_plan_opened, now, occurred_at=began)
        plan.awaiting_review = awaiting_review
        for recommendation in planned:
            plan_rules.add_recommendation(plan, recommendation.text, recommendation.source, None, now)

    # ------------------------------------------------------------ the review's steps, as ReviewWorkflow's updates

    def _review_step(self, step: table.Step, actor: Actor, d: Any) -> None:
        s, file, now = self.review_stream, self.review, self.now
        assert s is not None and file is not None
        check, apply = REVIEW_RULES[step.update]
        at = s.check(step, actor, d, check)
        file.recording(now)
        try:
            if step is table.SEND_COPY:
                reached = review.apply_copy_sent(file, actor, d, at)
                notice = DueDateItem(started_at=noon_utc(d.sent_on), due=file.policy.publication_notice)
                (dates,) = self.due_dates(s._request([notice]))
                review.publication_notice_given(file, dates.due_at.date())
                s.reach(reached)
            elif step is table.RESTART_CLOCK:
                review.apply_clock_restarted(file, actor, d, at)
                review.clock_moved_on(file, self._resume(s, at))
            else:
                s.reach(apply(file, actor, d, at))
                review.wind_up(file, at)
        finally:
            file.recording(None)

    def _resume(self, s: StreamReplay, at: datetime) -> int:
        """As the clock's ``_resume_clock``: paused deadlines move on by the days stopped."""
        resumed = [d for d in s.book.live() if d.paused_since is not None]
        if not resumed:
            return 0
        zone = ZoneInfo(s.record.policy.timezone)
        days = (at.astimezone(zone).date() - resumed[0].paused_since.astimezone(zone).date()).days  # type: ignore[union-attr]
        for deadline in resumed:
            deadline.original_due_at = deadline.original_due_at or deadline.due_at
            deadline.due_at += timedelta(days=days)
            deadline.paused_since = None
            deadline.paused_days += days
        return days

    def _after_review(self) -> None:
        """As the case workflow: the review's agreed recommendations (at its final report, or none at its
        end) join the plan, or open one; a case with neither closes when its review and plan are done."""
        file = self.review
        if file is None or self._review_told:
            return
        if not file.recommendations and file.stage is not ReviewStage.finished:
            return
        self._review_told = True
        agreed = ReviewRecommendations(
            kind=file.kind.value, recommendations=list(file.recommendations), agreed_at=self.now
        )
        if self.plan is not None:
            plan_rules.take_review_recommendations(self.plan, agreed, self.now)
        elif file.recommendations:
            planned = [PlannedRecommendation(text=t, source=file.kind.value) for t in file.recommendations]
            self._begin_plan(planned, self._agreed_at(file), None)
        self._after_plan()

    def _agreed_at(self, file: ReviewFile) -> datetime | None:
        """When the review's recommendations were agreed: its final report (or the Panel's), as dated."""
        agreed = next(
            (
                e
                for e in reversed(file.history)
                if e.kind in (EventKind.final_report, EventKind.panel_report_received)
            ),
            None,
        )
        return (agreed.occurred_at or agreed.recorded_at) if agreed else file.finished_at

    # ------------------------------------------------------------ the action plan's steps

    def _plan_step(self, step: table.Step, actor: Actor, d: Any) -> None:
        s, plan, now = self.plan_stream, self.plan, self.now
        assert s is not None and plan is not None
        check, apply = PLAN_RULES[step.update]
        at = s.check(step, actor, d, check)
        plan.recording(now)
        try:
            if step is table.ADD_ACTION:
                s.reach(plan_rules.apply_add_action(plan, actor, d, at))
                plan_rules.announce_action(plan, plan.actions[-1])
            elif step is table.REDATE_ACTION:
                action = plan_rules.find_action(plan, d.action_id)
                s.redate(action.task_id, d.due_on)
                plan_rules.apply_redate_action(plan, actor, d, at)
            else:
                s.reach(apply(plan, actor, d, at))
        finally:
            plan.recording(None)

    def _after_plan(self) -> None:
        """The case closes once its plan (if any) is closed and its review (if any) finished."""
        if self.case.stage is Stage.closed:
            return
        review_done = self.review is None or self.review.stage is ReviewStage.finished
        plan_done = self.plan is None or self.plan.status == "closed"
        if review_done and plan_done and (self.plan is not None or self._review_told):
            intake.close(self.case, self.case.outcome or "closed", self.now)

    # ------------------------------------------------------------ what the history meets late

    def _late(self) -> list[str]:
        late = []
        for record in (self.case, self.review, self.plan):
            if record is None:
                continue
            for deadline in record.deadlines:
                subject = f" ({deadline.subject})" if deadline.subject else ""
                if deadline.status is DeadlineStatus.met and deadline.met_on_time is False:
                    late.append(
                        f"{deadline.title}{subject}: met {fmt(deadline.met_at)}, due {fmt(deadline.due_at)}"
                    )  # type: ignore[arg-type]
                elif (
                    deadline.status is DeadlineStatus.open
                    and deadline.due_at < self.now
                    and deadline.paused_since is None
                ):
                    late.append(f"{deadline.title}{subject}: overdue since {fmt(deadline.due_at)}")
        return late


def replay(
    case: CaseToImport,
    policy: Policy,
    importer: Actor,
    now: datetime,
    due_dates: DueDateCalculator | None = None,
) -> Replayed:
    """Replay ``case``'s history; a step the rules refuse raises ``RowRefused`` naming it."""
    return HistoryReplay(case, policy, importer, now, due_dates).run()
