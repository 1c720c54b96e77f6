"""Bringing in cases already in progress ("onboarding"): the file a partnership fills in, how it is read,
and the report that says what became of each row.

A partnership that starts with the service has open cases with real past history. Each case is one row:
what the case was opened with (the fields of ``CaseOpening``) and its ``history``, the steps already
taken, oldest first, each with the time it truly happened. The importer (``safeguarding/onboarding.py``,
``python -m safeguarding.onboard`` and ``POST /cases/import``) first replays every row's history on the
process rules (``safeguarding/domain/rules/onboarding.py``) without touching anything, then opens each
valid case and sends its steps to its workflows, where each step's rules run at the time it happened.

The file
--------

JSON: a list of objects, one per case::

    [{"reference": "LSCP-24-017", "partnership": "luton", "route": "serious_incident_notification",
      "la_aware_at": "2026-07-01T10:00:00+01:00", "referring_agency": "luton-childrens-social-care",
      "child_status": "neither", "child_died": false, "summary": "Infant with unexplained injuries.",
      "notified": {"panel": "2026-07-02T09:00:00+01:00"},
      "history": [
        {"step": "request_information", "occurred_at": "2026-07-03T10:00:00+01:00",
         "agencies": ["luton-schools"], "asked_for": "Chronology of involvement"},
        {"step": "submit_return", "occurred_at": "2026-07-08T15:00:00+01:00", "agency": "luton-schools",
         "summary": "Two contacts in June."},
        {"step": "recommend", "occurred_at": "2026-07-15T14:00:00+01:00",
         "recommendation": "local_cspr", "methodology": "Systems review", "reasons": "..."},
        {"step": "sign_off", "occurred_at": "2026-07-16T10:00:00+01:00", "partner": "police",
         "agrees": true, "reasons": "...", "as": {"user_id": "police.lead"}}]}]

The opening: ``reference``, ``partnership`` (may be left out when the import names it), ``route``,
``la_aware_at``, ``referred_at`` (referrals), ``referring_agency``, ``child_status``, ``child_died``,
``summary`` (no names), ``notified`` (notifications already sent: recipient -> time), ``contributors``,
``external_lead``. Times carry their offset.

Each step of ``history``:

- ``step``: the name of the workflow update that takes it (the table of steps, ``python -m safeguarding
  steps``): a case step (``confirm_referral``, ``screen``, ``record_notification``,
  ``request_information``, ``submit_return``, ``withdraw_task``, ``recommend``, ``sign_off``,
  ``inform_scrutineer``, ``send_rapid_review``, ``record_panel_response``, ``send_contribution``,
  ``close_case``), a review step (``appoint_reviewer``, ``agree_terms``, ``record_family_engagement``,
  ``record_learning_event``, ``receive_draft``, ``approve_report``, ``receive_final_report``,
  ``send_copy``, ``schedule_publication``, ``record_publication``, ``decide_not_to_publish``,
  ``stop_clock``, ``restart_clock``, ``send_information_to_panel``, ``receive_panel_report``) or an
  action plan step (``add_recommendation``, ``add_action``, ``record_progress``, ``sign_off_action``,
  ``redate_action``, ``withdraw_action``, ``close_plan``). ``review.withdraw_task`` names the review's;
  ``case.``, ``review.`` and ``plan.`` may prefix any name.
- the fields of the step's body, as its route takes them (``POST /cases/{reference}/...``);
- ``occurred_at``: when it happened. A step whose body has a date of its own (``sent_at``,
  ``received_at``, ``informed_at``, ``confirmed_at``, ``appointed_on``, ``agreed_on``, ``on``,
  ``held_on``, ``received_on``, ``sent_on``, ``published_on``) is dated by it; ``occurred_at`` may stand
  in for it. A step with no date happens at the import. Steps are listed in the order they happened.
- ``as`` (optional): who took it, when not the importing Business Unit: ``user_id``, ``role``,
  ``agency`` (an agency's return: ``{"agency": "luton-schools"}``), ``partner`` (a partner's sign-off
  defaults to its ``partner``), ``partnership`` (a contributing partnership's Business Unit). A step the
  Business Unit does not take defaults to its natural role: a sign-off to the partner, a recommendation
  or an action to the JCRG chair.
- ``submit_return`` and ``withdraw_task`` name the task by ``agency`` (its open information request) or
  ``task_id`` (``T1`` or ``<reference>.T1``).

The review and the action plan begin when the rapid review concludes (the Panel's response): their steps
follow it. An action plan begins on import, so its steps carry no earlier date, and an action's
``due_on`` is not in the past.

CSV: one row per case, with a header. Columns: the opening's scalar fields by name; ``notified_panel``,
``notified_safeguarding_partners``, ``notified_secretary_of_state``, ``notified_ofsted`` (a time each);
``contributors`` and ``external_lead`` as JSON; ``history`` as the JSON list above. An empty cell is a
field left out.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from safeguarding.domain import steps as table
from safeguarding.domain.action_plan import AddAction
from safeguarding.domain.case import (
    CaseOpening,
    ContributionSent,
    NotificationRecipient,
    NotificationRecord,
    PanelResponse,
    RapidReviewSent,
    ReferralConfirmation,
    ScrutineerInformed,
)
from safeguarding.domain.fields import AgencyCode, AwareDatetime, Dated, StrictModel, UserId
from safeguarding.domain.import_report import ImportReport as ImportReport
from safeguarding.domain.import_report import RowOutcome as RowOutcome
from safeguarding.domain.import_report import RowReport as RowReport
from safeguarding.domain.people import Role, StatutoryPartner
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
from safeguarding.domain.steps import Process, Step

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


def _step_names() -> dict[str, Step]:
    names: dict[str, Step] = {}
    for step in table.STEPS:
        if step.process not in IMPORTED:
            continue
        names[f"{step.process.value}.{step.update}"] = step
        names.setdefault(step.update, step)  # withdraw_task: the case's (review.withdraw_task: the review's)
    return names


STEP_NAMES = _step_names()


class UnreadableFile(ValueError):
    """The file cannot be read at all (not JSON or CSV, not a list of rows): nothing in it is imported."""


class RowRefused(ValueError):
    """A row that cannot be imported, with the reason and, for a step, which one."""

    def __init__(self, reason: str, index: int | None = None, step: str | None = None) -> None:
        where = "" if index is None else f"history[{index}] ({step}): " if step else f"history[{index}]: "
        super().__init__(where + reason)
        self.reason = where + reason
        self.index = index
        self.step = step


class ActingAs(StrictModel):
    """Who took a step, when not the importing Business Unit (staff identifiers only, no names)."""

    user_id: UserId | None = None
    role: Role | None = None
    agency: AgencyCode | None = None
    partner: StatutoryPartner | None = None
    partnership: AgencyCode | None = Field(
        default=None, description="A contributing partnership's Business Unit, acting for its own part."
    )

    @model_validator(mode="after")
    def _agency_acts_as_itself(self) -> ActingAs:
        if self.role is Role.partner_agency and self.agency is None:
            raise ValueError("a partner_agency names its agency")
        return self


@dataclass
class ImportStep:
    """One step of a row's history, read: the table's row for it, its body, who took it, when."""

    index: int
    name: str
    step: Step
    body: BaseModel
    acting_as: ActingAs | None = None
    # For submit_return / withdraw_task named by agency: whose open information request it is.
    task_agency: str | None = None

    @property
    def when(self) -> datetime | date | None:
        """When it happened, as the file says; None: at the import."""
        if isinstance(self.body, Dated):
            return self.body.occurred_at
        own = OWN_DATE.get(type(self.body))
        return getattr(self.body, own) if own else None


@dataclass
class CaseToImport:
    """One row, read: the case's opening and its history."""

    row: int
    opening: CaseOpening
    history: list[ImportStep] = field(default_factory=list)

    @property
    def partnership(self) -> str:
        return self.opening.partnership

    @property
    def reference(self) -> str:
        return self.opening.reference


