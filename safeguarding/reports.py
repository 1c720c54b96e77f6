"""What the partnership reports (DOMAIN.md, step 5): the closing-the-loop report twice a year, and the
figures of the yearly report. Read from the SQL read model; rendered to HTML and PDF.

Only the partnership's own non-identifying words reach a report: recommendations, actions, their
measures, progress notes and evidence of impact. Never a case summary, a decision's reasons or an
agency's information return: nothing here reads them.

The period function and the models are pure (the reporting workflow uses the period function); the
figures read the database; WeasyPrint is imported only when a PDF is made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from safeguarding.policy import ReportingRules
from safeguarding.store import (
    ActionPlanRow,
    ActionRow,
    CaseEventRow,
    CaseRow,
    DeadlineRow,
    NotificationRow,
    RecommendationRow,
    ReviewRow,
)

DEFAULT_TIMEZONE = "Europe/London"

# The partnership's themes (workflows/action_plan.py ``Theme``), in the order its plans list them.
THEME_LABELS: dict[str, str] = {
    "neglect": "Neglect",
    "domestic_abuse": "Domestic abuse",
    "child_sexual_abuse": "Child sexual abuse",
    "extrafamilial_harm": "Extrafamilial harm (exploitation, missing, serious youth violence)",
    "online_safety": "Online safety",
    "emotional_wellbeing_and_mental_health": "Emotional wellbeing and mental health",
    "special_educational_needs_and_disabilities": "Special educational needs and disabilities",
    "physical_harm_to_under_2s": "Physical harm to under-2s",
    "safeguarding_in_education": "Safeguarding in education",
    "thresholds_and_early_help": "Thresholds and early help",
    "information_sharing": "Information sharing",
    "transitional_safeguarding": "Transitional safeguarding",
    "voice_of_the_child": "Voice of the child (golden thread)",
    "cultural_competence": "Cultural competence (golden thread)",
}
COMPLETED = ("completed", "completed_pending_audit")
CLOSING_THE_LOOP = "closing_the_loop"
YEARLY_FIGURES = "yearly_figures"


# ---------------------------------------------------------------- periods (pure)


def _on(year: int, month_day: str) -> date:
    """The day ``MM-DD`` falls on in ``year``; a day the month lacks (29 February) is its last day."""
    month, day = (int(part) for part in month_day.split("-"))
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def add_years(day: date, years: int) -> date:
    return _on(day.year + years, f"{day.month:02d}-{day.day:02d}")


def closing_the_loop_period(run_on: date, rules: ReportingRules) -> tuple[date, date]:
    """The period a scheduled run on ``run_on`` covers: from the scheduled day before it (inclusive) to
    the day before it (inclusive). A run late (a worker down on the day) still covers the period that
    ended on the scheduled day it belongs to, not a sliver after it."""
    days = sorted(
        {_on(year, md) for year in (run_on.year - 1, run_on.year) for md in rules.closing_the_loop_on}
    )
    current = max(d for d in days if d <= run_on)
    earlier = [d for d in days if d < current]
    previous = max(earlier) if earlier else _on(current.year - 1, f"{current.month:02d}-{current.day:02d}")
    return previous, current - timedelta(days=1)


def reporting_year_start(year: int, rules: ReportingRules) -> date:
    """The first day of the reporting year that starts in calendar year ``year``."""
    return _on(year, rules.reporting_year_starts)


def report_id(kind: str, partnership: str, start: date, end: date, requested_by: str) -> str:
    """A report's id: the same kind, partnership, period and origin (the schedule, or a person) make the
    same id, so a retried activity or a repeated request stores one report."""
    origin = "schedule" if requested_by == "schedule" else "request"
    digest = sha256(f"{kind}|{partnership}|{start}|{end}|{origin}".encode()).hexdigest()[:10]
    prefix = "ctl" if kind == CLOSING_THE_LOOP else "yf"
    return f"{prefix}-{start:%Y%m%d}-{end:%Y%m%d}-{digest}"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


# ---------------------------------------------------------------- the closing-the-loop report


class ProgressEntry(BaseModel):
    at: datetime
    summary: str | None
    evidence: list[str] = Field(default_factory=list)


class EscalationTier(BaseModel):
    number: int
    recipients: list[str]
    at: datetime | None


class ReportedAction(BaseModel):
    case_reference: str
    action_id: str
    recommendation_id: str | None
    agency: str
    lead_role: str
    description: str | None
    measure: str | None
    themes: list[str]
    due_at: datetime
    status: str
    completed_at: datetime | None
    evidence_of_impact: str | None
    progress: list[ProgressEntry]
    overdue: bool
    escalations_sent: int
    escalation_tiers: list[EscalationTier]


class ReportedRecommendation(BaseModel):
    case_reference: str
    recommendation_id: str
    text: str
    source: str


class ReviewLearning(BaseModel):
    """One review's learning under a theme: the recommendations its actions in the theme follow."""

    case_reference: str
    review_kind: str  # local_cspr | other_review | national_review | rapid_review (no further review)
    stage: str
    outcome: str | None
    published: bool
    publication_date: date | None
    recommendations: list[ReportedRecommendation]
    actions: list[ReportedAction]


