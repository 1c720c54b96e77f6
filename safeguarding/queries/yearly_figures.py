"""The yearly report's figures: notifications, referrals and their outcomes, rapid reviews and their
timeliness, CSPRs published / completed not published / underway, actions by theme.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from safeguarding.domain.events import EventKind
from safeguarding.domain.facts import Route
from safeguarding.domain.policy import DEFAULT_THEMES, theme_label, theme_order
from safeguarding.domain.reporting import DEFAULT_TIMEZONE, YEARLY_FIGURES, add_years
from safeguarding.queries.deadline_compliance import kept_on_time
from safeguarding.queries.report_rows import (
    COMPLETED,
    ReportRows,
    collector_paused,
    decoded_once,
    event_time,
    midnight,
)
from safeguarding.store.tables import (
    ActionRow,
    CaseContributionRow,
    CaseEventRow,
    CaseRow,
    TaskRow,
)


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


class Contribution(BaseModel):
    """Our part in another area's review in the year: on this deployment (the lead is a partnership
    here), or led elsewhere (recorded as a contribution to an external review)."""

    lead: str  # the leading partnership's code here, or the name an external lead was recorded under
    led_elsewhere: bool
    sent: bool  # our part was sent (the coordination task completed, or the contribution recorded sent)


class LearningReviewFigures(BaseModel):
    """Local learning reviews: decided in the year, finished in it (on time: within their deadline),
    and under way at the cut-off."""

    started: int = 0
    completed: int = 0
    completed_on_time: int = 0
    underway: int = 0


class YearlyFigures(BaseModel):
    kind: str = YEARLY_FIGURES
    partnership: str
    partnership_name: str | None = None
    year_start: date
    year_end: date  # inclusive
    timezone: str = DEFAULT_TIMEZONE
    cut_off: datetime  # the end of the year, or when the figures were made if earlier
    theme_labels: dict[str, str] = Field(default_factory=dict)  # the partnership's words for its themes
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
    # Contributions to other areas' reviews asked of us in the year (the 2022-23 report counts two).
    contributions_to_other_areas: list[Contribution] = Field(default_factory=list)
    # The other routes (none on figures made before they were counted).
    learning_reviews: LearningReviewFigures = Field(default_factory=LearningReviewFigures)
    thematic_reviews: LearningReviewFigures = Field(default_factory=LearningReviewFigures)
    # Plans opened in the year from learning elsewhere, by the kind of report.
    plans_from_elsewhere: dict[str, int] = Field(default_factory=dict)
    care_leaver_deaths: int = 0  # opened in the year: the Secretary of State and Ofsted told
    not_meeting_criteria: int = 0  # notified incidents closed in the year as not meeting the criteria


def yearly_figures(
    engine: Engine,
    partnership: str,
    year_start: date,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    partnership_name: str | None = None,
    as_of: datetime | None = None,
    themes: dict[str, str] = DEFAULT_THEMES,
) -> YearlyFigures:
    """The figures of the reporting year [year_start, year_start + 1 year), as known at its end (or now,
    for a year still running)."""
    zone = ZoneInfo(timezone)
    next_year = add_years(year_start, 1)
    start_at = midnight(year_start, zone)
    cut_off = min(as_of or datetime.now(UTC), midnight(next_year, zone))

    def in_year(moment: datetime | None) -> bool:
        return moment is not None and start_at <= moment < cut_off

    with collector_paused(), Session(engine) as session:
        model = ReportRows(session, partnership, _events_read(partnership, start_at, cut_off))
        in_the_year = [CaseRow.opened_at >= start_at, CaseRow.opened_at < cut_off]
        # By reference, as SQLite has always given them: the order contributions led elsewhere are listed.
        opened = sorted(
            model.rows(CaseRow, CaseRow.reference, CaseRow.route, where=in_the_year),
            key=lambda c: c.reference,
        )
        kept = kept_on_time(model, KEPT)
        return YearlyFigures(
            partnership=partnership,
            partnership_name=partnership_name,
            year_start=year_start,
            year_end=next_year - timedelta(days=1),
            timezone=timezone,
            cut_off=cut_off,
            notifications=len(_notified(model, opened, in_year)),
            referrals=_referral_figures(model, opened, cut_off),
            **_rapid_review_figures(model, in_year, kept["rapid_review_to_panel"]),
            **_cspr_figures(model, zone, year_start, next_year, start_at, cut_off, kept["cspr_completion"]),
            **_action_figures(model, in_year, min(start_at, cut_off), cut_off, themes),
            contributions_to_other_areas=[
                *_contributions_here(session, partnership, in_year, cut_off),
                *_contributions_led_elsewhere(model, opened, cut_off),
            ],
            theme_labels=themes,
            learning_reviews=_learning_review_figures(model, in_year, cut_off, kept),
            thematic_reviews=_learning_review_figures(model, in_year, cut_off, kept, "thematic_review"),
            plans_from_elsewhere=_plans_from_elsewhere(model, opened),
            care_leaver_deaths=sum(c.route == Route.care_leaver_death.value for c in opened),
            not_meeting_criteria=model.count(
                CaseRow,
                CaseRow.outcome == "did_not_meet_criteria",
                CaseRow.closed_at >= start_at,
                CaseRow.closed_at < cut_off,
            ),
        )


# The events the figures read (besides the actions', ``ReportRows.action_added_at``): the year's
# notifications and rapid reviews; the screenings, contributions and reviews' steps recorded before the
# cut-off; when each task was withdrawn.
IN_THE_YEAR = [EventKind.notification_recorded, EventKind.rapid_review_sent, EventKind.rapid_review_concluded]
BEFORE_THE_CUT_OFF = [
    EventKind.screened,
    EventKind.contribution_sent,
    EventKind.review_commissioned,
    EventKind.final_report,
    EventKind.published,
    EventKind.not_published,
    EventKind.clock_stopped,
    EventKind.clock_restarted,
]


def _events_read(partnership: str, start_at: datetime, cut_off: datetime) -> ColumnElement[bool]:
    """The events the figures read (and, of the cases opened, only a contribution's: who leads it)."""
    at = func.coalesce(CaseEventRow.occurred_at, CaseEventRow.recorded_at)
    contributions = select(CaseRow.reference).where(
        CaseRow.partnership == partnership, CaseRow.route == Route.contribution_to_external_review.value
    )
    return or_(
        and_(CaseEventRow.kind.in_(IN_THE_YEAR), at >= start_at, at < cut_off),
        and_(CaseEventRow.kind.in_(BEFORE_THE_CUT_OFF), CaseEventRow.recorded_at < cut_off),
        CaseEventRow.kind == EventKind.task_withdrawn,
        and_(CaseEventRow.kind == EventKind.case_opened, CaseEventRow.case_reference.in_(contributions)),
    )


def _plans_from_elsewhere(model: ReportRows, opened: list[Any]) -> dict[str, int]:
    """The plans opened in the year from learning elsewhere, by the source of each plan's first action."""
    elsewhere = Route.learning_from_elsewhere.value
    if not any(case.route == elsewhere for case in opened):
        return {}
    first_source: dict[str, str | None] = {}
    of_elsewhere = select(CaseRow.reference).where(
        CaseRow.partnership == model.partnership, CaseRow.route == elsewhere
    )
    for action in model.actions(ActionRow.source, where=[ActionRow.case_reference.in_(of_elsewhere)]):
        first_source.setdefault(action.case_reference, action.source)
    kinds: dict[str, int] = defaultdict(int)
    for case in opened:
        if case.route == elsewhere:
            kinds[first_source.get(case.reference) or "learning_from_elsewhere"] += 1
    return dict(kinds)


COMPLETION_KEY = {
    "local_learning_review": "learning_review_completion",
    "thematic_review": "thematic_review_completion",
}
# The deadlines whose keeping the figures count: the rapid review's, the CSPR's and the other reviews'.
KEPT = ["rapid_review_to_panel", "cspr_completion", *COMPLETION_KEY.values()]


def _learning_review_figures(
    model: ReportRows,
    in_year: Any,
    cut_off: datetime,
    kept: dict[str, set[str]],
    kind: str = "local_learning_review",
) -> LearningReviewFigures:
    figures = LearningReviewFigures()
    on_time = kept[COMPLETION_KEY[kind]]
    for reference, review in model.reviews.items():
        if review.kind != kind:
            continue
        figures.started += in_year(review.started_at)
        finished = review.finished_at is not None and review.finished_at < cut_off
        if finished and in_year(review.finished_at):
            figures.completed += 1
            figures.completed_on_time += reference in on_time
        if not finished and review.started_at < cut_off:
            figures.underway += 1
    return figures


def _contributions_here(
    session: Session, partnership: str, in_year: Any, cut_off: datetime
) -> list[Contribution]:
    """Cases of other partnerships on this deployment that we contribute to, opened in the year; sent
    once our coordination task was completed before the cut-off."""
    rows = session.execute(
        select(CaseRow.partnership, CaseRow.reference, CaseRow.opened_at)
        .join(
            CaseContributionRow,
            (CaseContributionRow.partnership == CaseRow.partnership)
            & (CaseContributionRow.case_reference == CaseRow.reference),
        )
        .where(CaseContributionRow.contributor == partnership)
        .order_by(CaseRow.opened_at)
    ).all()
    found = []
    for lead, reference, opened_at in rows:
        if not in_year(opened_at):
            continue
        done = session.execute(
            select(TaskRow.completed_at).where(
                TaskRow.partnership == lead,
                TaskRow.case_reference == reference,
                TaskRow.agency_partnership == partnership,
                TaskRow.kind == "coordination",
            )
        ).scalar_one_or_none()
        found.append(Contribution(lead=lead, led_elsewhere=False, sent=done is not None and done < cut_off))
    return found


def _contributions_led_elsewhere(
    model: ReportRows, opened: list[Any], cut_off: datetime
) -> list[Contribution]:
    """Our contributions to reviews run elsewhere, asked of us in the year."""
    leads = {e.case_reference: e.details.get("lead") for e in model.events_of(EventKind.case_opened, "case")}
    sent = {
        e.case_reference
        for e in model.events_of(EventKind.contribution_sent, "case")
        if e.recorded_at < cut_off
    }
    return [
        Contribution(
            lead=leads.get(c.reference) or "another area", led_elsewhere=True, sent=c.reference in sent
        )
        for c in opened
        if c.route == Route.contribution_to_external_review.value
    ]


def _referral_figures(model: ReportRows, opened: list[Any], cut_off: datetime) -> list[ReferralFigures]:
    """The referrals received in the year, by route: screened in, not meeting the criteria (by where the
    learning went instead), or still awaiting screening at the cut-off."""
    screened: dict[str, Any] = {}
    for e in model.events_of(EventKind.screened, "case"):
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
    return referrals


def _notified(model: ReportRows, opened: list[Any], in_year: Any) -> set[str]:
    """Notifications to the Panel made in the year: the serious incident notifications opened in it, and
    any case (a referral screened in, say) whose notification to the Panel was recorded in it."""
    notified = {c.reference for c in opened if c.route == "serious_incident_notification"}
    return notified | {
        e.case_reference
        for e in model.events_of(EventKind.notification_recorded, "case")
        if e.details.get("recipient") == "panel" and in_year(event_time(e))
    }


def _rapid_review_figures(model: ReportRows, in_year: Any, to_panel: set[str]) -> dict[str, Any]:
    """Rapid reviews sent to the Panel in the year, and how many within the deadline; concluded ones (the
    Panel answered) counted apart, by outcome."""
    sent = {
        e.case_reference
        for e in model.events_of(EventKind.rapid_review_sent, "case")
        if in_year(event_time(e))
    }
    concluded = {
        e.case_reference: e.details.get("outcome") or "unknown"
        for e in model.events_of(EventKind.rapid_review_concluded, "case")
        if in_year(event_time(e))
    }
    outcomes: dict[str, int] = defaultdict(int)
    for outcome in concluded.values():
        outcomes[outcome] += 1
    return {
        "rapid_reviews_concluded": len(concluded),
        "rapid_review_outcomes": dict(sorted(outcomes.items())),
        "rapid_reviews_sent": len(sent),
        "rapid_reviews_sent_on_time": sum(ref in to_panel for ref in sent),
    }


CSPR_FIGURES = [
    "cspr_published",
    "cspr_published_within_six_months",
    "cspr_decided_not_to_publish",
    "cspr_awaiting_publication",
    "cspr_underway",
    "cspr_underway_clock_stopped",
]


def _cspr_figures(
    model: ReportRows,
    zone: ZoneInfo,
    year_start: date,
    next_year: date,
    start_at: datetime,
    cut_off: datetime,
    completion: set[str],
) -> dict[str, int]:
    """Each local CSPR as it stood at the cut-off: published in the year (and within its deadline),
    completed but not published (a decision in the year not to, or a final report awaiting
    publication), or underway (its clock stopped or running)."""
    counts = dict.fromkeys(CSPR_FIGURES, 0)
    for reference, review in model.reviews.items():
        if review.kind != "local_cspr" or review.stage == "withdrawn":
            continue  # not a CSPR, or one withdrawn while the partners reconsidered

        def before_cut_off(*kinds: str, reference: str = reference) -> list[Any]:
            return [e for e in model.case_events(reference, "review", *kinds) if e.recorded_at < cut_off]

        finished = review.finished_at if review.finished_at and review.finished_at < cut_off else None
        published_day = _published_day(before_cut_off(EventKind.published), review, finished, zone)
        if published_day is not None:
            if year_start <= published_day < next_year:
                counts["cspr_published"] += 1
                counts["cspr_published_within_six_months"] += reference in completion
            continue  # published in this year or an earlier one
        not_published = before_cut_off(EventKind.not_published)
        if not_published or (review.outcome == "completed_not_published" and finished):
            decided = event_time(not_published[0]) if not_published else finished
            counts["cspr_decided_not_to_publish"] += decided is not None and decided >= start_at
            continue
        commissioned = before_cut_off(EventKind.review_commissioned)
        if not commissioned and review.started_at >= cut_off:
            continue  # commissioned after the year
        if before_cut_off(EventKind.final_report) or (
            not finished and review.stage in ("final_report", "copy_sent", "publication_scheduled")
        ):
            counts["cspr_awaiting_publication"] += 1
            continue
        if finished:
            continue  # finished some other way (not a CSPR outcome the yearly report counts)
        counts["cspr_underway"] += 1
        clock = before_cut_off(EventKind.clock_stopped, EventKind.clock_restarted)
        counts["cspr_underway_clock_stopped"] += (
            clock[-1].kind == "clock_stopped" if clock else bool(review.paused)
        )
    counts["cspr_completed_not_published"] = (
        counts["cspr_decided_not_to_publish"] + counts["cspr_awaiting_publication"]
    )
    return counts


def _published_day(
    published: list[Any], review: Any, finished: datetime | None, zone: ZoneInfo
) -> date | None:
    """The day a review was published, as recorded (or the day it finished published, for one recorded
    before the day was kept); None if it was not published by the cut-off."""
    if published:
        on = published[0].details.get("published_on")
        return date.fromisoformat(on) if on else event_time(published[0]).astimezone(zone).date()
    if review.outcome == "published" and finished:
        return finished.astimezone(zone).date()
    return None


def _action_figures(
    model: ReportRows, in_year: Any, settled_before: datetime, cut_off: datetime, themes: dict[str, str]
) -> dict[str, Any]:
    """The actions completed in the year and those still open at the cut-off, in all and by theme. One
    completed before ``settled_before`` (the year's start, or the cut-off if earlier) counts in neither,
    and is not read."""
    added_at = model.action_added_at
    tasks = model.action_tasks
    withdrawn_at = model.withdrawn_at
    counted = or_(
        ActionRow.status.not_in(COMPLETED),
        ActionRow.completed_at.is_(None),
        ActionRow.completed_at >= settled_before,
    )
    actions = model.rows(
        ActionRow,
        ActionRow.case_reference,
        ActionRow.action_id,
        ActionRow.status,
        ActionRow.completed_at,
        ActionRow.due_at,
        decoded_once(ActionRow.themes),
        where=[counted],
    )
    # theme -> completed, outstanding, overdue
    by_theme: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    completed = outstanding = overdue = 0
    for action in actions:
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
        if done_in_year or still_open:
            for theme in set(action.themes or []):
                counts = by_theme[theme]
                counts[0] += done_in_year
                counts[1] += still_open
                counts[2] += late
    return {
        "actions_completed": completed,
        "actions_outstanding": outstanding,
        "actions_overdue": overdue,
        "actions_by_theme": [
            ThemeActions(
                theme=theme,
                label=theme_label(theme, themes),
                completed=by_theme[theme][0],
                outstanding=by_theme[theme][1],
                overdue=by_theme[theme][2],
            )
            for theme in theme_order(by_theme, themes)
        ],
    }