# ---------------------------------------------------------------- reading a file


def read_rows(text: str, kind: str) -> list[Any]:
    """The file's rows, not yet checked: ``kind`` is ``json`` or ``csv``. A file that is neither, or has
    no rows, raises ``UnreadableFile`` with the reason."""
    if kind == "json":
        rows = _json_rows(text)
    elif kind == "csv":
        rows = _csv_rows(text)
    else:
        raise UnreadableFile(f"a file of cases is JSON or CSV, not {kind}")
    if not rows:
        raise UnreadableFile("the file has no cases")
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(f"the file has {len(rows)} cases; import at most {MAX_ROWS} at a time")
    return rows


def kind_of(name: str, text: str) -> str:
    """``json`` or ``csv``, from a file's name, or else from its first character."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith(".csv"):
        return "csv"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _json_rows(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as problem:
        raise UnreadableFile(
            f"not valid JSON: {problem.msg} (line {problem.lineno}, column {problem.colno})"
        ) from None
    if not isinstance(data, list):
        raise UnreadableFile("a JSON file of cases is a list of objects, one per case")
    strays = [str(number) for number, row in enumerate(data, 1) if not isinstance(row, dict)]
    if strays:  # not a file of cases at all (a list of numbers, say): refused whole, as the document says
        raise UnreadableFile(
            f"a JSON file of cases is a list of objects; row {', '.join(strays[:5])} is not one"
        )
    return data


def _csv_rows(text: str) -> list[Any]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as problem:
        raise UnreadableFile(f"not valid CSV: {problem}") from None
    header = [name.strip() for name in header]
    if "reference" not in header:
        raise UnreadableFile("a CSV file of cases has a header row naming its columns, among them reference")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise UnreadableFile(f"unknown columns: {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}")
    return [_from_csv({k.strip(): v for k, v in row.items() if k is not None}, row) for row in rows]


def _from_csv(cells: dict[str, str | None], raw: dict) -> dict[str, Any]:
    """A CSV row as the JSON form's object: empty cells left out, JSON cells decoded."""
    if None in raw:  # more cells than the header names
        return {"__problem__": "the row has more cells than the header has columns"}
    row: dict[str, Any] = {}
    notified: dict[str, str] = {}
    for name, value in cells.items():
        text = (value or "").strip()
        if not text:
            continue
        if name in NOTIFIED_COLUMNS:
            notified[NOTIFIED_COLUMNS[name].value] = text
        elif name in JSON_COLUMNS:
            try:
                row[name] = json.loads(text)
            except json.JSONDecodeError as problem:
                return {**row, "__problem__": f"{name}: not valid JSON ({problem.msg})"}
        else:
            row[name] = text
    if notified:
        row["notified"] = notified
    return row