class ActionCounts(BaseModel):
    actions: int = 0
    completed: int = 0  # completed, with or without an audit still to come
    pending_audit: int = 0  # of those completed: assurance pending an audit
    open: int = 0
    overdue: int = 0  # of those open: past due at the report's cut-off
    withdrawn: int = 0

    def count(self, action: ReportedAction) -> None:
        self.actions += 1
        if action.status in COMPLETED:
            self.completed += 1
            self.pending_audit += action.status == "completed_pending_audit"
        elif action.status == "withdrawn":
            self.withdrawn += 1
        else:
            self.open += 1
            self.overdue += action.overdue


class ThemeLearning(BaseModel):
    theme: str
    label: str
    counts: ActionCounts
    reviews: list[ReviewLearning]


class OverdueAction(BaseModel):
    case_reference: str
    action_id: str
    agency: str
    lead_role: str
    description: str | None
    themes: list[str]
    due_at: datetime
    days_overdue: int
    escalations_sent: int
    escalation_tiers: list[EscalationTier]


class DeadlineCompliance(BaseModel):
    """Deadlines that fell due in the period, by policy key; cancelled ones are left out."""

    key: str
    title: str
    statutory: bool
    due: int = 0
    met_on_time: int = 0
    met_late: int = 0
    missed: int = 0  # not met by the cut-off
    not_yet_due: int = 0  # due after the cut-off (a period that runs on past today)


class ClosingTheLoop(BaseModel):
    kind: str = CLOSING_THE_LOOP
    partnership: str
    partnership_name: str | None = None
    period_start: date
    period_end: date  # inclusive
    timezone: str = DEFAULT_TIMEZONE
    cut_off: datetime  # the end of the period, or when the report was made if earlier
    totals: ActionCounts
    themes: list[ThemeLearning]
    recommendations_without_actions: list[ReportedRecommendation]
    overdue: list[OverdueAction]
    deadlines: list[DeadlineCompliance]


def _time(event: CaseEventRow) -> datetime:
    return event.occurred_at or event.recorded_at


def _theme_order(themes: Iterable[str]) -> list[str]:
    known = list(THEME_LABELS)
    return sorted(set(themes), key=lambda t: (known.index(t) if t in known else len(known), t))


def _ordinal(identifier: str) -> tuple[int, str]:
    """A1, A2, ..., A10 in that order (not A1, A10, A2)."""
    digits = "".join(c for c in identifier if c.isdigit())
    return (int(digits) if digits else 0, identifier)


def _label(theme: str) -> str:
    return THEME_LABELS.get(theme, theme.replace("_", " ").capitalize())


