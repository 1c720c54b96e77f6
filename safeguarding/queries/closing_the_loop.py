"""The closing-the-loop report's figures: the learning and the progress against recommendations of every
review with an action plan, by theme; what is overdue and how far it was escalated; deadline compliance.

Only the partnership's own non-identifying words reach a report: recommendations, actions, their
measures, progress notes and evidence of impact. Never a case summary, a decision's reasons or an
agency's information return: nothing here reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from safeguarding.domain.events import EventKind
from safeguarding.domain.policy import DEFAULT_THEMES, theme_label, theme_order
from safeguarding.domain.reporting import CLOSING_THE_LOOP, DEFAULT_TIMEZONE
from safeguarding.queries.deadline_compliance import DeadlineCompliance, deadline_compliance
from safeguarding.queries.report_rows import (
    COMPLETED,
    EscalationTier,
    ReportRows,
    collector_paused,
    decoded_once,
    midnight,
    ordinal,
)
from safeguarding.store.tables import ActionRow, CaseEventRow


class ProgressEntry(BaseModel):
    at: datetime
    summary: str | None
    evidence: list[str] = Field(default_factory=list)


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
    route: str  # the learning route (``LEARNING_ROUTES``)
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

    @classmethod
    def of(cls, actions: list[ReportedAction]) -> ActionCounts:
        completed = pending_audit = withdrawn = still_open = overdue = 0
        for action in actions:
            if action.status in COMPLETED:
                completed += 1
                pending_audit += action.status == "completed_pending_audit"
            elif action.status == "withdrawn":
                withdrawn += 1
            else:
                still_open += 1
                overdue += action.overdue
        return cls(
            actions=len(actions),
            completed=completed,
            pending_audit=pending_audit,
            open=still_open,
            overdue=overdue,
            withdrawn=withdrawn,
        )


class ThemeLearning(BaseModel):
    theme: str
    label: str
    counts: ActionCounts
    reviews: list[ReviewLearning]


# The learning routes a plan's actions come from, in the report's order: a review's kind, a joint
# CSPR/SAR, the rapid review's own learning (no review), or a report from elsewhere.
LEARNING_ROUTES = [
    "local_cspr",
    "joint_cspr_sar",
    "national_review",
    "other_review",
    "local_learning_review",
    "thematic_review",
    "safeguarding_adults_review",
    "rapid_review",
    "learning_from_elsewhere",
]


class RouteLearning(BaseModel):
    """One learning route's actions: in all, and under each theme (counted under each of its themes)."""

    route: str
    plans: int  # the plans (cases) its actions are in
    counts: ActionCounts
    themes: dict[str, ActionCounts]


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


class ClosingTheLoop(BaseModel):
    kind: str = CLOSING_THE_LOOP
    partnership: str
    partnership_name: str | None = None
    period_start: date
    period_end: date  # inclusive
    timezone: str = DEFAULT_TIMEZONE
    cut_off: datetime  # the end of the period, or when the report was made if earlier
    theme_labels: dict[str, str] = Field(default_factory=dict)  # the partnership's words for its themes
    totals: ActionCounts
    routes: list[RouteLearning] = Field(default_factory=list)
    themes: list[ThemeLearning]
    recommendations_without_actions: list[ReportedRecommendation]
    overdue: list[OverdueAction]
    deadlines: list[DeadlineCompliance]


def closing_the_loop_figures(
    engine: Engine,
    partnership: str,
    start: date,
    end: date,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    partnership_name: str | None = None,
    as_of: datetime | None = None,
    themes: dict[str, str] = DEFAULT_THEMES,
) -> ClosingTheLoop:
    """The learning and the progress against recommendations of every review with an action plan, by
    theme; what is overdue and how it was escalated; how the deadlines due in the period were kept.

    Statuses are as the read model holds them when the report is made; "overdue" and "missed" are judged
    at the cut-off: the end of the period, or ``as_of`` (now) if that is earlier.
    """
    zone = ZoneInfo(timezone)
    period = _Period(midnight(start, zone), midnight(end + timedelta(days=1), zone), as_of)
    with collector_paused(), Session(engine) as session:
        model = ReportRows(session, partnership, CaseEventRow.kind.in_(EVENTS_READ))
        plan_actions = _plan_actions(model)
        actions = _reported_actions(model, plan_actions, period, themes)
        return ClosingTheLoop(
            partnership=partnership,
            partnership_name=partnership_name,
            period_start=start,
            period_end=end,
            timezone=timezone,
            cut_off=period.cut_off,
            totals=ActionCounts.of(actions),
            routes=_by_route(model, actions, themes),
            themes=_by_theme(model, plan_actions, actions, themes),
            theme_labels=themes,
            recommendations_without_actions=_without_actions(model, plan_actions, period),
            overdue=_overdue(actions, period.cut_off),
            deadlines=deadline_compliance(model, period.start_at, period.end_at, period.cut_off),
        )