# ---------------------------------------------------------------- reading a row


def reference_of(raw: Any) -> str | None:
    """The row's reference as written, for the report of a row that cannot be read."""
    value = raw.get("reference") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def parse_row(number: int, raw: Any, partnership: str | None = None) -> CaseToImport:
    """Row ``number`` (from 1) of the file, read into the opening and the steps of its history; a row that
    cannot be raises ``RowRefused``. ``partnership``: the one the import is for (a row may leave it out)."""
    if not isinstance(raw, dict):
        raise RowRefused("a case is an object with its opening fields and its history")
    if "__problem__" in raw:
        raise RowRefused(raw["__problem__"])
    fields = dict(raw)
    history = fields.pop("history", [])
    if partnership is not None:
        named = fields.setdefault("partnership", partnership)
        if named != partnership:
            raise RowRefused(f"this import is for partnership {partnership}; the row names {named}")
    try:
        opening = CaseOpening.model_validate(fields)
    except ValidationError as problem:
        raise RowRefused(_reasons(problem)) from None
    if not isinstance(history, list):
        raise RowRefused("history is a list of steps")
    if len(history) > MAX_STEPS:
        raise RowRefused(f"history has {len(history)} steps; a row takes at most {MAX_STEPS}")
    steps = [parse_step(index, raw_step, opening.reference) for index, raw_step in enumerate(history)]
    return CaseToImport(row=number, opening=opening, history=steps)