class _ReadModel:
    """The rows of one partnership's cases that the reports read, fetched once."""

    def __init__(self, session: Session, partnership: str) -> None:
        self.cases = {
            c.reference: c for c in session.scalars(select(CaseRow).where(CaseRow.partnership == partnership))
        }
        theirs = select(CaseRow.reference).where(CaseRow.partnership == partnership)

        def rows(table: Any, *where: Any) -> list[Any]:
            return list(session.scalars(select(table).where(table.case_reference.in_(theirs), *where)))

        self.reviews = {r.case_reference: r for r in rows(ReviewRow)}
        self.plans = {p.case_reference: p for p in rows(ActionPlanRow)}
        self.actions = sorted(rows(ActionRow), key=lambda a: (a.case_reference, _ordinal(a.action_id)))
        self.recommendations = sorted(
            rows(RecommendationRow), key=lambda r: (r.case_reference, _ordinal(r.recommendation_id))
        )
        self.deadlines = rows(DeadlineRow)
        self.events = sorted(
            rows(
                CaseEventRow,
                CaseEventRow.kind.in_(
                    [
                        "screened",
                        "notification_recorded",
                        "rapid_review_sent",
                        "rapid_review_concluded",
                        "review_commissioned",
                        "final_report",
                        "published",
                        "not_published",
                        "review_finished",
                        "clock_stopped",
                        "clock_restarted",
                        "action_added",
                        "task_withdrawn",
                        "action_plan_closed",
                        "escalation_sent",
                    ]
                ),
            ),
            key=lambda e: (e.case_reference, e.stream, e.seq),
        )
        self.escalations = rows(NotificationRow, NotificationRow.kind == "escalation")
        self._by_kind: dict[tuple[str, str], list[CaseEventRow]] = defaultdict(list)
        self._by_case: dict[tuple[str, str, str], list[CaseEventRow]] = defaultdict(list)
        for e in self.events:
            self._by_kind[(e.stream, e.kind)].append(e)
            self._by_case[(e.case_reference, e.stream, e.kind)].append(e)

    def events_of(self, kind: str, stream: str) -> list[CaseEventRow]:
        return self._by_kind.get((stream, kind), [])

    def case_events(self, reference: str, stream: str, *kinds: str) -> list[CaseEventRow]:
        found = [e for kind in kinds for e in self._by_case.get((reference, stream, kind), [])]
        return sorted(found, key=lambda e: e.seq)

    def action_tasks(self) -> dict[tuple[str, str], str]:
        """(case, action id) -> the action's task id, from the events that added them."""
        return {
            (e.case_reference, e.details.get("action")): e.details.get("task")
            for e in self.events_of("action_added", "plan")
        }

    def action_added_at(self) -> dict[tuple[str, str], datetime]:
        return {
            (e.case_reference, e.details.get("action")): _time(e)
            for e in self.events_of("action_added", "plan")
        }

    def withdrawn_at(self) -> dict[tuple[str, str], datetime]:
        """(case, task id) -> when the task was withdrawn."""
        return {
            (e.case_reference, e.details.get("task")): _time(e)
            for e in self.events_of("task_withdrawn", "plan")
        }

    def escalation_tiers(self) -> dict[tuple[str, str], list[EscalationTier]]:
        """(case, task id) -> the tiers of escalation its deadline reached, from the outbox and the log."""
        tiers: dict[tuple[str, str], dict[int, EscalationTier]] = defaultdict(dict)
        for n in self.escalations:
            if n.task_id and n.number:
                tiers[(n.case_reference, n.task_id)][n.number] = EscalationTier(
                    number=n.number, recipients=list(n.recipients), at=n.created_at
                )
        subjects = {(d.case_reference, d.stream, d.deadline_id): d.subject for d in self.deadlines}
        for e in self.events_of("escalation_sent", "plan"):
            task = subjects.get((e.case_reference, e.stream, e.details.get("deadline")))
            number = e.details.get("number")
            if task and isinstance(number, int):
                tiers[(e.case_reference, task)].setdefault(
                    number,
                    EscalationTier(
                        number=number, recipients=list(e.details.get("recipients") or []), at=_time(e)
                    ),
                )
        return {key: [by_number[n] for n in sorted(by_number)] for key, by_number in tiers.items()}