# The events the report reads (besides the actions', ``ReportRows.action_added_at``): when each task was
# withdrawn or escalated, each plan closed, each review published, and which recommendations were signed
# off as a joint CSPR/SAR's.
EVENTS_READ = [
    EventKind.task_withdrawn,
    EventKind.escalation_sent,
    EventKind.action_plan_closed,
    EventKind.published,
    EventKind.recommendation_signed_off,
]


def _plan_actions(model: ReportRows) -> list[Any]:
    """Every action of every action plan, each case's in order."""
    return model.actions(
        ActionRow.recommendation_id,
        ActionRow.agency,
        ActionRow.lead_role,
        ActionRow.source,
        ActionRow.description,
        ActionRow.measure,
        decoded_once(ActionRow.themes),
        ActionRow.due_at,
        ActionRow.status,
        ActionRow.completed_at,
        ActionRow.evidence_of_impact,
        decoded_once(ActionRow.progress),
        ActionRow.escalations_sent,
        where=[ActionRow.case_reference.in_(model.planned)],
    )


class _Period:
    """The report's period as instants, and its cut-off: the end of the period, or now if earlier."""

    def __init__(self, start_at: datetime, end_at: datetime, as_of: datetime | None) -> None:
        self.start_at, self.end_at = start_at, end_at
        self.cut_off = min(as_of or datetime.now(UTC), end_at)


def _plan_closed_before(model: ReportRows, reference: str, period: _Period) -> bool:
    """A plan closed before the period has nothing left to report."""
    closed = model.plan_closed_at.get(reference)
    return closed is not None and closed < period.start_at


def _reported_actions(
    model: ReportRows, plan_actions: list[Any], period: _Period, themes: dict[str, str]
) -> list[ReportedAction]:
    """Every action of a plan still running in the period and added before its end, as it stood at the
    cut-off: one completed or withdrawn after it was still open then."""
    added_at, tasks, tiers = model.action_added_at, model.action_tasks, model.escalation_tiers
    withdrawn_at = model.withdrawn_at
    in_order: dict[tuple[str, ...], list[str]] = {}  # an action's themes -> in the policy's order
    reported = []
    for row in plan_actions:
        added = added_at.get((row.case_reference, row.action_id))
        if _plan_closed_before(model, row.case_reference, period):
            continue
        if added is not None and added >= period.end_at:
            continue
        task = tasks.get((row.case_reference, row.action_id))
        status, completed_at, evidence = row.status, row.completed_at, row.evidence_of_impact
        settled_at = completed_at if status in COMPLETED else withdrawn_at.get((row.case_reference, task))
        if status in (*COMPLETED, "withdrawn") and settled_at is not None and settled_at >= period.cut_off:
            status, completed_at, evidence = "open", None, None
        reported.append(
            ReportedAction(
                case_reference=row.case_reference,
                action_id=row.action_id,
                recommendation_id=row.recommendation_id,
                agency=row.agency,
                lead_role=row.lead_role,
                description=row.description,
                measure=row.measure,
                themes=_in_order(in_order, row.themes or [], themes),  # copied by the model
                due_at=row.due_at,
                status=status,
                completed_at=completed_at,
                evidence_of_impact=evidence,
                progress=[
                    ProgressEntry.model_validate(note)
                    for note in (row.progress or [])
                    if datetime.fromisoformat(note["at"]) < period.end_at
                ],
                overdue=status == "open" and row.due_at < period.cut_off,
                escalations_sent=row.escalations_sent,
                escalation_tiers=tiers.get((row.case_reference, task), []) if task else [],
            )
        )
    return reported


def _in_order(known: dict[tuple[str, ...], list[str]], found: list[str], themes: dict[str, str]) -> list[str]:
    """``theme_order``, worked out once for each set of themes the actions have."""
    key = tuple(found)
    if key not in known:
        known[key] = theme_order(found, themes)
    return known[key]


def _reported(rec: Any) -> ReportedRecommendation:
    return ReportedRecommendation(
        case_reference=rec.case_reference,
        recommendation_id=rec.recommendation_id,
        text=rec.text,
        source=rec.source,
    )


