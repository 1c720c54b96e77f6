"""The deadline policy: one declarative, versioned file per partnership.

Each deadline names the milestone that starts it, the milestone that meets it, how long it runs, when
to remind and whom to escalate to, and the source it comes from. A case copies the whole policy into
its workflow when it opens, so a later edit of the file never changes a running case. Reading and
checking the files is ``safeguarding/platform/policy_files.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import WithJsonSchema

from safeguarding.domain.facts import AbuseOrNeglect, ChildStatus, Route
from safeguarding.domain.fields import AGENCY_PATTERN
from safeguarding.domain.milestones import Milestone
from safeguarding.domain.people import Role


class DurationUnit(StrEnum):
    working_days = "working_days"
    calendar_days = "calendar_days"
    hours = "hours"
    calendar_months = "calendar_months"


_UNIT_WORDS = {
    "working day": DurationUnit.working_days,
    "working days": DurationUnit.working_days,
    "calendar day": DurationUnit.calendar_days,
    "calendar days": DurationUnit.calendar_days,
    "day": DurationUnit.calendar_days,
    "days": DurationUnit.calendar_days,
    "hour": DurationUnit.hours,
    "hours": DurationUnit.hours,
    "calendar month": DurationUnit.calendar_months,
    "calendar months": DurationUnit.calendar_months,
    "month": DurationUnit.calendar_months,
    "months": DurationUnit.calendar_months,
}

_DURATION = re.compile(r"^\s*(\d+)\s+([a-z ]+?)\s*$")


class Duration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: int = Field(ge=1, le=1000)
    unit: DurationUnit

    def __str__(self) -> str:
        words = self.unit.value.replace("_", " ")
        return f"{self.amount} {words[:-1] if self.amount == 1 else words}"


def _parse_duration(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    match = _DURATION.match(value.lower())
    unit = _UNIT_WORDS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"{value!r} is not a duration; write e.g. '5 working days', '48 hours', "
            "'10 calendar days' or '6 calendar months'"
        )
    return {"amount": int(match.group(1)), "unit": unit}


PolicyDuration = Annotated[Duration, BeforeValidator(_parse_duration)]

# Who a reminder or an escalation goes to: a role, or the agency that owns the task.
OWNING_AGENCY = "owning_agency"


def _check_recipient(value: str) -> str:
    if value != OWNING_AGENCY and value not in Role.__members__:
        allowed = ", ".join([OWNING_AGENCY, *Role.__members__])
        raise ValueError(f"{value!r} is not a recipient; use one of: {allowed}")
    return value


class AppliesWhen(BaseModel):
    """Conditions on the case's non-identifying facts; all given conditions must hold."""

    model_config = ConfigDict(extra="forbid")

    route: list[Route] | None = None
    child_status: list[ChildStatus] | None = None
    child_died: bool | None = None
    review_kind: list[str] | None = None
    # The intake's facts: a case that was not asked (opened before) meets no condition on them.
    abuse_or_neglect: list[AbuseOrNeglect] | None = None
    in_custody: bool | None = None
    regulated_setting: bool | None = None
    harmed_outside_england: bool | None = None

    def holds_for(self, facts: dict[str, Any]) -> bool:
        if self.route is not None and facts.get("route") not in self.route:
            return False
        if self.child_status is not None and facts.get("child_status") not in self.child_status:
            return False
        if self.review_kind is not None and facts.get("review_kind") not in self.review_kind:
            return False
        if self.abuse_or_neglect is not None and facts.get("abuse_or_neglect") not in self.abuse_or_neglect:
            return False
        for fact in ("in_custody", "regulated_setting", "harmed_outside_england"):
            wanted = getattr(self, fact)
            if wanted is not None and facts.get(fact) is not wanted:
                return False
        return self.child_died is None or facts.get("child_died") == self.child_died


class EscalationStep(BaseModel):
    """One tier of escalation: whom, and how long after the due time (none: at the due time)."""

    model_config = ConfigDict(extra="forbid")

    after: PolicyDuration | None = None
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _recipients_known(cls, value: list[str]) -> list[str]:
        return [_check_recipient(r) for r in value]


# An action's deadline is the date the JCRG sets for it, not a period from a milestone.
DATE_SET = "the date set"


class DeadlineRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    starts_on: Milestone
    met_by: Milestone
    due: PolicyDuration | Literal["the date set"]
    reminders: list[PolicyDuration] = Field(default_factory=list, description="Lead times before due.")
    reminders_to: list[str] = Field(min_length=1)
    escalate_to: list[str] | None = Field(default=None, description="One escalation, at the due time.")
    escalation: list[EscalationStep] | None = Field(default=None, description="Tiers of escalation.")
    # Stopped with the review's clock during parallel proceedings, and moved on when it restarts.
    pausable: bool = False
    statutory: bool = True
    applies_when: AppliesWhen = Field(default_factory=AppliesWhen)
    source: str = Field(min_length=3, max_length=300)

    @model_validator(mode="after")
    def _one_way_to_escalate(self) -> DeadlineRule:
        if self.escalate_to is not None and self.escalation is not None:
            raise ValueError("give either escalate_to (one escalation) or escalation (tiers), not both")
        return self

    @field_validator("reminders_to", "escalate_to")
    @classmethod
    def _recipients_known(cls, value: list[str] | None) -> list[str] | None:
        return value if value is None else [_check_recipient(r) for r in value]

    @field_validator("met_by")
    @classmethod
    def _not_self_meeting(cls, value: Milestone, info: Any) -> Milestone:
        if info.data.get("starts_on") == value:
            raise ValueError("a deadline cannot be met by the milestone that starts it")
        return value


class CheckpointRule(BaseModel):
    """A task the policy schedules: once (``after``) or repeatedly (``every``) from a milestone.

    Each checkpoint becomes a task for ``task_for`` due ``due`` after it is created; a repeating one
    stops at any of the ``until`` milestones.
    """

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    starts_on: Milestone
    after: PolicyDuration | None = None
    every: PolicyDuration | None = None
    until: list[Milestone] = Field(default_factory=list)
    task_for: str
    due: PolicyDuration
    reminders: list[PolicyDuration] = Field(default_factory=list)
    escalate_to: list[str] | None = None
    applies_when: AppliesWhen = Field(default_factory=AppliesWhen)
    source: str = Field(min_length=3, max_length=300)

    @field_validator("task_for")
    @classmethod
    def _recipient_known(cls, value: str) -> str:
        return _check_recipient(value)

    @model_validator(mode="after")
    def _when(self) -> CheckpointRule:
        if self.after is None and self.every is None:
            raise ValueError("a checkpoint needs 'after' (once) or 'every' (repeating)")
        return self

    @property
    def first_after(self) -> Duration:
        return self.after or self.every  # type: ignore[return-value]

    def as_deadline_rule(self, escalate_to: list[str]) -> DeadlineRule:
        """The deadline of the task a checkpoint creates."""
        return DeadlineRule(
            title=self.title,
            starts_on=Milestone.task_created,
            met_by=Milestone.task_completed,
            due=self.due,
            reminders=self.reminders,
            reminders_to=[self.task_for],
            escalate_to=self.escalate_to or escalate_to,
            source=self.source,
        )


class BankHolidayCalendar(StrEnum):
    england_and_wales = "england-and-wales"
    scotland = "scotland"
    northern_ireland = "northern-ireland"


class WorkingDays(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank_holidays: BankHolidayCalendar = BankHolidayCalendar.england_and_wales
    extra_closed_days: list[date] = Field(
        default_factory=list, description="Days the partnership adds, e.g. a one-off bank holiday."
    )
    end_of_working_day: Annotated[
        time,
        # A local time has no offset, so not JSON Schema's "time" (which needs one): said as it is written.
        WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}),
    ] = Field(description="Local time at which a day-based deadline falls due.")


MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class ReportingRules(BaseModel):
    """When the partnership reports (DOMAIN.md, step 5)."""

    model_config = ConfigDict(extra="forbid")

    # The closing-the-loop report runs on these days each year (MM-DD, in the policy's time zone), at
    # this local time; each covers the time since the one before.
    closing_the_loop_on: list[MonthDay] = Field(min_length=1, max_length=12)
    closing_the_loop_at: str = Field(default="06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # The yearly report: its reporting year starts on this day (MM-DD); it is published by the date
    # (MM-DD) after the year ends, and sent to the Panel and the DfE within this long of publication.
    reporting_year_starts: MonthDay = "04-01"
    yearly_report_published_by: MonthDay = "09-30"
    yearly_report_sent_within: PolicyDuration = Field(
        default_factory=lambda: Duration(amount=7, unit="working_days")
    )
    yearly_report_reminders: list[PolicyDuration] = Field(default_factory=list, description="Lead times.")
    yearly_report_sent_reminders: list[PolicyDuration] = Field(
        default_factory=list, description="Lead times."
    )
    yearly_report_reminders_to: list[str] = Field(default_factory=lambda: ["business_unit"])
    yearly_report_escalate_to: list[str] = Field(
        default_factory=lambda: ["jcrg_chair", "independent_scrutineer"]
    )
    source: str = Field(min_length=3, max_length=300)

    @field_validator("yearly_report_reminders_to", "yearly_report_escalate_to")
    @classmethod
    def _recipients_known(cls, value: list[str]) -> list[str]:
        return [_check_recipient(r) for r in value]


# The themes learning is grouped by (DOMAIN.md), in the order plans list them: the policy's own, or these.
DEFAULT_THEMES: dict[str, str] = {
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
THEME_PATTERN = r"^[a-z][a-z0-9_]{1,60}$"


def theme_label(theme: str, themes: dict[str, str] = DEFAULT_THEMES) -> str:
    return themes.get(theme, theme.replace("_", " ").capitalize())


def theme_order(found: Iterable[str], themes: dict[str, str] = DEFAULT_THEMES) -> list[str]:
    """In the policy's order; a theme it does not list (a plan recorded under an older list) last."""
    known = list(themes)
    return sorted(set(found), key=lambda t: (known.index(t) if t in known else len(known), t))


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partnership: str = Field(pattern=AGENCY_PATTERN)
    name: str
    version: str = Field(min_length=1, max_length=40)
    # The shared procedure the partnership's file inherits from, and its version ("pan-bedfordshire 2026.3").
    procedure: str | None = Field(default=None, max_length=80)
    timezone: str = "Europe/London"
    working_days: WorkingDays
    escalate_to: list[str] = Field(min_length=1, description="Default escalation when a deadline is missed.")
    deadlines: dict[str, DeadlineRule] = Field(min_length=1)
    checkpoints: dict[str, CheckpointRule] = Field(default_factory=dict)
    # The final review report reaches the Panel and the Secretary of State at least this long before
    # it is published (Working Together).
    publication_notice: PolicyDuration = Field(
        default_factory=lambda: Duration(amount=7, unit="working_days")
    )
    reports: ReportingRules | None = None
    # When a review's clock starts: the partners' dated decision to hold it (Working Together: six
    # months from the decision), or the Panel's answer to the rapid review.
    review_clock_starts: Literal["partners_decision", "panel_response"] = "partners_decision"
    themes: dict[Annotated[str, StringConstraints(pattern=THEME_PATTERN)], str] = Field(
        default_factory=lambda: dict(DEFAULT_THEMES), min_length=1
    )

    @field_validator("escalate_to")
    @classmethod
    def _recipients_known(cls, value: list[str]) -> list[str]:
        return [_check_recipient(r) for r in value]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone name") from exc
        return value

    @field_validator("deadlines")
    @classmethod
    def _keys_are_names(cls, value: dict[str, DeadlineRule]) -> dict[str, DeadlineRule]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{2,60}", key):
                raise ValueError(f"deadline name {key!r} must be lower_snake_case")
        return value

    def escalation_for(self, rule: DeadlineRule) -> list[EscalationStep]:
        if rule.escalation is not None:
            return rule.escalation
        return [EscalationStep(to=rule.escalate_to if rule.escalate_to is not None else self.escalate_to)]

    def checkpoints_started_by(
        self, milestone: Milestone, facts: dict[str, Any]
    ) -> list[tuple[str, CheckpointRule]]:
        return [
            (key, rule)
            for key, rule in self.checkpoints.items()
            if rule.starts_on is milestone and rule.applies_when.holds_for(facts)
        ]

    def rules_started_by(self, milestone: Milestone, facts: dict[str, Any]) -> list[tuple[str, DeadlineRule]]:
        return [
            (key, rule)
            for key, rule in self.deadlines.items()
            if rule.starts_on is milestone and rule.applies_when.holds_for(facts)
        ]