def closing_the_loop_figures(
    engine: Engine,
    partnership: str,
    start: date,
    end: date,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    partnership_name: str | None = None,
    as_of: datetime | None = None,
) -> ClosingTheLoop:
    """The learning and the progress against recommendations of every review with an action plan, by
    theme; what is overdue and how it was escalated; how the deadlines due in the period were kept.

    Statuses are as the read model holds them when the report is made; "overdue" and "missed" are judged
    at the cut-off: the end of the period, or ``as_of`` (now) if that is earlier.
    """
    zone = ZoneInfo(timezone)
    start_at, end_at = _midnight(start, zone), _midnight(end + timedelta(days=1), zone)
    cut_off = min(as_of or datetime.now(UTC), end_at)
    with Session(engine) as session:
        model = _ReadModel(session, partnership)

    closed_at = {e.case_reference: _time(e) for e in model.events_of("action_plan_closed", "plan")}
    added_at = model.action_added_at()
    tasks = model.action_tasks()
    tiers = model.escalation_tiers()
    published_on = {
        e.case_reference: date.fromisoformat(e.details["published_on"])
        for e in model.events_of("published", "review")
        if e.details.get("published_on")
    }

    def in_report(action: ActionRow) -> bool:
        closed = closed_at.get(action.case_reference)
        if action.case_reference not in model.plans or (closed is not None and closed < start_at):
            return False  # a plan closed before the period has nothing left to report
        added = added_at.get((action.case_reference, action.action_id))
        return added is None or added < end_at

    withdrawn_at = {
        (e.case_reference, e.details.get("task")): _time(e) for e in model.events_of("task_withdrawn", "plan")
    }

    def as_at_cut_off(row: ActionRow, task: str | None) -> tuple[str, datetime | None, str | None]:
        """The action's status, completion and evidence as they stood at the cut-off: one completed or
        withdrawn after it was still open then."""
        if row.status in ("completed", "completed_pending_audit") and row.completed_at is not None:
            if row.completed_at >= cut_off:
                return "open", None, None
        if row.status == "withdrawn":
            when = withdrawn_at.get((row.case_reference, task))
            if when is not None and when >= cut_off:
                return "open", None, None
        return row.status, row.completed_at, row.evidence_of_impact

    actions = []
    for row in model.actions:
        if not in_report(row):
            continue
        task = tasks.get((row.case_reference, row.action_id))
        status, completed_at, evidence_of_impact = as_at_cut_off(row, task)
        actions.append(
            ReportedAction(
                case_reference=row.case_reference,
                action_id=row.action_id,
                recommendation_id=row.recommendation_id,
                agency=row.agency,
                lead_role=row.lead_role,
                description=row.description,
                measure=row.measure,
                themes=_theme_order(row.themes or []),
                due_at=row.due_at,
                status=status,
                completed_at=completed_at,
                evidence_of_impact=evidence_of_impact,
                progress=[
                    ProgressEntry.model_validate(note)
                    for note in (row.progress or [])
                    if datetime.fromisoformat(note["at"]) < end_at
                ],
                overdue=status == "open" and row.due_at < cut_off,
                escalations_sent=row.escalations_sent,
                escalation_tiers=tiers.get((row.case_reference, task), []) if task else [],
            )
        )

    recommendations = {(r.case_reference, r.recommendation_id): r for r in model.recommendations}

    def reported(rec: RecommendationRow) -> ReportedRecommendation:
        return ReportedRecommendation(
            case_reference=rec.case_reference,
            recommendation_id=rec.recommendation_id,
            text=rec.text,
            source=rec.source,
        )

    totals = ActionCounts()
    by_theme: dict[str, list[ReportedAction]] = defaultdict(list)
    for action in actions:
        totals.count(action)
        for theme in action.themes:
            by_theme[theme].append(action)

    themes = []
    for theme in _theme_order(by_theme):
        counts = ActionCounts()
        by_case: dict[str, list[ReportedAction]] = defaultdict(list)
        for action in by_theme[theme]:
            counts.count(action)
            by_case[action.case_reference].append(action)
        reviews = []
        for reference, case_actions in sorted(by_case.items()):
            review, case = model.reviews.get(reference), model.cases[reference]
            followed = sorted(
                {a.recommendation_id for a in case_actions if a.recommendation_id}, key=_ordinal
            )
            reviews.append(
                ReviewLearning(
                    case_reference=reference,
                    review_kind=review.kind if review else "rapid_review",
                    stage=review.stage if review else case.stage,
                    outcome=review.outcome if review else case.outcome,
                    published=bool(review and review.outcome == "published"),
                    publication_date=published_on.get(reference)
                    or (review.publication_date if review else None),
                    recommendations=[
                        reported(recommendations[(reference, rid)])
                        for rid in followed
                        if (reference, rid) in recommendations
                    ],
                    actions=case_actions,
                )
            )
        themes.append(ThemeLearning(theme=theme, label=_label(theme), counts=counts, reviews=reviews))

    actioned = {(a.case_reference, a.recommendation_id) for a in model.actions}
    without_actions = [
        reported(r)
        for r in model.recommendations
        if (r.case_reference, r.recommendation_id) not in actioned
        and r.case_reference in model.plans
        and not (closed_at.get(r.case_reference) and closed_at[r.case_reference] < start_at)
    ]

    overdue = [
        OverdueAction(
            case_reference=a.case_reference,
            action_id=a.action_id,
            agency=a.agency,
            lead_role=a.lead_role,
            description=a.description,
            themes=a.themes,
            due_at=a.due_at,
            days_overdue=(cut_off - a.due_at).days,
            escalations_sent=a.escalations_sent,
            escalation_tiers=a.escalation_tiers,
        )
        for a in sorted(actions, key=lambda a: (a.due_at, a.case_reference, a.action_id))
        if a.overdue
    ]

    return ClosingTheLoop(
        partnership=partnership,
        partnership_name=partnership_name,
        period_start=start,
        period_end=end,
        timezone=timezone,
        cut_off=cut_off,
        totals=totals,
        themes=themes,
        recommendations_without_actions=without_actions,
        overdue=overdue,
        deadlines=_compliance(model.deadlines, start_at, end_at, cut_off),
    )


