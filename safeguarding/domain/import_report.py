"""What bringing in cases answers: a line per row (would open, opened, already imported, refused with
the reason) and the whole report. Re-exported by ``safeguarding/domain/onboarding.py``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


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
