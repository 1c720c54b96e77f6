"""What bringing in cases answers: a line per row (would open, opened, already imported, refused with
the reason) and the whole report. Re-exported by ``safeguarding/domain/onboarding.py``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, TypeAdapter

from safeguarding.domain.case import (
    ContributionSent,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    RapidReviewSent,
    ReferralConfirmation,
    ScrutineerInformed,
)
from safeguarding.domain.fields import AwareDatetime
from safeguarding.domain.review import (
    CopySent,
    DraftReceived,
    FamilyEngagement,
    FinalReport,
    InformationToPanel,
    LearningEventHeld,
    PanelReportReceived,
    PublicationScheduled,
    Published,
    ReviewerAppointed,
    TermsAgreed,
)
from safeguarding.domain.steps import Process

MAX_ROWS = 5000
MAX_STEPS = 400

# The steps a file may carry: the case's, the review's and the action plan's (not the yearly report's).
IMPORTED = (Process.case, Process.review, Process.plan)

# A step whose body has a date of its own is dated by it (``occurred_at`` may stand in for it).
OWN_DATE: dict[type[BaseModel], str] = {
    ReferralConfirmation: "confirmed_at",
    NotificationRecord: "sent_at",
    ScrutineerInformed: "informed_at",
    RapidReviewSent: "sent_at",
    PanelResponse: "received_at",
    ContributionSent: "sent_at",
    ReviewerAppointed: "appointed_on",
    TermsAgreed: "agreed_on",
    FamilyEngagement: "on",
    LearningEventHeld: "held_on",
    DraftReceived: "received_on",
    FinalReport: "received_on",
    CopySent: "sent_on",
    Published: "published_on",
    InformationToPanel: "sent_on",
    PanelReportReceived: "received_on",
}
# Bodies with no date at all: taken as of the import (a publication date is when it will be, not when
# it was set).
UNDATED: tuple[type[BaseModel], ...] = (PublicationScheduled,)

# The CSV's columns beyond the opening's scalar fields.
NOTIFIED_COLUMNS = {f"notified_{recipient.value}": recipient for recipient in NotificationRecipient}
JSON_COLUMNS = ("contributors", "external_lead", "history")
COLUMNS = (
    "reference",
    "partnership",
    "route",
    "la_aware_at",
    "referred_at",
    "referring_agency",
    "child_status",
    "child_died",
    "summary",
    *NOTIFIED_COLUMNS,
    "contributors",
    "external_lead",
    "history",
)

_WHEN = TypeAdapter(AwareDatetime)


class RowOutcome(StrEnum):
    would_open = "would open"
    opened = "opened"
    already_imported = "already imported"
    refused = "refused"


class RowReport(BaseModel):
    """What became of one row (or, on a dry run, would)."""

    row: int = Field(description="The row's place in the file, from 1.")
    reference: str | None
    partnership: str | None = None
    outcome: RowOutcome
    reason: str | None = Field(default=None, description="Why the row was refused.")
    step_index: int | None = Field(default=None, description="The refused step's index in history (from 0).")
    step: str | None = Field(default=None, description="The refused step's name.")
    steps: int = Field(default=0, description="How many steps its history has.")
    stage: str | None = Field(default=None, description="Where the case stands after its history.")
    review_stage: str | None = None
    plan_status: str | None = None
    late: list[str] = Field(
        default_factory=list, description="Deadlines its history met late, or that are overdue now."
    )
    partly_imported: bool = Field(
        default=False,
        description="A step was refused by the case after the ones before it were recorded: correct the "
        "file and import it again (the steps already recorded are not taken twice).",
    )


class ImportReport(BaseModel):
    """POST /cases/import: the report, row by row."""

    dry_run: bool
    rows: list[RowReport]

    @property
    def refused(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome is RowOutcome.refused]

    def counts(self) -> dict[str, int]:
        return {outcome.value: sum(r.outcome is outcome for r in self.rows) for outcome in RowOutcome}