def _compliance(
    deadlines: list[DeadlineRow], start_at: datetime, end_at: datetime, cut_off: datetime
) -> list[DeadlineCompliance]:
    by_key: dict[str, DeadlineCompliance] = {}
    for d in sorted(deadlines, key=lambda d: (d.due_at, d.case_reference, d.deadline_id)):
        if d.status == "cancelled" or not start_at <= d.due_at < end_at:
            continue
        row = by_key.setdefault(d.key, DeadlineCompliance(key=d.key, title=d.title, statutory=d.statutory))
        row.due += 1
        if d.met_at is not None and d.met_at <= cut_off:
            if d.met_at <= d.due_at:
                row.met_on_time += 1
            else:
                row.met_late += 1
        elif d.due_at < cut_off:
            row.missed += 1
        else:
            row.not_yet_due += 1
    return sorted(by_key.values(), key=lambda c: (not c.statutory, c.title))


# ---------------------------------------------------------------- the yearly report's figures


class ReferralFigures(BaseModel):
    route: str  # agency_referral | cdop_referral
    received: int = 0
    screened_in: int = 0
    not_met: dict[str, int] = Field(default_factory=dict)  # learning route -> how many
    awaiting_screening: int = 0


class ThemeActions(BaseModel):
    theme: str
    label: str
    completed: int = 0  # completed in the year
    outstanding: int = 0  # open at the year's end (or at the cut-off)
    overdue: int = 0  # of those outstanding: past due


class YearlyFigures(BaseModel):
    kind: str = YEARLY_FIGURES
    partnership: str
    partnership_name: str | None = None
    year_start: date
    year_end: date  # inclusive
    timezone: str = DEFAULT_TIMEZONE
    cut_off: datetime  # the end of the year, or when the figures were made if earlier
    notifications: int  # cases notified to the Panel in the year (serious incident notifications and referrals screened in)
    referrals: list[ReferralFigures]
    rapid_reviews_concluded: int
    rapid_review_outcomes: dict[str, int]
    rapid_reviews_sent: int = 0  # sent to the Panel in the year
    rapid_reviews_sent_on_time: int  # of those sent: within the deadline
    cspr_published: int
    cspr_published_within_six_months: int
    cspr_completed_not_published: int  # the two below together
    cspr_decided_not_to_publish: int  # decided in the year
    cspr_awaiting_publication: int  # final report received, not yet published, at the cut-off
    cspr_underway: int
    cspr_underway_clock_stopped: int
    actions_completed: int
    actions_outstanding: int
    actions_overdue: int
    actions_by_theme: list[ThemeActions]


