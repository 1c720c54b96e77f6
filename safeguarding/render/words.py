"""People's words for what the dashboard shows: a day as GOV.UK writes it ("Friday 2 January 2026"), the
time only when it says something, the names of stages, roles and events, and an event's facts in a line
with no internal key, deadline id or ISO time left in it.

A deadline's key becomes the title its policy gave it (stored with the deadline, so the case page reads it
from the case's own deadlines); the other tables are the reports' where they have one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from safeguarding.domain.case import Stage
from safeguarding.domain.events import EventKind
from safeguarding.domain.people import Role
from safeguarding.domain.rules.common import day_words
from safeguarding.queries.case_timeline import CaseTimeline
from safeguarding.render.reports import KIND_LABELS, RECIPIENT_LABELS

LONDON = ZoneInfo("Europe/London")

STAGE_NAMES = {
    Stage.screening: "Screening",
    Stage.rapid_review: "Rapid review",
    Stage.local_review: "Local review (CSPR)",
    Stage.other_review: "Other review",
    Stage.learning_actions: "Learning actions",
    Stage.national_review: "National review",
    Stage.contributing: "Contributing to another area's review",
    Stage.notifying: "Secretary of State and Ofsted to be told",
    Stage.learning_review: "Local learning review",
    Stage.thematic_review: "Thematic review",
    Stage.adults_review: "Safeguarding Adults Review",
    Stage.closed: "Closed",
}
ROLE_NAMES = {
    Role.business_unit: "Business Unit",
    Role.jcrg_member: "JCRG member",
    Role.jcrg_chair: "JCRG chair",
    Role.safeguarding_partner: "Safeguarding partner",
    Role.independent_scrutineer: "Independent Scrutineer",
    Role.partner_agency: "Partner agency",
    Role.manager: "Manager",
    Role.adults_board_representative: "Safeguarding Adults Board representative",
}
# Every kind of event the case page can show, as a line of its history.
EVENT_NAMES = {
    EventKind.case_opened: "Case opened",
    EventKind.referral_confirmed: "Referral confirmed in writing",
    EventKind.screened: "Referral screened",
    EventKind.notification_recorded: "Notification sent",
    EventKind.information_requested: "Information requested from agencies",
    EventKind.information_returned: "Information returned",
    EventKind.recommendation_made: "Rapid review recommendation made",
    EventKind.recommendation_revised: "Recommendation revised",
    EventKind.partner_signed_off: "Safeguarding partner signed off",
    EventKind.partner_disagreed: "Safeguarding partner returned the recommendation",
    EventKind.recommendation_returned: "Recommendation returned for revision",
    EventKind.recommendation_signed_off: "Recommendation signed off by the three partners",
    EventKind.scrutineer_informed: "Independent Scrutineer informed",
    EventKind.rapid_review_sent: "Rapid review sent to the Panel",
    EventKind.panel_responded: "Panel responded",
    EventKind.recommendation_reopened: "Recommendation reopened",
    EventKind.rapid_review_concluded: "Rapid review concluded",
    EventKind.contribution_requested: "Contribution asked of another partnership",
    EventKind.contribution_sent: "Our contribution sent to the area that leads the review",
    EventKind.review_started: "Review started",
    EventKind.review_finished: "Review finished",
    EventKind.action_plan_started: "Action plan started",
    EventKind.action_plan_closed: "Action plan closed",
    EventKind.closure_decided: "Decided to close the case",
    EventKind.case_closed: "Case closed",
    EventKind.review_commissioned: "Review commissioned",
    EventKind.reviewer_appointed: "Reviewer appointed",
    EventKind.terms_agreed: "Terms of reference agreed",
    EventKind.family_engagement: "Family engagement recorded",
    EventKind.learning_event_held: "Learning event held",
    EventKind.draft_received: "Draft report received",
    EventKind.report_approved: "Report approved by a partner",
    EventKind.report_approved_by_all_partners: "Report approved by the three partners",
    EventKind.final_report: "Final report received",
    EventKind.copy_sent: "Report sent to the Panel and the Secretary of State",
    EventKind.publication_scheduled: "Publication scheduled",
    EventKind.published: "Report published",
    EventKind.not_published: "Report not to be published",
    EventKind.clock_stopped: "Clock stopped for parallel proceedings",
    EventKind.clock_restarted: "Clock restarted",
    EventKind.information_to_panel: "Information for the national review sent to the Panel",
    EventKind.panel_report_received: "The Panel's national review report received",
    EventKind.checkpoint_done: "Checkpoint done",
    EventKind.review_rescoped: "Review changed",
    EventKind.review_withdrawn: "Review withdrawn",
    EventKind.action_plan_opened: "Action plan opened",
    EventKind.recommendation_added: "Recommendation added to the plan",
    EventKind.adults_board_signed_off: "Safeguarding Adults Board signed off",
    EventKind.adults_board_disagreed: "Safeguarding Adults Board returned the recommendation",
    EventKind.adults_board_approved_report: "Safeguarding Adults Board approved the report",
    EventKind.adults_board_agreed_publication: "Safeguarding Adults Board agreed publication",
    EventKind.criteria_not_met: "Criteria for a review not met",
    EventKind.review_recommendations_taken: "The review's recommendations added to the plan",
    EventKind.action_added: "Action added",
    EventKind.action_progress: "Progress on an action",
    EventKind.action_signed_off: "Action signed off",
    EventKind.action_redated: "Action given a new date",
    EventKind.impact_checked: "Impact checked",
    EventKind.task_withdrawn: "Task withdrawn",
    EventKind.checkpoint_task_created: "Checkpoint task set",
    EventKind.deadline_opened: "Deadline started",
    EventKind.deadline_met: "Deadline met",
    EventKind.deadline_missed: "Deadline missed",
    EventKind.deadline_cancelled: "Deadline cancelled",
    EventKind.reminder_sent: "Reminder sent",
    EventKind.escalation_sent: "Escalation sent",
}

# What each fact of an event is called in its line; facts named None are the service's bookkeeping.
FACT_NAMES: dict[str, str | None] = {
    "key": "Deadline",
    "deadline": None,  # the deadline's id on its stream ("D2"): the key says which deadline
    "workflow_id": None,
    "policy_version": None,  # the summary above the tables says it
    "subject": None,
    "due_at": "due",
    "due_on": "due",
    "started_at": "started",
    "panel_told_at": "Panel told",
    "recipients": "to",
    "number": "number",
    "agency": "agency",
    "agencies": "agencies",
    "task": "task",
    "tasks": "tasks",
    "criteria_met": "criteria met",
    "learning_route": "learning route",
    "recommendation": "recommendation",
    "review_type": "type of review",
    "methodology": "method",
    "route": "route",
    "stage": "stage",
    "next_stage": "next stage",
    "outcome": "outcome",
    "partner": "partner",
    "recipient": "told",
    "reference": "their reference",
    "response": "response",
    "round": "round",
    "kind": "review",
    "learning_actions": "learning actions",
}
ACRONYMS = {"cspr": "CSPR", "sar": "SAR", "jcrg": "JCRG", "dfe": "DfE", "ofsted": "Ofsted", "cdop": "CDOP"}
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LONGEST_FACT = 120


def words(value: str | None) -> str:
    """An internal value as words: "local_cspr" reads "Local CSPR"."""
    parts = (value or "").replace("-", " ").replace("_", " ").split()
    text = " ".join(ACRONYMS.get(part, part) for part in parts)
    return text[:1].upper() + text[1:]


def day(value: date | datetime | None) -> str:
    """ "Friday 2 January 2026" (a moment's day in London)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return day_words(value)


def moment(value: datetime | None) -> str:
    """ "Friday 2 January 2026 at 5pm"; a moment at midnight is a day (a step dated, not timed)."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    if local.time() == time(0):
        return day(local)
    hour = local.hour % 12 or 12
    clock = (f"{hour}{local:%p}" if local.minute == 0 else f"{hour}:{local:%M}{local:%p}").lower()
    clock = {"12pm": "midday", "12am": "midnight"}.get(clock, clock)
    return f"{day(local)} at {clock}"


def stage_name(value: str | None) -> str:
    return STAGE_NAMES.get(value, words(value))  # type: ignore[call-overload]


def role_name(value: str | None) -> str:
    return ROLE_NAMES.get(value, words(value))  # type: ignore[call-overload]


def event_name(value: str) -> str:
    return EVENT_NAMES.get(value, words(value))  # type: ignore[call-overload]


def event_facts(
    details: Mapping[str, Any], deadline_titles: Mapping[str, str], agency_names: Mapping[str, str]
) -> str:
    """An event's facts in a line, each in words: a deadline by its title, a time as a day (and the time
    when it has one), a choice as words, an agency by its name. Long values and lists of records are left
    to the tables."""
    shown = []
    for name, value in details.items():
        label = FACT_NAMES.get(name, words(name).lower())
        text = _fact(name, value, deadline_titles, agency_names)
        if label is None or not text or len(text) > LONGEST_FACT:
            continue
        shown.append(text if name == "key" else f"{label}: {text}")
    line = "; ".join(shown)
    return line[:1].upper() + line[1:]


def case_event_facts(details: Mapping[str, Any], case: CaseTimeline) -> str:
    """An event of the case page in words: its deadlines by their titles, its agencies by their names."""
    titles = {d.key: d.title for d in case.deadlines}
    return event_facts(details, titles, _agency_names(case))


def case_agency_name(agency: str, case: CaseTimeline) -> str:
    """An agency of the case by its directory name (its code as words if the case has no work of its)."""
    return _agency_names(case).get(agency) or words(agency)


def _agency_names(case: CaseTimeline) -> dict[str, str]:
    return {t.agency: t.agency_name for t in case.tasks} | {a.agency: a.agency_name for a in case.actions}


def _fact(name: str, value: Any, titles: Mapping[str, str], agencies: Mapping[str, str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        items = [_fact(name, item, titles, agencies) for item in value if isinstance(item, str | int)]
        return ", ".join(item for item in items if item)
    if not isinstance(value, str) or not value:
        return ""
    if name == "key":
        return titles.get(value) or words(value)
    if name in ("agency", "agencies") and value in agencies:
        return agencies[value]
    if name in ("stage", "next_stage"):
        return stage_name(value)
    if name == "recipients":
        return RECIPIENT_LABELS.get(value, words(value))
    if name in ("recommendation", "kind", "review_type", "outcome") and value in KIND_LABELS:
        return KIND_LABELS[value]
    if ISO_MOMENT.match(value):
        return moment(datetime.fromisoformat(value))
    if ISO_DAY.match(value):
        return day(date.fromisoformat(value))
    if re.fullmatch(r"[a-z0-9]+(?:[_-][a-z0-9]+)+|[a-z]+", value):
        text = words(value)
        return text if name in ("agency", "partner") else text[:1].lower() + text[1:]
    return value
