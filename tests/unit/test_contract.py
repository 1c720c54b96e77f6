"""The OpenAPI document against the rules it states: the same verdict from the document's JSON Schema as
from the models' validators, for dates, texts and the cross-field rules; every error declared as problem
details. No server: the app's document, and the models themselves."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from api.app import create_app
from api.problems import MEDIA_TYPE
from safeguarding.domain.case import ScreeningDecision
from safeguarding.domain.fields import (
    PLAUSIBLE_DATE_PATTERN,
    AwareDatetime,
    PlausibleDate,
    Reasons,
)
from safeguarding.domain.opening import CaseOpening
from safeguarding.platform.policy_files import load_policies
from safeguarding.platform.settings import Settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings()
    app = create_app(settings)
    app.state.policies = load_policies(settings.policy_dir)  # as the lifespan does
    return app.openapi()


@cache
def _checkers(model: Any) -> tuple[TypeAdapter[Any], Any]:
    adapter = TypeAdapter(model)
    return adapter, jsonschema_rs.validator_for(adapter.json_schema(), validate_formats=True)


def _verdicts(model: type[BaseModel] | Any, body: Any) -> tuple[bool, bool]:
    """(the document takes it, the validator takes it): the body as JSON, as a request sends it."""
    adapter, schema = _checkers(model)
    try:
        adapter.validate_json(json.dumps(body))
        by_model = True
    except ValidationError:
        by_model = False
    return schema.is_valid(body), by_model


def test_every_day_from_2000_to_2100_and_no_other_is_a_plausible_date_by_the_pattern_and_the_validator():
    day, pattern = date(1999, 12, 25), re.compile(PLAUSIBLE_DATE_PATTERN)
    while day <= date(2101, 1, 5):
        taken = 2000 <= day.year <= 2100
        assert bool(pattern.match(day.isoformat())) is taken, day
        assert _verdicts(PlausibleDate, day.isoformat()) == (taken, taken), day
        day += timedelta(days=1)
    for impossible in (
        "2026-02-29",
        "2100-02-29",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        1767312000,
        "2026-01-02T00:00:00Z",
    ):
        assert _verdicts(PlausibleDate, impossible) == (False, False), impossible


@pytest.mark.parametrize(
    ("value", "taken"),
    [
        ("2026-03-29T01:30:00+01:00", True),
        ("2026-10-25T01:30:00.123456Z", True),
        ("2024-02-29T23:59:59-05:00", True),
        ("2026-01-01T10:00:00", False),  # no offset: which 10 o'clock?
        ("1999-12-31T23:00:00Z", False),
        ("2101-01-01T00:00:00Z", False),
        ("2026-02-29T10:00:00Z", False),
        ("2026-01-01T24:00:00Z", False),
        ("2026-01-01T10:00Z", False),
        ("2026-01-01 10:00:00Z", False),
        ("2026-01-01t10:00:00z", False),
        (1767312000, False),
    ],
)
def test_a_time_is_taken_by_the_document_exactly_when_the_validator_takes_it(value: Any, taken: bool):
    """What JSON would let pydantic read as a time (a number of seconds, a space for the T, no seconds) is
    refused as the document refuses it."""
    assert _verdicts(AwareDatetime, value) == (taken, taken)


@pytest.mark.parametrize("text", ["Reasons.", "  padded  ", "", " ", "\t\n", "\x1c\x1f", "\ufeff", "\u3000x"])
def test_a_blank_text_is_refused_by_the_document_and_the_validator_alike(text: str):
    by_schema, by_model = _verdicts(Reasons, text)
    assert by_schema is by_model, repr(text)


OPENING = {
    "reference": "LSCP-26-031",
    "partnership": "luton",
    "route": "serious_incident_notification",
    "la_aware_at": "2026-10-05T10:00:00+01:00",
    "referring_agency": "luton-childrens-social-care",
    "child_status": "neither",
    "child_died": False,
    "summary": "Infant admitted with unexplained injuries.",
}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"route": "agency_referral"},  # a referral needs its time
        {"route": "agency_referral", "referred_at": "2026-10-05T09:00:00+01:00"},
        {"route": "cdop_referral", "referred_at": "2026-10-05T09:00:00+01:00", "notified": {"panel": "2026-10-06T09:00:00+01:00"}},
        {"route": "care_leaver_death"},
        {"route": "care_leaver_death", "child_status": "care_leaver", "child_died": True},
        {"route": "care_leaver_death", "child_status": "care_leaver", "child_died": True, "notified": {"ofsted": "2026-10-06T09:00:00+01:00"}},
        {"route": "thematic_review"},
        {"route": "thematic_review", "thematic": {"theme": "neglect", "title": "Neglect", "cases": ["A-1", "A-2"]}},
        {"route": "thematic_review", "thematic": {"theme": "neglect", "title": "Neglect", "cases": ["A-1", "A-1"]}},
        {"route": "thematic_review", "child_died": True, "thematic": {"theme": "neglect", "title": "N", "cases": ["A-1", "A-2"]}},
        {"thematic": {"theme": "neglect", "title": "Neglect", "cases": ["A-1", "A-2"]}},
        {"route": "safeguarding_adults_review", "care_act_basis": "s44_1"},
        {"route": "safeguarding_adults_review"},
        {"care_act_basis": "s44_1"},
        {"route": "contribution_to_external_review", "referred_at": "2026-10-05T09:00:00+01:00"},
        {"route": "contribution_to_external_review", "referred_at": "2026-10-05T09:00:00+01:00", "external_lead": {"area": "Bristol", "kind": "rapid_review"}},
        {"abuse_or_neglect": "not_suspected"},
        {"abuse_or_neglect": "not_suspected", "child_status": "looked_after", "child_died": True},
        {"route": "learning_from_elsewhere"},
        {"route": "learning_from_elsewhere", "learning_source": {"kind": "national_review", "title": "Invisible Men", "recommendations": ["Ask about fathers."]}},
    ],
)  # fmt: skip
def test_a_case_opening_is_taken_by_the_document_exactly_when_the_validators_take_it(changes: dict[str, Any]):
    """The rules the validators hold across fields, stated as if/then in the document: a client that
    keeps to the document is refused nothing for its shape."""
    by_schema, by_model = _verdicts(CaseOpening, {**OPENING, **changes})
    assert by_schema is by_model, changes


@pytest.mark.parametrize(
    "body",
    [
        {"criteria_met": True, "reasons": "Met."},
        {"criteria_met": False, "reasons": "Not met."},
        {"criteria_met": False, "reasons": "Not met.", "learning_route": "single_agency_review"},
        {"criteria_met": True, "reasons": "Met.", "learning_route": "single_agency_review"},
    ],
)
def test_a_screening_decision_is_taken_by_the_document_exactly_when_the_validator_takes_it(body):
    by_schema, by_model = _verdicts(ScreeningDecision, body)
    assert by_schema is by_model, body


def test_every_error_an_operation_answers_is_declared_as_problem_details(document: dict[str, Any]):
    assert "HTTPValidationError" not in str(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            for code, answer in answers.items():
                if int(code) < 400 or (path, code) == ("/health", "503"):
                    continue
                schema = answer["content"][MEDIA_TYPE]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, code)
            assert "503" in answers, (method, path)
            if operation.get("security"):
                assert "401" in answers, (method, path)
            if "{" in path:
                assert "404" in answers, (method, path)
            if "{reference}" in path or "{task_id}" in path:  # the case is found through Temporal
                assert {"409", "429", "504"} <= set(answers), (method, path)
            if "requestBody" in operation:
                assert {"413", "422"} <= set(answers), (method, path)


def test_a_partnership_is_one_of_those_the_service_runs(document: dict[str, Any]):
    runs = sorted(load_policies(Settings().policy_dir))
    said = [
        parameter["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "partnership"
    ]
    assert said, "no operation takes a partnership"
    for schema in said:
        enums = [
            each.get("enum") or each.get("items", {}).get("enum") for each in schema.get("anyOf", [schema])
        ]
        assert runs in enums, schema
    assert document["components"]["schemas"]["CaseOpening"]["properties"]["partnership"]["enum"] == runs


def test_a_document_made_before_the_start_is_made_again_whole_once_the_partnerships_are_known():
    settings = Settings()
    app = create_app(settings)
    early = app.openapi()  # an export before the lifespan: no partnerships known yet
    assert "enum" not in str(early["components"]["schemas"]["CaseOpening"]["properties"]["partnership"])
    app.state.policies = load_policies(settings.policy_dir)
    later = app.openapi()
    assert later["components"]["schemas"]["CaseOpening"]["properties"]["partnership"]["enum"] == sorted(
        app.state.policies
    )
    keys = [p for p in later["paths"]["/incidents"]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert len(keys) == 1  # made again, not added to twice
    assert app.openapi() is later  # and kept