def yearly_figures(
    engine: Engine,
    partnership: str,
    year_start: date,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    partnership_name: str | None = None,
    as_of: datetime | None = None,
) -> YearlyFigures:
    """The figures of the reporting year [year_start, year_start + 1 year), as known at its end (or now,
    for a year still running)."""
    zone = ZoneInfo(timezone)
    next_year = add_years(year_start, 1)
    start_at = _midnight(year_start, zone)
    cut_off = min(as_of or datetime.now(UTC), _midnight(next_year, zone))
    with Session(engine) as session:
        model = _ReadModel(session, partnership)

    def in_year(moment: datetime | None) -> bool:
        return moment is not None and start_at <= moment < cut_off

    opened = [c for c in model.cases.values() if in_year(c.opened_at)]
    screened: dict[str, CaseEventRow] = {}
    for e in model.events_of("screened", "case"):
        if e.recorded_at < cut_off:
            screened[e.case_reference] = e  # the last screening stands
    referrals = []
    for route in ("agency_referral", "cdop_referral"):
        figures = ReferralFigures(route=route)
        for case in (c for c in opened if c.route == route):
            figures.received += 1
            decision = screened.get(case.reference)
            if decision is None:
                figures.awaiting_screening += 1
            elif decision.details.get("criteria_met"):
                figures.screened_in += 1
            else:
                learning = decision.details.get("learning_route") or "not_recorded"
                figures.not_met[learning] = figures.not_met.get(learning, 0) + 1
        referrals.append(figures)

    # Notifications to the Panel made in the year: the serious incident notifications opened in it, and
    # any case (a referral screened in, say) whose notification to the Panel was recorded in it.
    notified = {c.reference for c in opened if c.route == "serious_incident_notification"}
    notified |= {
        e.case_reference
        for e in model.events_of("notification_recorded", "case")
        if e.details.get("recipient") == "panel" and in_year(_time(e))
    }
    # Rapid reviews sent to the Panel in the year, and how many within the deadline; concluded ones
    # (the Panel answered) counted apart, by outcome.
    sent = {e.case_reference for e in model.events_of("rapid_review_sent", "case") if in_year(_time(e))}
    concluded = {
        e.case_reference: e.details.get("outcome") or "unknown"
        for e in model.events_of("rapid_review_concluded", "case")
        if in_year(_time(e))
    }
    outcomes: dict[str, int] = defaultdict(int)
    for outcome in concluded.values():
        outcomes[outcome] += 1
    to_panel: dict[str, list[DeadlineRow]] = defaultdict(list)
    completion: dict[str, list[DeadlineRow]] = defaultdict(list)
    for d in model.deadlines:
        if d.key == "rapid_review_to_panel" and d.status != "cancelled":
            to_panel[d.case_reference].append(d)
        elif d.key == "cspr_completion" and d.status != "cancelled":
            completion[d.case_reference].append(d)

    cspr = _cspr_figures(model, zone, year_start, next_year, start_at, cut_off, completion)
    actions = _action_figures(model, in_year, cut_off)

    return YearlyFigures(
        partnership=partnership,
        partnership_name=partnership_name,
        year_start=year_start,
        year_end=next_year - timedelta(days=1),
        timezone=timezone,
        cut_off=cut_off,
        notifications=len(notified),
        referrals=referrals,
        rapid_reviews_concluded=len(concluded),
        rapid_review_outcomes=dict(sorted(outcomes.items())),
        rapid_reviews_sent=len(sent),
        rapid_reviews_sent_on_time=sum(_kept(to_panel[ref]) for ref in sent),
        **cspr,
        **actions,
    )


def _kept(deadlines: list[DeadlineRow]) -> bool:
    """Every one of these deadlines met, and met on time."""
    return bool(deadlines) and all(d.met_at is not None and d.met_at <= d.due_at for d in deadlines)