def parse_step(index: int, raw: Any, reference: str) -> ImportStep:
    """One step of a history: its name, its body's fields, ``occurred_at`` and ``as``."""
    if not isinstance(raw, dict):
        raise RowRefused("a step is an object with its name (step) and its fields", index, None)
    name = raw.get("step")
    step = STEP_NAMES.get(name) if isinstance(name, str) else None
    if step is None:
        raise RowRefused(
            f"unknown step {name!r}; the steps are {', '.join(sorted(n for n in STEP_NAMES if '.' not in n))}",
            index,
            str(name),
        )
    fields = {key: value for key, value in raw.items() if key not in ("step", "as")}
    try:
        acting_as = ActingAs.model_validate(raw["as"]) if raw.get("as") is not None else None
    except ValidationError as problem:
        raise RowRefused("as: " + _reasons(problem), index, name) from None
    task_agency = None
    if step in (table.SUBMIT_RETURN, table.WITHDRAW_CASE_TASK) and "task_id" not in fields:
        task_agency = fields.pop("agency", None)
        if task_agency is not None:
            fields["task_id"] = "-"  # resolved when the history is replayed: the agency's open task
    if isinstance(fields.get("task_id"), str) and "." not in fields["task_id"] and task_agency is None:
        fields["task_id"] = f"{reference}.{fields['task_id']}"
    _date_from_occurred_at(step, fields, index, name)
    try:
        body = step.body.model_validate(fields)
    except ValidationError as problem:
        raise RowRefused(_reasons(problem), index, name) from None
    return ImportStep(index, name, step, body, acting_as, task_agency)


def _date_from_occurred_at(step: Step, fields: dict[str, Any], index: int, name: str) -> None:
    """A body dated by a field of its own takes ``occurred_at`` as that field; both must agree."""
    if issubclass(step.body, Dated) or "occurred_at" not in fields:
        return
    own = OWN_DATE.get(step.body)
    occurred = fields.pop("occurred_at")
    if own is None:
        raise RowRefused(f"{name} carries no date: it is recorded as of the import", index, name)
    try:
        when = _WHEN.validate_python(occurred)
    except ValidationError as problem:
        raise RowRefused("occurred_at: " + _reasons(problem), index, name) from None
    is_date = step.body.model_fields[own].annotation is date  # a day (appointed_on), not a time
    given = fields.get(own)
    if given is None:
        fields[own] = when.date().isoformat() if is_date else occurred
        return
    try:
        same = (
            date.fromisoformat(str(given)) == when.date() if is_date else _WHEN.validate_python(given) == when
        )
    except (ValueError, ValidationError):
        return  # the body's own validation says what is wrong with it
    if not same:
        raise RowRefused(f"occurred_at ({occurred}) and {own} ({given}) disagree", index, name)


def _reasons(problem: ValidationError) -> str:
    parts = []
    for error in problem.errors():
        where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-after"))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def agencies_named(history: list[ImportStep]) -> list[tuple[ImportStep, list[str]]]:
    """The agencies each step gives work to (an information request, an action): each must be in the
    acting partnership's directory, as the API checks for a step sent to it."""
    named = []
    for item in history:
        codes = list(getattr(item.body, "agencies", None) or [])
        if isinstance(item.body, AddAction):
            codes.append(item.body.agency)
        if codes:
            named.append((item, codes))
    return named


def update_id(partnership: str, reference: str, index: int, item: ImportStep) -> str:
    """The step's update id: the same row gives the same ids, so the server takes each step once however
    often the file is imported. The content is in it too: a step changed in the file is a new step, which
    the rules then take or refuse, never silently the old one."""
    content = json.dumps(
        {
            "update": f"{item.step.process.value}.{item.step.update}",
            "body": item.body.model_dump(mode="json"),
            "as": item.acting_as.model_dump(mode="json") if item.acting_as else None,
            "agency": item.task_agency,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"import:{partnership}:{reference}:{index}:{digest}"