def _by_theme(
    model: ReportRows, plan_actions: list[Any], actions: list[ReportedAction], labels: dict[str, str]
) -> list[ThemeLearning]:
    """Under each theme, each review's actions in it and the recommendations they follow."""
    by_theme: dict[str, list[ReportedAction]] = defaultdict(list)
    for action in actions:
        for theme in action.themes:
            by_theme[theme].append(action)
    recommendations = {(r.case_reference, r.recommendation_id): r for r in model.recommendations}
    reported: dict[tuple[str, str], ReportedRecommendation] = {}  # each made once, whatever its themes
    reviews_of = _reviews_of(model, plan_actions)
    themes = []
    for theme in theme_order(by_theme, labels):
        by_case: dict[str, list[ReportedAction]] = defaultdict(list)
        for action in by_theme[theme]:
            by_case[action.case_reference].append(action)
        reviews = []
        for reference, case_actions in sorted(by_case.items()):
            followed = sorted({a.recommendation_id for a in case_actions if a.recommendation_id}, key=ordinal)
            for key in ((reference, rid) for rid in followed):
                if key in recommendations and key not in reported:
                    reported[key] = _reported(recommendations[key])
            reviews.append(
                ReviewLearning(
                    case_reference=reference,
                    **reviews_of(reference),
                    recommendations=[
                        reported[(reference, r)] for r in followed if (reference, r) in reported
                    ],
                    actions=case_actions,
                )
            )
        themes.append(
            ThemeLearning(
                theme=theme,
                label=theme_label(theme, labels),
                counts=ActionCounts.of(by_theme[theme]),
                reviews=reviews,
            )
        )
    return themes


def _reviews_of(model: ReportRows, plan_actions: list[Any]) -> Callable[[str], dict[str, Any]]:
    """case -> what the report says of its review (the same under every theme), worked out once."""
    published_on = model.published_on
    sources = _sources(plan_actions)

    @cache
    def review_of(reference: str) -> dict[str, Any]:
        review, case = model.reviews.get(reference), model.plan_cases[reference]
        return {
            "review_kind": review.kind
            if review
            else sources.get(reference, "learning_from_elsewhere")
            if case.route == "learning_from_elsewhere"
            else "rapid_review",
            "route": route_of(model, reference),
            "stage": review.stage if review else case.stage,
            "outcome": review.outcome if review else case.outcome,
            "published": bool(review and review.outcome == "published"),
            "publication_date": published_on.get(reference) or (review.publication_date if review else None),
        }

    return review_of


def _without_actions(
    model: ReportRows, plan_actions: list[Any], period: _Period
) -> list[ReportedRecommendation]:
    """Recommendations of a running plan that no action follows yet."""
    actioned = {(a.case_reference, a.recommendation_id) for a in plan_actions}
    return [
        _reported(r)
        for r in model.recommendations
        if (r.case_reference, r.recommendation_id) not in actioned
        and r.case_reference in model.plan_cases
        and not _plan_closed_before(model, r.case_reference, period)
    ]


def _overdue(actions: list[ReportedAction], cut_off: datetime) -> list[OverdueAction]:
    return [
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
        for a in sorted(
            (a for a in actions if a.overdue), key=lambda a: (a.due_at, a.case_reference, a.action_id)
        )
    ]


def _sources(plan_actions: list[Any]) -> dict[str, str]:
    """Learning from elsewhere: case -> the kind of report its plan's actions came from (the source of
    its first action that records one)."""
    found: dict[str, str] = {}
    for action in plan_actions:
        if action.source:
            found.setdefault(action.case_reference, action.source)
    return found


def route_of(model: ReportRows, reference: str) -> str:
    """The learning route of a case's plan: its review's kind (a CSPR held jointly with the adults
    board: ``joint_cspr_sar``), a report from elsewhere, or the rapid review's own learning."""
    review = model.reviews.get(reference)
    if review is not None:
        return "joint_cspr_sar" if reference in model.joint_reviews else review.kind
    if model.plan_cases[reference].route == "learning_from_elsewhere":
        return "learning_from_elsewhere"
    return "rapid_review"


def _by_route(
    model: ReportRows, actions: list[ReportedAction], labels: dict[str, str]
) -> list[RouteLearning]:
    by_route: dict[str, list[ReportedAction]] = defaultdict(list)
    for action in actions:
        by_route[route_of(model, action.case_reference)].append(action)
    learning = []
    for route, route_actions in by_route.items():
        by_theme: dict[str, list[ReportedAction]] = defaultdict(list)
        for action in route_actions:
            for theme in action.themes:
                by_theme[theme].append(action)
        learning.append(
            RouteLearning(
                route=route,
                plans=len({a.case_reference for a in route_actions}),
                counts=ActionCounts.of(route_actions),
                themes={theme: ActionCounts.of(by_theme[theme]) for theme in theme_order(by_theme, labels)},
            )
        )
    order = {route: i for i, route in enumerate(LEARNING_ROUTES)}
    return sorted(learning, key=lambda r: (order.get(r.route, len(order)), r.route))