def _cspr_figures(
    model: _ReadModel,
    zone: ZoneInfo,
    year_start: date,
    next_year: date,
    start_at: datetime,
    cut_off: datetime,
    completion: dict[str, list[DeadlineRow]],
) -> dict[str, int]:
    """Each local CSPR as it stood at the cut-off: published in the year (and within its deadline),
    completed but not published (a decision in the year not to, or a final report awaiting
    publication), or underway (its clock stopped or running)."""
    counts = dict.fromkeys(
        [
            "cspr_published",
            "cspr_published_within_six_months",
            "cspr_decided_not_to_publish",
            "cspr_awaiting_publication",
            "cspr_underway",
            "cspr_underway_clock_stopped",
        ],
        0,
    )
    for reference, review in model.reviews.items():
        if review.kind != "local_cspr":
            continue

        def before_cut_off(*kinds: str, reference: str = reference) -> list[CaseEventRow]:
            return [e for e in model.case_events(reference, "review", *kinds) if e.recorded_at < cut_off]

        finished = review.finished_at if review.finished_at and review.finished_at < cut_off else None
        published = before_cut_off("published")
        if published:
            on = published[0].details.get("published_on")
            published_day = date.fromisoformat(on) if on else _time(published[0]).astimezone(zone).date()
        elif review.outcome == "published" and finished:
            published_day = finished.astimezone(zone).date()
        else:
            published_day = None
        if published_day is not None:
            if year_start <= published_day < next_year:
                counts["cspr_published"] += 1
                counts["cspr_published_within_six_months"] += _kept(completion[reference])
            continue  # published in this year or an earlier one
        not_published = before_cut_off("not_published")
        if not_published or (review.outcome == "completed_not_published" and finished):
            decided = _time(not_published[0]) if not_published else finished
            counts["cspr_decided_not_to_publish"] += decided is not None and decided >= start_at
            continue
        commissioned = before_cut_off("review_commissioned")
        if not commissioned and review.started_at >= cut_off:
            continue  # commissioned after the year
        if before_cut_off("final_report") or (
            not finished and review.stage in ("final_report", "copy_sent", "publication_scheduled")
        ):
            counts["cspr_awaiting_publication"] += 1
            continue
        if finished:
            continue  # finished some other way (not a CSPR outcome the yearly report counts)
        counts["cspr_underway"] += 1
        clock = before_cut_off("clock_stopped", "clock_restarted")
        counts["cspr_underway_clock_stopped"] += (
            clock[-1].kind == "clock_stopped" if clock else bool(review.paused)
        )
    counts["cspr_completed_not_published"] = (
        counts["cspr_decided_not_to_publish"] + counts["cspr_awaiting_publication"]
    )
    return counts


def _action_figures(model: _ReadModel, in_year: Any, cut_off: datetime) -> dict[str, Any]:
    added_at = model.action_added_at()
    tasks = model.action_tasks()
    withdrawn_at = model.withdrawn_at()
    by_theme: dict[str, ThemeActions] = {}
    completed = outstanding = overdue = 0
    for action in model.actions:
        added = added_at.get((action.case_reference, action.action_id))
        if added is not None and added >= cut_off:
            continue
        if action.status in COMPLETED and action.completed_at is not None:
            settled_at: datetime | None = action.completed_at
        elif action.status == "withdrawn":
            task = tasks.get((action.case_reference, action.action_id))
            settled_at = withdrawn_at.get((action.case_reference, task), datetime.min.replace(tzinfo=UTC))
        else:
            settled_at = None
        done_in_year = action.status in COMPLETED and in_year(action.completed_at)
        still_open = settled_at is None or settled_at >= cut_off
        late = still_open and action.due_at < cut_off
        completed += done_in_year
        outstanding += still_open
        overdue += late
        for theme in _theme_order(action.themes or []):
            if done_in_year or still_open:
                row = by_theme.setdefault(theme, ThemeActions(theme=theme, label=_label(theme)))
                row.completed += done_in_year
                row.outstanding += still_open
                row.overdue += late
    return {
        "actions_completed": completed,
        "actions_outstanding": outstanding,
        "actions_overdue": overdue,
        "actions_by_theme": [by_theme[t] for t in _theme_order(by_theme)],
    }


# ---------------------------------------------------------------- rendering


