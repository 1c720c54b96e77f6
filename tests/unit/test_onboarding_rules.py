"""Bringing in cases already in progress, before anything is touched: each row read into its models and
its history replayed on the process rules. A row is refused with its reason (and the step at fault), or
would open at the stage its history reaches."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from activities.deadlines import compute_due_dates
from safeguarding.domain import steps as table
from safeguarding.domain.fields import Dated
from safeguarding.domain.onboarding import (
    OWN_DATE,
    UNDATED,
    CaseToImport,
    RowRefused,
    UnreadableFile,
    kind_of,
    parse_row,
    read_rows,
    update_id,
)
from safeguarding.domain.people import Actor, Role, StatutoryPartner
from safeguarding.domain.policy import Policy
from safeguarding.domain.rules.onboarding import Replayed, replay
from safeguarding.onboard import ProgressLine, main
from tests.factories import POLICY

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "onboarding"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
IMPORTER = Actor(user_id="onboarding", role=Role.business_unit, partnerships=["luton"])


def at(days_ago: float, hour: int = 10) -> str:
    """A time ``days_ago`` before NOW, at ``hour`` UTC, as a file gives it."""
    return (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=0).isoformat()


def step(name: str, **fields: Any) -> dict[str, Any]:
    return {"step": name, **fields}


def sign_offs(days_ago: float) -> list[dict[str, Any]]:
    return [
        step("sign_off", occurred_at=at(days_ago, 10 + i), partner=p.value, agrees=True, reasons="Agreed.")
        for i, p in enumerate(StatutoryPartner)
    ]


def rapid_review(days_ago: float = 60) -> list[dict[str, Any]]:
    """Information asked for and returned, a local CSPR recommended and signed off, sent to the Panel."""
    d = days_ago
    return [
        step(
            "request_information",
            occurred_at=at(d - 1),
            agencies=["luton-schools", "bedfordshire-police"],
            asked_for="Chronology",
        ),
        step("submit_return", occurred_at=at(d - 3), agency="luton-schools", summary="Two contacts."),
        step("submit_return", occurred_at=at(d - 4), agency="bedfordshire-police", summary="One call-out."),
        step(
            "recommend",
            occurred_at=at(d - 8),
            recommendation="local_cspr",
            methodology="Systems review",
            reasons="Serious harm; learning about information sharing.",
        ),
        *sign_offs(d - 10),
        step("inform_scrutineer", informed_at=at(d - 10, 16)),
        step("send_rapid_review", sent_at=at(d - 11)),
    ]


def row(history: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """A serious incident notification made 60 days before NOW, the Panel and partners told next day."""
    return {
        "reference": "LSCP-ON-1",
        "partnership": "luton",
        "route": "serious_incident_notification",
        "la_aware_at": at(60),
        "referring_agency": "luton-childrens-social-care",
        "child_status": "neither",
        "child_died": False,
        "summary": "Infant with unexplained injuries.",
        "notified": {"panel": at(59), "safeguarding_partners": at(59)},
        "history": history or [],
        **changes,
    }


def replayed(raw: dict[str, Any], policy: Policy = POLICY, calendar: bool = False) -> Replayed:
    return replay(parse_row(1, raw), policy, IMPORTER, NOW, compute_due_dates if calendar else None)


def refused(raw: Any) -> RowRefused:
    with pytest.raises(RowRefused) as refusal:
        replayed(raw)
    return refusal.value


# ---------------------------------------------------------------- valid rows


def test_a_case_in_its_cspr_would_open_at_the_stage_its_history_reaches():
    history = [
        *rapid_review(),
        step("record_panel_response", received_at=at(40), response="agrees", reasons="Agreed."),
        step(
            "appoint_reviewer",
            appointed_on=(NOW - timedelta(days=30)).date().isoformat(),
            reviewer="Reviewer",
        ),
        step(
            "agree_terms", occurred_at=at(20), methodology="Systems review", terms_of_reference="Two years."
        ),
    ]
    result = replayed(row(history))
    assert (result.stage, result.review_stage, result.plan_status) == ("local_review", "terms_agreed", None)
    # Each step is ready to send: returns named by agency carry their task, each step its natural actor.
    sent = {p.item.index: p for p in result.steps}
    assert [sent[i].body.task_id for i in (1, 2)] == ["LSCP-ON-1.T1", "LSCP-ON-1.T2"]  # type: ignore[attr-defined]
    assert sent[3].actor.role is Role.jcrg_chair
    assert {(sent[i].actor.role, sent[i].actor.partner) for i in (4, 5, 6)} == {
        (Role.safeguarding_partner, partner) for partner in StatutoryPartner
    }
    assert sent[0].actor.model_dump(include={"user_id", "role", "partnership"}) == {
        "user_id": "onboarding",
        "role": Role.business_unit,
        "partnership": "luton",
    }
    # The agreed terms' occurred_at stands in for its own date.
    assert sent[11].body.agreed_on == date.fromisoformat(at(20)[:10])  # type: ignore[attr-defined]


def test_no_further_review_begins_an_action_plan_whose_actions_are_added_on_import():
    history = rapid_review()
    history[3] = step(
        "recommend",
        occurred_at=at(52),
        recommendation="no_further_review",
        learning_actions=["Brief schools on neglect."],
        reasons="Learning is known.",
    )
    history += [
        step("record_panel_response", received_at=at(40), response="agrees", reasons="Agreed."),
        step(
            "add_action",
            recommendation_id="R1",
            agency="luton-schools",
            lead_role="Head of Safeguarding",
            description="Briefing",
            measure="All briefed",
            themes=["neglect"],
            due_on=(NOW + timedelta(days=90)).date().isoformat(),
        ),
        step(
            "record_progress",
            action_id="A1",
            summary="Half briefed.",
            evidence=["Register"],
            **{"as": {"agency": "luton-schools"}},
        ),
    ]
    result = replayed(row(history))
    assert (result.stage, result.plan_status) == ("learning_actions", "open")
    progress = result.steps[-1]
    assert (progress.actor.role, progress.actor.agency) == (Role.partner_agency, "luton-schools")


def test_a_late_return_is_reported_late_and_an_open_one_overdue_on_the_calendar():
    history = [
        step(
            "request_information",
            occurred_at=at(58),
            agencies=["luton-schools", "bedfordshire-police", "bedfordshire-hospitals"],
            asked_for="Chronology",
        ),
        step("submit_return", occurred_at=at(56), agency="luton-schools", summary="In time."),
        step("submit_return", occurred_at=at(40), agency="bedfordshire-police", summary="Late."),
    ]
    late = replayed(row(history), calendar=True).late
    assert any("LSCP-ON-1.T2" in line and "met" in line for line in late), late
    assert any("LSCP-ON-1.T3" in line and "overdue since" in line for line in late), late
    assert not any("LSCP-ON-1.T1" in line for line in late), late


# ---------------------------------------------------------------- refused rows, with their reasons


def test_a_malformed_row_is_refused_with_the_field_at_fault():
    problem = refused(row(la_aware_at="2026-10-01T10:00:00"))
    assert problem.index is None and "la_aware_at: must include a time zone offset" in problem.reason
    assert "route: Input should be" in refused(row(route="rumour")).reason
    assert "summary: Field required" in refused({k: v for k, v in row().items() if k != "summary"}).reason
    assert "a case is an object" in refused(["not", "an", "object"]).reason


def test_a_step_out_of_order_is_refused_naming_the_step():
    history = rapid_review()
    history[-2], history[-1] = history[-1], history[-2]  # sent to the Panel before the Scrutineer was told
    problem = refused(row(history))
    assert (problem.index, problem.step) == (7, "send_rapid_review")
    assert problem.reason == (
        "history[7] (send_rapid_review): record that the Independent Scrutineer was informed before the "
        "rapid review goes to the Panel"
    )

    # In the process's order, but dated as if the history went backwards.
    history = rapid_review()
    history[2] = step("submit_return", occurred_at=at(62), agency="bedfordshire-police", summary="x")
    problem = refused(row(history))
    assert (problem.index, problem.step) == (2, "submit_return")
    assert "before the step listed ahead of it, history[1] (submit_return" in problem.reason
    assert "list the history in the order it happened" in problem.reason


def test_a_step_in_the_future_is_refused():
    history = [
        step(
            "request_information",
            occurred_at=(NOW + timedelta(days=2)).isoformat(),
            agencies=["luton-schools"],
            asked_for="Chronology",
        )
    ]
    problem = refused(row(history))
    assert (problem.index, problem.step) == (0, "request_information")
    assert "is in the future; record it once it has happened" in problem.reason


def test_a_sign_off_before_the_recommendation_is_refused():
    history = rapid_review()[:3]
    problem = refused(row([*history, *sign_offs(50)]))
    assert (problem.index, problem.step) == (3, "sign_off")
    assert "there is no JCRG recommendation to sign off yet" in problem.reason

    # Dated before the recommendation it follows.
    history = rapid_review()[:4]
    problem = refused(row([*history, *sign_offs(53)]))
    assert (
        problem.step == "sign_off"
        and "before the step listed ahead of it, history[3] (recommend" in problem.reason
    )


def test_a_review_step_before_the_partners_decide_is_refused_and_after_it_begins_the_review():
    recommended = rapid_review()[:4]
    appoint = step(
        "appoint_reviewer", appointed_on=(NOW - timedelta(days=45)).date().isoformat(), reviewer="R"
    )
    problem = refused(row([*recommended, appoint]))
    assert problem.step == "appoint_reviewer"
    assert (
        "the case has no review at this point: it begins when the partners sign off a review"
        in problem.reason
    )
    # Signed off and with the Panel, not answered: the CSPR has begun, from the partners' decision.
    result = replayed(row([*rapid_review(), appoint]))
    assert (result.stage, result.review_stage) == ("rapid_review", "reviewer_appointed")


def test_a_review_begun_on_the_partners_decision_follows_the_panels_national_review():
    taken = step(
        "record_panel_response", received_at=at(40), response="national_review", reasons="The Panel's."
    )
    sent = step("send_information_to_panel", sent_on=(NOW - timedelta(days=30)).date().isoformat())
    result = replayed(row([*rapid_review(), taken, sent]))  # a step of a national review only
    assert (result.stage, result.review_stage) == ("national_review", "information_sent")


def test_an_action_plan_begins_at_the_rapid_reviews_dated_end_and_its_steps_go_back_to_then_not_before():
    history = rapid_review()
    history[3] = step(
        "recommend",
        occurred_at=at(52),
        recommendation="no_further_review",
        learning_actions=["Brief schools."],
        reasons="Known.",
    )
    history += [step("record_panel_response", received_at=at(40), response="agrees", reasons="Agreed.")]
    later = [*history, step("add_recommendation", occurred_at=at(30), text="Another", source="audit")]
    assert replayed(row(later)).plan_status == "open"  # dated after the Panel's answer: taken as dated
    earlier = [*history, step("add_recommendation", occurred_at=at(45), text="Another", source="audit")]
    assert "before" in refused(row(earlier)).reason  # a plan step before the plan (and the answer) began


def test_unknown_steps_disagreeing_dates_and_unknown_returns_are_refused():
    problem = refused(row([step("make_tea", occurred_at=at(50))]))
    assert problem.step == "make_tea" and "unknown step 'make_tea'; the steps are " in problem.reason
    problem = refused(row([step("inform_scrutineer", occurred_at=at(50), informed_at=at(49))]))
    assert (
        "occurred_at" in problem.reason and "informed_at" in problem.reason and "disagree" in problem.reason
    )
    history = [step("submit_return", occurred_at=at(50), agency="luton-schools", summary="x")]
    assert "no information request to luton-schools is open" in refused(row(history)).reason
    problem = refused(
        row(
            [
                step(
                    "sign_off",
                    occurred_at=at(50),
                    partner="police",
                    agrees=True,
                    reasons="x",
                    **{"as": {"role": "partner_agency"}},
                )
            ]
        )
    )
    assert "as: " in problem.reason and "a partner_agency names its agency" in problem.reason


def test_a_row_for_another_partnership_than_the_import_is_refused():
    with pytest.raises(
        RowRefused, match="this import is for partnership luton; the row names bedford-borough"
    ):
        parse_row(1, row(partnership="bedford-borough"), partnership="luton")
    assert (
        parse_row(1, {k: v for k, v in row().items() if k != "partnership"}, "luton").partnership == "luton"
    )


# ---------------------------------------------------------------- the file


def test_every_step_a_file_may_carry_is_dated_one_way_or_happens_at_the_import():
    for step_row in table.STEPS:
        if step_row.process is table.Process.yearly_report:
            continue
        body = step_row.body
        assert issubclass(body, Dated) or body in OWN_DATE or body in UNDATED, step_row.update


def test_unreadable_files_are_refused_whole():
    for text, kind, reason in (
        ("{not json", "json", "not valid JSON"),
        ('{"reference": "X"}', "json", "a list of objects"),
        ("[]", "json", "no cases"),
        ("name,route\nx,y\n", "csv", "among them reference"),
        ("reference,colour\nx,red\n", "csv", "unknown columns: colour"),
    ):
        with pytest.raises(UnreadableFile, match=reason):
            read_rows(text, kind)
    assert (kind_of("cases.CSV", ""), kind_of("upload", " [{}]"), kind_of("upload", "reference,")) == (
        "csv",
        "json",
        "csv",
    )


def test_the_csv_form_of_a_row_is_the_same_case_as_its_json_form():
    json_rows = json.loads((EXAMPLES / "worked-example.json").read_text())
    csv_rows = read_rows((EXAMPLES / "worked-example.csv").read_text(), "csv")
    assert len(json_rows) == len(csv_rows) == 12
    for n, (from_json, from_csv) in enumerate(zip(json_rows, csv_rows, strict=True), 1):
        a, b = parse_row(n, from_json), parse_row(n, from_csv)
        assert a.opening == b.opening
        assert [update_id("luton", a.reference, s.index, s) for s in a.history] == [
            update_id("luton", b.reference, s.index, s) for s in b.history
        ]


def test_update_ids_are_the_same_for_the_same_step_and_new_for_a_changed_one():
    case: CaseToImport = parse_row(1, row(rapid_review()))
    again: CaseToImport = parse_row(1, copy.deepcopy(row(rapid_review())))
    ids = [update_id("luton", case.reference, s.index, s) for s in case.history]
    assert ids == [update_id("luton", again.reference, s.index, s) for s in again.history]
    assert len(set(ids)) == len(ids) and all(i.startswith("import:luton:LSCP-ON-1:") for i in ids)
    changed = row(rapid_review())
    changed["history"][3]["methodology"] = "Appreciative inquiry"
    edited = parse_row(1, changed).history[3]
    assert update_id("luton", case.reference, 3, edited) != ids[3]


@pytest.mark.parametrize(
    "name", ["template.json", "template.csv", "worked-example.json", "worked-example.csv"]
)
def test_the_examples_replay_cleanly_on_30_november_2026(name: str):
    rows = read_rows((EXAMPLES / name).read_text(encoding="utf-8-sig"), kind_of(name, ""))
    for n, raw in enumerate(rows, 1):
        replay(parse_row(n, raw), POLICY, IMPORTER, NOW, compute_due_dates)  # a refused row raises


def test_the_worked_example_covers_the_stages_of_the_process():
    stages = {}
    for n, raw in enumerate(json.loads((EXAMPLES / "worked-example.json").read_text()), 1):
        result = replay(parse_row(n, raw), POLICY, IMPORTER, NOW, compute_due_dates)
        stages[raw["reference"]] = (result.stage, result.review_stage, result.plan_status)
        assert raw["partnership"] == "luton"
    assert set(stages.values()) >= {
        ("rapid_review", None, None),
        ("local_review", "commissioned", None),
        ("local_review", "terms_agreed", None),
        ("learning_actions", None, "open"),
        ("closed", None, None),
        ("national_review", "commissioned", None),
    }


# ---------------------------------------------------------------- the command


def test_the_command_exits_2_on_a_file_it_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    broken = tmp_path / "cases.json"
    broken.write_text("[{", encoding="utf-8")
    assert main([str(broken), "--dry-run"]) == 2
    assert "cannot be read: not valid JSON" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.csv")]) == 2


def test_the_progress_line_redraws_itself_until_the_last_case(capsys: pytest.CaptureFixture[str]):
    import sys

    line = ProgressLine(sys.stderr, width=10)
    line(25, 50)
    line(50, 50)
    assert capsys.readouterr().err == "\r[#####-----] 25/50 cases\r[##########] 50/50 cases\n"