_KIND_LABELS = {
    "local_cspr": "local child safeguarding practice review (CSPR)",
    "other_review": "another type of review",
    "national_review": "national review (local duties)",
    "rapid_review": "rapid review (no further review)",
}
_STATUS_LABELS = {
    "open": "Open",
    "completed": "Completed",
    "completed_pending_audit": "Completed, assurance pending audit",
    "withdrawn": "Withdrawn",
}
_SOURCE_LABELS = {
    "rapid_review": "rapid review",
    "local_cspr": "local CSPR",
    "other_review": "another type of review",
    "national_review": "national review",
    "audit": "audit",
}
_RECIPIENT_LABELS = {
    "owning_agency": "the owning agency",
    "business_unit": "the Business Unit",
    "jcrg_chair": "the JCRG chair",
    "jcrg_member": "the JCRG",
    "independent_scrutineer": "the Independent Scrutineer",
    "safeguarding_partner": "the safeguarding partners",
    "manager": "managers",
    "partner_agency": "the partner agency",
}
_ROUTE_LABELS = {
    "agency_referral": "Agency referrals",
    "cdop_referral": "Referrals from the Child Death Overview Panel",
}


def _words(value: str | None) -> str:
    return "" if value is None else value.replace("_", " ")


def _css_string(text: str) -> Any:
    """Text as a quoted CSS string (the PDF's running headers): every character that could end the
    string or the style element escaped."""
    from markupsafe import Markup

    escaped = "".join(c if c.isalnum() or c in " .,:;-()'" else f"\\{ord(c):x} " for c in str(text))
    return Markup(f'"{escaped}"')


def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates" / "reports"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        words=_words,
        kind=lambda k: _KIND_LABELS.get(k, _words(k)),
        status=lambda s: _STATUS_LABELS.get(s, _words(s)),
        recipients=lambda names: ", ".join(_RECIPIENT_LABELS.get(n, _words(n)) for n in names),
        route=lambda r: _ROUTE_LABELS.get(r, _words(r)),
        source=lambda s: _SOURCE_LABELS.get(s, _words(s)),
        theme=_label,
        css_string=_css_string,
    )
    return environment


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def period_words(start: date, end: date) -> str:
    """'1 April to 30 September 2026'; the year twice when the period spans two."""
    if start.year == end.year:
        return f"{start.day} {start:%B} to {long_date(end)}"
    return f"{long_date(start)} to {long_date(end)}"


def render_html(figures: ClosingTheLoop | YearlyFigures, *, made_at: datetime | None = None) -> str:
    """The report as one accessible HTML page (its print styles lay out the PDF)."""
    zone = ZoneInfo(figures.timezone)

    def day(moment: date | datetime | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, datetime):
            moment = moment.astimezone(zone).date()
        return long_date(moment)

    def short_day(moment: datetime) -> str:
        local = moment.astimezone(zone)
        return f"{local.day} {local:%b %Y}"

    def moment_words(moment: datetime) -> str:
        """A cut-off at midnight reads as the end of the day before: "the end of 30 September 2026"."""
        local = moment.astimezone(zone)
        if local.time() == time(0):
            return f"the end of {long_date(local.date() - timedelta(days=1))}"
        return f"{long_date(local.date())} at {local:%H:%M}"

    environment = _environment()
    environment.filters.update(day=day, short_day=short_day, moment=moment_words)
    made = (made_at or datetime.now(UTC)).astimezone(zone)
    if isinstance(figures, ClosingTheLoop):
        template = environment.get_template("closing_the_loop.html")
        title = f"Closing the loop: {period_words(figures.period_start, figures.period_end)}"
    else:
        template = environment.get_template("yearly_figures.html")
        title = f"Yearly report figures: {period_words(figures.year_start, figures.year_end)}"
    return template.render(
        figures=figures,
        title=title,
        partnership=figures.partnership_name or figures.partnership,
        made=f"{long_date(made.date())} at {made:%H:%M}",
    )


def render_pdf(html: str) -> bytes:
    """The page as a tagged PDF (PDF/UA), for readers that use assistive technology."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf(pdf_variant="pdf/ua-1")
